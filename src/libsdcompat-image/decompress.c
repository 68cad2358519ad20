/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Compression detection and the dispatcher over the backends (decompress-<name>.c), plus the output
 * window they all write into. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "decompress.h"
#include "macro.h"

typedef int (*Decoder)(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);

/* Backends that were left out are not even declared to the linker: their row has no decoder. */
#if HAVE_GZIP
#  define GZIP_DECODER sdc_decompress_gzip
#else
#  define GZIP_DECODER NULL
#endif
#if HAVE_BZIP2
#  define BZIP2_DECODER sdc_decompress_bzip2
#else
#  define BZIP2_DECODER NULL
#endif
#if HAVE_XZ
#  define XZ_DECODER   sdc_decompress_xz
#  define LZMA_DECODER sdc_decompress_lzma
#else
#  define XZ_DECODER   NULL
#  define LZMA_DECODER NULL
#endif
#if HAVE_LZ4
#  define LZ4_LEGACY_DECODER sdc_decompress_lz4_legacy
#  define LZ4_FRAME_DECODER  sdc_decompress_lz4_frame
#else
#  define LZ4_LEGACY_DECODER NULL
#  define LZ4_FRAME_DECODER  NULL
#endif
#if HAVE_ZSTD
#  define ZSTD_DECODER sdc_decompress_zstd
#else
#  define ZSTD_DECODER NULL
#endif

typedef struct Magic {
        size_t len;
        uint8_t bytes[6];
} Magic;

/* Every compression in one row: its name, its magics, its decoder (NULL: not compiled in, or, for
 * LZO, no library we could link statically reads lzop's format; nobody ships such images).
 *
 * The kernel's lib/decompress.c compares only the first two bytes; the longer magics here are those
 * of the formats' own specifications (and of the kernel's decompressors, which reject anything else
 * right after), so an image the kernel can unpack is always recognised. The LZ4 frame format is not
 * in the kernel's table (its unlz4 only reads the legacy format); it is detected so that such an
 * image can still be read and reported. */
static const struct {
        const char *name;
        Magic magics[2];
        Decoder decode;
} compressions[_SDC_COMPRESSION_MAX] = {
        [SDC_COMPRESSION_NONE] = { "none", {}, NULL },
        /* 1f 9e: "old gzip", detected as the kernel does */
        [SDC_COMPRESSION_GZIP] = { "gzip", { { 2, { 0x1f, 0x8b } }, { 2, { 0x1f, 0x9e } } }, GZIP_DECODER },
        [SDC_COMPRESSION_BZIP2] = { "bzip2", { { 3, { 'B', 'Z', 'h' } } }, BZIP2_DECODER },
        [SDC_COMPRESSION_LZMA] = { "lzma", { { 3, { 0x5d, 0x00, 0x00 } } }, LZMA_DECODER },
        [SDC_COMPRESSION_XZ] = { "xz", { { 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } } }, XZ_DECODER },
        [SDC_COMPRESSION_LZO] = { "lzo", { { 4, { 0x89, 'L', 'Z', 'O' } } }, NULL },
        [SDC_COMPRESSION_LZ4_LEGACY] = { "lz4-legacy", { { 4, { 0x02, 0x21, 0x4c, 0x18 } } }, LZ4_LEGACY_DECODER },
        [SDC_COMPRESSION_LZ4_FRAME] = { "lz4-frame", { { 4, { 0x04, 0x22, 0x4d, 0x18 } } }, LZ4_FRAME_DECODER },
        [SDC_COMPRESSION_ZSTD] = { "zstd", { { 4, { 0x28, 0xb5, 0x2f, 0xfd } } }, ZSTD_DECODER },
};

const char *sdc_compression_to_string(SdcCompression c) {
        if (c < 0 || c >= _SDC_COMPRESSION_MAX)
                return NULL;
        return compressions[c].name;
}

