/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A squashfs file system in memory as a tree (tree.h), read with libsquashfs (squashfs-tools-ng):
 * the root image of dracut's squash modules (/squash-root.img, /squashfs-root.img), which holds an
 * initramfs's real root, systemd included, and which tree-image.c hands over from the archive.
 *
 * Path resolution is tree.c's, as for every backend: this file only looks up one name in one
 * directory (sqfs_dir_reader_find()), so symlinks are resolved inside the file system and ".." at
 * its root stays there. Nothing is unpacked: directory listings and file contents are decoded as
 * the probe asks, through libsquashfs's readers with their bounded caches (one metadata block of
 * 8 KiB per table, one data block and one fragment block of the file system's block size, at most
 * 1 MiB each).
 *
 * Hostile input: the superblock is checked against the bytes there are (a truncated file is an
 * error naming both sizes), every read of the file is bounded by them, and the first error in
 * decoding a directory or a file (other than a name that is not there) is recorded with
 * sdc_tree_set_error(): the probe then reports the file system as damaged instead of judging what
 * it could not read. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

#include "strv.h"
#include "tree-internal.h"
#include "tree-squashfs.h"

/* The bytes of the file system, as libsquashfs's file interface: read only, bounded. */
typedef struct MemoryFile {
        sqfs_file_t base;
        const uint8_t *data;
        size_t size;
} MemoryFile;

typedef struct SquashTree {
        MemoryFile file;
        sqfs_super_t super;
        sqfs_compressor_t *compressor;
        sqfs_dir_reader_t *dir_reader;
        sqfs_data_reader_t *data_reader;
        sqfs_inode_generic_t *root; /* copied for each handle on it */
} SquashTree;

static int memory_read_at(sqfs_file_t *f, sqfs_u64 offset, void *buffer, size_t size) {
        const MemoryFile *m = (const MemoryFile *) f;

        if (offset > m->size || size > m->size - offset)
                return SQFS_ERROR_OUT_OF_BOUNDS;
        if (size > 0)
                memcpy(buffer, m->data + offset, size);
        return 0;
}

static int memory_write_at(sqfs_file_t *f, sqfs_u64 offset, const void *buffer, size_t size) {
        return SQFS_ERROR_IO;
}

static sqfs_u64 memory_get_size(const sqfs_file_t *f) {
        return ((const MemoryFile *) f)->size;
}

static int memory_truncate(sqfs_file_t *f, sqfs_u64 size) {
        return SQFS_ERROR_IO;
}

/* Embedded in SquashTree: never destroyed or copied by the library (nothing here asks it to). */
static void memory_destroy(sqfs_object_t *o) {
}

static const char *sqfs_error_text(int e) {
        switch (e) {
        case SQFS_ERROR_ALLOC: return "out of memory";
        case SQFS_ERROR_IO: return "read error";
        case SQFS_ERROR_COMPRESSOR: return "a block does not decompress";
        case SQFS_ERROR_CORRUPTED: return "corrupted metadata";
        case SQFS_ERROR_UNSUPPORTED: return "an unsupported feature";
        case SQFS_ERROR_OVERFLOW: return "a size that overflows (corrupted)";
        case SQFS_ERROR_OUT_OF_BOUNDS: return "a reference past the end of the file system (truncated or corrupted)";
        case SFQS_ERROR_SUPER_MAGIC: return "no squashfs magic";
        case SFQS_ERROR_SUPER_VERSION: return "an unsupported squashfs version";
        case SQFS_ERROR_SUPER_BLOCK_SIZE: return "an invalid block size";
        case SQFS_ERROR_NOT_DIR: return "not a directory";
        case SQFS_ERROR_NO_ENTRY: return "no such entry";
        case SQFS_ERROR_LINK_LOOP: return "a link loop";
        case SQFS_ERROR_NOT_FILE: return "not a regular file";
        default: return "an unknown error";
        }
}

static int errno_of(int e) {
        switch (e) {
        case SQFS_ERROR_ALLOC: return -ENOMEM;
        case SQFS_ERROR_NOT_DIR: return -ENOTDIR;
        case SQFS_ERROR_NO_ENTRY: return -ENOENT;
        case SQFS_ERROR_UNSUPPORTED: return -EOPNOTSUPP;
        default: return -EBADMSG;
        }
}

