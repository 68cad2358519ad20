/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The segment sdcompat-inject appends to an existing initramfs image (sdcompat-inject(8)).
 *
 * Layout of an injected image:
 *
 *   [0, ORIGINAL_SIZE)             the original image, byte for byte
 *   [ORIGINAL_SIZE, S)             4 to 7 zero bytes: an uncompressed cpio header must start at a
 *                                  multiple of 4 (the kernel skips zeros between segments), and a
 *                                  zero word ends an lz4 legacy stream, which has no end marker
 *                                  (the kernel's unlz4 since 5.11; without it the next segment
 *                                  would be read as lz4 blocks)
 *   [S, end)                       one uncompressed newc archive: the payload entries, then the
 *                                  record (SDC_INJECT_RECORD_PATH, KEY=value), then TRAILER!!!,
 *                                  and nothing after it
 *
 * The record is the last entry before the trailer, so it is found from the end of the file
 * without reading the rest of the image; it says where the original ends and what its SHA-256
 * is, so --remove can prove that truncating gives back the original before it does it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "sha256.h"

#define SDC_INJECT_RECORD_PATH    "/usr/lib/sdcompat/inject"
#define SDC_INJECT_RECORD_VERSION 1
#define SDC_INJECT_RECORD_MAX     4096 /* bytes of record text a reader accepts */

typedef struct SdcInjectRecord {
        unsigned format;
        char *sdcompat_version; /* of the sdcompat-inject that wrote it */
        char *injected_at; /* RFC 3339, UTC */
        uint64_t original_size;
        uint8_t original_sha256[SHA256_DIGEST_SIZE];
        uint8_t payload_sha256[SHA256_DIGEST_SIZE]; /* of the payload entries: same payload, same hash */
        uint64_t segment_offset; /* where the archive starts (found by sdc_inject_find) */
        uint64_t payload_entries; /* entries before the record (found by sdc_inject_find) */
} SdcInjectRecord;

void sdc_inject_record_done(SdcInjectRecord *r);

/* Finds the injected segment at the end of an image (data: the whole file).
 *   1  found and consistent: *ret filled (the prefix's SHA-256 is NOT checked; see below)
 *   0  the image does not end in an injected segment
 *  -EBADMSG  it ends in something that claims to be one but is inconsistent (reason says what)
 *  -ENOMEM */
int sdc_inject_find(
        const uint8_t *data, size_t size, SdcInjectRecord *ret, char *reason, size_t reason_size);

/* Whether data[0, original_size) has the recorded SHA-256. */
bool sdc_inject_prefix_matches(const uint8_t *data, size_t size, const SdcInjectRecord *rec);

/* Builds the archive of an injected segment in memory. */
typedef struct SdcCpioWriter {
        uint8_t *data;
        size_t size, allocated;
        uint32_t next_ino;
        uint32_t mtime;
        Sha256 payload; /* over every entry added before the record */
} SdcCpioWriter;

void sdc_cpio_writer_init(SdcCpioWriter *w, uint32_t mtime);
/* mode carries the type: S_IFDIR (data NULL), S_IFREG (the contents), S_IFLNK (the target).
 * name is relative ("usr/bin/sdcompat"). */
int sdc_cpio_writer_add(SdcCpioWriter *w, const char *name, uint32_t mode, const void *data, size_t size);
/* The payload's SHA-256 so far (the writer can go on). */
void sdc_cpio_writer_payload_digest(const SdcCpioWriter *w, uint8_t digest[SHA256_DIGEST_SIZE]);
/* Appends the record (rec->payload_sha256 is taken from the writer) and the trailer. */
int sdc_cpio_writer_finish(SdcCpioWriter *w, SdcInjectRecord *rec);
void sdc_cpio_writer_done(SdcCpioWriter *w);

/* The record as text, and back. parse: -EBADMSG if a required key is missing or malformed. */
int sdc_inject_record_format(const SdcInjectRecord *rec, char **ret);
int sdc_inject_record_parse(const char *data, size_t size, SdcInjectRecord *ret);

/* Zero bytes between an original of this size and the archive. */
static inline size_t sdc_inject_padding(uint64_t original_size) {
        return (size_t)(4 + ((4 - (original_size & 3)) & 3));
}