SdcCompression sdc_compression_detect(const uint8_t *buf, size_t len) {
        for (SdcCompression c = 0; c < _SDC_COMPRESSION_MAX; c++)
                for (size_t i = 0; i < ELEMENTSOF(compressions[c].magics); i++) {
                        const Magic *m = &compressions[c].magics[i];

                        if (m->len > 0 && len >= m->len && memcmp(buf, m->bytes, m->len) == 0)
                                return c;
                }
        return _SDC_COMPRESSION_INVALID;
}

int sdc_compression_supported(SdcCompression c) {
        if (c < 0 || c >= _SDC_COMPRESSION_MAX)
                return 0;
        return c == SDC_COMPRESSION_NONE || compressions[c].decode;
}

int sdc_decompress_stream(SdcCompression c, const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        if (c < 0 || c >= _SDC_COMPRESSION_MAX || !compressions[c].decode)
                return -EPROTONOSUPPORT;
        return compressions[c].decode(in, in_len, out, ret_consumed);
}

int sdc_output_write(SdcOutput *out, const uint8_t *data, size_t n) {
        int r;

        if (n == 0)
                return 0;
        if (n > out->capacity - out->size)
                return -EFBIG;
        out->size += n;
        r = out->sink(data, n, out->userdata);
        if (r < 0)
                out->sink_error = r;
        return r < 0 ? r : 0;
}

void sdc_output_input_done(SdcOutput *out, const uint8_t *upto) {
        if (out->input_done)
                out->input_done(upto, out->userdata);
}

static int outbuf_sink(const uint8_t *data, size_t n, void *userdata) {
        SdcOutbuf *o = userdata;

        /* sdc_output_write() checked the capacity. */
        memcpy(o->data + o->size, data, n);
        o->size += n;
        return 0;
}

int sdc_decompress(SdcCompression c, const uint8_t *in, size_t in_len, SdcOutbuf *out, size_t *ret_consumed) {
        _cleanup_free_ uint8_t *buf = NULL;
        SdcOutput o = {
                .buf_size = (size_t) 64 << 10,
                .size = out->size,
                .capacity = out->capacity,
                .sink = outbuf_sink,
                .userdata = out,
        };

        if (sdc_compression_supported(c) <= 0 || c == SDC_COMPRESSION_NONE)
                return -EPROTONOSUPPORT;
        buf = malloc(o.buf_size);
        if (!buf)
                return -ENOMEM;
        o.buf = buf;
        return sdc_decompress_stream(c, in, in_len, &o, ret_consumed);
}

#define OUTBUF_MIN_RESERVATION ((size_t) 64 << 20)

int sdc_outbuf_init(SdcOutbuf *out, size_t capacity) {
        size_t size = capacity;
        void *p;

        *out = (SdcOutbuf) {};
        if (capacity == 0) /* mmap() refuses zero bytes; a caller that allows no output needs no window */
                return -EINVAL;

        /* MAP_NORESERVE: the cap is address space, not memory; only pages written are committed. Under
         * strict overcommit (vm.overcommit_memory=2) the kernel may still refuse a large reservation, so
         * ask for less rather than fail: a smaller window only lowers the unpacked-size cap. */
        for (;;) {
                p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (p != MAP_FAILED)
                        break;
                if (errno != ENOMEM || size <= OUTBUF_MIN_RESERVATION)
                        return -errno;
                size = MAX(size / 2, OUTBUF_MIN_RESERVATION);
        }

        /* Large decompressed images fault in one page at a time otherwise; huge pages cut the faults
         * by 512. Only a hint: it fails harmlessly where transparent huge pages are off. */
        (void) madvise(p, size, MADV_HUGEPAGE);

        out->data = p;
        out->capacity = size;
        return 0;
}

void sdc_outbuf_done(SdcOutbuf *out) {
        if (out->data)
                (void) munmap(out->data, out->capacity);
        *out = (SdcOutbuf) {};
}
