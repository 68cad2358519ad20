/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bzip2 through libbz2: one stream per call, as the kernel's bunzip2, decoded straight into the
 * output window. */

#include <bzlib.h>
#include <errno.h>
#include <limits.h>

#include "decompress.h"
#include "macro.h"

int sdc_decompress_bzip2(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        bz_stream s = {};
        size_t in_pos = 0;
        int r, w = 0;

        /* small=0: the fast decoder, at most ~3.6 MiB whatever the input says. */
        r = BZ2_bzDecompressInit(&s, 0, 0);
        if (r != BZ_OK)
                return r == BZ_MEM_ERROR ? -ENOMEM : -EINVAL;

        for (;;) {
                size_t in_piece, out_piece, used_in, used_out;

                /* libbz2 counts in unsigned int: pieces stay well below UINT_MAX. */
                in_piece = MIN(in_len - in_pos, SDC_INPUT_PIECE);
                out_piece = MIN(out->buf_size, (size_t) UINT_MAX);
                s.next_in = (char *) (in + in_pos); /* libbz2's API is not const-correct; it never writes */
                s.avail_in = (unsigned) in_piece;
                s.next_out = (char *) out->buf;
                s.avail_out = (unsigned) out_piece;

                r = BZ2_bzDecompress(&s);
                used_in = in_piece - s.avail_in;
                used_out = out_piece - s.avail_out;
                in_pos += used_in;
                w = sdc_output_write(out, out->buf, used_out);
                if (w < 0)
                        break;
                sdc_output_input_done(out, in + in_pos);

                if (r == BZ_STREAM_END)
                        break;
                if (r != BZ_OK) {
                        w = r == BZ_MEM_ERROR ? -ENOMEM : -EBADMSG;
                        break;
                }
                if (used_in == 0 && used_out == 0) {
                        w = in_pos == in_len ? -ENODATA : -EBADMSG;
                        break;
                }
        }

        BZ2_bzDecompressEnd(&s);
        if (w < 0)
                return w;
        *ret_consumed = in_pos;
        return 0;
}
