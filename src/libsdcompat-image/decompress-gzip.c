/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* gzip through zlib: one member per call, inflated in pieces into the walker's output buffer. zlib
 * rather than libdeflate (which the reader used while it kept whole images in memory): libdeflate
 * inflates only whole buffers, so its output would have to be as large as the member, and memory
 * would grow with the image. zlib's window is 32 KiB whatever the member holds. */

#include <errno.h>
#include <limits.h>
#include <zlib.h>

#include "decompress.h"
#include "macro.h"

int sdc_decompress_gzip(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        z_stream s = {};
        size_t in_pos = 0;
        int r = 0, zr;

        /* 16 + MAX_WBITS: a gzip member and nothing else (no zlib or raw deflate), as the kernel's
         * gunzip. inflate() stops at the member's end; what follows is the walker's. */
        if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
                return -ENOMEM;

        for (;;) {
                size_t piece = MIN(in_len - in_pos, SDC_INPUT_PIECE), used_in, produced;

                s.next_in = (Bytef *) (in + in_pos); /* zlib's API is not const-correct; it never writes */
                s.avail_in = (uInt) piece;
                s.next_out = out->buf;
                s.avail_out = (uInt) MIN(out->buf_size, (size_t) UINT_MAX);
                produced = s.avail_out;

                zr = inflate(&s, Z_NO_FLUSH);
                used_in = piece - s.avail_in;
                produced -= s.avail_out;
                in_pos += used_in;

                r = sdc_output_write(out, out->buf, produced);
                if (r < 0)
                        break;
                sdc_output_input_done(out, in + in_pos);
                if (zr == Z_STREAM_END)
                        break;
                if (zr == Z_MEM_ERROR) {
                        r = -ENOMEM;
                        break;
                }
                if (zr != Z_OK && zr != Z_BUF_ERROR) { /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
                        r = -EBADMSG;
                        break;
                }
                if (used_in == 0 && produced == 0) {
                        /* No progress: the input ended inside the member (zlib, unlike a whole-buffer
                         * inflater, can tell this from corruption). */
                        r = in_pos == in_len ? -ENODATA : -EBADMSG;
                        break;
                }
        }

        if (r == 0)
                *ret_consumed = in_pos;
        inflateEnd(&s);
        return r;
}
