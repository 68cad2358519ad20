/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* xz and legacy .lzma through liblzma, decoded in pieces into the walker's output buffer. */

#include <errno.h>
#include <lzma.h>

#include "decompress.h"
#include "log.h"
#include "macro.h"

/* The decoder's memory is dominated by the LZMA dictionary the stream asks for. The largest preset
 * (xz -9) uses 64 MiB; dracut, mkinitcpio and the kernel's own usr/gen_initramfs use 1-8 MiB. The
 * kernel sets no limit, but a hostile header may ask for 1.5 GiB, so streams that need more than
 * this are refused (-EBADMSG) instead of allocated. */
#define XZ_MEMLIMIT ((uint64_t) 256 << 20)

/* More threads than blocks in flight buy nothing; initramfs images have a few dozen blocks. */
#define XZ_THREADS_MAX 16u

static int run_decoder(lzma_stream *s, const char *what, const uint8_t *in, size_t in_len, SdcOutput *out,
                       size_t *ret_consumed) {
        size_t given = 0;
        lzma_ret r;
        int w;

        s->next_in = in;
        s->avail_in = 0;

        /* Without LZMA_CONCATENATED the decoder stops at the end of the first stream, exactly where
         * the kernel's unxz/unlzma stop; whatever follows is the image walker's. LZMA_FINISH is said
         * only once the decoder has taken all the input there is: told so from the first call,
         * liblzma's threaded decoder (5.4.1 at least) waits for each block's output before it reads
         * the next block header, and one worker does all the decoding. liblzma answers LZMA_BUF_ERROR
         * once it can make no progress, with either action, so this loop ends. */
        do {
                size_t produced;

                if (s->avail_in == 0 && given < in_len) {
                        s->next_in = in + given;
                        s->avail_in = MIN(in_len - given, SDC_INPUT_PIECE);
                        given += s->avail_in;
                }
                s->next_out = out->buf;
                s->avail_out = out->buf_size;
                r = lzma_code(s, s->avail_in > 0 || given < in_len ? LZMA_RUN : LZMA_FINISH);
                produced = out->buf_size - s->avail_out;
                w = sdc_output_write(out, out->buf, produced);
                if (w < 0)
                        return w;
                sdc_output_input_done(out, s->next_in);
        } while (r == LZMA_OK);

        switch (r) {
        case LZMA_STREAM_END:
                *ret_consumed = (size_t) s->total_in;
                return 0;
        case LZMA_BUF_ERROR:
                return -ENODATA; /* the input ended inside the stream (the output is always drained) */
        case LZMA_MEM_ERROR:
                return -ENOMEM;
        case LZMA_MEMLIMIT_ERROR:
                log_debug("%s stream needs %" PRIu64 " bytes of memory to decode, more than the limit of %" PRIu64,
                          what, lzma_memusage(s), XZ_MEMLIMIT);
                return -EBADMSG;
        default: /* LZMA_FORMAT_ERROR, LZMA_OPTIONS_ERROR, LZMA_DATA_ERROR, ... */
                return -EBADMSG;
        }
}

/* flags 0: an integrity check liblzma does not know is skipped rather than refused, as the kernel's
 * xz_dec skips checks it was built without. */
#if HAVE_LZMA_STREAM_DECODER_MT
/* xz -T0 (dracut's default, and xz's own since 5.6) writes independent blocks with their sizes in
 * their headers, which liblzma >= 5.4 decodes in parallel; a single-block stream (xz -T1, the
 * kernel's own small images) is decoded by one thread as before. The threads buffer whole blocks:
 * beyond XZ_MEMLIMIT for those buffers it uses fewer threads, down to decoding in place, so the
 * memory bound on hostile input stays XZ_MEMLIMIT. */
static lzma_ret xz_decoder_init(lzma_stream *s) {
        uint32_t n = lzma_cputhreads();

        if (n <= 1)
                return lzma_stream_decoder(s, XZ_MEMLIMIT, 0);
        return lzma_stream_decoder_mt(s, &(lzma_mt) {
                .threads = MIN(n, XZ_THREADS_MAX),
                .memlimit_threading = XZ_MEMLIMIT,
                .memlimit_stop = XZ_MEMLIMIT,
        });
}
#else /* liblzma < 5.4 (bullseye's 5.2) has only the single-threaded decoder */
static lzma_ret xz_decoder_init(lzma_stream *s) {
        return lzma_stream_decoder(s, XZ_MEMLIMIT, 0);
}
#endif

int sdc_decompress_xz(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        lzma_stream s = LZMA_STREAM_INIT;
        int r;

        if (xz_decoder_init(&s) != LZMA_OK)
                return -ENOMEM;
        r = run_decoder(&s, "xz", in, in_len, out, ret_consumed);
        lzma_end(&s);
        return r;
}

int sdc_decompress_lzma(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        lzma_stream s = LZMA_STREAM_INIT;
        int r;

        if (lzma_alone_decoder(&s, XZ_MEMLIMIT) != LZMA_OK)
                return -ENOMEM;
        r = run_decoder(&s, "lzma", in, in_len, out, ret_consumed);
        lzma_end(&s);
        return r;
}
