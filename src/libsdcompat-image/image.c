/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The image walker: the kernel's unpack_to_rootfs() (init/initramfs.c) without the writing.
 *
 * The kernel's rules, as this file applies them:
 *   - At the top level, a '0' at a 4-byte-aligned file offset starts an uncompressed cpio archive; a
 *     zero byte is padding and skipped; anything else must be a compression magic, and one stream
 *     of that compression is unpacked from there (decompress.c). The walk resumes right behind the
 *     stream, at whatever alignment.
 *   - Behind each cpio entry, zero bytes are padding; data after them must resume at a multiple of
 *     4 bytes, counted from the start of the file for uncompressed data and from the start of the
 *     stream's output inside a stream ("broken padding" otherwise).
 *   - Inside a stream, after padding, only another cpio header may follow ("junk within compressed
 *     archive"), and the stream must end between two entries ("junk at the end of compressed
 *     archive"): a stream cannot end in the middle of an entry to be continued by the next one.
 *   - TRAILER!!! does not end anything; entries after it are unpacked like any other.
 *
 * Where this walker is stricter than the kernel, it is because the kernel's leniency would hide a
 * broken image from the operator: an uncompressed archive that is cut short at the end of the file
 * (the kernel silently keeps what it got) is -ENODATA here; an entry whose name length is 0 or over
 * PATH_MAX (the kernel skips it) is -EBADMSG; a file that holds no cpio entry at all is -EBADMSG.
 *
 * Memory does not grow with the image: compressed segments are decoded in pieces of
 * OUTPUT_PIECE bytes, and the cpio archives inside are parsed as the pieces come (StreamParser), one
 * header and name at a time. A body is copied out only if the caller's want() asks for it; the
 * others are skipped as they pass. Pages of the mapped file are dropped behind the walk. What stays
 * is what the caller kept, the decoders' own bounded state, and one output piece. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "alloc.h"
#include "image.h"

/* Kept bodies: malloc()ed with this header in front, on a circular list the image owns, so that
 * sdc_image_body_free() can give one back early without knowing the image. */
typedef struct Body Body;
struct Body {
        Body *prev, *next;
        uint8_t data[];
};

#define OUTPUT_PIECE ((size_t) 256 << 10)
/* Pages of the mapped file behind the walk are dropped once this much has been read. */
#define RELEASE_STEP ((size_t) 4 << 20)

struct SdcImage {
        uint8_t *map; /* our mapping of the file; NULL over a caller's buffer */
        size_t map_size;
        size_t released; /* bytes at the start of map whose pages were dropped */
        const uint8_t *data;
        size_t size;
        Body bodies; /* the list's sentinel */
        SdcImageSegment *segments;
        size_t n_segments, n_allocated;
};

typedef enum ParserState {
        PARSE_BETWEEN, /* padding between entries, or the start of the stream */
        PARSE_HEADER,  /* collecting the header and the name into hold */
        PARSE_BODY,    /* the body and its padding pass */
} ParserState;

/* The cpio archives in one compressed stream's output, parsed as the pieces come: the kernel's
 * flush_buffer() state machine, with this reader's messages. */
typedef struct StreamParser {
        ParserState state;
        bool need_header; /* the next byte must start a header (nothing read yet in the image) */
        uint64_t pos;     /* unpacked offset of the next byte */
        uint64_t header;  /* unpacked offset of the current entry's header */
        uint8_t hold[ALIGN4(SDC_CPIO_HEADER_SIZE + SDC_CPIO_NAME_MAX)];
        size_t held, hold_target;
        SdcCpioEntry e;
        int trailer;           /* the current entry is TRAILER!!! */
        uint64_t skip;         /* name padding still to skip before the body */
        uint64_t body_got;     /* body bytes passed */
        uint64_t entry_len;    /* header to next header, padding included */
        uint64_t entry_got;    /* bytes of the entry passed */
        Body *body;            /* where the body goes, if kept */
        uint32_t sum;          /* crc format: the body's checksum so far */
} StreamParser;

typedef struct Walker {
        SdcImage *img;
        SdcImageLimits limits;
        SdcImageWantFn want;
        SdcImageEntryFn fn;
        void *userdata;
        SdcImageError *error;
        uint64_t n_entries;
        /* Whether a cpio entry has been read: the kernel's state machine is then no longer in its
         * Start state, which decides how a stream that begins with zero bytes is read. */
        bool started;
        bool stopped; /* fn asked to stop (a positive return): not an error */
        uint64_t unpacked; /* bytes decoded before the current stream */
        int parse_error;   /* what the parser found wrong in the current stream (error is set) */
        StreamParser *parser;
        size_t segment; /* index of the segment being walked */
        uint8_t *piece; /* OUTPUT_PIECE bytes for the decoders */
} Walker;

static const char *format_bytes(char buf[static 32], uint64_t n) {
        static const char units[] = "KMGTPE";
        double v = (double) n;
        size_t u = 0;

        if (n < 1024) {
                (void) snprintf(buf, 32, "%" PRIu64 " B", n);
                return buf;
        }
        for (v /= 1024; v >= 1024 && u + 1 < STRLEN(units); v /= 1024)
                u++;
        (void) snprintf(buf, 32, "%.1f %ciB", v, units[u]);
        return buf;
}

_printf_(5, 6) static int set_error(SdcImageError *error, int r, uint64_t offset, SdcCompression c, const char *fmt, ...) {
        va_list ap;

        if (!error)
                return r;
        *error = (SdcImageError) {
                .error = r,
                .offset = offset,
                .compression = c,
        };
        va_start(ap, fmt);
        (void) vsnprintf(error->message, sizeof(error->message), fmt, ap);
        va_end(ap);
        return r;
}

static int add_segment(SdcImage *img, const SdcImageSegment *s, size_t *ret_index) {
        if (img->n_segments == img->n_allocated) {
                size_t n = MAX(img->n_allocated * 2, (size_t) 4);
                SdcImageSegment *p = reallocarray(img->segments, n, sizeof(SdcImageSegment));
                if (!p)
                        return -ENOMEM;
                img->segments = p;
                img->n_allocated = n;
        }
        img->segments[img->n_segments] = *s;
        *ret_index = img->n_segments++;
        return 0;
}

static Body *body_new(SdcImage *img, size_t size) {
        Body *b;

        /* One more byte: kept bodies are NUL-terminated, so a parser that forgets the length reads
         * a NUL instead of the heap. Large ones (libsystemd-shared, 3-4 MiB) on huge pages: a fresh
         * 4 KiB page costs a fault each, and these are written once, front to back. */
        if (size > SIZE_MAX - sizeof(Body) - 1)
                return NULL;
        b = malloc_large(sizeof(Body) + size + 1);
        if (!b)
                return NULL;
        b->data[size] = 0;
        b->next = img->bodies.next;
        b->prev = &img->bodies;
        img->bodies.next->prev = b;
        img->bodies.next = b;
        return b;
}

static void body_unlink_free(Body *b) {
        b->prev->next = b->next;
        b->next->prev = b->prev;
        free(b);
}

void sdc_image_body_free(const uint8_t *data) {
        if (data)
                body_unlink_free((Body *) (void *) ((uint8_t *) (uintptr_t) data - offsetof(Body, data)));
}

/* Drops the pages of our mapping before upto: they were read, and only the page cache needs them. */
static void release_input(SdcImage *img, const uint8_t *upto) {
        size_t end, page = (size_t) sysconf(_SC_PAGESIZE);

        if (!img->map || upto < img->map || upto > img->map + img->map_size)
                return;
        end = (size_t) (upto - img->map) / page * page;
        if (end < img->released + RELEASE_STEP)
                return;
        (void) madvise(img->map + img->released, end - img->released, MADV_DONTNEED);
        img->released = end;
}

/* Whether the caller wants e's body: the header is known, the body not yet (e->data is NULL). */
static int want_body(Walker *w, SdcCpioEntry *e, uint64_t offset, SdcCompression c) {
        int r;

        e->index = w->n_entries;
        if (!w->want)
                return 1;
        r = w->want(e, w->userdata);
        if (r < 0)
                return set_error(w->error, r, offset, c, "stopped by the entry callback at \"%s\": %s", e->name,
                                 strerror(-r));
        return r > 0;
}

static int emit_entry(Walker *w, SdcCpioEntry *e, size_t segment, uint64_t offset, SdcCompression c) {
        int r;

        if (w->n_entries >= w->limits.max_entries)
                return set_error(w->error, -E2BIG, offset, c, "more than %" PRIu64 " cpio entries (the limit)",
                                 w->limits.max_entries);
        e->index = w->n_entries++;
        w->img->segments[segment].entries++;

        if (!w->fn)
                return 0;
        r = w->fn(e, (unsigned) segment, w->userdata);
        if (r < 0)
                return set_error(w->error, r, offset, c, "stopped by the entry callback at \"%s\": %s", e->name,
                                 strerror(-r));
        if (r > 0) {
                w->stopped = true;
                return -ECANCELED;
        }
        return 0;
}

/* One uncompressed cpio archive: entries from *pos up to a TRAILER!!! or up to whatever is not a cpio
 * header, with the zero padding behind each entry. */
static int walk_uncompressed(Walker *w, size_t *pos) {
        const uint8_t *data = w->img->data;
        size_t size = w->img->size, p = *pos, end = p, index;
        int r;

        r = add_segment(w->img, &(SdcImageSegment) { .offset = p, .compression = SDC_COMPRESSION_NONE }, &index);
        if (r < 0)
                return set_error(w->error, r, p, SDC_COMPRESSION_NONE, "out of memory");

        for (;;) {
                SdcCpioEntry e;
                char reason[160];
                size_t next, header = p;

                r = sdc_cpio_parse_entry_reason(data + p, size - p, &e, &next, reason, sizeof(reason));
                if (r == -ENODATA)
                        return set_error(w->error, r, p, SDC_COMPRESSION_NONE,
                                         "truncated cpio archive: entry at byte %zu: %s (file ends at byte %zu)", p,
                                         reason, size);
                if (r < 0)
                        return set_error(w->error, r, p, SDC_COMPRESSION_NONE, "cpio entry at byte %zu: %s", p, reason);
                w->started = true;
                if (r == 0) {
                        int k;

                        e.offset = p;
                        SdcCpioEntry h = e;

                        h.data = NULL;
                        k = want_body(w, &h, p, SDC_COMPRESSION_NONE);
                        if (k < 0)
                                return k;
                        if (k > 0) {
                                Body *b = body_new(w->img, e.size);

                                if (!b)
                                        return set_error(w->error, -ENOMEM, p, SDC_COMPRESSION_NONE, "out of memory");
                                if (e.size > 0)
                                        memcpy(b->data, e.data, e.size);
                                e.data = b->data;
                        } else
                                e.data = NULL;
                        r = emit_entry(w, &e, index, p, SDC_COMPRESSION_NONE);
                        if (r < 0)
                                return r;
                }

                p += next;
                end = p;
                release_input(w->img, data + p);
                while (p < size && data[p] == 0)
                        p++;
                if (p < size && (p & 3) != 0)
                        return set_error(w->error, -EBADMSG, p, SDC_COMPRESSION_NONE,
                                         "broken padding: data resumes at byte %zu, not a multiple of 4, after the cpio entry at byte %zu",
                                         p, header);
                if (r == 1 || p >= size || data[p] != '0')
                        break;
        }

        w->img->segments[index].length = end - w->img->segments[index].offset;
        w->img->segments[index].unpacked = w->img->segments[index].length;
        *pos = p;
        return 0;
}

/* Stream parser errors name the segment: its offset in the file and its compression. */
static uint64_t segment_offset(const Walker *w) {
        return w->img->segments[w->segment].offset;
}

static SdcCompression segment_compression(const Walker *w) {
        return w->img->segments[w->segment].compression;
}

/* The current entry's header and name are complete in hold: decide about its body. */
static int parser_header_done(Walker *w, StreamParser *sp) {
        SdcCompression c = segment_compression(w);
        uint64_t offset = segment_offset(w);
        char reason[160];
        size_t next;
        int r, k;

        r = sdc_cpio_parse_header_reason(sp->hold, SIZE_MAX, &sp->e, &next, reason, sizeof(reason));
        if (r < 0)
                return set_error(w->error, r, offset, c,
                                 "cpio entry at unpacked offset %" PRIu64 " of the %s segment at byte %" PRIu64 ": %s",
                                 sp->header, sdc_compression_to_string(c), offset, reason);
        sp->trailer = r;
        sp->e.offset = (size_t) sp->header;
        sp->e.data = NULL;
        sp->entry_len = next;
        sp->entry_got = sp->held;
        sp->skip = ALIGN4(sp->held) - sp->held; /* the name's padding */
        sp->body_got = 0;
        sp->sum = 0;
        sp->body = NULL;
        sp->state = PARSE_BODY;
        if (sp->trailer)
                return 0;
        k = want_body(w, &sp->e, offset, c);
        if (k < 0)
                return k;
        /* A body larger than what the cap leaves can never be complete (the decoder stops with
         * -EFBIG first): no memory for it. */
        if (k > 0 && sp->e.size <= w->limits.max_unpacked - MIN(w->limits.max_unpacked, w->unpacked + sp->header)) {
                sp->body = body_new(w->img, sp->e.size);
                if (!sp->body)
                        return set_error(w->error, -ENOMEM, offset, c, "out of memory");
        }
        return 0;
}

/* The current entry has passed whole. */
static int parser_entry_done(Walker *w, StreamParser *sp) {
        SdcCompression c = segment_compression(w);
        uint64_t offset = segment_offset(w);
        char reason[160];
        int r;

        w->started = true;
        sp->state = PARSE_BETWEEN;
        sp->need_header = false;
        if (sp->trailer)
                return 0;
        if (sp->e.crc && S_ISREG(sp->e.mode)) {
                r = sdc_cpio_checksum_reason(&sp->e, sp->sum, reason, sizeof(reason));
                if (r < 0)
                        return set_error(w->error, r, offset, c,
                                         "cpio entry at unpacked offset %" PRIu64 " of the %s segment at byte %" PRIu64 ": %s",
                                         sp->header, sdc_compression_to_string(c), offset, reason);
        }
        sp->e.data = sp->body ? sp->body->data : NULL;
        sp->body = NULL;
        return emit_entry(w, &sp->e, w->segment, offset, c);
}

static int parser_feed_one(Walker *w, StreamParser *sp, const uint8_t *data, size_t n);

/* The decoder's sink. After an error in what the stream holds, the rest of the stream is still
 * decoded (and not parsed): if the stream itself is corrupt, that is the error to report, as the
 * garbage a corrupt stream unpacks to says nothing. */
static int parser_feed(const uint8_t *data, size_t n, void *userdata) {
        Walker *w = userdata;
        int r;

        if (w->parse_error < 0)
                return 0;
        r = parser_feed_one(w, w->parser, data, n);
        if (r < 0) {
                if (w->stopped)
                        return r; /* a stop, not an error: no need to read on */
                w->parse_error = r;
        }
        return 0;
}

static int parser_feed_one(Walker *w, StreamParser *sp, const uint8_t *data, size_t n) {
        SdcCompression c = segment_compression(w);
        uint64_t offset = segment_offset(w);
        const char *name = sdc_compression_to_string(c);
        size_t i = 0;
        int r;

        while (i < n) {
                switch (sp->state) {
                case PARSE_BETWEEN:
                        if (!sp->need_header) {
                                while (i < n && data[i] == 0)
                                        i++;
                                if (i == n)
                                        break;
                                if (((sp->pos + i) & 3) != 0)
                                        return set_error(w->error, -EBADMSG, offset, c,
                                                         "broken padding in the %s segment at byte %" PRIu64
                                                         ": data resumes at unpacked offset %" PRIu64 ", not a multiple of 4",
                                                         name, offset, sp->pos + i);
                                if (data[i] != '0')
                                        return set_error(w->error, -EBADMSG, offset, c,
                                                         "junk within compressed archive: byte 0x%02x at unpacked offset %" PRIu64
                                                         " of the %s segment at byte %" PRIu64,
                                                         data[i], sp->pos + i, name, offset);
                        }
                        sp->state = PARSE_HEADER;
                        sp->header = sp->pos + i;
                        sp->held = 0;
                        sp->hold_target = SDC_CPIO_HEADER_SIZE;
                        break;

                case PARSE_HEADER: {
                        size_t k = MIN(n - i, sp->hold_target - sp->held);

                        memcpy(sp->hold + sp->held, data + i, k);
                        sp->held += k;
                        i += k;
                        if (sp->held < sp->hold_target)
                                break;
                        if (sp->hold_target == SDC_CPIO_HEADER_SIZE) {
                                SdcCpioEntry e;
                                char reason[160];
                                size_t next;
                                uint32_t namesize = 0;

                                /* The header alone: its errors, or "name cut short" with its length. */
                                r = sdc_cpio_parse_header_reason(sp->hold, sp->held, &e, &next, reason, sizeof(reason));
                                if (r < 0 && r != -ENODATA)
                                        return set_error(w->error, r, offset, c,
                                                         "cpio entry at unpacked offset %" PRIu64 " of the %s segment at byte %" PRIu64
                                                         ": %s",
                                                         sp->header, name, offset, reason);
                                for (size_t d = 0; d < 8; d++) {
                                        uint8_t x = sp->hold[94 + d];
                                        namesize = namesize << 4 |
                                                   (uint32_t) (x <= '9' ? x - '0' : (x | 0x20) - 'a' + 10);
                                }
                                sp->hold_target = SDC_CPIO_HEADER_SIZE + namesize;
                                if (sp->held < sp->hold_target)
                                        break;
                        }
                        r = parser_header_done(w, sp);
                        if (r < 0)
                                return r;
                        if (sp->entry_got == sp->entry_len) {
                                r = parser_entry_done(w, sp);
                                if (r < 0)
                                        return r;
                        }
                        break;
                }

                case PARSE_BODY: {
                        size_t k = (size_t) MIN((uint64_t) (n - i), sp->entry_len - sp->entry_got);
                        size_t skip = (size_t) MIN((uint64_t) k, sp->skip), b;

                        sp->skip -= skip;
                        b = (size_t) MIN((uint64_t) (k - skip), (uint64_t) sp->e.size - sp->body_got);
                        if (b > 0) {
                                const uint8_t *p = data + i + skip;

                                if (sp->body)
                                        memcpy(sp->body->data + sp->body_got, p, b);
                                if (sp->e.crc && S_ISREG(sp->e.mode))
                                        sp->sum = sdc_cpio_checksum(sp->sum, p, b);
                                sp->body_got += b;
                        }
                        sp->entry_got += k;
                        i += k;
                        if (sp->entry_got == sp->entry_len) {
                                r = parser_entry_done(w, sp);
                                if (r < 0)
                                        return r;
                        }
                        break;
                }
                }
        }
        sp->pos += n;
        return 0;
}

/* The stream ended: what the parser holds must be nothing but padding. */
static int parser_finish(Walker *w, StreamParser *sp) {
        SdcCompression c = segment_compression(w);
        uint64_t offset = segment_offset(w);
        const char *name = sdc_compression_to_string(c);
        char reason[160];
        SdcCpioEntry e;
        size_t next;
        int r;

        switch (sp->state) {
        case PARSE_BETWEEN:
                if (sp->need_header) /* the kernel, still in its Start state, is left waiting for a header */
                        return set_error(w->error, -EBADMSG, offset, c,
                                         "junk at the end of compressed archive: the %s segment at byte %" PRIu64
                                         " unpacks to nothing",
                                         name, offset);
                return 0;
        case PARSE_HEADER:
                r = sdc_cpio_parse_entry_reason(sp->hold, sp->held, &e, &next, reason, sizeof(reason));
                break;
        case PARSE_BODY:
        default:
                r = sdc_cpio_parse_header_reason(sp->hold, (size_t) sp->entry_got, &e, &next, reason, sizeof(reason));
                break;
        }
        if (r == -ENODATA)
                return set_error(w->error, -EBADMSG, offset, c,
                                 "junk at the end of compressed archive: the %s segment at byte %" PRIu64
                                 " ends inside the cpio entry at unpacked offset %" PRIu64 " (%s)",
                                 name, offset, sp->header, reason);
        return set_error(w->error, r < 0 ? r : -EBADMSG, offset, c,
                         "cpio entry at unpacked offset %" PRIu64 " of the %s segment at byte %" PRIu64 ": %s",
                         sp->header, name, offset, r < 0 ? reason : "cut short");
}

static void walker_input_done(const uint8_t *upto, void *userdata) {
        Walker *w = userdata;

        release_input(w->img, upto);
}

static int decompress_error(Walker *w, int r, size_t offset, SdcCompression c) {
        const char *name = sdc_compression_to_string(c);
        char a[32];

        switch (r) {
        case -ENODATA:
                if (c == SDC_COMPRESSION_GZIP) /* the wording of the whole-buffer inflater, which could not tell */
                        return set_error(w->error, r, offset, c,
                                         "corrupt or truncated gzip stream (segment at byte %zu, file ends at byte %zu)",
                                         offset, w->img->size);
                return set_error(w->error, r, offset, c,
                                 "truncated %s stream (segment at byte %zu ends at end of file, byte %zu)", name, offset,
                                 w->img->size);
        case -EBADMSG:
                if (c == SDC_COMPRESSION_GZIP)
                        return set_error(w->error, r, offset, c,
                                         "corrupt or truncated gzip stream (segment at byte %zu, file ends at byte %zu)",
                                         offset, w->img->size);
                return set_error(w->error, r, offset, c, "corrupt %s stream (segment at byte %zu)", name, offset);
        case -EFBIG:
                return set_error(w->error, r, offset, c,
                                 "unpacked size exceeds the limit of %s, in the %s segment at byte %zu",
                                 format_bytes(a, w->limits.max_unpacked), name, offset);
        case -ENOMEM:
                return set_error(w->error, r, offset, c, "out of memory unpacking the %s segment at byte %zu", name,
                                 offset);
        case -EPROTONOSUPPORT:
                return set_error(w->error, r, offset, c, "%s compression is not supported by this build (segment at byte %zu)",
                                 name, offset);
        default:
                return set_error(w->error, r, offset, c, "cannot unpack the %s segment at byte %zu: %s", name, offset,
                                 strerror(-r));
        }
}

/* One compressed stream at *pos and the cpio archives it holds, parsed as it is decoded. */
static int walk_compressed(Walker *w, size_t *pos) {
        SdcImage *img = w->img;
        const uint8_t *in = img->data + *pos;
        size_t remaining = img->size - *pos, consumed = 0, index;
        uint64_t before;
        SdcOutput out;
        SdcCompression c;
        int r;

        c = sdc_compression_detect(in, remaining);
        if (c == _SDC_COMPRESSION_INVALID) {
                const char *hint = in[0] == '0' ? " (a cpio archive must start at a multiple of 4 bytes)" : "";
                if (remaining < 2)
                        return set_error(w->error, -EBADMSG, *pos, c,
                                         "invalid magic 0x%02x at byte %zu, the last byte of the file: not an initramfs",
                                         in[0], *pos);
                return set_error(w->error, -EBADMSG, *pos, c, "invalid magic 0x%02x 0x%02x at byte %zu: not an initramfs%s",
                                 in[0], in[1], *pos, hint);
        }
        if (c == SDC_COMPRESSION_LZO) /* the kernel can have it, nobody builds images with it */
                return set_error(w->error, -EPROTONOSUPPORT, *pos, c, "lzo compression is not supported (segment at byte %zu)",
                                 *pos);
        if (!sdc_compression_supported(c))
                return decompress_error(w, -EPROTONOSUPPORT, *pos, c);

        if (!w->piece) {
                w->piece = malloc(OUTPUT_PIECE);
                w->parser = malloc(sizeof(StreamParser));
                if (!w->piece || !w->parser)
                        return set_error(w->error, -ENOMEM, *pos, c, "out of memory");
        }

        r = add_segment(img, &(SdcImageSegment) { .offset = *pos, .compression = c }, &index);
        if (r < 0)
                return set_error(w->error, r, *pos, c, "out of memory");
        w->segment = index;
        *w->parser = (StreamParser) { .state = PARSE_BETWEEN, .need_header = !w->started };
        w->parse_error = 0;

        before = w->unpacked;
        out = (SdcOutput) {
                .buf = w->piece,
                .buf_size = OUTPUT_PIECE,
                .size = w->unpacked,
                .capacity = w->limits.max_unpacked,
                .sink = parser_feed,
                .input_done = walker_input_done,
                .userdata = w,
        };
        r = sdc_decompress_stream(c, in, remaining, &out, &consumed);
        w->unpacked = out.size;
        if (w->parser->body) {
                body_unlink_free(w->parser->body);
                w->parser->body = NULL;
        }
        if (out.sink_error < 0)
                return out.sink_error; /* a stop */
        if (r < 0)
                return decompress_error(w, r, *pos, c);
        if (w->parse_error < 0)
                return w->parse_error; /* the parser or the callback: the error is set */
        /* A backend that reports nothing consumed would make the walk loop forever. */
        if (consumed == 0 || consumed > remaining)
                return set_error(w->error, -EBADMSG, *pos, c, "%s decoder reported %zu bytes consumed of %zu",
                                 sdc_compression_to_string(c), consumed, remaining);

        img->segments[index].length = consumed;
        img->segments[index].unpacked = w->unpacked - before;
        r = parser_finish(w, w->parser);
        if (r < 0)
                return r;

        *pos += consumed;
        return 0;
}

static int walk(Walker *w) {
        const uint8_t *data = w->img->data;
        size_t size = w->img->size, pos = 0;
        int r;

        while (pos < size) {
                if (data[pos] == 0) {
                        pos++;
                        continue;
                }
                if (data[pos] == '0' && (pos & 3) == 0)
                        r = walk_uncompressed(w, &pos);
                else
                        r = walk_compressed(w, &pos);
                if (r < 0)
                        return r;
        }

        /* The kernel would accept this (and unpack nothing), but an image without a single cpio entry
         * is not what anybody meant to boot. */
        if (!w->started)
                return set_error(w->error, -EBADMSG, 0, SDC_COMPRESSION_NONE,
                                 "no cpio archive in the image (it holds only zero bytes)");
        return 0;
}

static int image_walk(
        SdcImage *img, const SdcImageLimits *limits, SdcImageWantFn want, SdcImageEntryFn fn, void *userdata,
        SdcImageError *error) {
        Walker w = {
                .img = img,
                .limits = limits ? *limits :
                                   (SdcImageLimits) {
                                           .max_unpacked = SDC_IMAGE_DEFAULT_MAX_UNPACKED,
                                           .max_entries = SDC_IMAGE_DEFAULT_MAX_ENTRIES,
                                   },
                .want = want,
                .fn = fn,
                .userdata = userdata,
                .error = error,
        };
        int r;

        r = walk(&w);
        free(w.piece);
        free(w.parser);
        return w.stopped ? 0 : r;
}

static void clear_error(SdcImageError *error) {
        if (error)
                *error = (SdcImageError) { .compression = SDC_COMPRESSION_NONE };
}

static SdcImage *image_new(void) {
        SdcImage *img = calloc(1, sizeof(SdcImage));

        if (img)
                img->bodies.next = img->bodies.prev = &img->bodies;
        return img;
}

int sdc_image_open_buffer(
        const uint8_t *data, size_t size, const SdcImageLimits *limits, SdcImageEntryFn fn, void *userdata,
        SdcImage **ret, SdcImageError *ret_error) {
        return sdc_image_open_buffer_want(data, size, limits, NULL, fn, userdata, ret, ret_error);
}

int sdc_image_open_buffer_want(
        const uint8_t *data, size_t size, const SdcImageLimits *limits, SdcImageWantFn want, SdcImageEntryFn fn,
        void *userdata, SdcImage **ret, SdcImageError *ret_error) {
        _cleanup_(sdc_image_freep) SdcImage *img = NULL;
        int r;

        clear_error(ret_error);
        if (size == 0)
                return set_error(ret_error, -ENODATA, 0, SDC_COMPRESSION_NONE, "empty image");

        img = image_new();
        if (!img)
                return set_error(ret_error, -ENOMEM, 0, SDC_COMPRESSION_NONE, "out of memory");
        img->data = data;
        img->size = size;

        r = image_walk(img, limits, want, fn, userdata, ret_error);
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(img);
        return 0;
}

int sdc_image_open_want(
        int dir_fd, const char *path, const SdcImageLimits *limits, SdcImageWantFn want, SdcImageEntryFn fn,
        void *userdata, SdcImage **ret, SdcImageError *ret_error) {
        _cleanup_(sdc_image_freep) SdcImage *img = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        void *map;
        int r;

        clear_error(ret_error);

        /* O_NONBLOCK: opening a FIFO must not hang; it is refused below like anything not a file. */
        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return set_error(ret_error, -errno, 0, SDC_COMPRESSION_NONE, "cannot open: %s", strerror(errno));
        if (fstat(fd, &st) < 0)
                return set_error(ret_error, -errno, 0, SDC_COMPRESSION_NONE, "cannot stat: %s", strerror(errno));
        if (S_ISDIR(st.st_mode))
                return set_error(ret_error, -EISDIR, 0, SDC_COMPRESSION_NONE, "is a directory, not an image file");
        if (!S_ISREG(st.st_mode))
                return set_error(ret_error, -EINVAL, 0, SDC_COMPRESSION_NONE, "not a regular file");
        if (st.st_size == 0)
                return set_error(ret_error, -ENODATA, 0, SDC_COMPRESSION_NONE, "empty file");
        if ((uint64_t) st.st_size > SIZE_MAX)
                return set_error(ret_error, -EFBIG, 0, SDC_COMPRESSION_NONE, "too large to map");

        /* Mapped, not read: the decoders read straight from the page cache, and the pages behind the
         * walk are dropped from this mapping as it goes (release_input()), so the mapping costs no
         * more memory than a read buffer. The file must not shrink while mapped (SIGBUS); the tools
         * that write images (dracut, mkinitramfs, sdcompat-inject) replace them by rename(), which
         * leaves this mapping on the old inode. */
        map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return set_error(ret_error, -errno, 0, SDC_COMPRESSION_NONE, "cannot map: %s", strerror(errno));
        /* Start reading the whole file now; the walk consumes it front to back. */
        (void) madvise(map, (size_t) st.st_size, MADV_WILLNEED);

        img = image_new();
        if (!img) {
                (void) munmap(map, (size_t) st.st_size);
                return set_error(ret_error, -ENOMEM, 0, SDC_COMPRESSION_NONE, "out of memory");
        }
        img->map = map;
        img->map_size = (size_t) st.st_size;
        img->data = map;
        img->size = (size_t) st.st_size;

        r = image_walk(img, limits, want, fn, userdata, ret_error);
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(img);
        return 0;
}

int sdc_image_open(
        int dir_fd, const char *path, const SdcImageLimits *limits, SdcImageEntryFn fn, void *userdata,
        SdcImage **ret, SdcImageError *ret_error) {
        return sdc_image_open_want(dir_fd, path, limits, NULL, fn, userdata, ret, ret_error);
}

typedef struct Fetch {
        uint64_t index;
        const uint8_t *data;
} Fetch;

static int fetch_want(const SdcCpioEntry *e, void *userdata) {
        const Fetch *f = userdata;

        return e->index == f->index;
}

static int fetch_entry(const SdcCpioEntry *e, unsigned segment, void *userdata) {
        Fetch *f = userdata;

        if (e->index != f->index)
                return 0;
        f->data = e->data;
        return 1; /* found: stop the walk */
}

int sdc_image_read_entry(SdcImage *img, uint64_t index, const uint8_t **ret) {
        SdcImage tmp = {
                .map = img->map,
                .map_size = img->map_size,
                .data = img->data,
                .size = img->size,
        };
        Fetch f = { .index = index };
        Body *b;
        int r;

        /* A second walk of the same bytes, into a scratch image: the segments are not recorded twice,
         * and the body found moves to img's list. The limits were checked by the first walk. */
        tmp.bodies.next = tmp.bodies.prev = &tmp.bodies;
        r = image_walk(&tmp,
                       &(SdcImageLimits) { .max_unpacked = UINT64_MAX, .max_entries = UINT64_MAX },
                       fetch_want, fetch_entry, &f, NULL);
        free(tmp.segments);
        if (r >= 0 && !f.data)
                r = -ENOENT;
        while (tmp.bodies.next != &tmp.bodies) {
                b = tmp.bodies.next;
                b->prev->next = b->next;
                b->next->prev = b->prev;
                if (r >= 0 && b->data == f.data) {
                        b->next = img->bodies.next;
                        b->prev = &img->bodies;
                        img->bodies.next->prev = b;
                        img->bodies.next = b;
                } else
                        free(b);
        }
        if (r < 0)
                return r;
        *ret = f.data;
        return 0;
}

SdcImage *sdc_image_free(SdcImage *img) {
        if (!img)
                return NULL;
        while (img->bodies.next && img->bodies.next != &img->bodies)
                body_unlink_free(img->bodies.next);
        if (img->map)
                (void) munmap(img->map, img->map_size);
        free(img->segments);
        free(img);
        return NULL;
}

size_t sdc_image_n_segments(const SdcImage *img) {
        return img->n_segments;
}

const SdcImageSegment *sdc_image_segment(const SdcImage *img, size_t i) {
        if (i >= img->n_segments)
                return NULL;
        return &img->segments[i];
}

uint64_t sdc_image_file_size(const SdcImage *img) {
        return img->size;
}
