/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bzip2 through libbz2: one stream per call, as the kernel's bunzip2, decoded straight into the
 * output window. */

#include <bzlib.h>
#include <errno.h>
#include <limits.h>

#include "decompress.h"
#include "macro.h"

int sdc_decompress_bzip2(const uint8_t *in, size_t in_len, SdcOutbuf *out, size_t *ret_consumed) {
        bz_stream s = {};
        size_t in_pos = 0, out_pos = 0, out_avail = out->capacity - out->size;
        uint8_t *dst = out->data + out->size;
        int r;

        /* small=0: the fast decoder, at most ~3.6 MiB whatever the input says. */
        r = BZ2_bzDecompressInit(&s, 0, 0);
        if (r != BZ_OK)
                return r == BZ_MEM_ERROR ? -ENOMEM : -EINVAL;

        for (;;) {
                size_t in_chunk, out_chunk, used_in, used_out;

                /* libbz2 counts in unsigned int: feed it at most UINT_MAX bytes at a time. */
                in_chunk = MIN(in_len - in_pos, (size_t) UINT_MAX);
                out_chunk = MIN(out_avail - out_pos, (size_t) UINT_MAX);
                s.next_in = (char *) (in + in_pos); /* libbz2's API is not const-correct; it never writes */
                s.avail_in = (unsigned) in_chunk;
                s.next_out = (char *) (dst + out_pos);
                s.avail_out = (unsigned) out_chunk;

                r = BZ2_bzDecompress(&s);
                used_in = in_chunk - s.avail_in;
                used_out = out_chunk - s.avail_out;
                in_pos += used_in;
                out_pos += used_out;

                if (r == BZ_STREAM_END)
                        break;
                if (r != BZ_OK) {
                        BZ2_bzDecompressEnd(&s);
                        return r == BZ_MEM_ERROR ? -ENOMEM : -EBADMSG;
                }
                if (used_in == 0 && used_out == 0) {
                        BZ2_bzDecompressEnd(&s);
                        if (out_pos == out_avail)
                                return -EFBIG;
                        if (in_pos == in_len)
                                return -ENODATA;
                        return -EBADMSG;
                }
        }

        BZ2_bzDecompressEnd(&s);
        out->size += out_pos;
        *ret_consumed = in_pos;
        return 0;
}
