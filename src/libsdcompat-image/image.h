/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Walks an initramfs image the way the kernel's unpack_to_rootfs() does: a sequence of segments,
 * each an uncompressed cpio archive (such as early microcode) or a compressed stream of cpio
 * archives, separated by zero padding. Every cpio entry is handed to a callback in order, so the
 * caller can apply "later entries override earlier ones". Nothing is written to disk.
 *
 * Segments: an uncompressed segment is one cpio archive, up to its TRAILER!!! (or to whatever is
 * not a cpio header); a compressed segment is one stream (one gzip member, one xz stream, one zstd
 * frame, ...) with all the archives inside it. image.c lists where this reader is stricter than the
 * kernel (truncated uncompressed archives, impossible name lengths are errors) and why. It also
 * reads the LZ4 frame format, which the kernel cannot unpack, so such an image can be inspected. */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "cpio.h"
#include "decompress.h"

/* Bounds on hostile input; documented in sdcompat-check(8). */
typedef struct SdcImageLimits {
        uint64_t max_unpacked; /* total decompressed bytes of all compressed segments (uncompressed
                                * ones are the file itself, already bounded by its size) */
        uint64_t max_entries;  /* cpio entries over the whole image, trailers excluded */
        /* Image trees (tree-image.c) only; 0 means the default. What the memory of reading an image
         * is bounded by, besides the decoders' own state: */
        uint64_t max_kept;     /* file contents kept for the probe */
        uint64_t max_metadata; /* names, link targets and directory entries */
        uint64_t max_root_image; /* a squash root image (dracut's squash module) kept to be read */
} SdcImageLimits;

#define SDC_IMAGE_DEFAULT_MAX_UNPACKED (UINT64_C(4) << 30) /* 4 GiB */
#define SDC_IMAGE_DEFAULT_MAX_ENTRIES  UINT64_C(1000000)
/* A systemd binary and its libsystemd-shared are 2-6 MiB together; unit files and os-release a
 * few KiB. */
#define SDC_IMAGE_DEFAULT_MAX_KEPT     (UINT64_C(64) << 20)
/* About 130 bytes per entry: room for ~500,000 entries (the largest images have tens of
 * thousands). */
#define SDC_IMAGE_DEFAULT_MAX_METADATA (UINT64_C(64) << 20)
/* dracut's squash root images: the whole initramfs root, compressed; 12-16 MiB for Debian's
 * systemd images, larger with firmware. */
#define SDC_IMAGE_DEFAULT_MAX_ROOT_IMAGE (UINT64_C(256) << 20)

typedef struct SdcImageSegment {
        uint64_t offset;          /* in the image file */
        uint64_t length;          /* bytes of the image file it occupies (without padding after it) */
        SdcCompression compression;
        uint64_t unpacked;        /* bytes after decompression */
        uint64_t entries;         /* cpio entries, trailers excluded */
} SdcImageSegment;

typedef struct SdcImageError {
        int error;                 /* negative errno, 0 if none */
        uint64_t offset;           /* byte in the image file where it was detected */
        SdcCompression compression; /* of the segment it happened in */
        char message[256];         /* human readable, without the file name */
} SdcImageError;

/* e->offset is where the entry's header is: in an uncompressed segment its byte in the file, in a
 * compressed one its offset in that segment's unpacked data; e->index counts the entries before it
 * (trailers excluded). e->data is the body if it was kept (malloc()ed, NUL-terminated behind its
 * size bytes, owned by the image until sdc_image_free() or sdc_image_body_free()), NULL if not.
 * A negative return stops the walk with that error. */
typedef int (*SdcImageEntryFn)(const SdcCpioEntry *e, unsigned segment, void *userdata);
/* Asked once the header and name are read, before the body passes (e->data is NULL): 1 to keep the
 * body, 0 to let it pass unread, negative errno to stop the walk. */
typedef int (*SdcImageWantFn)(const SdcCpioEntry *e, void *userdata);

typedef struct SdcImage SdcImage;

/* Maps the file and decompresses all of it as a stream, calling want (NULL: keep every body) and fn
 * (may be NULL) for each entry. A negative return from either stops the walk and is returned. On a
 * format error returns the negative errno and fills *ret_error (if non-NULL) with the offset and
 * reason. Memory: what was kept, plus the decoders' bounded state; pages of the file behind the walk
 * are dropped. */
int sdc_image_open_want(
        int dir_fd, const char *path, const SdcImageLimits *limits, SdcImageWantFn want, SdcImageEntryFn fn,
        void *userdata, SdcImage **ret, SdcImageError *ret_error);
/* sdc_image_open_want() keeping every body (tests, tools that look at every byte). */
int sdc_image_open(
        int dir_fd, const char *path, const SdcImageLimits *limits, SdcImageEntryFn fn, void *userdata,
        SdcImage **ret, SdcImageError *ret_error);
/* The same over a buffer the caller owns (used by the fuzzer and the tests). */
int sdc_image_open_buffer(
        const uint8_t *data, size_t size, const SdcImageLimits *limits, SdcImageEntryFn fn, void *userdata,
        SdcImage **ret, SdcImageError *ret_error);
/* sdc_image_open_want() over a buffer the caller owns (an image tree over a buffer: fuzz-inject,
 * sdcompat-inject's read-back of what it wrote). */
int sdc_image_open_buffer_want(
        const uint8_t *data, size_t size, const SdcImageLimits *limits, SdcImageWantFn want, SdcImageEntryFn fn,
        void *userdata, SdcImage **ret, SdcImageError *ret_error);

/* Walks the image again up to the entry with that index and returns its body (owned by img, as a
 * kept body): for a body that want() let pass and that turns out to be needed. */
int sdc_image_read_entry(SdcImage *img, uint64_t index, const uint8_t **ret);
/* Gives a kept body back before sdc_image_free(). */
void sdc_image_body_free(const uint8_t *data);

SdcImage *sdc_image_free(SdcImage *img);
DEFINE_TRIVIAL_CLEANUP_FUNC(SdcImage *, sdc_image_free);

size_t sdc_image_n_segments(const SdcImage *img);
const SdcImageSegment *sdc_image_segment(const SdcImage *img, size_t i);
uint64_t sdc_image_file_size(const SdcImage *img);
