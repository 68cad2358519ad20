/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fileio.h"
#include "macro.h"

/* The kernel's record (linux/dirent.h has no userspace definition; glibc's getdents64() is 2.30+). */
struct linux_dirent64 {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

int dir_foreach(int fd, DirEntryFunc cb, void *userdata) {
        union {
                struct linux_dirent64 first;
                uint8_t bytes[4096];
        } buf;

        for (;;) {
                long n = syscall(SYS_getdents64, fd, &buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                for (long off = 0; off < n;) {
                        const struct linux_dirent64 *de = (const struct linux_dirent64 *) (buf.bytes + off);
                        int r;

                        off += de->d_reclen;
                        if (de->d_name[0] == '.' &&
                            (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0)))
                                continue;
                        r = cb(de->d_name, de->d_type, userdata);
                        if (r != 0)
                                return r;
                }
        }
}

ssize_t read_retry(int fd, void *buf, size_t n, off_t offset) {
        for (;;) {
                ssize_t k = offset < 0 ? read(fd, buf, n) : pread(fd, buf, n, offset);

                if (k >= 0)
                        return k;
                if (errno != EINTR)
                        return -errno;
        }
}

int read_full_file_at(int dir_fd, const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max_size, ret, ret_size);
}

int open_regular_at(int dir_fd, const char *path) {
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return TAKE_FD(fd);
}

int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t allocated = 0;
        int r;

        r = read_full_fd_into(fd, max_size, &buf, &allocated, ret_size);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_full_fd_into(int fd, size_t max_size, char **buf, size_t *allocated, size_t *ret_size) {
        size_t size = 0;

        for (;;) {
                ssize_t n;

                if (*allocated - size < 4096 + 1) {
                        size_t want = MAX(*allocated * 2, (size_t) 8192);
                        char *p;

                        if (want > max_size + 4097)
                                want = max_size + 4097;
                        if (want <= *allocated)
                                return -EFBIG;
                        p = realloc(*buf, want);
                        if (!p)
                                return -ENOMEM;
                        *buf = p;
                        *allocated = want;
                }
                n = read_retry(fd, *buf + size, *allocated - size - 1, -1);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max_size)
                        return -EFBIG;
        }

        (*buf)[size] = 0;
        if (ret_size)
                *ret_size = size;
        return 0;
}

int loop_write(int fd, const void *data, size_t size) {
        const uint8_t *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

/* A temporary file beside path, filled by fill(), fsync'ed, renamed over path. */
static int atomic_at(int dir_fd, const char *path, unsigned mode, int (*fill)(int fd, const void *userdata),
                     const void *userdata) {
        _cleanup_free_ char *tmp = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1, dfd = -1;
        const char *slash;
        int r;

        if (asprintf(&tmp, "%s.sdcompat-tmp-%u", path, (unsigned) getpid()) < 0)
                return -ENOMEM;

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        /* The umask must not take bits the caller asked for (an executable copy). */
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }

        r = fill(fd, userdata);
        if (r < 0)
                goto fail;
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        fd = safe_close(fd);

        if (renameat(dir_fd, tmp, dir_fd, path) < 0) {
                r = -errno;
                goto fail;
        }

        /* Make the rename itself durable. */
        slash = strrchr(path, '/');
        dir = slash ? strndup(path, (size_t) (slash - path) + (slash == path)) : strdup(".");
        if (!dir)
                return -ENOMEM;
        dfd = openat(dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;

fail:
        (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

typedef struct Buffer {
        const void *data;
        size_t size;
} Buffer;

static int fill_buffer(int fd, const void *userdata) {
        const Buffer *b = userdata;

        return loop_write(fd, b->data, b->size);
}

int write_file_atomic_at(int dir_fd, const char *path, const void *data, size_t size, unsigned mode) {
        return atomic_at(dir_fd, path, mode, fill_buffer, &(Buffer) { .data = data, .size = size });
}

/* In the kernel (sendfile), from where src_fd's offset is to its end; read and write where
 * sendfile cannot (before Linux 2.6.33 it wrote to sockets only). */
static int fill_copy(int fd, const void *userdata) {
        int src = *(const int *) userdata;
        char buf[16384];

        for (;;) {
                ssize_t n = sendfile(fd, src, NULL, 1 << 20);

                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (errno != EINVAL && errno != ENOSYS)
                        return -errno;
                break;
        }
        for (;;) {
                ssize_t n = read_retry(src, buf, sizeof(buf), -1);
                int r;

                if (n < 0)
                        return (int) n;
                if (n == 0)
                        return 0;
                r = loop_write(fd, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
}

int copy_file_atomic_at(int src_fd, int dir_fd, const char *path, unsigned mode) {
        return atomic_at(dir_fd, path, mode, fill_copy, &src_fd);
}

typedef struct Stream {
        int (*fill)(FILE *f, const void *userdata);
        const void *userdata;
} Stream;

static int fill_stream(int fd, const void *userdata) {
        const Stream *s = userdata;
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3), r;
        FILE *f;

        if (copy < 0)
                return -errno;
        f = fdopen(copy, "w");
        if (!f) {
                r = -errno;
                (void) close(copy);
                return r;
        }
        r = s->fill(f, s->userdata);
        if (fflush(f) != 0 && r >= 0)
                r = errno > 0 ? -errno : -EIO;
        if (ferror(f) && r >= 0)
                r = -EIO;
        if (fclose(f) != 0 && r >= 0)
                r = errno > 0 ? -errno : -EIO;
        return r;
}

int write_file_atomic_stream_at(int dir_fd, const char *path, unsigned mode, int (*fill)(FILE *f, const void *userdata),
                                const void *userdata) {
        return atomic_at(dir_fd, path, mode, fill_stream, &(Stream) { .fill = fill, .userdata = userdata });
}

int mkdir_p(const char *path, unsigned mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;
        unsigned shift = 0;

        if (isempty(s) || s[0] == '-')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -errno;
        if (end == s)
                return -EINVAL;
        switch (*end) {
        case 0: break;
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        default: return -EINVAL;
        }
        if (*end && end[1] != 0)
                return -EINVAL;
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t) v << shift;
        return 0;
}
