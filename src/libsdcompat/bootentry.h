/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The boot entries of a host, each an initramfs image with the kernel command line it boots
 * with: Boot Loader Specification entries (loader/entries/NAME.conf, which name their initrd and
 * options) first, then images under /boot that no entry names (Debian's initrd.img-VERSION,
 * Fedora's initramfs-VERSION.img, SUSE's initrd-VERSION), whose command line is the running
 * one. kdump images are not boot entries and are left out. */

#include <stddef.h>

typedef struct SdcBootEntry {
        char *id;             /* the BLS file name without ".conf", or the image's file name */
        char *kernel;         /* kernel version, NULL if unknown */
        char *image;          /* path of the initramfs image on this host */
        char *cmdline;        /* NULL: use the running command line */
        char *cmdline_source; /* "/boot/loader/entries/x.conf" or NULL */
} SdcBootEntry;

/* Finds the entries under boot_dir. Returns the number found (possibly 0), or a negative errno if
 * boot_dir cannot be read at all (-ENOENT if it does not exist). */
int sdc_boot_entries_find(const char *boot_dir, SdcBootEntry **ret);
void sdc_boot_entries_free(SdcBootEntry *entries, size_t n);
