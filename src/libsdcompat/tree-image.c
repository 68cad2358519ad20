/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An initramfs image as a tree: the file system the kernel would unpack, built in memory.
 *
 * Entries are applied in order with the semantics of the kernel's init/initramfs.c, because
 * "what the initramfs contains" is what the kernel makes of it, not what the last archive says:
 *  - the parent of a new entry is looked up following symlinks (dracut's "lib -> usr/lib" makes
 *    a later "lib/foo" land in usr/lib); a missing parent makes the kernel drop the entry;
 *  - a regular file, symlink or special file first removes an existing entry of another type
 *    (clean_path()); a directory that is not empty cannot be removed, so the new entry is lost;
 *  - a regular file over a regular file replaces its contents (O_TRUNC);
 *  - a symlink replaces whatever was there (if it can be removed);
 *  - a directory entry never replaces anything: mkdir() on an existing name fails, so a
 *    directory over a symlink leaves the symlink in place;
 *  - hard links (nlink >= 2, same inode/device/mode) share contents; a later body is written
 *    into the shared inode.
 * Contents are never copied: nodes point into the mapped image or its unpacked buffer. */

#include <inttypes.h>
#include <string.h>
#include <fcntl.h>
#include <sys/random.h>

#include "log.h"
#include "strv.h"
#include "tree-internal.h"

typedef struct Inode {
        const uint8_t *data;
        size_t size;
} Inode;

typedef struct ImageNode ImageNode;
struct ImageNode {
        ImageNode *parent;
        const char *name; /* one path component, not NUL-terminated, inside the image */
        size_t name_len;
        uint32_t mode;
        SdcNodeType type;
        Inode *inode;     /* regular files */
        const char *link; /* symlinks: target (not NUL-terminated) */
        size_t link_len;
        ImageNode *first_child, *last_child, *prev_sibling, *next_sibling;
        ImageNode *hash_next;
};

typedef struct HardLink {
        uint32_t ino, devmajor, devminor, mode;
        Inode *inode;
} HardLink;

#define POOL_CHUNK 1024

typedef struct Pool {
        void *chunk;
        size_t used, elem_size;
        void **chunks;
        size_t n_chunks;
} Pool;

typedef struct ImageTree {
        SdcImage *image;
        ImageNode root;
        ImageNode **buckets;
        size_t n_buckets, n_nodes;
        uint64_t seed;
        Pool node_pool, inode_pool;
        HardLink *links;
        size_t n_links, allocated_links;
        /* The parent of the previous entry: archives list a directory's entries together. */
        ImageNode *cached_parent;
        char cached_parent_path[SDC_CPIO_NAME_MAX + 1];
        uint64_t dropped; /* entries the kernel would not have created */
} ImageTree;

static void *pool_alloc(Pool *p) {
        void *e;

        if (!p->chunk || p->used == POOL_CHUNK) {
                void **c = realloc(p->chunks, sizeof(void *) * (p->n_chunks + 1));
                if (!c)
                        return NULL;
                p->chunks = c;
                p->chunk = calloc(POOL_CHUNK, p->elem_size);
                if (!p->chunk)
                        return NULL;
                p->chunks[p->n_chunks++] = p->chunk;
                p->used = 0;
        }
        e = (uint8_t *) p->chunk + p->used * p->elem_size;
        p->used++;
        return e;
}

static void pool_free(Pool *p) {
        for (size_t i = 0; i < p->n_chunks; i++)
                free(p->chunks[i]);
        free(p->chunks);
        *p = (Pool) {};
}

/* FNV-1a over the parent's address and the name, mixed with a random seed so that a crafted
 * image cannot predict the buckets. */
static size_t hash_name(const ImageTree *it, const ImageNode *parent, const char *name, size_t len) {
        uint64_t h = 0xcbf29ce484222325ULL ^ it->seed;
        uintptr_t p = (uintptr_t) parent;

        for (size_t i = 0; i < sizeof(p); i++) {
                h ^= (uint8_t) (p >> (8 * i));
                h *= 0x100000001b3ULL;
        }
        for (size_t i = 0; i < len; i++) {
                h ^= (uint8_t) name[i];
                h *= 0x100000001b3ULL;
        }
        h ^= h >> 29;
        return (size_t) (h & (it->n_buckets - 1));
}

