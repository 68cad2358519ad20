/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "alloc.h"
#include "macro.h"
#include "fileio.h"
#include "state-fd.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* Linux 5.1 */
#endif

int sdc_state_read_fd(int fd, SdcStateInput *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0, lines_at = 0, n_lines = 0;
        SdcStateLine *lines;
        off_t start = lseek(fd, 0, SEEK_CUR);
        struct stat st;

        /* From where systemd left the offset (it rewinds before exec), without moving it: the
         * descriptor stays exactly as it was, so the untouched state can still be handed on after
         * a failure. */
        if (start < 0)
                return -errno;
        /* Read, never mapped: a mapping of a descriptor another process can truncate would need a
         * SIGBUS handler in PID 1, and the shim stays as plain as it can (bench/shim measured the
         * cost of reading: see bench/README.md; mapping even a sealed memfd was slower there, its
         * 4 KiB pages cost more to map than the copy into huge pages). Its size is known for a
         * memfd or a file: one buffer of that size (one more byte shows whether it grew
         * meanwhile), else one that grows. The sized buffer has room for the parse's line records
         * after the stream: they fill the rest of its last huge page instead of fresh ones. */
        if (fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && st.st_size > start &&
            (uint64_t) (st.st_size - start) < SDC_STATE_SIZE_MAX) {
                allocated = (size_t) (st.st_size - start) + 1;
                lines_at = (allocated + 1 + 63) & ~(size_t) 63;
                n_lines = sdc_state_lines_estimate(allocated);
                buf = malloc_large(lines_at + n_lines * sizeof(SdcStateLine));
                if (!buf)
                        return -ENOMEM;
        }
        for (;;) {
                ssize_t n;

                if (size == allocated) {
                        char *p;

                        if (allocated >= SDC_STATE_SIZE_MAX)
                                return -EFBIG;
                        allocated = allocated ? allocated * 2 : 1 << 20;
                        p = realloc(buf, allocated + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        n_lines = 0; /* the room for them went */
                }
                n = read_retry(fd, buf + size, allocated - size, start + (off_t) size);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = 0;
        lines = n_lines > 0 ? (SdcStateLine *) (void *) (buf + lines_at) : NULL;
        *ret = (SdcStateInput) {
                .data = TAKE_PTR(buf), .size = size, .start = start, .lines = lines, .n_lines = n_lines
        };
        return 0;
}

int sdc_state_fd_has_long_line(int fd, size_t max, size_t *ret_size) {
        /* 16 KiB: four fresh pages of stack where a copy of a 70 KB stream and its line records
         * took some 30 (bench/shim's pass-through case). */
        char buf[16384];
        off_t start = lseek(fd, 0, SEEK_CUR);
        size_t size = 0, line = 0; /* the current line's length so far */

        if (start < 0)
                return -errno;
        for (;;) {
                ssize_t n = read_retry(fd, buf, sizeof(buf), start + (off_t) size);
                const char *p = buf, *end;

                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                if ((size_t) n > SDC_STATE_SIZE_MAX - size)
                        return -EFBIG;
                size += (size_t) n;
                end = buf + n;
                for (const char *nl; (nl = memchr(p, '\n', (size_t) (end - p))); p = nl + 1) {
                        if (line + (size_t) (nl - p) > max) {
                                *ret_size = size;
                                return 1;
                        }
                        line = 0;
                }
                line += (size_t) (end - p);
                if (line > max) {
                        *ret_size = size;
                        return 1;
                }
        }
        *ret_size = size;
        return 0;
}

void sdc_state_input_done(SdcStateInput *in) {
        free(in->data);
        *in = (SdcStateInput) {};
}

/* Runs of the stream queued for one pwritev() at consecutive positions: written one by one, the
 * 478 runs of bench/shim's 10,000-unit translation were as many system calls, each of which
 * costs microseconds in the VMs of that bench. 256 runs a call keep this struct at about a page
 * of stack. */
typedef struct Writer {
        int fd;
        off_t base;    /* file position of stream position 0 */
        size_t pos;    /* stream position of iov[0] */
        size_t dirty;  /* how far the writes reached: what a restore must cover */
        size_t n_iov;
        struct iovec iov[256];
} Writer;

static int writer_flush(Writer *w) {
        struct iovec *v = w->iov;
        size_t n = w->n_iov;

        while (n > 0) {
                ssize_t k = pwritev(w->fd, v, (int) n, w->base + (off_t) w->pos);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                /* after each partial write too: a restore puts back exactly what changed */
                w->pos += (size_t) k;
                w->dirty = MAX(w->dirty, w->pos);
                for (size_t left = (size_t) k; left > 0;)
                        if (left >= v->iov_len) {
                                left -= v->iov_len;
                                v++, n--;
                        } else {
                                v->iov_base = (char *) v->iov_base + left;
                                v->iov_len -= left;
                                left = 0;
                        }
        }
        w->n_iov = 0;
        return 0;
}

static int writer_add(const char *p, size_t n, void *userdata) {
        Writer *w = userdata;

        if (w->n_iov == ELEMENTSOF(w->iov)) {
                int r = writer_flush(w);

                if (r < 0)
                        return r;
        }
        w->iov[w->n_iov++] = (struct iovec) { .iov_base = (void *) p, .iov_len = n };
        return 0;
}

int sdc_state_new_fd(const SdcState *st, size_t *ret_size) {
        _cleanup_close_ int fd = (int) syscall(SYS_memfd_create, "sdcompat-state", MFD_CLOEXEC);
        Writer w = {};
        int r;

        /* memfd_create arrived in Linux 3.17; before, an unlinked file in /run (a tmpfs) does. */
        if (fd < 0)
                fd = open("/run", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                char tmpl[] = "/run/.sdcompat-state-XXXXXX";

                fd = mkostemp(tmpl, O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                (void) unlink(tmpl);
        }
        /* Straight from the parsed buffer into the descriptor, run by run: no copy of the result in
         * our memory (fresh pages are what the shim's time goes to, bench/shim). */
        w.fd = fd;
        r = sdc_state_write_runs(st, writer_add, &w);
        if (r >= 0)
                r = writer_flush(&w);
        if (r < 0)
                return r;
        /* positioned writes: the offset is still 0 */
        *ret_size = w.pos;
        return TAKE_FD(fd);
}

int sdc_state_fd_compactable(int fd) {
        struct stat st;
        int flags, seals;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -ESPIPE;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        if ((flags & O_ACCMODE) != O_RDWR)
                return -EBADF;
        if (flags & O_APPEND)
                return -EINVAL;
        /* Newer systemd seals its serialization memfd (F_SEAL_WRITE among others). File systems
         * without seals answer EINVAL: nothing sealed. */
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 && errno != EINVAL)
                return -errno;
        if (seals > 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK)))
                return -EPERM;
        return 0;
}

