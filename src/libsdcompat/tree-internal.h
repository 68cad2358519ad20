/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a tree backend implements. Resolution itself (symlinks, "..", loops) lives once in tree.c
 * and only asks the backend for one directory entry at a time, through node handles, so that the
 * directory backend can walk with O_PATH|O_NOFOLLOW file descriptors (no window between checking a
 * component and using it) and the image backend with pointers into its in-memory index. */

#include <sys/types.h>

#include "tree.h"

typedef union SdcNode {
        int fd;    /* directory backend: an O_PATH descriptor */
        void *ptr; /* image backend: its node */
} SdcNode;

typedef struct SdcTreeOps {
        /* A new handle on the root directory. */
        int (*root)(SdcTree *t, SdcNode *ret);
        /* Looks up one name (never "." or "..", never containing '/') in directory dir, without
         * following a symlink. Fills *ret (a new handle the caller releases) and *ret_stat.
         * -ENOENT if absent, -ENOTDIR if dir is not a directory. With SDC_CHILD_READ_REGULAR, a
         * regular file's handle is made readable (the walk's last component, to be read). */
        int (*child)(SdcTree *t, const SdcNode *dir, const char *name, unsigned flags, SdcNode *ret,
                     SdcStat *ret_stat);
        int (*readlink)(SdcTree *t, const SdcNode *n, char **ret);
        /* st: what resolving n found (from the readable handle, where there is one). */
        int (*read)(SdcTree *t, const SdcNode *n, const SdcStat *st, uint64_t max_size, SdcBlob *ret);
        /* Optional: up to size bytes at offset into buf; the count read (0 at the end of the file)
         * or negative errno. sdc_tree_scan() uses it where there is one, read() where not. */
        ssize_t (*pread)(SdcTree *t, const SdcNode *n, uint64_t offset, void *buf, size_t size);
        int (*list)(SdcTree *t, const SdcNode *n, char ***ret);
        void (*release)(SdcTree *t, SdcNode *n);
        void (*free)(SdcTree *t);
        /* Optional fast path for a whole path (the directory backend's openat2(RESOLVE_IN_ROOT)).
         * Returns -EOPNOTSUPP to make tree.c fall back to the walk. Does not give a canonical path.
         * flags: SDC_RESOLVE_* and the internal ones below. */
        int (*open_path)(SdcTree *t, const char *path, unsigned flags, SdcNode *ret, SdcStat *ret_stat);
        /* Optional: makes the handle of a directory readable (listable), in place. Handles are
         * only what resolution needs (the directory backend: O_PATH descriptors) until then. */
        int (*read_dir)(SdcTree *t, SdcNode *n);
        /* Optional: a new readable descriptor (O_CLOEXEC) of the regular file n, for
         * sdc_tree_open_regular(); -EOPNOTSUPP where the tree has no descriptors (an image). */
        int (*dup_fd)(SdcTree *t, const SdcNode *n);
        /* Optional: the file system image (type) in the regular file n as a tree, for
         * sdc_tree_open_filesystem(); message (message_size bytes) says why not. */
        int (*open_filesystem)(SdcTree *t, const SdcNode *n, const char *type, SdcTree **ret, char *message,
                               size_t message_size);
} SdcTreeOps;

enum {
        SDC_CHILD_READ_REGULAR = 1 << 0,
};

/* Internal resolution flags, next to SDC_RESOLVE_NOFOLLOW: */
enum {
        SDC_RESOLVE_READABLE = 1 << 16, /* the result is read or listed: a readable handle */
        SDC_RESOLVE_NO_STAT = 1 << 17,  /* whether it exists is all the caller asks */
};

struct SdcTree {
        const SdcTreeOps *ops;
        char *description;
        void *backend; /* the backend's own state */
        uint64_t steps; /* work of the path walks so far: components looked at, and symlink
                         * targets spliced in (per 16 bytes); the image backend budgets it */
        char *error; /* sdc_tree_error(): set once, with sdc_tree_set_error() */
};

/* For backends: allocate the common part. */
int sdc_tree_new(const SdcTreeOps *ops, const char *description, void *backend, SdcTree **ret);

/* For backends: records the first damage found in the tree's structures (sdc_tree_error()). */
_printf_(2, 3) void sdc_tree_set_error(SdcTree *t, const char *fmt, ...);

/* Resolves path to a handle the caller releases with t->ops->release(). Used by backends that
 * need resolution while they build themselves (the image backend, for the kernel's semantics of
 * creating "a/b" through a symlink "a"). Never uses open_path. */
int sdc_tree_resolve_node(SdcTree *t, const char *path, unsigned flags, SdcNode *ret, SdcStat *ret_stat);