/* A failure to decode the file system: recorded once for the tree, returned as errno. */
static int damaged(SdcTree *t, int e, const char *what) {
        sdc_tree_set_error(t, "%s: %s", what, sqfs_error_text(e));
        return errno_of(e);
}

static SdcNodeType type_of(const sqfs_inode_generic_t *inode, uint32_t *ret_mode) {
        static const struct {
                SdcNodeType type;
                uint32_t ifmt;
        } types[] = {
                [SQFS_INODE_DIR] = { SDC_NODE_DIRECTORY, 0040000 },
                [SQFS_INODE_EXT_DIR] = { SDC_NODE_DIRECTORY, 0040000 },
                [SQFS_INODE_FILE] = { SDC_NODE_REGULAR, 0100000 },
                [SQFS_INODE_EXT_FILE] = { SDC_NODE_REGULAR, 0100000 },
                [SQFS_INODE_SLINK] = { SDC_NODE_SYMLINK, 0120000 },
                [SQFS_INODE_EXT_SLINK] = { SDC_NODE_SYMLINK, 0120000 },
                [SQFS_INODE_BDEV] = { SDC_NODE_OTHER, 0060000 },
                [SQFS_INODE_EXT_BDEV] = { SDC_NODE_OTHER, 0060000 },
                [SQFS_INODE_CDEV] = { SDC_NODE_OTHER, 0020000 },
                [SQFS_INODE_EXT_CDEV] = { SDC_NODE_OTHER, 0020000 },
                [SQFS_INODE_FIFO] = { SDC_NODE_OTHER, 0010000 },
                [SQFS_INODE_EXT_FIFO] = { SDC_NODE_OTHER, 0010000 },
                [SQFS_INODE_SOCKET] = { SDC_NODE_OTHER, 0140000 },
                [SQFS_INODE_EXT_SOCKET] = { SDC_NODE_OTHER, 0140000 },
        };
        unsigned type = inode->base.type;

        /* The type is the inode's (the kernel's squashfs_read_inode() sets S_IFMT from it), not its
         * mode bits. */
        if (type == 0 || type >= ELEMENTSOF(types)) {
                *ret_mode = inode->base.mode & 07777;
                return SDC_NODE_OTHER;
        }
        *ret_mode = types[type].ifmt | (inode->base.mode & 07777);
        return types[type].type;
}

static void stat_of(const sqfs_inode_generic_t *inode, SdcStat *ret) {
        sqfs_u64 size = 0;
        uint32_t mode;

        *ret = (SdcStat) { .type = type_of(inode, &mode) };
        ret->mode = mode;
        if (ret->type == SDC_NODE_REGULAR && sqfs_inode_get_file_size(inode, &size) == 0)
                ret->size = size;
        else if (inode->base.type == SQFS_INODE_SLINK)
                ret->size = inode->data.slink.target_size;
        else if (inode->base.type == SQFS_INODE_EXT_SLINK)
                ret->size = inode->data.slink_ext.target_size;
}

static sqfs_inode_generic_t *inode_dup(const sqfs_inode_generic_t *inode) {
        size_t size = sizeof(*inode) + inode->payload_bytes_available;
        sqfs_inode_generic_t *copy = malloc(size);

        return copy ? memcpy(copy, inode, size) : NULL;
}

static int squash_root(SdcTree *t, SdcNode *ret) {
        SquashTree *st = t->backend;

        ret->ptr = inode_dup(st->root);
        return ret->ptr ? 0 : -ENOMEM;
}

static bool is_directory(const sqfs_inode_generic_t *inode) {
        return inode->base.type == SQFS_INODE_DIR || inode->base.type == SQFS_INODE_EXT_DIR;
}

