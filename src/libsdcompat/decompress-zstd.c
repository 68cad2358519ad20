/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* zstd through libzstd: one frame per call, as the kernel's unzstd, decoded straight into the output
 * window. */

#include <errno.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_d_stableOutBuffer; the function it is passed to is stable API */
#include <zstd.h>
#include <zstd_errors.h>

#include "decompress.h"
#include "macro.h"

static inline void zstd_freep(ZSTD_DCtx **d) {
        ZSTD_freeDCtx(*d);
}

int sdc_decompress_zstd(const uint8_t *in, size_t in_len, SdcOutbuf *out, size_t *ret_consumed) {
        _cleanup_(zstd_freep) ZSTD_DCtx *d = NULL;
        ZSTD_inBuffer ib = { .src = in, .size = in_len };
        ZSTD_outBuffer ob = { .dst = out->data + out->size, .size = out->capacity - out->size };

        d = ZSTD_createDCtx();
        if (!d)
                return -ENOMEM;

        /* The output window never moves, so zstd may keep its history there: no window buffer of up
         * to 128 MiB, no copy out of it. The window size limit stays zstd's default (2^27), the same
         * as the kernel's. */
        if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_stableOutBuffer, 1)))
                return -EOPNOTSUPP;

        for (;;) {
                size_t in_pos = ib.pos, out_pos = ob.pos, r;

                r = ZSTD_decompressStream(d, &ob, &ib);
                if (ZSTD_isError(r))
                        switch (ZSTD_getErrorCode(r)) {
                        case ZSTD_error_dstSize_tooSmall:
                                return -EFBIG;
                        case ZSTD_error_memory_allocation:
                                return -ENOMEM;
                        default:
                                return -EBADMSG;
                        }
                if (r == 0) /* the frame is complete; a following frame is the image walker's */
                        break;
                if (ib.pos != in_pos || ob.pos != out_pos)
                        continue;
                /* No progress: find out what it is waiting for, and never loop on it. */
                if (ob.pos == ob.size)
                        return -EFBIG;
                if (ib.pos == ib.size)
                        return -ENODATA;
                return -EBADMSG;
        }

        out->size += ob.pos;
        *ret_consumed = ib.pos;
        return 0;
}
