/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One read-only interface over "a root": a directory (a root file system, a mounted /sysroot, a
 * staging tree) or an initramfs image. Every path is resolved inside the tree: absolute symlinks
 * are relative to the tree's root, ".." stops at the root, at most SDC_TREE_MAX_SYMLINKS symlinks
 * are followed (-ELOOP beyond). Probes are written once against this interface.
 *
 * The engine opens directories only; images are opened by the image library
 * (src/libsdcompat-image/tree-image.h), so a program that links the engine alone (the static
 * sdcompat) links no image reader and no decompressor. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define SDC_TREE_MAX_SYMLINKS 40 /* the kernel's MAXSYMLINKS */

typedef enum SdcNodeType {
        SDC_NODE_REGULAR,
        SDC_NODE_DIRECTORY,
        SDC_NODE_SYMLINK,
        SDC_NODE_OTHER,
} SdcNodeType;

typedef struct SdcStat {
        SdcNodeType type;
        uint32_t mode; /* st_mode, type bits included */
        uint64_t size;
} SdcStat;

/* File contents: borrowed from the tree (an image's kept body), an mmap() the blob owns, or a
 * malloc()ed copy the blob owns (small files). Always release with sdc_blob_done(). The bytes are
 * not NUL-terminated (a directory tree's copies are exactly size bytes, so that an over-read shows
 * under ASan): every parser is bounded by size. */
typedef struct SdcBlob {
        const uint8_t *data;
        size_t size;
        void *map; /* non-NULL if this blob owns a mapping */
        size_t map_size;
        void *copy; /* non-NULL if this blob owns a malloc()ed copy */
} SdcBlob;

void sdc_blob_done(SdcBlob *b);

typedef struct SdcTree SdcTree;

enum {
        SDC_TREE_NO_OPENAT2 = 1 << 0, /* directory trees: always use the manual walk (tests, old kernels) */
};

enum {
        SDC_RESOLVE_NOFOLLOW = 1 << 0, /* do not follow a symlink in the last component */
};

int sdc_tree_open_dir(int dir_fd, const char *path, unsigned flags, SdcTree **ret);
SdcTree *sdc_tree_free(SdcTree *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(SdcTree *, sdc_tree_free);

/* "/sysroot", "/boot/initrd.img-6.1.0-9-amd64": for messages. */
const char *sdc_tree_description(const SdcTree *t);

/* Resolves path inside the tree. ret_canonical (optional) receives the absolute, symlink-free path
 * inside the tree ("/usr/lib/systemd/systemd"); ret_stat (optional) what it is. -ENOENT, -ENOTDIR,
 * -ELOOP, -ENAMETOOLONG as the kernel would return them. */
int sdc_tree_resolve(SdcTree *t, const char *path, unsigned flags, char **ret_canonical, SdcStat *ret_stat);

/* Reads a regular file (symlinks followed inside the tree). -EFBIG if it is larger than max_size,
 * -EISDIR/-EINVAL if it is not a regular file. */
int sdc_tree_read(SdcTree *t, const char *path, uint64_t max_size, SdcBlob *ret);

/* A new readable descriptor (O_CLOEXEC, offset 0) of a regular file of a directory tree, resolved
 * inside the tree as sdc_tree_read() resolves it: what is read from it is the inode that was
 * resolved, whatever is renamed or replaced in the tree later. -EOPNOTSUPP for an image tree,
 * -EISDIR/-EINVAL if it is not a regular file, -EACCES if it cannot be opened for reading. */
int sdc_tree_open_regular(SdcTree *t, const char *path, int *ret_fd);

/* Reads exactly size bytes at offset of a regular file (symlinks followed inside the tree) into
 * buf: -ENODATA if the file ends before, otherwise errors as sdc_tree_read(). */
int sdc_tree_read_at(SdcTree *t, const char *path, uint64_t offset, void *buf, size_t size);

/* Calls cb, in file order, on the bytes [offset, offset + length) of a regular file (symlinks
 * followed inside the tree; the range is clipped to the file), in pieces of at most 64 KiB that end
 * right after a NUL byte or at the end of the range: a NUL-terminated string (a binary's string
 * literal) is never cut in two unless it is longer than a piece. Stops at the first call that
 * returns non-zero and returns its value; 0 once the range is done; negative errno as
 * sdc_tree_read(). For searching a large file's strings: a directory tree reads the pieces with
 * pread() into one small buffer instead of mapping the file (on VMs with shadow page tables,
 * mapping and unmapping a library of a few MiB costs more than reading the part that matters). */
typedef int (*SdcTreeScanFunc)(const uint8_t *data, size_t size, void *userdata);
int sdc_tree_scan(SdcTree *t, const char *path, uint64_t offset, uint64_t length, SdcTreeScanFunc cb,
                  void *userdata);

/* A regular file resolved once (symlinks followed inside the tree), for several reads: a
 * library's ELF headers, then its strings. Errors as sdc_tree_read(). sdc_tree_read_at() and
 * sdc_tree_scan() are these for one read. */
typedef struct SdcTreeFile SdcTreeFile;
int sdc_tree_file_open(SdcTree *t, const char *path, SdcTreeFile **ret);
SdcTreeFile *sdc_tree_file_close(SdcTreeFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(SdcTreeFile *, sdc_tree_file_close);
/* What it is: a regular file, and its size when it was opened. */
const SdcStat *sdc_tree_file_stat(const SdcTreeFile *f);
int sdc_tree_file_read_at(SdcTreeFile *f, uint64_t offset, void *buf, size_t size);
int sdc_tree_file_scan(SdcTreeFile *f, uint64_t offset, uint64_t length, SdcTreeScanFunc cb, void *userdata);

/* Reads a symlink's target without following it. -EINVAL if it is not a symlink. */
int sdc_tree_readlink(SdcTree *t, const char *path, char **ret);

/* The names in a directory (symlinks followed), sorted, NULL-terminated; free with strv_free(). */
int sdc_tree_list(SdcTree *t, const char *path, char ***ret);

/* Convenience: 1 if path exists (following symlinks), 0 if not, negative errno on other errors. */
int sdc_tree_exists(SdcTree *t, const char *path);

/* The file system image in the regular file path of t (type: "squashfs", "erofs"; symlinks followed
 * inside t) as a tree of its own: what dracut's squash modules mount. The new tree may borrow from t
 * and must be freed before it. -EOPNOTSUPP when t cannot read images of that type (a directory
 * tree, a build without the reader, erofs); other negative errno when the file cannot be read or
 * is not such a file system. Either way *ret_message (malloc()ed, may be NULL on -ENOMEM) says why,
 * without the path. */
int sdc_tree_open_filesystem(SdcTree *t, const char *path, const char *type, SdcTree **ret, char **ret_message);

/* The first error a backend met reading the tree's own structures (a damaged file system image:
 * a directory or a file that cannot be decoded), which its calls report as missing or unreadable
 * files; NULL if none. A probe of such a tree proves nothing. */
const char *sdc_tree_error(const SdcTree *t);
