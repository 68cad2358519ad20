/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Compression detection and the dispatcher over the backends (decompress-<name>.c), plus the output
 * window they all write into. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "decompress.h"
#include "macro.h"

static const char *const compression_names[_SDC_COMPRESSION_MAX] = {
        [SDC_COMPRESSION_NONE] = "none",
        [SDC_COMPRESSION_GZIP] = "gzip",
        [SDC_COMPRESSION_BZIP2] = "bzip2",
        [SDC_COMPRESSION_LZMA] = "lzma",
        [SDC_COMPRESSION_XZ] = "xz",
        [SDC_COMPRESSION_LZO] = "lzo",
        [SDC_COMPRESSION_LZ4_LEGACY] = "lz4-legacy",
        [SDC_COMPRESSION_LZ4_FRAME] = "lz4-frame",
        [SDC_COMPRESSION_ZSTD] = "zstd",
};

const char *sdc_compression_to_string(SdcCompression c) {
        if (c < 0 || c >= _SDC_COMPRESSION_MAX)
                return NULL;
        return compression_names[c];
}

/* The kernel's lib/decompress.c compares only the first two bytes; the longer magics here are those
 * of the formats' own specifications (and of the kernel's decompressors, which reject anything else
 * right after), so an image the kernel can unpack is always recognised. The LZ4 frame format is not
 * in the kernel's table (its unlz4 only reads the legacy format); it is detected so that such an
 * image can still be read and reported. */
static const struct {
        SdcCompression compression;
        size_t len;
        uint8_t magic[6];
} magics[] = {
        { SDC_COMPRESSION_GZIP,       2, { 0x1f, 0x8b } },
        { SDC_COMPRESSION_GZIP,       2, { 0x1f, 0x9e } }, /* "old gzip": detected as the kernel does */
        { SDC_COMPRESSION_BZIP2,      3, { 'B', 'Z', 'h' } },
        { SDC_COMPRESSION_LZMA,       3, { 0x5d, 0x00, 0x00 } },
        { SDC_COMPRESSION_XZ,         6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
        { SDC_COMPRESSION_LZO,        4, { 0x89, 'L', 'Z', 'O' } },
        { SDC_COMPRESSION_LZ4_LEGACY, 4, { 0x02, 0x21, 0x4c, 0x18 } },
        { SDC_COMPRESSION_LZ4_FRAME,  4, { 0x04, 0x22, 0x4d, 0x18 } },
        { SDC_COMPRESSION_ZSTD,       4, { 0x28, 0xb5, 0x2f, 0xfd } },
};

SdcCompression sdc_compression_detect(const uint8_t *buf, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(magics); i++)
                if (len >= magics[i].len && memcmp(buf, magics[i].magic, magics[i].len) == 0)
                        return magics[i].compression;
        return _SDC_COMPRESSION_INVALID;
}

int sdc_compression_supported(SdcCompression c) {
        switch (c) {
        case SDC_COMPRESSION_NONE:
                return 1;
        case SDC_COMPRESSION_GZIP:
                return HAVE_GZIP;
        case SDC_COMPRESSION_BZIP2:
                return HAVE_BZIP2;
        case SDC_COMPRESSION_LZMA:
        case SDC_COMPRESSION_XZ:
                return HAVE_XZ;
        case SDC_COMPRESSION_LZ4_LEGACY:
        case SDC_COMPRESSION_LZ4_FRAME:
                return HAVE_LZ4;
        case SDC_COMPRESSION_ZSTD:
                return HAVE_ZSTD;
        default:
                /* LZO: no library we could link statically reads lzop's format; nobody ships such images. */
                return 0;
        }
}

int sdc_decompress_stream(SdcCompression c, const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed) {
        /* Backends that were left out are not even declared to the linker: hence #if, not if(). */
        switch (c) {
#if HAVE_GZIP
        case SDC_COMPRESSION_GZIP:
                return sdc_decompress_gzip(in, in_len, out, ret_consumed);
#endif
#if HAVE_BZIP2
        case SDC_COMPRESSION_BZIP2:
                return sdc_decompress_bzip2(in, in_len, out, ret_consumed);
#endif
#if HAVE_XZ
        case SDC_COMPRESSION_XZ:
                return sdc_decompress_xz(in, in_len, out, ret_consumed);
        case SDC_COMPRESSION_LZMA:
                return sdc_decompress_lzma(in, in_len, out, ret_consumed);
#endif
#if HAVE_LZ4
        case SDC_COMPRESSION_LZ4_LEGACY:
                return sdc_decompress_lz4_legacy(in, in_len, out, ret_consumed);
        case SDC_COMPRESSION_LZ4_FRAME:
                return sdc_decompress_lz4_frame(in, in_len, out, ret_consumed);
#endif
#if HAVE_ZSTD
        case SDC_COMPRESSION_ZSTD:
                return sdc_decompress_zstd(in, in_len, out, ret_consumed);
#endif
        default:
                return -EPROTONOSUPPORT;
        }
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
