/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* lz4 through liblz4: the kernel's legacy framing (what `lz4 -l` writes and the kernel's unlz4
 * reads) and the frame format (LZ4F, which the kernel cannot unpack, read for reporting). */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <lz4.h>
#include <lz4frame.h>

#include "decompress.h"
#include "macro.h"

#define LZ4_LEGACY_MAGIC      UINT32_C(0x184C2102)
#define LZ4_LEGACY_BLOCK_SIZE ((size_t) 8 << 20) /* decompressed; the kernel's fixed chunk size */

static uint32_t read_le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* The legacy format has no end marker and no block count: [magic] then [le32 compressed size][block]
 * until something says stop. We stop where the kernel's unlz4 (lib/decompress_unlz4.c, since the
 * 2021 fix for zero padding around initrds) stops when it reads from a buffer:
 *   - fewer than 4 bytes left: end of the stream (those bytes are not consumed);
 *   - a block size of 0: end of the stream, the zero word is padding and not consumed (the image
 *     walker skips zero padding, as unpack_to_rootfs() does);
 *   - the magic again: skipped, the stream goes on (`lz4 -l` output concatenated with itself).
 * Everything else is a block size, and its block must lie within the input: the kernel checks this
 * only after decompressing it (and so reads past the buffer); here a block that runs past the end of
 * the input is a truncated stream (-ENODATA). The consequence the kernel has too: a legacy stream
 * runs to the end of the image or to zero padding; a segment directly behind it is read as blocks
 * and fails. */
int sdc_decompress_lz4_legacy(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        _cleanup_free_ char *block = NULL;
        size_t pos;
        int r;

        if (in_len < 4)
                return -ENODATA;
        if (read_le32(in) != LZ4_LEGACY_MAGIC)
                return -EBADMSG;

        for (pos = 4; in_len - pos >= 4;) {
                size_t block_size = read_le32(in + pos);
                int n;

                if (block_size == LZ4_LEGACY_MAGIC) {
                        pos += 4;
                        continue;
                }
                if (block_size == 0)
                        break;
                pos += 4;
                if (block_size > in_len - pos)
                        return -ENODATA;
                /* LZ4_decompress_safe() counts in int. No tighter bound: the kernel has none either, and
                 * a valid (if wasteful) encoding of 8 MiB may exceed LZ4_COMPRESSBOUND(). */
                if (block_size > (size_t) INT_MAX)
                        return -EBADMSG;

                /* A block is decoded whole (the format has no smaller unit): one block's worth of
                 * memory, as the kernel's unlz4 uses. */
                if (!block) {
                        block = malloc(LZ4_LEGACY_BLOCK_SIZE);
                        if (!block)
                                return -ENOMEM;
                }
                n = LZ4_decompress_safe((const char *) in + pos, block, (int) block_size, (int) LZ4_LEGACY_BLOCK_SIZE);
                if (n < 0)
                        return -EBADMSG;
                r = sdc_output_write(out, (const uint8_t *) block, (size_t) n);
                if (r < 0)
                        return r;
                pos += block_size;
                sdc_output_input_done(out, in + pos);
        }

        *ret_consumed = pos;
        return 0;
}

static inline void lz4f_freep(LZ4F_dctx **d) {
        if (*d)
                (void) LZ4F_freeDecompressionContext(*d);
}

/* One frame per call. */
int sdc_decompress_lz4_frame(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        _cleanup_(lz4f_freep) LZ4F_dctx *d = NULL;
        size_t in_pos = 0;
        int w;

        if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
                return -ENOMEM;

        for (;;) {
                size_t src_size = MIN(in_len - in_pos, SDC_INPUT_PIECE), dst_size = out->buf_size, r;

                r = LZ4F_decompress(d, out->buf, &dst_size, in + in_pos, &src_size, NULL);
                if (LZ4F_isError(r)) /* which error is static-only API; allocation failure is the unlikely one */
                        return -EBADMSG;
                in_pos += src_size;
                w = sdc_output_write(out, out->buf, dst_size);
                if (w < 0)
                        return w;
                sdc_output_input_done(out, in + in_pos);
                if (r == 0) /* the frame is complete; a following frame is the image walker's */
                        break;
                if (src_size > 0 || dst_size > 0)
                        continue;
                /* No progress: find out what it is waiting for, and never loop on it. */
                if (in_pos == in_len)
                        return -ENODATA;
                return -EBADMSG;
        }

        *ret_consumed = in_pos;
        return 0;
}
