/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* gzip through libdeflate: one member per call, inflated straight into the output window (no
 * intermediate buffer, no copy). */

#include <errno.h>
#include <libdeflate.h>

#include "decompress.h"
#include "macro.h"

/* A decompressor holds only tables (~10 KiB) that every member rebuilds anyway, so one per thread
 * serves all members of all images instead of an allocation per member. Like a static buffer it is
 * never freed. */
static _Thread_local struct libdeflate_decompressor *cached_decompressor = NULL;

static struct libdeflate_decompressor *get_decompressor(void) {
        if (!cached_decompressor)
                cached_decompressor = libdeflate_alloc_decompressor();
        return cached_decompressor;
}

int sdc_decompress_gzip(const uint8_t *in, size_t in_len, SdcOutbuf *out, size_t *ret_consumed) {
        struct libdeflate_decompressor *d;
        size_t consumed = 0, produced = 0;
        enum libdeflate_result r;

        d = get_decompressor();
        if (!d)
                return -ENOMEM;

        r = libdeflate_gzip_decompress_ex(d, in, in_len, out->data + out->size, out->capacity - out->size,
                                          &consumed, &produced);
        switch (r) {
        case LIBDEFLATE_SUCCESS:
                out->size += produced;
                *ret_consumed = consumed;
                return 0;
        case LIBDEFLATE_INSUFFICIENT_SPACE:
#if LIBDEFLATE_VERSION_MAJOR == 1 && LIBDEFLATE_VERSION_MINOR < 9
                /* Before 1.9 (bullseye has 1.7) libdeflate reads past the end of a truncated
                 * member as zero bits and can decode garbage until the output is full, so "no
                 * space" is far more often a cut-off image than one larger than the limit. The
                 * garbage costs writes up to the limit: a known cost of old libdeflate. */
                return -EBADMSG;
#else
                return -EFBIG;
#endif
        default:
                /* libdeflate reads a member as a whole and cannot tell a member cut short from a corrupt
                 * one: both are LIBDEFLATE_BAD_DATA. Only a member shorter than gzip's own framing
                 * (10-byte header, 8-byte trailer) is certainly truncated. */
                return in_len < 18 ? -ENODATA : -EBADMSG;
        }
}
