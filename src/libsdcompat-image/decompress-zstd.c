/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* zstd through libzstd: one frame per call, as the kernel's unzstd, decoded in pieces into the
 * walker's output buffer. libzstd keeps the frame's window itself: at most 2^27 bytes (its default
 * limit, the same as the kernel's), and only as much as the frame declares. */

#include <errno.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "decompress.h"
#include "macro.h"

static inline void zstd_freep(ZSTD_DCtx **d) {
        ZSTD_freeDCtx(*d);
}

int sdc_decompress_zstd(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        _cleanup_(zstd_freep) ZSTD_DCtx *d = NULL;
        ZSTD_inBuffer ib = { .src = in, .size = 0 };
        int r;

        d = ZSTD_createDCtx();
        if (!d)
                return -ENOMEM;

        for (;;) {
                ZSTD_outBuffer ob = { .dst = out->buf, .size = out->buf_size };
                size_t in_pos, z;

                if (ib.pos == ib.size && ib.size < in_len)
                        ib.size += MIN(in_len - ib.size, SDC_INPUT_PIECE);
                in_pos = ib.pos;

                z = ZSTD_decompressStream(d, &ob, &ib);
                if (ZSTD_isError(z))
                        switch (ZSTD_getErrorCode(z)) {
                        case ZSTD_error_memory_allocation:
                                return -ENOMEM;
                        default: /* corrupt data, a window larger than the limit, ... */
                                return -EBADMSG;
                        }
                r = sdc_output_write(out, out->buf, ob.pos);
                if (r < 0)
                        return r;
                sdc_output_input_done(out, in + ib.pos);
                if (z == 0) /* the frame is complete and flushed; a following frame is the walker's */
                        break;
                if (ib.pos != in_pos || ob.pos > 0)
                        continue;
                /* No progress: find out what it is waiting for, and never loop on it. */
                if (ib.pos == ib.size && ib.size < in_len)
                        continue; /* the next piece of input */
                if (ib.pos == in_len)
                        return -ENODATA;
                return -EBADMSG;
        }

        *ret_consumed = ib.pos;
        return 0;
}
