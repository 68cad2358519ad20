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
 * Memory: uncompressed entries point into the mapped file; compressed segments are all unpacked
 * into one SdcOutbuf whose size is the max_unpacked cap, so hostile input can cost at most that
 * much memory, plus the decoders' own bounded state. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "image.h"

struct SdcImage {
        uint8_t *map; /* our mapping of the file; NULL over a caller's buffer */
        size_t map_size;
        const uint8_t *data;
        size_t size;
        SdcOutbuf out; /* every compressed segment, unpacked; reserved at the first one */
        SdcImageSegment *segments;
        size_t n_segments, n_allocated;
};

typedef struct Walker {
        SdcImage *img;
        SdcImageLimits limits;
        SdcImageEntryFn fn;
        void *userdata;
        SdcImageError *error;
        uint64_t n_entries;
        /* Whether a cpio entry has been read: the kernel's state machine is then no longer in its
         * Start state, which decides how a stream that begins with zero bytes is read. */
        bool started;
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

static int emit_entry(Walker *w, const SdcCpioEntry *e, size_t segment, uint64_t offset, SdcCompression c) {
        int r;

        if (w->n_entries >= w->limits.max_entries)
                return set_error(w->error, -E2BIG, offset, c, "more than %" PRIu64 " cpio entries (the limit)",
                                 w->limits.max_entries);
        w->n_entries++;
        w->img->segments[segment].entries++;

        if (!w->fn)
                return 0;
        r = w->fn(e, (unsigned) segment, w->userdata);
        if (r < 0)
                return set_error(w->error, r, offset, c, "stopped by the entry callback at \"%s\": %s", e->name,
                                 strerror(-r));
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
                        e.offset = p;
                        r = emit_entry(w, &e, index, p, SDC_COMPRESSION_NONE);
                        if (r < 0)
                                return r;
                }

                p += next;
                end = p;
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

/* The cpio archives inside one stream's output, as the kernel's flush_buffer() reads them. */
static int walk_stream(Walker *w, size_t index, const uint8_t *buf, size_t n) {
        const SdcImageSegment *s = &w->img->segments[index];
        uint64_t offset = s->offset;
        SdcCompression c = s->compression;
        const char *name = sdc_compression_to_string(c);
        bool need_header = !w->started;
        size_t p = 0;
        int r;

        for (;;) {
                SdcCpioEntry e;
                char reason[160];
                size_t next;

                if (!need_header) {
                        while (p < n && buf[p] == 0)
                                p++;
                        if (p == n)
                                return 0;
                        if ((p & 3) != 0)
                                return set_error(w->error, -EBADMSG, offset, c,
                                                 "broken padding in the %s segment at byte %" PRIu64
                                                 ": data resumes at unpacked offset %zu, not a multiple of 4",
                                                 name, offset, p);
                        if (buf[p] != '0')
                                return set_error(w->error, -EBADMSG, offset, c,
                                                 "junk within compressed archive: byte 0x%02x at unpacked offset %zu of the %s segment at byte %" PRIu64,
                                                 buf[p], p, name, offset);
                }
                if (p == n) /* the kernel, still in its Start state, is left waiting for a header */
                        return set_error(w->error, -EBADMSG, offset, c,
                                         "junk at the end of compressed archive: the %s segment at byte %" PRIu64
                                         " unpacks to nothing",
                                         name, offset);
                need_header = false;

                r = sdc_cpio_parse_entry_reason(buf + p, n - p, &e, &next, reason, sizeof(reason));
                if (r == -ENODATA)
                        return set_error(w->error, -EBADMSG, offset, c,
                                         "junk at the end of compressed archive: the %s segment at byte %" PRIu64
                                         " ends inside the cpio entry at unpacked offset %zu (%s)",
                                         name, offset, p, reason);
                if (r < 0)
                        return set_error(w->error, r, offset, c,
                                         "cpio entry at unpacked offset %zu of the %s segment at byte %" PRIu64 ": %s", p,
                                         name, offset, reason);
                w->started = true;
                if (r == 0) {
                        e.offset = p;
                        r = emit_entry(w, &e, index, offset, c);
                        if (r < 0)
                                return r;
                }
                p += next;
        }
}

static int decompress_error(Walker *w, int r, size_t offset, SdcCompression c) {
        const char *name = sdc_compression_to_string(c);
        char a[32], b[32];

        switch (r) {
        case -ENODATA:
                return set_error(w->error, r, offset, c,
                                 "truncated %s stream (segment at byte %zu ends at end of file, byte %zu)", name, offset,
                                 w->img->size);
        case -EBADMSG:
                if (c == SDC_COMPRESSION_GZIP) /* libdeflate cannot tell these apart, see decompress-gzip.c */
                        return set_error(w->error, r, offset, c,
                                         "corrupt or truncated gzip stream (segment at byte %zu, file ends at byte %zu)",
                                         offset, w->img->size);
                return set_error(w->error, r, offset, c, "corrupt %s stream (segment at byte %zu)", name, offset);
        case -EFBIG:
                if (w->img->out.capacity < w->limits.max_unpacked)
                        return set_error(w->error, r, offset, c,
                                         "unpacked size exceeds the limit of %s (the system reserved only that much of the %s asked for), in the %s segment at byte %zu",
                                         format_bytes(a, w->img->out.capacity), format_bytes(b, w->limits.max_unpacked),
                                         name, offset);
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

/* One compressed stream at *pos and the cpio archives it holds. */
static int walk_compressed(Walker *w, size_t *pos) {
        SdcImage *img = w->img;
        const uint8_t *in = img->data + *pos;
        size_t remaining = img->size - *pos, consumed = 0, start, index;
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

        if (!img->out.data) {
                if (w->limits.max_unpacked == 0)
                        return decompress_error(w, -EFBIG, *pos, c);
                r = sdc_outbuf_init(&img->out, (size_t) MIN(w->limits.max_unpacked, (uint64_t) SIZE_MAX));
                if (r < 0)
                        return set_error(w->error, r, *pos, c, "cannot reserve %s of address space for unpacking: %s",
                                         format_bytes((char[32]) {}, w->limits.max_unpacked), strerror(-r));
        }

        start = img->out.size;
        r = sdc_decompress(c, in, remaining, &img->out, &consumed);
        if (r < 0)
                return decompress_error(w, r, *pos, c);
        /* A backend that reports nothing consumed would make the walk loop forever. */
        if (consumed == 0 || consumed > remaining)
                return set_error(w->error, -EBADMSG, *pos, c, "%s decoder reported %zu bytes consumed of %zu",
                                 sdc_compression_to_string(c), consumed, remaining);

        r = add_segment(img,
                        &(SdcImageSegment) {
                                .offset = *pos,
                                .length = consumed,
                                .compression = c,
                                .unpacked = img->out.size - start,
                        },
                        &index);
        if (r < 0)
                return set_error(w->error, r, *pos, c, "out of memory");

        r = walk_stream(w, index, img->out.data + start, img->out.size - start);
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
        SdcImage *img, const SdcImageLimits *limits, SdcImageEntryFn fn, void *userdata, SdcImageError *error) {
        Walker w = {
                .img = img,
                .limits = limits ? *limits :
                                   (SdcImageLimits) {
                                           .max_unpacked = SDC_IMAGE_DEFAULT_MAX_UNPACKED,
                                           .max_entries = SDC_IMAGE_DEFAULT_MAX_ENTRIES,
                                   },
                .fn = fn,
                .userdata = userdata,
                .error = error,
        };

        return walk(&w);
}

static void clear_error(SdcImageError *error) {
        if (error)
                *error = (SdcImageError) { .compression = SDC_COMPRESSION_NONE };
}

int sdc_image_open_buffer(
        const uint8_t *data, size_t size, const SdcImageLimits *limits, SdcImageEntryFn fn, void *userdata,
        SdcImage **ret, SdcImageError *ret_error) {
        _cleanup_(sdc_image_freep) SdcImage *img = NULL;
        int r;

        clear_error(ret_error);
        if (size == 0)
                return set_error(ret_error, -ENODATA, 0, SDC_COMPRESSION_NONE, "empty image");

        img = calloc(1, sizeof(SdcImage));
        if (!img)
                return set_error(ret_error, -ENOMEM, 0, SDC_COMPRESSION_NONE, "out of memory");
        img->data = data;
        img->size = size;

        r = image_walk(img, limits, fn, userdata, ret_error);
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(img);
        return 0;
}

int sdc_image_open(
        int dir_fd, const char *path, const SdcImageLimits *limits, SdcImageEntryFn fn, void *userdata,
        SdcImage **ret, SdcImageError *ret_error) {
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

        /* Mapped, not read: uncompressed entries are then used in place, and a compressed image is
         * read by the decoder straight from the page cache. The file must not shrink while mapped
         * (SIGBUS); the tools that write images (dracut, mkinitramfs, sdcompat-inject) replace them by
         * rename(), which leaves this mapping on the old inode. */
        map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return set_error(ret_error, -errno, 0, SDC_COMPRESSION_NONE, "cannot map: %s", strerror(errno));
        /* Start reading the whole file now; the walk consumes it front to back. */
        (void) madvise(map, (size_t) st.st_size, MADV_WILLNEED);

        img = calloc(1, sizeof(SdcImage));
        if (!img) {
                (void) munmap(map, (size_t) st.st_size);
                return set_error(ret_error, -ENOMEM, 0, SDC_COMPRESSION_NONE, "out of memory");
        }
        img->map = map;
        img->map_size = (size_t) st.st_size;
        img->data = map;
        img->size = (size_t) st.st_size;

        r = image_walk(img, limits, fn, userdata, ret_error);
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(img);
        return 0;
}

SdcImage *sdc_image_free(SdcImage *img) {
        if (!img)
                return NULL;
        sdc_outbuf_done(&img->out);
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
