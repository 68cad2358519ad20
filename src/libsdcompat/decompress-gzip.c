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

/* DEFLATE's densest code: a 258-byte match in two bits (a one-bit length code and a one-bit
 * distance code), 1032 bytes out per byte in. No member, gzip framing and block headers included,
 * unpacks to more than this many times its own size; the slack covers rounding. */
#define DEFLATE_MAX_RATIO 1032u
#define DEFLATE_SLACK     1024u

/* The most a member that starts at in[0] and lies within in_len bytes can unpack to. */
static size_t member_output_bound(size_t in_len, size_t avail) {
        if (avail <= DEFLATE_SLACK || in_len > (avail - DEFLATE_SLACK) / DEFLATE_MAX_RATIO)
                return avail;
        return in_len * DEFLATE_MAX_RATIO + DEFLATE_SLACK;
}

int sdc_decompress_gzip(const uint8_t *in, size_t in_len, SdcOutbuf *out, size_t *ret_consumed) {
        struct libdeflate_decompressor *d;
        size_t consumed = 0, produced = 0, avail = out->capacity - out->size, bound;
        enum libdeflate_result r;

        d = get_decompressor();
        if (!d)
                return -ENOMEM;

        /* The output is bounded by what the input can hold, not only by the window: before 1.9
         * libdeflate reads past the end of a truncated member as zero bits and may decode garbage
         * until the output is full, which with a window of gigabytes costs seconds per image. With
         * the bound, the garbage is at most DEFLATE_MAX_RATIO times the input, and a member that
         * would need more is not a valid one, whatever libdeflate's version. */
        bound = member_output_bound(in_len, avail);
        r = libdeflate_gzip_decompress_ex(d, in, in_len, out->data + out->size, bound, &consumed, &produced);
        switch (r) {
        case LIBDEFLATE_SUCCESS:
                out->size += produced;
                *ret_consumed = consumed;
                return 0;
        case LIBDEFLATE_INSUFFICIENT_SPACE:
                if (bound < avail)
                        return -EBADMSG; /* more than any valid member of this size unpacks to */
#if LIBDEFLATE_VERSION_MAJOR == 1 && LIBDEFLATE_VERSION_MINOR < 9
                /* Before 1.9 (bullseye has 1.7) libdeflate reads past the end of a truncated
                 * member as zero bits and can decode garbage until the output is full, so "no
                 * space" is far more often a cut-off image than one larger than the limit. */
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