static int squash_child(SdcTree *t, const SdcNode *dir, const char *name, unsigned flags, SdcNode *ret,
                        SdcStat *ret_stat) {
        SquashTree *st = t->backend;
        sqfs_inode_generic_t *inode = NULL;
        int e;

        if (!is_directory(dir->ptr))
                return -ENOTDIR;
        e = sqfs_dir_reader_open_dir(st->dir_reader, dir->ptr, 0);
        if (e != 0)
                return damaged(t, e, "a directory's listing");
        e = sqfs_dir_reader_find(st->dir_reader, name);
        if (e == SQFS_ERROR_NO_ENTRY)
                return -ENOENT;
        if (e != 0)
                return damaged(t, e, "a directory's listing");
        e = sqfs_dir_reader_get_inode(st->dir_reader, &inode);
        if (e != 0)
                return damaged(t, e, "an inode");
        ret->ptr = inode;
        stat_of(inode, ret_stat);
        return 0;
}

static int squash_readlink(SdcTree *t, const SdcNode *n, char **ret) {
        const sqfs_inode_generic_t *inode = n->ptr;
        size_t len;

        if (inode->base.type == SQFS_INODE_SLINK)
                len = inode->data.slink.target_size;
        else if (inode->base.type == SQFS_INODE_EXT_SLINK)
                len = inode->data.slink_ext.target_size;
        else
                return -EINVAL;
        if (len > inode->payload_bytes_used) /* libsquashfs read exactly this many; a guard */
                return damaged(t, SQFS_ERROR_CORRUPTED, "a symlink");
        if (len >= PATH_MAX)
                return -ENAMETOOLONG;
        /* A target with a NUL inside ends there, as the kernel's readlink would give it. */
        *ret = strndup((const char *) inode->extra, len);
        return *ret ? 0 : -ENOMEM;
}

static ssize_t squash_pread(SdcTree *t, const SdcNode *n, uint64_t offset, void *buf, size_t size) {
        SquashTree *st = t->backend;
        sqfs_s32 l;

        if (type_of(n->ptr, &(uint32_t) { 0 }) != SDC_NODE_REGULAR)
                return -EINVAL;
        l = sqfs_data_reader_read(st->data_reader, n->ptr, offset, buf, (sqfs_u32) MIN(size, (size_t) 1 << 30));
        if (l < 0)
                return damaged(t, l, "a file's data");
        return l;
}

/* What one read() copies at most, whatever the caller allows: a file's size is what its inode says,
 * and a few bytes of inode can describe gigabytes of sparse blocks. The probe reads small files
 * whole and scans large ones in pieces (pread). */
#define READ_MAX ((uint64_t) 64 << 20)

static int squash_read(SdcTree *t, const SdcNode *n, const SdcStat *st, uint64_t max_size, SdcBlob *ret) {
        _cleanup_free_ uint8_t *copy = NULL;
        SdcStat s;
        size_t got = 0;

        /* The inode is in memory: its own stat, whatever the walk found (the same). */
        stat_of(n->ptr, &s);
        if (s.type != SDC_NODE_REGULAR)
                return -EINVAL;
        if (s.size > max_size || s.size > READ_MAX)
                return -EFBIG;
        copy = malloc((size_t) s.size + 1);
        if (!copy)
                return -ENOMEM;
        while (got < s.size) {
                ssize_t l = squash_pread(t, n, got, copy + got, (size_t) s.size - got);

                if (l < 0)
                        return (int) l;
                if (l == 0) /* shorter than its inode says */
                        return damaged(t, SQFS_ERROR_CORRUPTED, "a file's data");
                got += (size_t) l;
        }
        *ret = (SdcBlob) { .data = copy, .size = (size_t) s.size, .copy = copy };
        TAKE_PTR(copy);
        return 0;
}

