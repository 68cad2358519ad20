/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* The mount table as /proc/self/mountinfo (proc(5)) lists it, one call per mount, in order, with
 * the device (st_dev of what is mounted) and the mount point, its octal escapes (\040 for a blank)
 * undone. sdcompat-shim is linked statically and Debian ships no static libmount, so this small
 * reader stands in for mnt_table_parse_mountinfo() there; the dynamically linked tools use
 * libmount. The callback returns 0 to go on, anything else to stop (returned as is). -EBADMSG for
 * a line without the fields every kernel writes. */
typedef int (*MountinfoFunc)(dev_t dev, const char *mount_point, void *userdata);
int mountinfo_foreach(const char *text, MountinfoFunc f, void *userdata);
