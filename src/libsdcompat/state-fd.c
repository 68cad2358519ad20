/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "fileio.h"
#include "macro.h"
#include "state-fd.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010 /* Linux 5.1 */
#endif

int sdc_state_read_fd(int fd, SdcStateInput *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;
        off_t start = lseek(fd, 0, SEEK_CUR);
        struct stat st;

        /* From where systemd left the offset (it rewinds before exec), without moving it: the
         * descriptor stays exactly as it was, so the untouched state can still be handed on after
         * a failure. */
        if (start < 0)
                return -errno;
        /* Read, never mapped: a mapping of a descriptor another process can truncate would need a
         * SIGBUS handler in PID 1, and the shim stays as plain as it can (bench/shim measured the
         * cost of reading: see bench/README.md). Its size is known for a memfd or a file: one
         * buffer of that size (one more byte shows whether it grew meanwhile), else one that grows. */
        if (fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && st.st_size > start &&
            (uint64_t) (st.st_size - start) < SDC_STATE_SIZE_MAX) {
                allocated = (size_t) (st.st_size - start) + 1;
                buf = malloc_large(allocated + 1);
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
                }
                n = pread(fd, buf + size, allocated - size, start + (off_t) size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = 0;
        *ret = (SdcStateInput) { .data = TAKE_PTR(buf), .size = size, .start = start };
        return 0;
}

void sdc_state_input_done(SdcStateInput *in) {
        free(in->data);
        *in = (SdcStateInput) {};
}

static int write_all(const char *p, size_t n, void *userdata) {
        return loop_write(*(int *) userdata, p, n);
}

int sdc_state_new_fd(const SdcState *st, size_t *ret_size) {
        _cleanup_close_ int fd = (int) syscall(SYS_memfd_create, "sdcompat-state", MFD_CLOEXEC);
        off_t size;
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
        r = sdc_state_write_runs(st, write_all, &fd);
        if (r < 0)
                return r;
        size = lseek(fd, 0, SEEK_CUR);
        if (size < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        *ret_size = (size_t) size;
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
        int fd;
        const SdcStateInput *in;
        unsigned fault;
        size_t out;   /* bytes of the result so far, from in->data[0] on */
        size_t first; /* the first byte written: what a restore starts from; SIZE_MAX until then */
        size_t dirty; /* and how far the writes reached */
} Compaction;

/* pwrite() until all is written at in-stream position pos, keeping c->dirty up to date after each
 * partial write, so that a restore puts back exactly what changed. */
static int pwrite_tracked(Compaction *c, const char *p, size_t n, size_t pos) {
        while (n > 0) {
                ssize_t k = pwrite(c->fd, p, n, c->in->start + (off_t) pos);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k, n -= (size_t) k, pos += (size_t) k;
                c->dirty = MAX(c->dirty, pos);
        }
        return 0;
}

static int compact_run(const char *p, size_t n, void *userdata) {
        Compaction *c = userdata;
        size_t from = (size_t) (p - c->in->data);
        int r;

        /* Everything before the first dropped line stays where it is: not rewritten. */
        if (from == c->out) {
                c->out += n;
                return 0;
        }
        if (c->first == SIZE_MAX)
                c->first = c->dirty = c->out;
        r = pwrite_tracked(c, p, n, c->out);
        if (r < 0)
                return r;
        c->out += n;
        return 0;
}

/* Puts back the original bytes the compaction overwrote, and the original size. */
static int restore(Compaction *c) {
        off_t size = c->in->start + (off_t) c->in->size;
        struct stat st;
        int r;

        if (c->fault & SDC_STATE_FAULT_RESTORE)
                return -EIO;
        if (c->first != SIZE_MAX) {
                Compaction back = { .fd = c->fd, .in = c->in };

                r = pwrite_tracked(&back, c->in->data + c->first, c->dirty - c->first, c->first);
                if (r < 0)
                        return r;
        }
        if (fstat(c->fd, &st) < 0)
                return -errno;
        if (st.st_size != size && ftruncate(c->fd, size) < 0)
                return -errno;
        return 0;
}

int sdc_state_compact_fd(int fd, const SdcStateInput *in, const SdcState *st, unsigned fault, size_t *ret_size,
                         bool *ret_lost) {
        Compaction c = { .fd = fd, .in = in, .fault = fault, .first = SIZE_MAX };
        int r;

        *ret_lost = false;
        if (st->data != in->data || st->size != in->size)
                return -EINVAL;
        r = sdc_state_fd_compactable(fd);
        if (r < 0)
                return r;

        r = sdc_state_write_runs(st, compact_run, &c);
        if (r >= 0 && (fault & SDC_STATE_FAULT_COMPACT))
                r = -EIO;
        if (r >= 0 && c.out < in->size && ftruncate(fd, in->start + (off_t) c.out) < 0)
                r = -errno;
        if (r < 0) {
                /* The chain promises the original state after a failed transform. */
                if (restore(&c) < 0)
                        *ret_lost = true;
                return r;
        }
        *ret_size = c.out;
        return 0;
}