typedef struct Compaction {
        const SdcStateInput *in;
        size_t out;   /* bytes of the result so far, from in->data[0] on */
        size_t first; /* the first byte rewritten: what a restore starts from; SIZE_MAX until then */
        Writer w;     /* from first on */
} Compaction;

static int compact_run(const char *p, size_t n, void *userdata) {
        Compaction *c = userdata;
        size_t from = (size_t) (p - c->in->data);
        int r;

        /* Everything before the first dropped line stays where it is: not rewritten. */
        if (c->first == SIZE_MAX && from == c->out) {
                c->out += n;
                return 0;
        }
        if (c->first == SIZE_MAX)
                c->first = c->w.pos = c->w.dirty = c->out;
        r = writer_add(p, n, &c->w);
        if (r < 0)
                return r;
        c->out += n;
        return 0;
}

/* Puts back the original bytes the compaction overwrote, and the original size. */
static int restore(Compaction *c, unsigned fault) {
        off_t size = c->in->start + (off_t) c->in->size;
        struct stat st;
        int r;

        if (fault & SDC_STATE_FAULT_RESTORE)
                return -EIO;
        if (c->first != SIZE_MAX && c->w.dirty > c->first) {
                Writer back = { .fd = c->w.fd, .base = c->w.base, .pos = c->first };

                r = writer_add(c->in->data + c->first, c->w.dirty - c->first, &back);
                if (r >= 0)
                        r = writer_flush(&back);
                if (r < 0)
                        return r;
        }
        if (fstat(c->w.fd, &st) < 0)
                return -errno;
        if (st.st_size != size && ftruncate(c->w.fd, size) < 0)
                return -errno;
        return 0;
}

int sdc_state_compact_fd(int fd, const SdcStateInput *in, const SdcState *st, unsigned fault, size_t *ret_size,
                         bool *ret_lost) {
        Compaction c = { .in = in, .first = SIZE_MAX, .w = { .fd = fd, .base = in->start } };
        int r;

        *ret_lost = false;
        if (st->data != in->data || st->size != in->size)
                return -EINVAL;
        r = sdc_state_fd_compactable(fd);
        if (r < 0)
                return r;

        r = sdc_state_write_runs(st, compact_run, &c);
        if (r >= 0)
                r = writer_flush(&c.w);
        if (r >= 0 && (fault & SDC_STATE_FAULT_COMPACT))
                r = -EIO;
        if (r >= 0 && c.out < in->size && ftruncate(fd, in->start + (off_t) c.out) < 0)
                r = -errno;
        if (r < 0) {
                /* The chain promises the original state after a failed transform. */
                if (restore(&c, fault) < 0)
                        *ret_lost = true;
                return r;
        }
        *ret_size = c.out;
        return 0;
}
