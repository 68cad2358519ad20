/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One tiny interface, one file per compression backend (decompress-<name>.c), each compiled in or
 * left out by a meson option (its row in decompress.c's table then has no decoder: -EPROTONOSUPPORT),
 * as kmod does for its module files.
 *
 * A backend decompresses exactly one stream (one gzip member, one xz stream, one zstd frame, ...)
 * that starts at in[0], hands its output piece by piece to a sink (SdcOutput), and reports how many
 * input bytes the stream occupied, so that the image walker can continue behind it exactly as the
 * kernel does. Nothing is kept: the memory a backend uses is its own bounded state (the window or
 * dictionary the format needs) and one output piece, whatever size the stream unpacks to.
 *
 * Errors (negative errno):
 *   -EPROTONOSUPPORT  backend not compiled in
 *   -ENODATA          the input ended before the stream did (truncated image)
 *   -EBADMSG          corrupt or unsupported data inside the stream
 *   -EFBIG            the output would exceed the unpacked-size cap (SdcOutput.capacity)
 *   -ENOMEM           out of memory
 *   anything the sink returned (negative), as it returned it
 */

#include <stddef.h>
#include <stdint.h>

typedef enum SdcCompression {
        SDC_COMPRESSION_NONE,
        SDC_COMPRESSION_GZIP,
        SDC_COMPRESSION_BZIP2,
        SDC_COMPRESSION_LZMA,
        SDC_COMPRESSION_XZ,
        SDC_COMPRESSION_LZO,
        SDC_COMPRESSION_LZ4_LEGACY,
        SDC_COMPRESSION_LZ4_FRAME,
        SDC_COMPRESSION_ZSTD,
        _SDC_COMPRESSION_MAX,
        _SDC_COMPRESSION_INVALID = -1,
} SdcCompression;

/* Where a backend's output goes: decoded into buf (buf_size bytes, the walker's) and handed to sink
 * in order. size counts what the sink was given, across all the streams of an image; a piece that
 * would take it past capacity is -EFBIG. input_done (optional) is told how far the input has been
 * consumed, so that a mapped image's pages behind that point can be dropped. */
typedef struct SdcOutput {
        uint8_t *buf;
        size_t buf_size;
        uint64_t size;
        uint64_t capacity;
        int (*sink)(const uint8_t *data, size_t n, void *userdata);
        void (*input_done)(const uint8_t *upto, void *userdata);
        void *userdata;
        int sink_error; /* the sink's error, if it stopped the backend */
} SdcOutput;

/* Input is given to the decoders in pieces of at most this much, so that input_done is called at
 * least this often. */
#define SDC_INPUT_PIECE ((size_t) 1 << 20)

/* For backends: hands n bytes to the sink (-EFBIG past the cap, or the sink's error). */
int sdc_output_write(SdcOutput *out, const uint8_t *data, size_t n);
void sdc_output_input_done(SdcOutput *out, const uint8_t *upto);

/* Output window for sdc_decompress(), which collects a whole stream (the tests use it): a reserved region of virtual memory (see outbuf_init) written front to back.
 * data never moves, so pointers into it stay valid while the owning image lives. */
typedef struct SdcOutbuf {
        uint8_t *data;
        size_t size;     /* bytes written so far */
        size_t capacity; /* hard cap: the unpacked-size limit of the image */
} SdcOutbuf;

const char *sdc_compression_to_string(SdcCompression c);

/* Detects the compression from the magic bytes at buf[0], as the kernel's decompress_method()
 * does. Returns _SDC_COMPRESSION_INVALID if no known magic matches. */
SdcCompression sdc_compression_detect(const uint8_t *buf, size_t len);

/* Whether the backend was compiled in. */
int sdc_compression_supported(SdcCompression c);

/* One stream, streamed to out's sink. */
int sdc_decompress_stream(SdcCompression c, const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);
/* One stream, appended to out (-EFBIG beyond its capacity). */
int sdc_decompress(SdcCompression c, const uint8_t *in, size_t in_len, SdcOutbuf *out, size_t *ret_consumed);

/* Backends; each lives in its own file. */
int sdc_decompress_gzip(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);
int sdc_decompress_bzip2(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);
int sdc_decompress_xz(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);
int sdc_decompress_lzma(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);
int sdc_decompress_lz4_legacy(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);
int sdc_decompress_lz4_frame(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);
int sdc_decompress_zstd(const uint8_t *in, size_t in_len, SdcOutput *out, size_t *ret_consumed);

/* Reserves capacity bytes of address space (MAP_NORESERVE: pages are committed only when written).
 * Falls back to smaller reservations when the system refuses (strict overcommit); the capacity
 * actually granted is in out->capacity. */
int sdc_outbuf_init(SdcOutbuf *out, size_t capacity);
void sdc_outbuf_done(SdcOutbuf *out);
