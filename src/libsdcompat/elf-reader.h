/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Just enough ELF to find a systemd installation's pieces: which libraries a binary needs
 * (libsystemd-shared-NNN.so tells the upstream version), where it looks for them (DT_RUNPATH:
 * Debian puts libsystemd-shared in a multiarch directory), and the package metadata note that
 * distributions embed ("FDO" 0xcafe1a7e, JSON such as {"type":"deb","name":"systemd",
 * "version":"254.26-1~bpo12+1"}). Written by hand instead of using libelf: it reads untrusted
 * images and must link statically into the initramfs programs; this is ~250 lines with every
 * offset bounds-checked. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SdcElfInfo {
        bool is_64;
        bool little_endian;
        uint16_t machine;
        uint16_t type;      /* ET_EXEC, ET_DYN */
        bool has_interp;    /* PT_INTERP: dynamically linked program */
        char **needed;      /* DT_NEEDED, in order; NULL-terminated (may be NULL) */
        char *runpath;      /* DT_RUNPATH, else DT_RPATH; NULL if none */
        char *package_note; /* the FDO package metadata JSON, NULL if none */
        uint64_t rodata_offset, rodata_size; /* the .rodata section in the file; size 0 if not found */
} SdcElfInfo;

/* -EBADMSG if data is not an ELF file or a structure it needs is out of bounds. */
int sdc_elf_parse(const uint8_t *data, size_t size, SdcElfInfo *ret);
void sdc_elf_info_done(SdcElfInfo *info);

/* Only the .rodata range, from the ELF header, the section header table and the section names,
 * each read through read_at (which reads exactly size bytes at offset, or returns negative
 * errno): for a large library of which nothing else is needed, without having all of it in
 * memory. The same result as sdc_elf_parse()'s rodata_offset/rodata_size (0/0 if none);
 * -EBADMSG if it is not an ELF file. */
typedef int (*SdcElfReadAt)(uint64_t offset, void *buf, size_t size, void *userdata);
int sdc_elf_find_rodata(SdcElfReadAt read_at, void *userdata, uint64_t file_size, uint64_t *ret_offset,
                        uint64_t *ret_size);

/* Extracts a string field from the package note JSON ("name", "version", "os"). Only flat
 * string values of the simple form the note uses; -ENOENT if absent. */
int sdc_elf_note_field(const char *json, const char *field, char **ret);
