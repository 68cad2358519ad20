/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* malloc() for a buffer of megabytes that is filled at once (a state stream, its line records):
 * from 2 MiB on, aligned to and hinted for transparent huge pages, and rounded up to whole 2 MiB
 * (the kernel uses huge pages only for whole aligned ranges), so that the shim, as PID 1, takes a
 * few page faults for it instead of one per 4 KiB (bench/shim: a first touch costs
 * 16-18 us in the VMs of this bench). Only a hint, harmless where THP is off. free() releases it,
 * and realloc() may grow it. */
void *malloc_large(size_t bytes);

/* *ret = a copy of s, or NULL when s is NULL (systemd's strdup_to()). 0 or -ENOMEM. */
int strdup_to(char **ret, const char *s);