static int squash_list(SdcTree *t, const SdcNode *n, char ***ret) {
        SquashTree *st = t->backend;
        _cleanup_strv_free_ char **names = NULL;
        int e, r;

        if (!is_directory(n->ptr))
                return -ENOTDIR;
        names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        e = sqfs_dir_reader_open_dir(st->dir_reader, n->ptr, 0);
        if (e != 0)
                return damaged(t, e, "a directory's listing");
        for (;;) {
                sqfs_dir_entry_t *ent = NULL;
                size_t len;

                e = sqfs_dir_reader_read(st->dir_reader, &ent);
                if (e > 0)
                        break;
                if (e < 0)
                        return damaged(t, e, "a directory's listing");
                len = strnlen((const char *) ent->name, (size_t) ent->size + 1);
                /* Names the kernel could not look up either: none of them is listed. */
                if (len == 0 || memchr(ent->name, '/', len) || (len == 1 && ent->name[0] == '.') ||
                    (len == 2 && ent->name[0] == '.' && ent->name[1] == '.')) {
                        sqfs_free(ent);
                        continue;
                }
                r = strv_consume(&names, strndup((const char *) ent->name, len));
                sqfs_free(ent);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static void squash_release(SdcTree *t, SdcNode *n) {
        sqfs_free(n->ptr);
        n->ptr = NULL;
}

static void squash_free(SdcTree *t) {
        SquashTree *st = t->backend;

        if (!st)
                return;
        sqfs_destroy(st->data_reader);
        sqfs_destroy(st->dir_reader);
        sqfs_destroy(st->compressor);
        free(st->root);
        free(st);
}

static const SdcTreeOps squash_ops = {
        .root = squash_root,
        .child = squash_child,
        .readlink = squash_readlink,
        .read = squash_read,
        .pread = squash_pread,
        .list = squash_list,
        .release = squash_release,
        .free = squash_free,
};

_printf_(3, 4) static int fail(char *message, size_t message_size, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(message, message_size, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

int sdc_tree_open_squashfs(const uint8_t *data, size_t size, const char *description, SdcTree **ret, char *message,
                           size_t message_size) {
        _cleanup_(sdc_tree_freep) SdcTree *t = NULL;
        sqfs_compressor_config_t cfg;
        sqfs_inode_generic_t *root = NULL;
        SquashTree *st;
        int e, r;

        st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r = sdc_tree_new(&squash_ops, description, st, &t);
        if (r < 0) {
                free(st);
                return r;
        }
        st->file = (MemoryFile) {
                .base = { .base = { .destroy = memory_destroy },
                          .read_at = memory_read_at,
                          .write_at = memory_write_at,
                          .get_size = memory_get_size,
                          .truncate = memory_truncate },
                .data = data,
                .size = size,
        };

        if (size < sizeof(sqfs_super_t))
                return fail(message, message_size, "truncated: %zu bytes, less than a squashfs superblock", size);
        e = sqfs_super_read(&st->super, &st->file.base);
        if (e != 0)
                return fail(message, message_size, "superblock: %s", sqfs_error_text(e));
        /* The kernel refuses a file system whose superblock claims more than the device has. */
        if (st->super.bytes_used > size)
                return fail(message, message_size,
                            "truncated: the superblock says %" PRIu64 " bytes, the file has %zu",
                            (uint64_t) st->super.bytes_used, size);

        e = sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR) st->super.compression_id, st->super.block_size,
                                        SQFS_COMP_FLAG_UNCOMPRESS);
        if (e == 0)
                e = sqfs_compressor_create(&cfg, &st->compressor);
        if (e != 0) {
                const char *name = sqfs_compressor_name_from_id((SQFS_COMPRESSOR) st->super.compression_id);
                return fail(message, message_size, "compression %s (%u): %s", name ?: "unknown",
                            (unsigned) st->super.compression_id, sqfs_error_text(e));
        }
        st->dir_reader = sqfs_dir_reader_create(&st->super, st->compressor, &st->file.base, 0);
        st->data_reader = sqfs_data_reader_create(&st->file.base, st->super.block_size, st->compressor, 0);
        if (!st->dir_reader || !st->data_reader)
                return -ENOMEM;
        e = sqfs_data_reader_load_fragment_table(st->data_reader, &st->super);
        if (e != 0)
                return fail(message, message_size, "fragment table: %s", sqfs_error_text(e));
        e = sqfs_dir_reader_get_root_inode(st->dir_reader, &root);
        if (e != 0)
                return fail(message, message_size, "root inode: %s", sqfs_error_text(e));
        if (!is_directory(root)) {
                sqfs_free(root);
                return fail(message, message_size, "the root inode is not a directory");
        }
        st->root = inode_dup(root);
        sqfs_free(root);
        if (!st->root)
                return -ENOMEM;
        *ret = TAKE_PTR(t);
        return 0;
}
