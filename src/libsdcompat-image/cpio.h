/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel's initramfs format: "newc" (070701) and "crc" (070702) cpio archives. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SDC_CPIO_HEADER_SIZE 110
#define SDC_CPIO_NAME_MAX    4096 /* PATH_MAX, as the kernel's N_ALIGN(PATH_MAX) buffer */

typedef struct SdcCpioEntry {
        const char *name; /* NUL-terminated, points into the archive buffer */
        size_t name_len;  /* without the NUL */
        uint32_t ino, mode, uid, gid, nlink, mtime;
        uint32_t devmajor, devminor, rdevmajor, rdevminor;
        uint32_t check;
        const uint8_t *data; /* file body or symlink target (see the image walker for when it is kept) */
        size_t size;
        size_t offset; /* of the header, within the buffer passed to the parser */
        bool crc;      /* the "crc" format (070702): check is the body's checksum */
        uint64_t index; /* set by the image walker: entries before this one in the image */
} SdcCpioEntry;

/* Parses one header at buf[0]. On success fills *e and sets *ret_next to the offset of whatever
 * follows this entry's (4-byte padded) body. Returns:
 *   0        an entry (*e valid)
 *   1        the "TRAILER!!!" entry (*ret_next is behind it)
 *  -EBADMSG  not a newc/crc header, bad hex digits, a name without NUL, name too long
 *  -ENODATA  the buffer ends inside the header, the name or the body (truncated) */
int sdc_cpio_parse_entry(const uint8_t *buf, size_t len, SdcCpioEntry *e, size_t *ret_next);

/* The same, and on error writes why into reason (reason_size bytes, may be NULL), without the entry's
 * offset, such as "name length 9000 exceeds 4096" or "name is not NUL-terminated", for error
 * messages that say more than the errno. */
int sdc_cpio_parse_entry_reason(
        const uint8_t *buf, size_t len, SdcCpioEntry *e, size_t *ret_next, char *reason, size_t reason_size);

/* The header and the name only, for a reader that streams the body: nothing at or behind the body
 * is read, len is how many bytes the archive holds from buf[0] on (the body's presence is judged on
 * it as above, with the same reasons), and the crc format's checksum is left to the caller
 * (sdc_cpio_checksum() over the body, then sdc_cpio_checksum_reason()). Returns as above. */
int sdc_cpio_parse_header_reason(
        const uint8_t *buf, size_t len, SdcCpioEntry *e, size_t *ret_next, char *reason, size_t reason_size);
uint32_t sdc_cpio_checksum(uint32_t sum, const uint8_t *p, size_t n);
/* -EBADMSG with the reason if sum is not e->check. */
int sdc_cpio_checksum_reason(const SdcCpioEntry *e, uint32_t sum, char *reason, size_t reason_size);
