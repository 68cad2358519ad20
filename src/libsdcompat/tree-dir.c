/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A directory treated as a root: /sysroot at boot, / or a staging tree for the checker.
 *
 * Whole paths go through openat2(RESOLVE_IN_ROOT) where the kernel has it (5.6+); on older kernels
 * (ENOSYS), or when asked (SDC_TREE_NO_OPENAT2), tree.c walks component by component through
 * child(), which opens each entry with O_PATH|O_NOFOLLOW relative to its parent's descriptor.
 * Either way nothing outside the root is ever opened.
 *
 * Regular files and directories are reopened for reading with O_NOFOLLOW|O_NONBLOCK and checked
 * to be the same inode as the O_PATH handle; device nodes and FIFOs are never opened, so probing
 * a hostile tree cannot block or trigger a device's side effects. */

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's header where the C library's include path has it; else its ABI (Linux 5.6,
 * include/uapi/linux/openat2.h, the same on every architecture), as systemd's missing_openat2.h
 * does: musl ships no kernel headers, and RHEL 8's predate openat2. A kernel without it answers
 * ENOSYS and the walk takes over (dir_open_path()). */
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
        uint64_t flags;
        uint64_t mode;
        uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT       0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#include "fileio.h"
#include "strv.h"
#include "tree-internal.h"

typedef struct DirTree {
        int root_fd;
        bool no_openat2;
} DirTree;

static SdcNodeType type_from_mode(mode_t m) {
        if (S_ISREG(m))
                return SDC_NODE_REGULAR;
        if (S_ISDIR(m))
                return SDC_NODE_DIRECTORY;
        if (S_ISLNK(m))
                return SDC_NODE_SYMLINK;
        return SDC_NODE_OTHER;
}

static void stat_from_struct(const struct stat *st, SdcStat *ret) {
        *ret = (SdcStat) {
                .type = type_from_mode(st->st_mode),
                .mode = st->st_mode,
                .size = (uint64_t) st->st_size,
        };
}

/* Upgrades an O_PATH descriptor of a regular file or directory to a readable one: reopen the
 * same name relative to the same parent, and make sure it is still the same inode. *st becomes
 * what the readable descriptor says. */
static int upgrade_fd(int *fd, struct stat *st, int (*reopen)(void *ctx, int flags), void *ctx) {
        struct stat st2;
        int nfd;

        if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
                return 0;
        nfd = reopen(ctx, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
                                  (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0));
        if (nfd < 0)
                return errno == EACCES || errno == EPERM ? 0 : -errno; /* keep O_PATH; reads will say EACCES */
        if (fstat(nfd, &st2) < 0) {
                safe_close(nfd);
                return -errno;
        }
        if (st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
                safe_close(nfd);
                return -ESTALE; /* replaced while we looked: refuse rather than guess */
        }
        safe_close(*fd);
        *fd = nfd;
        *st = st2;
        return 0;
}