static ImageNode *lookup(const ImageTree *it, const ImageNode *parent, const char *name, size_t len) {
        for (ImageNode *n = it->buckets[hash_name(it, parent, name, len)]; n; n = n->hash_next)
                if (n->parent == parent && n->name_len == len && memcmp(n->name, name, len) == 0)
                        return n;
        return NULL;
}

static int grow_buckets(ImageTree *it) {
        size_t old_n = it->n_buckets;
        ImageNode **old = it->buckets;

        it->n_buckets = old_n ? old_n * 2 : 4096;
        it->buckets = calloc(it->n_buckets, sizeof(ImageNode *));
        if (!it->buckets) {
                it->buckets = old;
                it->n_buckets = old_n;
                return -ENOMEM;
        }
        for (size_t i = 0; i < old_n; i++)
                for (ImageNode *n = old[i], *next; n; n = next) {
                        size_t b = hash_name(it, n->parent, n->name, n->name_len);
                        next = n->hash_next;
                        n->hash_next = it->buckets[b];
                        it->buckets[b] = n;
                }
        free(old);
        return 0;
}

static void unlink_node(ImageTree *it, ImageNode *n) {
        ImageNode **pp = &it->buckets[hash_name(it, n->parent, n->name, n->name_len)];

        for (; *pp; pp = &(*pp)->hash_next)
                if (*pp == n) {
                        *pp = n->hash_next;
                        break;
                }
        if (n->prev_sibling)
                n->prev_sibling->next_sibling = n->next_sibling;
        else
                n->parent->first_child = n->next_sibling;
        if (n->next_sibling)
                n->next_sibling->prev_sibling = n->prev_sibling;
        else
                n->parent->last_child = n->prev_sibling;
        it->n_nodes--;
        it->cached_parent = NULL; /* it may have been the cached parent */
}

static int add_node(ImageTree *it, ImageNode *parent, const char *name, size_t len, ImageNode **ret) {
        ImageNode *n;
        size_t b;
        int r;

        if (it->n_nodes + 1 > it->n_buckets) {
                r = grow_buckets(it);
                if (r < 0)
                        return r;
        }
        n = pool_alloc(&it->node_pool);
        if (!n)
                return -ENOMEM;
        *n = (ImageNode) { .parent = parent, .name = name, .name_len = len };
        b = hash_name(it, parent, name, len);
        n->hash_next = it->buckets[b];
        it->buckets[b] = n;
        n->prev_sibling = parent->last_child;
        if (parent->last_child)
                parent->last_child->next_sibling = n;
        else
                parent->first_child = n;
        parent->last_child = n;
        it->n_nodes++;
        *ret = n;
        return 0;
}

static Inode *hardlink_find(ImageTree *it, const SdcCpioEntry *e) {
        for (size_t i = 0; i < it->n_links; i++) {
                HardLink *l = &it->links[i];
                if (l->ino == e->ino && l->devmajor == e->devmajor && l->devminor == e->devminor &&
                    l->mode == e->mode)
                        return l->inode;
        }
        return NULL;
}

/* Hard links are rare in initramfs images (dracut and mkinitramfs write none); the table is
 * searched linearly and capped so a hostile image of a million "links" cannot make it quadratic.
 * Past the cap, further links are treated as separate files. */
#define HARDLINKS_MAX 4096

static int hardlink_add(ImageTree *it, const SdcCpioEntry *e, Inode *inode) {
        if (it->n_links >= HARDLINKS_MAX)
                return 0;
        if (it->n_links == it->allocated_links) {
                size_t n = it->allocated_links ? it->allocated_links * 2 : 16;
                HardLink *l = realloc(it->links, n * sizeof(HardLink));
                if (!l)
                        return -ENOMEM;
                it->links = l;
                it->allocated_links = n;
        }
        it->links[it->n_links++] = (HardLink) {
                .ino = e->ino, .devmajor = e->devmajor, .devminor = e->devminor, .mode = e->mode, .inode = inode
        };
        return 0;
}

static SdcNodeType type_from_mode(uint32_t m) {
        switch (m & 0170000) {
        case 0100000: return SDC_NODE_REGULAR;
        case 0040000: return SDC_NODE_DIRECTORY;
        case 0120000: return SDC_NODE_SYMLINK;
        default: return SDC_NODE_OTHER;
        }
}

/* The parent directory of an entry, looked up as the kernel's path walk would (symlinks
 * followed, inside the image). NULL if it does not exist or is not a directory. */
