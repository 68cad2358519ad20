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
 *    into the shared inode;
 *  - a symlink whose target is longer than PATH_MAX is skipped whole (do_header()).
 *
 * Memory: every name, mode and link target is kept (path resolution must stay exact), but file
 * contents only where the probe can need them (want_body()): the image is streamed, and the rest
 * passes unread. A file the probe reads after all without its contents kept (a symlink made some
 * other file the binary) is read by a second walk of the image up to its entry
 * (sdc_image_read_entry()). Both what is kept and the metadata have caps (SdcImageLimits), checked
 * as the image is read, so that no image can make this process grow past them. */

#include <inttypes.h>
#include <string.h>
#include <fcntl.h>
#include <sys/random.h>

#include "log.h"
#include "strv.h"
#include "tree-image.h"
#include "tree-internal.h"
#if HAVE_SQUASHFS
#include "tree-squashfs.h"
#endif

typedef struct Inode {
        const uint8_t *data; /* a kept body (the image's), NULL if it was let pass */
        size_t size;
        uint64_t entry;      /* index of the entry whose body this is, to fetch it later */
        bool root_image;     /* data is charged to kept_root_image, not kept */
} Inode;

typedef struct ImageNode ImageNode;
struct ImageNode {
        ImageNode *parent;
        const char *name; /* one path component, not NUL-terminated, in the names arena */
        size_t name_len;
        uint32_t mode;
        SdcNodeType type;
        Inode *inode;     /* regular files */
        const char *link; /* symlinks: target (a kept body of the image) */
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

/* Names are copied into chunks of this size (a name is at most SDC_CPIO_NAME_MAX bytes). */
#define NAMES_CHUNK ((size_t) 64 << 10)

typedef struct ImageTree {
        SdcImage *image;
        SdcTree *tree;
        SdcImageLimits limits;
        char **name_chunks;
        size_t n_name_chunks, name_used;
        uint64_t metadata; /* bytes of nodes, names, link targets and buckets */
        uint64_t kept;     /* bytes of file contents kept */
        uint64_t kept_root_image; /* bytes of root images kept (root_image_entry()) */
        uint64_t budget;   /* path steps left for finding parents (see find_parent()) */
        char message[256]; /* why the tree stopped the walk, if it did */
        ImageNode root;
        ImageNode **buckets;
        size_t n_buckets, n_nodes;
        uint64_t seed;
        Pool node_pool, inode_pool;
        HardLink *links;
        size_t n_links, allocated_links;
        /* The parent of the previous entry: archives list a directory's entries together. Also the
         * last parent that could not be found, so that a million entries under one broken link
         * are not a million walks. */
        ImageNode *cached_parent;
        char cached_parent_path[SDC_CPIO_NAME_MAX + 1];
        char missing_parent_path[SDC_CPIO_NAME_MAX + 1];
        size_t missing_parent_len; /* 0: none */
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
        if (n->type == SDC_NODE_SYMLINK) {
                sdc_image_body_free((const uint8_t *) n->link);
                n->link = NULL;
        }
        /* Contents stay: a hard link elsewhere may share the inode. */
}

static const char *format_bytes(char buf[static 32], uint64_t n) {
        if (n >= (UINT64_C(1) << 20))
                (void) snprintf(buf, 32, "%.1f MiB", (double) n / (1 << 20));
        else
                (void) snprintf(buf, 32, "%" PRIu64 " B", n);
        return buf;
}

/* Counts n more bytes of metadata against its cap. */
static int charge_metadata(ImageTree *it, uint64_t n) {
        char a[32];

        it->metadata += n;
        if (it->metadata <= it->limits.max_metadata)
                return 0;
        (void) snprintf(it->message, sizeof(it->message),
                        "the names, link targets and directory entries of the image exceed the limit of %s "
                        "(after %zu entries)",
                        format_bytes(a, it->limits.max_metadata), it->n_nodes);
        return -E2BIG;
}

static const char *copy_name(ImageTree *it, const char *name, size_t len) {
        char *p;

        if (it->n_name_chunks == 0 || it->name_used + len > NAMES_CHUNK) {
                char **c = reallocarray(it->name_chunks, it->n_name_chunks + 1, sizeof(char *));
                if (!c)
                        return NULL;
                it->name_chunks = c;
                c[it->n_name_chunks] = malloc(NAMES_CHUNK);
                if (!c[it->n_name_chunks])
                        return NULL;
                it->n_name_chunks++;
                it->name_used = 0;
        }
        p = it->name_chunks[it->n_name_chunks - 1] + it->name_used;
        memcpy(p, name, len);
        it->name_used += len;
        return p;
}

static int add_node(ImageTree *it, ImageNode *parent, const char *name, size_t len, ImageNode **ret) {
        ImageNode *n;
        size_t b;
        int r;

        r = charge_metadata(it, sizeof(ImageNode) + len);
        if (r < 0)
                return r;
        if (it->n_nodes + 1 > it->n_buckets) {
                r = charge_metadata(it, it->n_buckets * 2 * sizeof(ImageNode *));
                if (r < 0)
                        return r;
                r = grow_buckets(it);
                if (r < 0)
                        return r;
        }
        name = copy_name(it, name, len);
        if (!name)
                return -ENOMEM;
        n = pool_alloc(&it->node_pool);
        if (!n)
                return -ENOMEM;
        it->missing_parent_len = 0; /* a missing parent may exist now */
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

/* Path steps (tree.c's walk counts them) that finding the parents of the image's entries may take:
 * a start, and this much more per entry read. Real images need a few per entry (most share their
 * parent with the entry before); an image of entries under long symlink chains would need
 * thousands each, and costs this error instead of minutes. */
#define PARENT_STEPS_START     (UINT64_C(1) << 20)
#define PARENT_STEPS_PER_ENTRY UINT64_C(256)

/* The parent directory of an entry, looked up as the kernel's path walk would (symlinks
 * followed, inside the image). NULL if it does not exist or is not a directory (*ret_error 0), or
 * if the lookups of the image have used up their budget (*ret_error -E2BIG). */
static ImageNode *find_parent(SdcTree *t, ImageTree *it, const char *name, size_t dir_len, int *ret_error) {
        SdcNode n;
        SdcStat st;
        char path[SDC_CPIO_NAME_MAX + 1];
        uint64_t steps;
        int r;

        *ret_error = 0;
        if (dir_len == 0)
                return &it->root;
        if (dir_len > SDC_CPIO_NAME_MAX)
                return NULL;
        if (it->cached_parent && strlen(it->cached_parent_path) == dir_len &&
            memcmp(it->cached_parent_path, name, dir_len) == 0)
                return it->cached_parent;
        if (it->missing_parent_len == dir_len && memcmp(it->missing_parent_path, name, dir_len) == 0)
                return NULL;

        memcpy(path, name, dir_len);
        path[dir_len] = 0;
        steps = t->steps;
        r = sdc_tree_resolve_node(t, path, 0, &n, &st);
        steps = t->steps - steps;
        if (steps > it->budget) {
                (void) snprintf(it->message, sizeof(it->message),
                                "finding the parent directories of the image's entries takes more than %" PRIu64
                                " path steps plus %" PRIu64 " per entry (long symlink chains?)",
                                PARENT_STEPS_START, PARENT_STEPS_PER_ENTRY);
                *ret_error = -E2BIG;
                return NULL;
        }
        it->budget -= steps;
        if (r < 0 || st.type != SDC_NODE_DIRECTORY) {
                memcpy(it->missing_parent_path, path, dir_len + 1);
                it->missing_parent_len = dir_len;
                return NULL;
        }
        memcpy(it->cached_parent_path, path, dir_len + 1);
        it->cached_parent = n.ptr;
        return n.ptr;
}

/* What the probe (probe.c, manifest.c) reads whole, by the last component of the entry's name:
 * the systemd binary and its shared library, systemctl, os-release, initrd-release and
 * redhat-release, fstab, the init, the switch-root unit and its drop-ins, the sdcompat manifest,
 * dracut's modules.txt (read when the root is in a squash image).
 * Only a hint: a file the probe reads by another name (through a symlink) is fetched by a second
 * walk (image_read()), which decodes the image again up to that file: on a dracut image a missing
 * name here costs a third of the check's time (systemctl did). */
static bool probe_may_read(const char *base, size_t len) {
        static const char *const names[] = {
                "systemd",        "systemctl",   "os-release", "initrd-release",
                "redhat-release", "fstab",       "init",       "initrd-switch-root.service",
                "manifest",       "modules.txt",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (len == strlen(names[i]) && memcmp(base, names[i], len) == 0)
                        return true;
        if (len > STRLEN("libsystemd-shared-") && memcmp(base, "libsystemd-shared-", STRLEN("libsystemd-shared-")) == 0)
                return true;
        return len > STRLEN(".conf") && memcmp(base + len - STRLEN(".conf"), ".conf", STRLEN(".conf")) == 0;
}

static size_t base_of(const SdcCpioEntry *e, const char **ret_base) {
        const char *name = e->name, *base;
        size_t len = e->name_len;

        while (len > 0 && name[len - 1] == '/')
                len--;
        base = memrchr(name, '/', len);
        base = base ? base + 1 : name;
        *ret_base = base;
        return len - (size_t) (base - name);
}

static int charge_kept(ImageTree *it, uint64_t n, const char *name) {
        char a[32];

        if (n <= it->limits.max_kept && it->kept <= it->limits.max_kept - n) {
                it->kept += n;
                return 0;
        }
        (void) snprintf(it->message, sizeof(it->message),
                        "the file contents the probe needs exceed the limit of %s at \"%s\" (%" PRIu64 " bytes)",
                        format_bytes(a, it->limits.max_kept), name, n);
        return -E2BIG;
}

/* The root images of dracut's squash modules that this build reads (sdc_tree_open_filesystem()):
 * their names at the top of the archive. Kept whole (they are what the probe walks), within
 * max_root_image, and only when the image's /init, already unpacked, names the file: a squash
 * image's loader script comes first in dracut's archives ("init" sorts before "squash*"); another
 * archive order costs a second pass over the image when the root image is opened. erofs has no
 * reader: its image passes unread. */
static bool root_image_entry(const SdcCpioEntry *e) {
#if HAVE_SQUASHFS
        static const char *const names[] = { "squashfs-root.img", "squash-root.img" };
        const char *name = e->name;
        size_t len = e->name_len;

        if (type_from_mode(e->mode) != SDC_NODE_REGULAR)
                return false;
        while (len >= 2 && name[0] == '.' && name[1] == '/') {
                name += 2;
                len -= 2;
        }
        while (len > 0 && name[0] == '/') {
                name++;
                len--;
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (len == strlen(names[i]) && memcmp(name, names[i], len) == 0)
                        return true;
#endif
        return false;
}

/* Whether the /init unpacked so far is a kept file whose contents name the root image e. The walk to
 * /init is paid from the budget of find_parent(): an archive of a million root images behind a
 * chain of symlinks to /init stops being looked at, not the reader. */
static bool init_names(SdcTree *t, ImageTree *it, const SdcCpioEntry *e) {
        const char *base;
        size_t len = base_of(e, &base);
        const ImageNode *init;
        uint64_t steps = t->steps;
        SdcNode n;
        SdcStat st;
        int r;

        r = sdc_tree_resolve_node(t, "/init", 0, &n, &st);
        steps = t->steps - steps;
        it->budget -= MIN(steps, it->budget);
        if (r < 0 || it->budget == 0)
                return false;
        init = n.ptr;
        return st.type == SDC_NODE_REGULAR && init->inode->data &&
               memmem(init->inode->data, init->inode->size, base, len);
}

static int want_body(const SdcCpioEntry *e, void *userdata) {
        SdcTree *t = userdata;
        ImageTree *it = t->backend;
        const char *base;
        size_t len = base_of(e, &base);
        int r;

        it->budget += PARENT_STEPS_PER_ENTRY;
        if (root_image_entry(e)) {
                /* Beyond the limit it passes, and opening it says so (image_open_filesystem()). */
                if (e->size == 0 || e->size > it->limits.max_root_image - it->kept_root_image ||
                    !init_names(t, it, e))
                        return 0;
                it->kept_root_image += e->size;
                return 1;
        }
        switch (type_from_mode(e->mode)) {
        case SDC_NODE_SYMLINK:
                /* The kernel skips a symlink whose target is longer than PATH_MAX. */
                if (e->size > SDC_CPIO_NAME_MAX)
                        return 0;
                r = charge_metadata(it, e->size + 1);
                return r < 0 ? r : 1;
        case SDC_NODE_REGULAR:
                if (e->size == 0 || !probe_may_read(base, len))
                        return 0;
                r = charge_kept(it, e->size, e->name);
                return r < 0 ? r : 1;
        default:
                return 0;
        }
}

/* An entry that is not applied: its kept body goes back. */
static void unused_body(ImageTree *it, const SdcCpioEntry *e) {
        if (!e->data)
                return;
        if (root_image_entry(e))
                it->kept_root_image -= e->size;
        else if (type_from_mode(e->mode) == SDC_NODE_REGULAR)
                it->kept -= e->size;
        sdc_image_body_free(e->data);
}

/* An entry's body becomes an inode's contents: what was kept before goes back. */
static void set_contents(ImageTree *it, Inode *inode, const SdcCpioEntry *e) {
        if (inode->data) {
                if (inode->root_image)
                        it->kept_root_image -= inode->size;
                else
                        it->kept -= inode->size;
                sdc_image_body_free(inode->data);
        }
        *inode = (Inode) {
                .data = e->data, .size = e->size, .entry = e->index, .root_image = e->data && root_image_entry(e)
        };
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
            (base_len == 2 && base[0] == '.' && base[1] == '.')) {
                unused_body(it, e);
                return 0; /* "." or the root: mkdir fails with EEXIST in the kernel too */
        }

        if (type == SDC_NODE_SYMLINK && !e->data) {
                it->dropped++; /* a target longer than PATH_MAX: the kernel skips the entry */
                return 0;
        }
        parent = find_parent(t, it, name, dir_len, &r);
        if (r < 0)
                return r;
        if (!parent) {
                it->dropped++;
                unused_body(it, e);
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
                        set_contents(it, old->inode, e);
                        return 0;
                }
                if (old->type == type && type == SDC_NODE_OTHER) {
                        it->dropped++; /* mknod() fails with EEXIST */
                        return 0;
                }
                if (old->type == SDC_NODE_DIRECTORY && old->first_child) {
                        it->dropped++; /* rmdir() of a non-empty directory fails */
                        unused_body(it, e);
                        return 0;
                }
                unlink_node(it, old);
        }

        r = add_node(it, parent, base, base_len, &n);
        if (r < 0) {
                unused_body(it, e);
                return r;
        }
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
                        *inode = (Inode) { .entry = e->index };
                        set_contents(it, inode, e);
                } else if (e->size > 0)
                        set_contents(it, inode, e);
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

static int image_child(SdcTree *t, const SdcNode *dir, const char *name, unsigned flags, SdcNode *ret,
                       SdcStat *ret_stat) {
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

static int image_read(SdcTree *t, const SdcNode *n, const SdcStat *st, uint64_t max_size, SdcBlob *ret) {
        ImageTree *it = t->backend;
        const ImageNode *node = n->ptr;
        Inode *inode;
        int r;

        if (node->type != SDC_NODE_REGULAR)
                return -EINVAL;
        inode = node->inode;
        if (inode->size > max_size)
                return -EFBIG;
        if (!inode->data && inode->size > 0) {
                const uint8_t *data;

                /* Let pass on the first walk (want_body() did not know this file would be read). */
                r = charge_kept(it, inode->size, node->name);
                if (r < 0) {
                        log_debug("%s: %s", t->description, it->message);
                        return -EFBIG;
                }
                r = sdc_image_read_entry(it->image, inode->entry, &data);
                if (r < 0) {
                        it->kept -= inode->size;
                        return r;
                }
                inode->data = data;
        }
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

static int image_open_filesystem(SdcTree *t, const SdcNode *n, const char *type, SdcTree **ret, char *message,
                                 size_t message_size) {
#if HAVE_SQUASHFS
        ImageTree *it = t->backend;
        const ImageNode *node = n->ptr;
        Inode *inode = node->inode;
        _cleanup_free_ char *description = NULL;
        char a[32], b[32];
        int r;

        if (!streq(type, "squashfs")) {
                (void) snprintf(message, message_size, "sdcompat has no reader for %s", type);
                return -EOPNOTSUPP;
        }
        if (!inode->data && inode->size > 0) {
                const uint8_t *data;

                /* Let pass on the first walk: over the limit, or /init came after it. */
                if (inode->size > it->limits.max_root_image - it->kept_root_image) {
                        (void) snprintf(message, message_size,
                                        "%s, more than the limit of %s for a root image that is kept to be read",
                                        format_bytes(a, inode->size), format_bytes(b, it->limits.max_root_image));
                        return -EFBIG;
                }
                r = sdc_image_read_entry(it->image, inode->entry, &data);
                if (r < 0) {
                        (void) snprintf(message, message_size, "reading it from the image: %s", strerror(-r));
                        return r;
                }
                inode->data = data;
                inode->root_image = true;
                it->kept_root_image += inode->size;
        }
        if (asprintf(&description, "%s:/%.*s", t->description, (int) node->name_len, node->name) < 0)
                return -ENOMEM;
        return sdc_tree_open_squashfs(inode->data ?: (const uint8_t *) "", inode->size, description, ret, message,
                                      message_size);
#else
        if (streq(type, "squashfs"))
                (void) snprintf(message, message_size,
                                "this build of sdcompat has no squashfs reader (built without libsquashfs)");
        else
                (void) snprintf(message, message_size, "sdcompat has no reader for %s", type);
        return -EOPNOTSUPP;
#endif
}

static void image_free(SdcTree *t) {
        ImageTree *it = t->backend;

        if (!it)
                return;
        sdc_image_free(it->image);
        for (size_t i = 0; i < it->n_name_chunks; i++)
                free(it->name_chunks[i]);
        free(it->name_chunks);
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
        .open_filesystem = image_open_filesystem,
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

        it->tree = t;
        it->budget = PARENT_STEPS_START;
        it->limits = limits ? *limits :
                              (SdcImageLimits) {
                                      .max_unpacked = SDC_IMAGE_DEFAULT_MAX_UNPACKED,
                                      .max_entries = SDC_IMAGE_DEFAULT_MAX_ENTRIES,
                              };
        if (it->limits.max_kept == 0)
                it->limits.max_kept = SDC_IMAGE_DEFAULT_MAX_KEPT;
        if (it->limits.max_metadata == 0)
                it->limits.max_metadata = SDC_IMAGE_DEFAULT_MAX_METADATA;
        if (it->limits.max_root_image == 0)
                it->limits.max_root_image = SDC_IMAGE_DEFAULT_MAX_ROOT_IMAGE;

        if (data)
                r = sdc_image_open_buffer_want(data, size, &it->limits, want_body, apply_entry, t, &it->image,
                                               ret_error);
        else
                r = sdc_image_open_want(dir_fd, path, &it->limits, want_body, apply_entry, t, &it->image, ret_error);
        if (r < 0) {
                if (it->message[0] && ret_error)
                        (void) snprintf(ret_error->message, sizeof(ret_error->message), "%s", it->message);
                return r;
        }
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

const SdcImage *sdc_tree_image(const SdcTree *t) {
        return t->ops == &image_ops ? ((const ImageTree *) t->backend)->image : NULL;
}
