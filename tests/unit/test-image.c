/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The image reader on images built by the real tools (mkimage.sh): every compression, both cpio
 * formats, the concatenations dracut and bootloaders make; then cut, corrupted and hand-made images,
 * each of which must give an error that names the place, and never a crash or a hang. */

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-fixtures.h"
#include "image.h"
#include "macro.h"
#include "tests.h"

#if HAVE_LZMA_STREAM_DECODER_MT
#include <dlfcn.h>
#include <lzma.h>
#include <pthread.h>

/* The threads liblzma starts. This executable's pthread_create() comes before libc's for every
 * caller, liblzma's threaded decoder included (whether it is linked statically or not). */
static unsigned threads_started = 0;

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
        static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) = NULL;

        if (!real)
                real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *)) dlsym(
                        RTLD_NEXT, "pthread_create");
        if (!real)
                return EAGAIN;
        __atomic_add_fetch(&threads_started, 1, __ATOMIC_SEQ_CST);
        return real(thread, attr, start, arg);
}
#endif

static char fixtures[PATH_MAX];

typedef struct Entry {
        char *name;
        uint32_t mode;
        size_t size;
        const uint8_t *data;
        unsigned segment;
} Entry;

typedef struct Entries {
        Entry *e;
        size_t n, allocated;
} Entries;

static int collect(const SdcCpioEntry *e, unsigned segment, void *userdata) {
        Entries *c = userdata;

        if (c->n == c->allocated) {
                c->allocated = MAX(c->allocated * 2, (size_t) 64);
                c->e = realloc(c->e, c->allocated * sizeof(Entry));
                ASSERT_TRUE(c->e);
        }
        ASSERT_EQ(strlen(e->name), e->name_len);
        c->e[c->n++] = (Entry) {
                .name = strdup(e->name),
                .mode = e->mode,
                .size = e->size,
                .data = e->data,
                .segment = segment,
        };
        return 0;
}

static void entries_clear(Entries *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->e[i].name);
        free(c->e);
        *c = (Entries) {};
}

/* A byte buffer that concatenations are built in. */
typedef struct Buf {
        uint8_t *data;
        size_t size;
} Buf;

static void buf_append(Buf *b, const void *p, size_t n) {
        b->data = realloc(b->data, b->size + n + 1);
        ASSERT_TRUE(b->data);
        if (n > 0)
                memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void buf_append_file(Buf *b, const char *name) {
        size_t n;
        uint8_t *p = fixture_read(fixtures, name, &n);
        buf_append(b, p, n);
        free(p);
}

static void buf_append_zeros(Buf *b, size_t n) {
        b->data = realloc(b->data, b->size + n + 1);
        ASSERT_TRUE(b->data);
        memset(b->data + b->size, 0, n);
        b->size += n;
}

static void buf_align4(Buf *b) {
        buf_append_zeros(b, (4 - b->size % 4) % 4);
}

/* What one segment must hold: the entries of a tree in the order of its list file. */
typedef struct Expect {
        SdcCompression compression;
        const char *tree; /* "tree", "small-tree" or "early-tree" */
        const char *list; /* "tree.list", ... */
        uint64_t offset, length; /* checked when length > 0 */
} Expect;

static void check_entry(const Entry *e, const char *tree) {
        char path[3 * PATH_MAX], rel[2 * PATH_MAX];
        struct stat st;

        snprintf(rel, sizeof(rel), "%s/%s", tree, e->name);
        snprintf(path, sizeof(path), "%s/%s", fixtures, rel);
        ASSERT_EQ(lstat(path, &st), 0);
        ASSERT_EQ(e->mode, st.st_mode);
        if (S_ISREG(st.st_mode)) {
                size_t n;
                _cleanup_free_ uint8_t *content = fixture_read(fixtures, rel, &n);
                ASSERT_EQ(e->size, n);
                ASSERT_TRUE(n == 0 || memcmp(e->data, content, n) == 0);
        } else if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof(target));
                ASSERT_TRUE(n > 0);
                ASSERT_EQ(e->size, n);
                ASSERT_TRUE(memcmp(e->data, target, (size_t) n) == 0);
        } else
                ASSERT_EQ(e->size, 0);
}