static ImageNode *find_parent(SdcTree *t, ImageTree *it, const char *name, size_t dir_len) {
        SdcNode n;
        SdcStat st;
        char path[SDC_CPIO_NAME_MAX + 1];

        if (dir_len == 0)
                return &it->root;
        if (dir_len > SDC_CPIO_NAME_MAX)
                return NULL;
        if (it->cached_parent && strlen(it->cached_parent_path) == dir_len &&
            memcmp(it->cached_parent_path, name, dir_len) == 0)
                return it->cached_parent;

        memcpy(path, name, dir_len);
        path[dir_len] = 0;
        if (sdc_tree_resolve_node(t, path, 0, &n, &st) < 0 || st.type != SDC_NODE_DIRECTORY)
                return NULL;
        memcpy(it->cached_parent_path, path, dir_len + 1);
        it->cached_parent = n.ptr;
        return n.ptr;
}

static int apply_entry(const SdcCpioEntry *e, unsigned segment, void *userdata) {
        SdcTree *t = userdata;
        ImageTree *it = t->backend;
        SdcNodeType type = type_from_mode(e->mode);
        const char *name = e->name, *base;
        size_t len = e->name_len, dir_len, base_len;
        ImageNode *parent, *old, *n;
        int r;

        /* Strip trailing slashes; the last component is what gets created. */
        while (len > 0 && name[len - 1] == '/')
                len--;
        base = memrchr(name, '/', len);
        base = base ? base + 1 : name;
        base_len = len - (size_t) (base - name);
        dir_len = base > name ? (size_t) (base - name - 1) : 0;

        if (base_len == 0 || (base_len == 1 && base[0] == '.') ||
            (base_len == 2 && base[0] == '.' && base[1] == '.'))
                return 0; /* "." or the root: mkdir fails with EEXIST in the kernel too */

        parent = find_parent(t, it, name, dir_len);
        if (!parent) {
                it->dropped++;
                return 0;
        }

        old = lookup(it, parent, base, base_len);
        if (old) {
                if (type == SDC_NODE_DIRECTORY) {
                        /* mkdir() fails on any existing name; only the mode is updated, and only
                         * where the kernel's chmod reaches a directory. */
                        if (old->type == SDC_NODE_DIRECTORY)
                                old->mode = e->mode;
                        return 0;
                }
                if (old->type == type && type == SDC_NODE_REGULAR) {
                        /* Opened with O_TRUNC (or, for a hard link, written in place). */
                        old->mode = e->mode;
                        old->inode->data = e->data;
                        old->inode->size = e->size;
                        return 0;
                }
                if (old->type == type && type == SDC_NODE_OTHER) {
                        it->dropped++; /* mknod() fails with EEXIST */
                        return 0;
                }
                if (old->type == SDC_NODE_DIRECTORY && old->first_child) {
                        it->dropped++; /* rmdir() of a non-empty directory fails */
                        return 0;
                }
                unlink_node(it, old);
        }

        r = add_node(it, parent, base, base_len, &n);
        if (r < 0)
                return r;
        n->mode = e->mode;
        n->type = type;

        if (type == SDC_NODE_SYMLINK) {
                n->link = (const char *) e->data;
                n->link_len = e->size;
                it->cached_parent = NULL; /* a cached parent path may now resolve elsewhere */
        } else if (type == SDC_NODE_REGULAR) {
                Inode *inode = e->nlink >= 2 ? hardlink_find(it, e) : NULL;

                if (!inode) {
                        inode = pool_alloc(&it->inode_pool);
                        if (!inode)
                                return -ENOMEM;
                        if (e->nlink >= 2) {
                                r = hardlink_add(it, e, inode);
                                if (r < 0)
                                        return r;
                        }
                        *inode = (Inode) { .data = e->data, .size = e->size };
                } else if (e->size > 0)
                        *inode = (Inode) { .data = e->data, .size = e->size };
                n->inode = inode;
        }
        return 0;
}

static int image_root(SdcTree *t, SdcNode *ret) {
        ImageTree *it = t->backend;
        ret->ptr = &it->root;
        return 0;
}

static void stat_of(const ImageNode *n, SdcStat *ret) {
        *ret = (SdcStat) {
                .type = n->type,
                .mode = n->mode,
                .size = n->type == SDC_NODE_REGULAR ? n->inode->size :
                        n->type == SDC_NODE_SYMLINK ? n->link_len : 0,
        };
}