static int dir_root(SdcTree *t, SdcNode *ret) {
        DirTree *d = t->backend;
        int fd;

        /* O_PATH, as every handle of a walk; dir_read_dir() makes it listable when it is the result. */
        fd = fcntl(d->root_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        ret->fd = fd;
        return 0;
}

/* A directory's O_PATH descriptor made readable: "." relative to itself is the same directory,
 * whatever is renamed meanwhile, so there is nothing to compare. */
static int dir_read_dir(SdcTree *t, SdcNode *n) {
        int fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

        if (fd < 0)
                return errno == EACCES || errno == EPERM ? 0 : -errno; /* keep O_PATH; listing will say EACCES */
        safe_close(n->fd);
        n->fd = fd;
        return 0;
}

typedef struct ChildCtx {
        int dir_fd;
        const char *name;
} ChildCtx;

static int reopen_child(void *ctx, int flags) {
        ChildCtx *c = ctx;
        return openat(c->dir_fd, c->name, flags);
}

static int dir_child(SdcTree *t, const SdcNode *dir, const char *name, unsigned flags, SdcNode *ret,
                     SdcStat *ret_stat) {
        _cleanup_close_ int fd = -1;
        ChildCtx ctx = { .dir_fd = dir->fd, .name = name };
        struct stat st;
        int r;

        fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((flags & SDC_CHILD_READ_REGULAR) && S_ISREG(st.st_mode)) {
                r = upgrade_fd(&fd, &st, reopen_child, &ctx);
                if (r < 0)
                        return r;
        }
        stat_from_struct(&st, ret_stat);
        ret->fd = TAKE_FD(fd);
        return 0;
}

static int dir_readlink(SdcTree *t, const SdcNode *n, char **ret) {
        char buf[PATH_MAX];
        ssize_t l;

        /* An O_PATH|O_NOFOLLOW descriptor of a symlink with an empty name reads the link itself. */
        l = readlinkat(n->fd, "", buf, sizeof(buf));
        if (l < 0)
                return -errno;
        if ((size_t) l >= sizeof(buf))
                return -ENAMETOOLONG;
        *ret = strndup(buf, (size_t) l);
        return *ret ? 0 : -ENOMEM;
}

/* Small files (os-release, fstab, unit files) are copied rather than mapped: a mapping costs a
 * page fault and an unmap with its TLB flush, which on VMs with shadow page tables is more than
 * the read. Binaries stay mapped: their pages are then the page cache's, no fresh memory. */
#define READ_COPY_MAX ((size_t) 64 << 10)

static int read_copy(int fd, size_t size, SdcBlob *ret) {
        _cleanup_free_ uint8_t *buf = malloc(size);
        size_t got = 0;

        if (!buf)
                return -ENOMEM;
        while (got < size) {
                ssize_t l = pread(fd, buf + got, size - got, (off_t) got);

                if (l < 0 && errno == EINTR)
                        continue;
                if (l < 0)
                        return errno == EBADF ? -EACCES : -errno; /* an O_PATH fd we could not upgrade */
                if (l == 0) /* the file shrank since fstat(): what is there */
                        break;
                got += (size_t) l;
        }
        *ret = (SdcBlob) { .data = buf, .size = got, .copy = buf };
        buf = NULL;
        return 0;
}

/* st is the readable descriptor's own fstat() from when it was opened (upgrade_fd()). */
static int dir_read(SdcTree *t, const SdcNode *n, const SdcStat *st, uint64_t max_size, SdcBlob *ret) {
        void *p;

        if (st->type != SDC_NODE_REGULAR)
                return -EINVAL;
        if (st->size > max_size || st->size > SIZE_MAX)
                return -EFBIG;
        if (st->size == 0) {
                *ret = (SdcBlob) { .data = (const uint8_t *) "", .size = 0 };
                return 0;
        }
        if ((size_t) st->size <= READ_COPY_MAX)
                return read_copy(n->fd, (size_t) st->size, ret);
        p = mmap(NULL, (size_t) st->size, PROT_READ, MAP_PRIVATE, n->fd, 0);
        if (p == MAP_FAILED)
                return errno == EBADF ? -EACCES : -errno; /* an O_PATH fd we could not upgrade */
        *ret = (SdcBlob) { .data = p, .size = (size_t) st->size, .map = p, .map_size = (size_t) st->size };
        return 0;
}

static ssize_t dir_pread(SdcTree *t, const SdcNode *n, uint64_t offset, void *buf, size_t size) {
        ssize_t l;

        if (offset > INT64_MAX)
                return 0;
        do
                l = pread(n->fd, buf, size, (off_t) offset);
        while (l < 0 && errno == EINTR);
        if (l < 0)
                return errno == EBADF ? -EACCES : -errno; /* an O_PATH fd we could not upgrade */
        return l;
}

static int list_add(const char *name, unsigned char type, void *userdata) {
        return strv_extend(userdata, name);
}

static int dir_list(SdcTree *t, const SdcNode *n, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        /* n was opened by this resolution and never read: its offset is 0. */
        r = dir_foreach(n->fd, list_add, &names);
        if (r < 0)
                return r == -EBADF ? -EACCES : r; /* an O_PATH fd we could not upgrade */
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static int dir_dup_fd(SdcTree *t, const SdcNode *n) {
        int fl = fcntl(n->fd, F_GETFL), fd;

        if (fl < 0)
                return -errno;
        if (fl & O_PATH)
                return -EACCES; /* the upgrade to a readable descriptor was refused */
        /* n was opened by this resolution and never read: the duplicate's shared offset is 0. */
        fd = fcntl(n->fd, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? -errno : fd;
}

static void dir_release(SdcTree *t, SdcNode *n) {
        n->fd = safe_close(n->fd);
}

static void dir_free(SdcTree *t) {
        DirTree *d = t->backend;

        if (!d)
                return;
        safe_close(d->root_fd);
        free(d);
}

typedef struct Openat2Ctx {
        int root_fd;
        const char *path;
        unsigned flags;
} Openat2Ctx;

static int do_openat2(int root_fd, const char *path, int oflags) {
        struct open_how how = {
                .flags = (uint64_t) oflags,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        return (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

static int reopen_path(void *ctx, int flags) {
        Openat2Ctx *c = ctx;

        /* The whole path is resolved again, so its last component is followed exactly as the
         * O_PATH open did; the inode comparison in upgrade_fd() catches a swap in between. */
        if (!(c->flags & SDC_RESOLVE_NOFOLLOW))
                flags &= ~O_NOFOLLOW;
        return do_openat2(c->root_fd, c->path, flags);
}

static int dir_open_path(SdcTree *t, const char *path, unsigned flags, SdcNode *ret, SdcStat *ret_stat) {
        DirTree *d = t->backend;
        _cleanup_close_ int fd = -1;
        Openat2Ctx ctx = { .root_fd = d->root_fd, .path = path, .flags = flags };
        struct stat st;
        int r;

        if (d->no_openat2)
                return -EOPNOTSUPP;
        /* O_NOFOLLOW would make a trailing-slash path ("dir/") fail on a symlink to a directory;
         * tree.c handles that case, so leave it to the walk. */
        if ((flags & SDC_RESOLVE_NOFOLLOW) && path[0] && path[strlen(path) - 1] == '/')
                return -EOPNOTSUPP;

        fd = do_openat2(d->root_fd, path,
                        O_PATH | O_CLOEXEC | ((flags & SDC_RESOLVE_NOFOLLOW) ? O_NOFOLLOW : 0));
        if (fd >= 0 && (flags & SDC_RESOLVE_NO_STAT) && !(flags & SDC_RESOLVE_READABLE)) {
                ret->fd = TAKE_FD(fd);
                return 0;
        }
        if (fd < 0) {
                /* ENOSYS: kernel < 5.6. EAGAIN: a concurrent rename made the kernel give up.
                 * E2BIG/EINVAL: a kernel that does not know these resolve flags. The walk
                 * answers all of them. */
                if (errno == ENOSYS || errno == E2BIG || errno == EINVAL) {
                        d->no_openat2 = true;
                        return -EOPNOTSUPP;
                }
                if (errno == EAGAIN || errno == EXDEV)
                        return -EOPNOTSUPP;
                return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (flags & SDC_RESOLVE_READABLE) {
                if (S_ISDIR(st.st_mode)) {
                        SdcNode n = { .fd = TAKE_FD(fd) };

                        r = dir_read_dir(t, &n);
                        fd = n.fd;
                } else
                        r = upgrade_fd(&fd, &st, reopen_path, &ctx);
                if (r < 0)
                        return r;
        }
        stat_from_struct(&st, ret_stat);
        ret->fd = TAKE_FD(fd);
        return 0;
}

static const SdcTreeOps dir_ops = {
        .root = dir_root,
        .child = dir_child,
        .readlink = dir_readlink,
        .read = dir_read,
        .pread = dir_pread,
        .list = dir_list,
        .release = dir_release,
        .free = dir_free,
        .open_path = dir_open_path,
        .read_dir = dir_read_dir,
        .dup_fd = dir_dup_fd,
};

int sdc_tree_open_dir(int dir_fd, const char *path, unsigned flags, SdcTree **ret) {
        _cleanup_close_ int fd = -1;
        DirTree *d;
        int r;

        fd = openat(dir_fd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->root_fd = TAKE_FD(fd);
        d->no_openat2 = flags & SDC_TREE_NO_OPENAT2;

        r = sdc_tree_new(&dir_ops, path, d, ret);
        if (r < 0) {
                safe_close(d->root_fd);
                free(d);
                return r;
        }
        return 0;
}