static void check_image(const SdcImage *img, const Entries *c, size_t n_segments, const Expect *expect) {
        size_t k = 0;

        ASSERT_EQ(sdc_image_n_segments(img), n_segments);
        for (size_t s = 0; s < n_segments; s++) {
                const SdcImageSegment *seg = sdc_image_segment(img, s);
                _cleanup_free_ uint8_t *list = NULL;
                char *line, *saveptr = NULL;
                size_t list_size, n = 0;

                ASSERT_TRUE(seg);
                ASSERT_EQ(seg->compression, expect[s].compression);
                if (expect[s].length > 0) {
                        ASSERT_EQ(seg->offset, expect[s].offset);
                        ASSERT_EQ(seg->length, expect[s].length);
                }
                ASSERT_TRUE(seg->unpacked >= seg->length || seg->compression != SDC_COMPRESSION_NONE);

                list = fixture_read(fixtures, expect[s].list, &list_size);
                list[list_size] = 0;
                for (line = strtok_r((char *) list, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
                        ASSERT_TRUE(k < c->n);
                        ASSERT_EQ(c->e[k].segment, s);
                        ASSERT_STREQ(c->e[k].name, line);
                        check_entry(&c->e[k], expect[s].tree);
                        k++;
                        n++;
                }
                ASSERT_EQ(seg->entries, n);
        }
        ASSERT_EQ(k, c->n); /* nothing more than what was packed */
        ASSERT_TRUE(sdc_image_segment(img, n_segments) == NULL);
}

static void check_buffer(const Buf *b, size_t n_segments, const Expect *expect) {
        _cleanup_(sdc_image_freep) SdcImage *img = NULL;
        SdcImageError error;
        Entries c = {};
        int r;

        r = sdc_image_open_buffer(b->data, b->size, NULL, collect, &c, &img, &error);
        if (r < 0)
                fprintf(stderr, "unexpected error %d: %s\n", r, error.message);
        ASSERT_EQ(r, 0);
        ASSERT_EQ(error.error, 0);
        ASSERT_EQ(sdc_image_file_size(img), b->size);
        check_image(img, &c, n_segments, expect);
        entries_clear(&c);
}

static const struct {
        const char *suffix;
        SdcCompression compression;
} compressions[] = {
        { "gz", SDC_COMPRESSION_GZIP },
        { "xz", SDC_COMPRESSION_XZ },
        { "lzma", SDC_COMPRESSION_LZMA },
        { "zst", SDC_COMPRESSION_ZSTD },
        { "lz4l", SDC_COMPRESSION_LZ4_LEGACY },
        { "lz4", SDC_COMPRESSION_LZ4_FRAME },
        { "bz2", SDC_COMPRESSION_BZIP2 },
};

/* A backend left out of the build (-Dxz=disabled, ...) must say so, for the bare stream and for an
 * image; its images are then not read further. */
static bool backend_present(size_t i) {
        char name[64], msg[128];
        _cleanup_free_ uint8_t *p = NULL;
        SdcImageError e;
        SdcOutbuf out;
        size_t n, consumed;

        if (sdc_compression_supported(compressions[i].compression))
                return true;

        snprintf(name, sizeof(name), "small.cpio.%s", compressions[i].suffix);
        p = fixture_read(fixtures, name, &n);
        ASSERT_EQ(sdc_outbuf_init(&out, 1 << 20), 0);
        ASSERT_EQ(sdc_decompress(compressions[i].compression, p, n, &out, &consumed), -EPROTONOSUPPORT);
        sdc_outbuf_done(&out);
        ASSERT_EQ(sdc_image_open_buffer(p, n, NULL, NULL, NULL, NULL, &e), -EPROTONOSUPPORT);
        snprintf(msg, sizeof(msg), "%s compression is not supported by this build",
                 sdc_compression_to_string(compressions[i].compression));
        ASSERT_TRUE(strstr(e.message, msg));
        fprintf(stderr, "   %s: not in this build, and says so\n", name);
        return false;
}

static void test_compression_names(void) {
        static const uint8_t lzo[] = { 0x89, 'L', 'Z', 'O', 0, '\r', '\n', 0x1a, '\n' };

        ASSERT_STREQ(sdc_compression_to_string(SDC_COMPRESSION_GZIP), "gzip");
        ASSERT_STREQ(sdc_compression_to_string(SDC_COMPRESSION_LZ4_LEGACY), "lz4-legacy");
        ASSERT_TRUE(sdc_compression_to_string(_SDC_COMPRESSION_MAX) == NULL);
        ASSERT_TRUE(sdc_compression_to_string(_SDC_COMPRESSION_INVALID) == NULL);
        for (SdcCompression c = 0; c < _SDC_COMPRESSION_MAX; c++)
                ASSERT_TRUE(sdc_compression_to_string(c));

        ASSERT_EQ(sdc_compression_detect(lzo, sizeof(lzo)), SDC_COMPRESSION_LZO);
        ASSERT_EQ(sdc_compression_detect((const uint8_t *) "\x1f\x9e", 2), SDC_COMPRESSION_GZIP);
        ASSERT_EQ(sdc_compression_detect((const uint8_t *) "\x1f", 1), _SDC_COMPRESSION_INVALID);
        ASSERT_EQ(sdc_compression_detect((const uint8_t *) "07070", 5), _SDC_COMPRESSION_INVALID);
        ASSERT_EQ(sdc_compression_detect((const uint8_t *) "\xfd" "7zX", 4), _SDC_COMPRESSION_INVALID);
        ASSERT_EQ(sdc_compression_supported(SDC_COMPRESSION_LZO), 0);
        ASSERT_EQ(sdc_compression_supported(SDC_COMPRESSION_NONE), 1);

        /* What the real tools write is detected as what it is. */
        for (size_t i = 0; i < ELEMENTSOF(compressions); i++) {
                char name[64];
                size_t n;
                _cleanup_free_ uint8_t *p = NULL;

                snprintf(name, sizeof(name), "small.cpio.%s", compressions[i].suffix);
                p = fixture_read(fixtures, name, &n);
                ASSERT_EQ(sdc_compression_detect(p, n), compressions[i].compression);
                (void) backend_present(i);
        }
}

/* Each backend alone: the exact output, and the exact length of its stream even when more follows. */
static void test_decompress(void) {
        _cleanup_free_ uint8_t *plain = NULL;
        size_t plain_size;

        plain = fixture_read(fixtures, "small.cpio", &plain_size);

        for (size_t i = 0; i < ELEMENTSOF(compressions); i++) {
                if (!backend_present(i))
                        continue;
                char name[64];
                Buf b = {};
                SdcOutbuf out;
                size_t consumed = 0, n;

                snprintf(name, sizeof(name), "small.cpio.%s", compressions[i].suffix);
                buf_append_file(&b, name);
                n = b.size;
                /* What the walker finds behind a stream: zero padding, then the next segment. */
                buf_append_zeros(&b, 8);
                buf_append_file(&b, "early.cpio.gz");

                ASSERT_EQ(sdc_outbuf_init(&out, 1 << 20), 0);
                ASSERT_EQ(out.capacity, 1 << 20);
                ASSERT_EQ(sdc_decompress(compressions[i].compression, b.data, b.size, &out, &consumed), 0);
                ASSERT_EQ(consumed, n);
                ASSERT_EQ(out.size, plain_size);
                ASSERT_TRUE(memcmp(out.data, plain, plain_size) == 0);

                /* Appended to what is there: a second run writes behind the first. */
                ASSERT_EQ(sdc_decompress(compressions[i].compression, b.data, n, &out, &consumed), 0);
                ASSERT_EQ(out.size, 2 * plain_size);
                ASSERT_TRUE(memcmp(out.data + plain_size, plain, plain_size) == 0);

                /* The cap: one byte short is -EFBIG; an exact fit is fine. */
                sdc_outbuf_done(&out);
                ASSERT_EQ(sdc_outbuf_init(&out, plain_size - 1), 0);
                ASSERT_EQ(sdc_decompress(compressions[i].compression, b.data, n, &out, &consumed),
                          -EFBIG);
                sdc_outbuf_done(&out);
                ASSERT_EQ(sdc_outbuf_init(&out, plain_size), 0);
                ASSERT_EQ(sdc_decompress(compressions[i].compression, b.data, n, &out, &consumed), 0);
                ASSERT_EQ(out.size, plain_size);

                /* Cut inside the stream: every backend, streaming, can tell. */
                sdc_outbuf_done(&out);
                ASSERT_EQ(sdc_outbuf_init(&out, 1 << 20), 0);
                ASSERT_EQ(sdc_decompress(compressions[i].compression, b.data, n - 1, &out, &consumed), -ENODATA);

                sdc_outbuf_done(&out);
                ASSERT_TRUE(out.data == NULL);
                free(b.data);
        }

        {
                SdcOutbuf out;
                size_t consumed;
                static const uint8_t lzo[] = { 0x89, 'L', 'Z', 'O', 0, '\r', '\n', 0x1a, '\n' };

                ASSERT_EQ(sdc_outbuf_init(&out, 0), -EINVAL);
                ASSERT_EQ(sdc_outbuf_init(&out, 4096), 0);
                ASSERT_EQ(sdc_decompress(SDC_COMPRESSION_LZO, lzo, sizeof(lzo), &out, &consumed), -EPROTONOSUPPORT);
                ASSERT_EQ(sdc_decompress(SDC_COMPRESSION_NONE, lzo, sizeof(lzo), &out, &consumed), -EPROTONOSUPPORT);
                sdc_outbuf_done(&out);
        }
}

/* xz as dracut writes it (-T0): independent blocks with their sizes in their headers, which the
 * backend decodes with several threads where liblzma can. The same exact-length, truncation and
 * size-cap rules as for a single-block stream. */
static void test_xz_blocks(void) {
        static const char *const names[] = { "small", "newc" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ uint8_t *plain = NULL;
                char name[64];
                size_t plain_size, consumed = 0, n;
                SdcOutbuf out;
                Buf b = {};

                snprintf(name, sizeof(name), "%s.cpio", names[i]);
                plain = fixture_read(fixtures, name, &plain_size);
                snprintf(name, sizeof(name), "%s.cpio.xzmt", names[i]);
                buf_append_file(&b, name);
                n = b.size;
                buf_append_zeros(&b, 8);
                buf_append_file(&b, "early.cpio.gz");

#if HAVE_LZMA_STREAM_DECODER_MT
                unsigned started = __atomic_load_n(&threads_started, __ATOMIC_SEQ_CST);
#endif
                ASSERT_EQ(sdc_outbuf_init(&out, plain_size + (1 << 20)), 0);
                ASSERT_EQ(sdc_decompress(SDC_COMPRESSION_XZ, b.data, b.size, &out, &consumed), 0);
                ASSERT_EQ(consumed, n);
                ASSERT_EQ(out.size, plain_size);
                ASSERT_TRUE(memcmp(out.data, plain, plain_size) == 0);
                sdc_outbuf_done(&out);
#if HAVE_LZMA_STREAM_DECODER_MT
                /* The large one has 33 blocks of 256 KiB: with more than one CPU, more than one worker
                 * decodes them. (liblzma 5.4.1 given LZMA_FINISH from the first call reads the next
                 * block only after the last one is out, and its first worker does it all.) */
                if (i == 1 && lzma_cputhreads() > 1)
                        ASSERT_TRUE(__atomic_load_n(&threads_started, __ATOMIC_SEQ_CST) - started >= 2);
#endif

                ASSERT_EQ(sdc_outbuf_init(&out, plain_size - 1), 0);
                ASSERT_EQ(sdc_decompress(SDC_COMPRESSION_XZ, b.data, n, &out, &consumed), -EFBIG);
                sdc_outbuf_done(&out);

                /* Every cut of the small one (inside each block, its header and the index), a few of
                 * the large one. */
                ASSERT_EQ(sdc_outbuf_init(&out, plain_size + (1 << 20)), 0);
                for (size_t cut = 1; cut < n; cut += i == 0 ? 1 : n / 8 + 1) {
                        out.size = 0;
                        ASSERT_EQ(sdc_decompress(SDC_COMPRESSION_XZ, b.data, cut, &out, &consumed), -ENODATA);
                }
                sdc_outbuf_done(&out);
                free(b.data);
        }
}

/* Every compression of both cpio formats, through the file API. */
static void test_single_images(void) {
        static const char *const formats[] = { "newc", "crc" };

        for (size_t f = 0; f < ELEMENTSOF(formats); f++)
                for (size_t i = 0; i <= ELEMENTSOF(compressions); i++) {
                        _cleanup_(sdc_image_freep) SdcImage *img = NULL;
                        bool plain = i == ELEMENTSOF(compressions);
                        Expect expect = {
                                .compression = plain ? SDC_COMPRESSION_NONE : compressions[i].compression,
                                .tree = "tree",
                                .list = "tree.list",
                        };
                        _cleanup_close_ int dir_fd = -1;
                        char name[64];
                        SdcImageError error;
                        Entries c = {};
                        struct stat st;
                        int r;

                        if (!plain && !backend_present(i))
                                continue;
                        if (plain)
                                snprintf(name, sizeof(name), "%s.cpio", formats[f]);
                        else
                                snprintf(name, sizeof(name), "%s.cpio.%s", formats[f], compressions[i].suffix);
                        fprintf(stderr, "   %s\n", name);

                        dir_fd = open(fixtures, O_DIRECTORY | O_CLOEXEC);
                        ASSERT_TRUE(dir_fd >= 0);
                        ASSERT_EQ(fstatat(dir_fd, name, &st, 0), 0);

                        r = sdc_image_open(dir_fd, name, NULL, collect, &c, &img, &error);
                        if (r < 0)
                                fprintf(stderr, "unexpected error %d: %s\n", r, error.message);
                        ASSERT_EQ(r, 0);
                        ASSERT_EQ(sdc_image_file_size(img), st.st_size);
                        /* An uncompressed archive is one segment up to its trailer, without the block
                         * padding behind it; a compressed one is the whole file. */
                        if (!plain) {
                                expect.offset = 0;
                                expect.length = (uint64_t) st.st_size;
                        }
                        check_image(img, &c, 1, &expect);
                        if (!plain) {
                                size_t n;
                                _cleanup_free_ uint8_t *cpio = NULL;
                                snprintf(name, sizeof(name), "%s.cpio", formats[f]);
                                cpio = fixture_read(fixtures, name, &n);
                                ASSERT_EQ(sdc_image_segment(img, 0)->unpacked, n);
                        }
                        entries_clear(&c);
                }
}

/* The shapes dracut and bootloaders make. */
static void test_concatenations(void) {
        size_t early_size, early_gz_size;
        free(fixture_read(fixtures, "early.cpio", &early_size));
        free(fixture_read(fixtures, "early.cpio.gz", &early_gz_size));

        for (size_t i = 0; i < ELEMENTSOF(compressions); i++) {
                if (!backend_present(i))
                        continue;
                char name[64];
                Buf b = {};
                size_t main_size;

                snprintf(name, sizeof(name), "newc.cpio.%s", compressions[i].suffix);
                free(fixture_read(fixtures, name, &main_size));
                fprintf(stderr, "   early.cpio + %s\n", name);

                /* Early microcode, uncompressed, then the compressed main archive (dracut). GNU cpio
                 * pads early.cpio to 512 bytes; the early segment ends at its trailer. */
                buf_append_file(&b, "early.cpio");
                buf_append_file(&b, name);
                {
                        Expect e[] = {
                                { SDC_COMPRESSION_NONE, "early-tree", "early.list" },
                                { compressions[i].compression, "tree", "tree.list", early_size, main_size },
                        };
                        check_buffer(&b, 2, e);
                }

                /* The same with 512 bytes of zero padding between them (bootloaders align initrds). */
                free(b.data);
                b = (Buf) {};
                buf_append_file(&b, "early.cpio");
                buf_append_zeros(&b, 512);
                buf_append_file(&b, name);
                {
                        Expect e[] = {
                                { SDC_COMPRESSION_NONE, "early-tree", "early.list" },
                                { compressions[i].compression, "tree", "tree.list", early_size + 512, main_size },
                        };
                        check_buffer(&b, 2, e);
                }

                /* Compressed first, then padding to a multiple of 4 and more, then an uncompressed
                 * archive. (The legacy lz4 stream ends at the zero padding, as in the kernel.) The small
                 * tree from here on: the large one costs time and shows nothing more. */
                snprintf(name, sizeof(name), "small.cpio.%s", compressions[i].suffix);
                free(fixture_read(fixtures, name, &main_size));
                free(b.data);
                b = (Buf) {};
                buf_append_file(&b, name);
                buf_align4(&b);
                buf_append_zeros(&b, 512);
                buf_append_file(&b, "early.cpio");
                {
                        Expect e[] = {
                                { compressions[i].compression, "small-tree", "small.list", 0, main_size },
                                { SDC_COMPRESSION_NONE, "early-tree", "early.list" },
                        };
                        check_buffer(&b, 2, e);
                }

                /* Behind a gzip stream, a second compressed stream with no padding at all. */
                free(b.data);
                b = (Buf) {};
                buf_append_file(&b, "early.cpio.gz");
                buf_append_file(&b, name);
                if (HAVE_GZIP) {
                        Expect e[] = {
                                { SDC_COMPRESSION_GZIP, "early-tree", "early.list", 0, early_gz_size },
                                { compressions[i].compression, "small-tree", "small.list", early_gz_size, main_size },
                        };
                        check_buffer(&b, 2, e);
                }
                free(b.data);
        }

        /* Three segments: early, then two gzip members back to back, each holding whole archives. */
        if (HAVE_GZIP) {
                Buf b = {};
                size_t small_gz;

                free(fixture_read(fixtures, "small.cpio.gz", &small_gz));
                buf_append_file(&b, "early.cpio");
                buf_append_file(&b, "early.cpio.gz");
                buf_append_file(&b, "small.cpio.gz");
                Expect e[] = {
                        { SDC_COMPRESSION_NONE, "early-tree", "early.list" },
                        { SDC_COMPRESSION_GZIP, "early-tree", "early.list", early_size, early_gz_size },
                        { SDC_COMPRESSION_GZIP, "small-tree", "small.list", early_size + early_gz_size, small_gz },
                };
                check_buffer(&b, 3, e);
                free(b.data);
        }

        /* Two uncompressed archives back to back: two segments, split at the trailer. */
        {
                Buf b = {};

                buf_append_file(&b, "early.cpio");
                buf_append_file(&b, "small.cpio");
                Expect e[] = {
                        { SDC_COMPRESSION_NONE, "early-tree", "early.list" },
                        { SDC_COMPRESSION_NONE, "small-tree", "small.list" },
                };
                check_buffer(&b, 2, e);
                free(b.data);
        }
}

static int open_buffer(const Buf *b, const SdcImageLimits *limits, SdcImageError *error) {
        _cleanup_(sdc_image_freep) SdcImage *img = NULL;
        Entries c = {};
        int r;

        r = sdc_image_open_buffer(b->data, b->size, limits, collect, &c, &img, error);
        entries_clear(&c);
        if (r < 0) {
                /* Every failure says what and where. */
                ASSERT_EQ(error->error, r);
                ASSERT_TRUE(error->message[0] != 0);
                ASSERT_TRUE(error->offset < b->size);
                ASSERT_TRUE(img == NULL);
        } else
                ASSERT_TRUE(img != NULL);
        return r;
}

static void expect_error(const Buf *b, const SdcImageLimits *limits, int error, uint64_t offset, const char *message) {
        SdcImageError e;
        int r;

        r = open_buffer(b, limits, &e);
        if (r != error || e.offset != offset || !strstr(e.message, message))
                fprintf(stderr, "got %d at %" PRIu64 ": \"%s\"; expected %d at %" PRIu64 ": \"...%s...\"\n", r,
                        e.offset, e.message, error, offset, message);
        ASSERT_EQ(r, error);
        ASSERT_EQ(e.offset, offset);
        ASSERT_TRUE(strstr(e.message, message));
}

/* Cut at every byte and corrupted at every byte: always an answer, never a crash or a hang. */
static void test_truncated_and_corrupted(void) {
        for (size_t i = 0; i < ELEMENTSOF(compressions); i++) {
                if (!backend_present(i))
                        continue;
                char name[64];
                Buf b = {};
                size_t n_errors = 0;

                snprintf(name, sizeof(name), "small.cpio.%s", compressions[i].suffix);
                buf_append_file(&b, name);

                for (size_t cut = 1; cut < b.size; cut++) {
                        /* An exact-size copy, so that a read past the end is caught by ASan. */
                        Buf t = {};
                        SdcImageError e;

                        buf_append(&t, b.data, cut);
                        ASSERT_TRUE(open_buffer(&t, NULL, &e) < 0);
                        free(t.data);
                }

                for (size_t at = 0; at < b.size; at++) {
                        SdcImageError e;

                        b.data[at] ^= 0x55;
                        if (open_buffer(&b, NULL, &e) < 0)
                                n_errors++;
                        b.data[at] ^= 0x55;
                }
                fprintf(stderr, "   %s: %zu of %zu corrupted bytes detected\n", name, n_errors, b.size);
                ASSERT_TRUE(n_errors > 0);
                free(b.data);
        }

        /* The large images: cut at some offsets (decompressing 8 MiB each time is slow under ASan). */
        for (size_t i = 0; i < ELEMENTSOF(compressions); i++) {
                if (!backend_present(i))
                        continue;
                char name[64];
                Buf b = {};

                snprintf(name, sizeof(name), "newc.cpio.%s", compressions[i].suffix);
                buf_append_file(&b, name);
                for (size_t k = 1; k < 4; k++) {
                        Buf t = {};
                        SdcImageError e;

                        buf_append(&t, b.data, b.size * k / 4);
                        ASSERT_TRUE(open_buffer(&t, NULL, &e) < 0);
                        ASSERT_EQ(e.offset, 0);
                        free(t.data);
                }
                free(b.data);
        }

        /* Uncompressed: a cut inside an entry is reported (the kernel would keep what it got). */
        {
                Buf b = {};
                buf_append_file(&b, "early.cpio");
                b.size = 50;
                expect_error(&b, NULL, -ENODATA, 0,
                             "truncated cpio archive: entry at byte 0: header cut short after 50 of 110 bytes (file ends at byte 50)");
                free(b.data);
        }

        /* A crc archive whose file body no longer matches its checksum. */
        {
                Buf b = {};
                uint8_t *p;

                buf_append_file(&b, "crc.cpio");
                uint8_t *h;
                char msg[64];

                p = memmem(b.data, b.size, "0123456789abc", 13);
                ASSERT_TRUE(p);
                p[5] = 'X';
                for (h = p; memcmp(h, "070702", 6) != 0; h--)
                        ;
                snprintf(msg, sizeof(msg), "cpio entry at byte %zu: checksum", (size_t) (h - b.data));
                expect_error(&b, NULL, -EBADMSG, (uint64_t) (h - b.data), msg);
                ASSERT_TRUE(strstr(msg, "does not match the body") == NULL);
                free(b.data);
        }
}

static void test_messages(void) {
        Buf b = {};
        size_t n;

        /* Not an initramfs at all. */
        buf_append(&b, "ABCDEFGH", 8);
        expect_error(&b, NULL, -EBADMSG, 0, "invalid magic 0x41 0x42 at byte 0: not an initramfs");
        free(b.data);

        /* A truncated zstd stream behind an uncompressed segment: the segment's offset. */
        b = (Buf) {};
        buf_append_file(&b, "early.cpio");
        n = b.size;
        buf_append_file(&b, "newc.cpio.zst");
        b.size -= 100;
        if (HAVE_ZSTD) {
                char msg[128];
                snprintf(msg, sizeof(msg), "truncated zstd stream (segment at byte %zu ends at end of file, byte %zu)", n,
                         b.size);
                expect_error(&b, NULL, -ENODATA, n, msg);
        }
        free(b.data);

        /* Junk behind a compressed stream. */
        b = (Buf) {};
        buf_append_file(&b, "small.cpio.xz");
        n = b.size;
        buf_append(&b, "JUNK", 4);
        if (HAVE_XZ) {
                char msg[128];
                snprintf(msg, sizeof(msg), "invalid magic 0x4a 0x55 at byte %zu", n);
                expect_error(&b, NULL, -EBADMSG, n, msg);
        }
        free(b.data);

        /* Junk inside a compressed stream, behind the archive, and a stream that ends inside an
         * entry: what the kernel calls "junk within" and "junk at the end of" a compressed archive. */
        if (HAVE_GZIP) {
                b = (Buf) {};
                buf_append_file(&b, "junk-inside.cpio.gz");
                expect_error(&b, NULL, -EBADMSG, 0, "junk within compressed archive: byte 0x4a");
                free(b.data);
                b = (Buf) {};
                buf_append_file(&b, "cut-inside.cpio.gz");
                expect_error(&b, NULL, -EBADMSG, 0, "junk at the end of compressed archive");
                free(b.data);
        }

        /* lzo: known to the kernel, not supported here. */
        b = (Buf) {};
        buf_append_file(&b, "early.cpio");
        n = b.size;
        buf_append(&b, "\x89LZO\0\r\n\x1a\n", 9);
        expect_error(&b, NULL, -EPROTONOSUPPORT, n, "lzo compression is not supported");
        free(b.data);

        /* Data behind an uncompressed entry's zero padding must resume 4-byte aligned. */
        b = (Buf) {};
        buf_append_file(&b, "early.cpio");
        n = b.size;
        buf_append_zeros(&b, 1);
        buf_append_file(&b, "small.cpio.gz"); /* the error comes before it would be unpacked */
        expect_error(&b, NULL, -EBADMSG, n + 1, "broken padding");
        free(b.data);

        /* Behind a compressed stream, an uncompressed archive at an unaligned offset. */
        if (HAVE_GZIP) {
                b = (Buf) {};
                buf_append_file(&b, "small.cpio.gz");
                while (b.size % 4 != 2) /* zero padding is skipped; the archive then starts 2 bytes off */
                        buf_append_zeros(&b, 1);
                n = b.size;
                buf_append_file(&b, "early.cpio");
                expect_error(&b, NULL, -EBADMSG, n, "must start at a multiple of 4");
                free(b.data);
        }

        /* Only zeros; and nothing. */
        b = (Buf) {};
        buf_append_zeros(&b, 4096);
        expect_error(&b, NULL, -EBADMSG, 0, "no cpio archive");
        b.size = 0;
        {
                SdcImageError e;
                ASSERT_EQ(sdc_image_open_buffer(b.data, 0, NULL, NULL, NULL, NULL, &e), -ENODATA);
        }
        free(b.data);
}

static void test_hand_made(void) {
        uint8_t *p = calloc(1, 16384);
        Buf b = {};
        size_t n;

        ASSERT_TRUE(p);

        /* A header with a non-hex digit. */
        n = cpio_put_entry(p, "070701", 0100644, 0, 2, "a", NULL, 0, 0);
        p[6 + 8 * 3 + 2] = 'x';
        b = (Buf) { p, n };
        expect_error(&b, NULL, -EBADMSG, 0, "cpio entry at byte 0: header field gid is not 8 hex digits");

        /* namesize 0 and > 4096, in the second entry of an archive. */
        n = cpio_put_entry(p, "070701", 040755, 0, 4, "dir", NULL, 0, 0);
        n += cpio_put_entry(p + n, "070701", 0100644, 0, 0, "a", NULL, 0, 0);
        b = (Buf) { p, n };
        expect_error(&b, NULL, -EBADMSG, 116, "cpio entry at byte 116: name length 0");
        n = cpio_put_entry(p, "070701", 040755, 0, 4, "dir", NULL, 0, 0);
        n += cpio_put_entry(p + n, "070701", 0100644, 0, 9000, "a", NULL, 0, 0);
        b = (Buf) { p, 16384 };
        expect_error(&b, NULL, -EBADMSG, 116, "cpio entry at byte 116: name length 9000 exceeds 4096");

        /* filesize near UINT32_MAX. */
        n = cpio_put_entry(p, "070701", 0100644, 0xFFFFFFFC, 2, "a", NULL, 0, 0);
        b = (Buf) { p, 16384 };
        expect_error(&b, NULL, -ENODATA, 0, "truncated cpio archive");
        free(p);
}

static void test_limits(void) {
        _cleanup_free_ uint8_t *plain = NULL;
        size_t plain_size;

        plain = fixture_read(fixtures, "small.cpio", &plain_size);

        for (size_t i = 0; i < ELEMENTSOF(compressions); i++) {
                if (!backend_present(i))
                        continue;
                char name[64];
                Buf b = {};
                SdcImageError e;
                SdcImageLimits limits = { .max_unpacked = plain_size, .max_entries = 6 };

                snprintf(name, sizeof(name), "small.cpio.%s", compressions[i].suffix);
                buf_append_file(&b, name);

                /* Exactly at both limits: fine. The small tree has 6 entries and a trailer. */
                ASSERT_EQ(open_buffer(&b, &limits, &e), 0);

                limits.max_unpacked = plain_size - 1;
                expect_error(&b, &limits, -EFBIG, 0, "unpacked size exceeds the limit of 1023 B");
                limits.max_unpacked = 0;
                expect_error(&b, &limits, -EFBIG, 0, "unpacked size exceeds the limit of 0 B");

                limits = (SdcImageLimits) { .max_unpacked = plain_size, .max_entries = 5 };
                expect_error(&b, &limits, -E2BIG, 0, "more than 5 cpio entries");
                free(b.data);
        }

        /* The limit counts all compressed segments together. */
        if (HAVE_GZIP && HAVE_ZSTD) {
                Buf b = {};
                SdcImageLimits limits = { .max_unpacked = 2 * plain_size - 1, .max_entries = 100 };
                size_t n;

                buf_append_file(&b, "small.cpio.gz");
                n = b.size;
                buf_append_file(&b, "small.cpio.zst");
                expect_error(&b, &limits, -EFBIG, n, "unpacked size exceeds the limit of 2.0 KiB, in the zstd segment");
                limits.max_unpacked++;
                ASSERT_EQ(open_buffer(&b, &limits, &(SdcImageError) {}), 0);
                free(b.data);
        }

        /* max_entries counts uncompressed entries too. */
        {
                Buf b = {};
                SdcImageLimits limits = { .max_unpacked = 0, .max_entries = 6 };

                buf_append_file(&b, "small.cpio");
                ASSERT_EQ(open_buffer(&b, &limits, &(SdcImageError) {}), 0);
                buf_append_file(&b, "early.cpio");
                expect_error(&b, &limits, -E2BIG, plain_size, "more than 6 cpio entries");
                free(b.data);
        }
}

static int stop_at_second(const SdcCpioEntry *e, unsigned segment, void *userdata) {
        int *n = userdata;
        return ++*n == 2 ? -ECANCELED : 0;
}

static void test_callback_and_files(void) {
        _cleanup_close_ int dir_fd = -1;
        SdcImageError e;
        SdcImage *img = NULL;
        char path[2 * PATH_MAX];
        int n = 0;

        dir_fd = open(fixtures, O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);

        /* The callback stops the walk. */
        ASSERT_EQ(sdc_image_open(dir_fd, "newc.cpio", NULL, stop_at_second, &n, &img, &e), -ECANCELED);
        ASSERT_EQ(n, 2);
        ASSERT_TRUE(img == NULL);
        ASSERT_EQ(e.error, -ECANCELED);

        /* Without a callback and without keeping the image. */
        if (HAVE_XZ) {
                ASSERT_EQ(sdc_image_open(dir_fd, "newc.cpio.xz", NULL, NULL, NULL, NULL, &e), 0);
                ASSERT_EQ(sdc_image_open(dir_fd, "newc.cpio.xz", NULL, NULL, NULL, NULL, NULL), 0);
        }

        /* What is not an image file. */
        ASSERT_EQ(sdc_image_open(dir_fd, "does-not-exist", NULL, NULL, NULL, &img, &e), -ENOENT);
        ASSERT_TRUE(strstr(e.message, "cannot open"));
        ASSERT_EQ(sdc_image_open(dir_fd, "tree", NULL, NULL, NULL, &img, &e), -EISDIR);
        ASSERT_EQ(sdc_image_open(dir_fd, "tree/etc/empty", NULL, NULL, NULL, &img, &e), -ENODATA);
        ASSERT_TRUE(strstr(e.message, "empty"));
        ASSERT_EQ(mkfifoat(dir_fd, "fifo", 0600), 0);
        ASSERT_EQ(sdc_image_open(dir_fd, "fifo", NULL, NULL, NULL, &img, &e), -EINVAL);
        ASSERT_TRUE(strstr(e.message, "not a regular file"));
        ASSERT_EQ(sdc_image_open(AT_FDCWD, "/dev/null", NULL, NULL, NULL, &img, &e), -EINVAL);
        snprintf(path, sizeof(path), "%s/tree/etc/os-release", fixtures);
        ASSERT_EQ(sdc_image_open(AT_FDCWD, path, NULL, NULL, NULL, &img, &e), -EBADMSG);
        ASSERT_TRUE(strstr(e.message, "invalid magic 0x4e 0x41 at byte 0"));
        ASSERT_TRUE(img == NULL);
}

int main(void) {
        fixtures_make(fixtures, 0);

        TEST(test_compression_names);
        TEST(test_decompress);
        TEST(test_xz_blocks);
        TEST(test_single_images);
        TEST(test_concatenations);
        TEST(test_truncated_and_corrupted);
        TEST(test_messages);
        TEST(test_hand_made);
        TEST(test_limits);
        TEST(test_callback_and_files);

        fixtures_remove(fixtures);
        return 0;
}