static int image_child(SdcTree *t, const SdcNode *dir, const char *name, SdcNode *ret, SdcStat *ret_stat) {
        ImageTree *it = t->backend;
        const ImageNode *d = dir->ptr;
        ImageNode *n;

        if (d->type != SDC_NODE_DIRECTORY)
                return -ENOTDIR;
        n = lookup(it, d, name, strlen(name));
        if (!n)
                return -ENOENT;
        ret->ptr = n;
        stat_of(n, ret_stat);
        return 0;
}

static int image_readlink(SdcTree *t, const SdcNode *n, char **ret) {
        const ImageNode *node = n->ptr;

        if (node->type != SDC_NODE_SYMLINK)
                return -EINVAL;
        if (node->link_len >= SDC_CPIO_NAME_MAX)
                return -ENAMETOOLONG;
        /* A target with a NUL inside ends there, as symlink() would read it. */
        *ret = strndup(node->link, node->link_len);
        return *ret ? 0 : -ENOMEM;
}

static int image_read(SdcTree *t, const SdcNode *n, uint64_t max_size, SdcBlob *ret) {
        const ImageNode *node = n->ptr;

        if (node->type != SDC_NODE_REGULAR)
                return -EINVAL;
        if (node->inode->size > max_size)
                return -EFBIG;
        *ret = (SdcBlob) { .data = node->inode->data ?: (const uint8_t *) "", .size = node->inode->size };
        return 0;
}

static int image_list(SdcTree *t, const SdcNode *n, char ***ret) {
        const ImageNode *node = n->ptr;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (node->type != SDC_NODE_DIRECTORY)
                return -ENOTDIR;
        names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (const ImageNode *c = node->first_child; c; c = c->next_sibling) {
                r = strv_consume(&names, strndup(c->name, c->name_len));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static void image_release(SdcTree *t, SdcNode *n) {
}

static void image_free(SdcTree *t) {
        ImageTree *it = t->backend;

        if (!it)
                return;
        sdc_image_free(it->image);
        pool_free(&it->node_pool);
        pool_free(&it->inode_pool);
        free(it->buckets);
        free(it->links);
        free(it);
}

static const SdcTreeOps image_ops = {
        .root = image_root,
        .child = image_child,
        .readlink = image_readlink,
        .read = image_read,
        .list = image_list,
        .release = image_release,
        .free = image_free,
};

/* Both openers: data is NULL for a file (dir_fd, path), else the caller's buffer (path describes it). */
static int open_image(int dir_fd, const char *path, const uint8_t *data, size_t size, const SdcImageLimits *limits,
                      SdcTree **ret, SdcImageError *ret_error) {
        _cleanup_(sdc_tree_freep) SdcTree *t = NULL;
        ImageTree *it;
        int r;

        it = calloc(1, sizeof(*it));
        if (!it)
                return -ENOMEM;
        it->root = (ImageNode) { .type = SDC_NODE_DIRECTORY, .mode = 0040755 };
        it->node_pool.elem_size = sizeof(ImageNode);
        it->inode_pool.elem_size = sizeof(Inode);
        if (getrandom(&it->seed, sizeof(it->seed), GRND_NONBLOCK) != sizeof(it->seed))
                it->seed = (uint64_t) (uintptr_t) it ^ (uint64_t) getpid();

        r = sdc_tree_new(&image_ops, path, it, &t);
        if (r < 0) {
                free(it);
                return r;
        }
        r = grow_buckets(it);
        if (r < 0)
                return r;

        if (data)
                r = sdc_image_open_buffer(data, size, limits, apply_entry, t, &it->image, ret_error);
        else
                r = sdc_image_open(dir_fd, path, limits, apply_entry, t, &it->image, ret_error);
        if (r < 0)
                return r;
        t->image = it->image;
        if (it->dropped > 0)
                log_debug("%s: %" PRIu64 " entries would not be created by the kernel (missing parent, "
                          "or an existing entry that cannot be replaced)", path, it->dropped);
        *ret = TAKE_PTR(t);
        return 0;
}

int sdc_tree_open_image(
        int dir_fd, const char *path, const SdcImageLimits *limits, SdcTree **ret, SdcImageError *ret_error) {
        return open_image(dir_fd, path, NULL, 0, limits, ret, ret_error);
}

int sdc_tree_open_image_buffer(const uint8_t *data, size_t size, const char *description, const SdcImageLimits *limits,
                               SdcTree **ret, SdcImageError *ret_error) {
        static const uint8_t empty[1];
        return open_image(AT_FDCWD, description, size > 0 ? data : empty, size, limits, ret, ret_error);
}
