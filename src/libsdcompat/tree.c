/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Path resolution inside a tree, written once for every backend.
 *
 * The walk keeps a stack of directory handles from the root to the current directory and a
 * queue of components still to walk. ".." pops the stack but never below the root; a symlink is
 * replaced by its target's components (an absolute target first resets the stack to the root);
 * after SDC_TREE_MAX_SYMLINKS symlinks the walk fails with -ELOOP. Because the backend is asked
 * for one entry at a time relative to a handle it gave out, a directory tree is walked with
 * O_PATH|O_NOFOLLOW descriptors and nothing is ever looked up outside the root. */

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "tree-internal.h"

/* Bounds that keep a hostile tree from making the walk unbounded: the queue can grow by one
 * symlink target (≤ PATH_MAX) per followed link, and depth is bounded by what fits in PATH_MAX. */
#define WALK_MAX_DEPTH   (PATH_MAX / 2)
#define WALK_MAX_PENDING ((SDC_TREE_MAX_SYMLINKS + 2) * PATH_MAX)

void sdc_blob_done(SdcBlob *b) {
        if (!b)
                return;
        if (b->map)
                (void) munmap(b->map, b->map_size);
        free(b->copy);
        *b = (SdcBlob) {};
}

int sdc_tree_new(const SdcTreeOps *ops, const char *description, void *backend, SdcTree **ret) {
        SdcTree *t;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->description = strdup(description);
        if (!t->description) {
                free(t);
                return -ENOMEM;
        }
        t->ops = ops;
        t->backend = backend;
        *ret = t;
        return 0;
}

SdcTree *sdc_tree_free(SdcTree *t) {
        if (!t)
                return NULL;
        if (t->ops && t->ops->free)
                t->ops->free(t);
        free(t->description);
        free(t->error);
        free(t);
        return NULL;
}

void sdc_tree_set_error(SdcTree *t, const char *fmt, ...) {
        va_list ap;

        if (t->error)
                return;
        va_start(ap, fmt);
        if (vasprintf(&t->error, fmt, ap) < 0)
                t->error = NULL;
        va_end(ap);
        if (!t->error)
                t->error = strdup("out of memory"); /* still damage: never let it pass as none */
}

const char *sdc_tree_error(const SdcTree *t) {
        return t->error;
}

const char *sdc_tree_description(const SdcTree *t) {
        return t->description;
}

/* Depths up to this need no allocation: the walk lives on the resolver's stack. */
#define WALK_INLINE_DEPTH 32

typedef struct Walk {
        SdcTree *tree;
        SdcNode *stack;          /* stack_inline, or allocated for a deeper walk */
        size_t *component_start; /* the same */
        size_t allocated;        /* entries of stack and component_start */
        size_t depth;            /* stack[0] is the root; stack[depth] the current directory */
        bool have_root;
        char canonical[PATH_MAX];
        size_t canonical_len;
        SdcNode stack_inline[WALK_INLINE_DEPTH];
        size_t component_start_inline[WALK_INLINE_DEPTH];
} Walk;

static void walk_init(Walk *w, SdcTree *t) {
        w->tree = t;
        w->stack = w->stack_inline;
        w->component_start = w->component_start_inline;
        w->allocated = WALK_INLINE_DEPTH;
        w->depth = 0;
        w->have_root = false;
}

static void walk_free_stacks(Walk *w) {
        if (w->stack != w->stack_inline) {
                free(w->stack);
                free(w->component_start);
        }
        w->stack = w->stack_inline;
        w->component_start = w->component_start_inline;
        w->allocated = WALK_INLINE_DEPTH;
}

/* Room for one more level. */
static int walk_grow(Walk *w) {
        size_t n = MIN(w->allocated * 2, (size_t) WALK_MAX_DEPTH + 1);
        SdcNode *stack;
        size_t *starts;

        if (w->depth + 1 < w->allocated)
                return 0;
        if (n <= w->allocated)
                return -ENAMETOOLONG;
        stack = malloc(n * sizeof(SdcNode));
        starts = malloc(n * sizeof(size_t));
        if (!stack || !starts) {
                free(stack);
                free(starts);
                return -ENOMEM;
        }
        memcpy(stack, w->stack, (w->depth + 1) * sizeof(SdcNode));
        memcpy(starts, w->component_start, (w->depth + 1) * sizeof(size_t));
        walk_free_stacks(w);
        w->stack = stack;
        w->component_start = starts;
        w->allocated = n;
        return 0;
}

static void walk_pop(Walk *w) {
        w->tree->ops->release(w->tree, &w->stack[w->depth]);
        w->canonical_len = w->component_start[w->depth];
        w->canonical[w->canonical_len] = 0;
        w->depth--;
}

static void walk_reset(Walk *w) {
        while (w->depth > 0)
                walk_pop(w);
}

static void walk_done(Walk *w) {
        if (!w->have_root)
                return;
        walk_reset(w);
        w->tree->ops->release(w->tree, &w->stack[0]);
        w->have_root = false;
}

static int walk_push(Walk *w, SdcNode n, const char *name, size_t len) {
        int r;

        if (w->depth >= WALK_MAX_DEPTH || w->canonical_len + 1 + len >= sizeof(w->canonical)) {
                w->tree->ops->release(w->tree, &n);
                return -ENAMETOOLONG;
        }
        r = walk_grow(w);
        if (r < 0) {
                w->tree->ops->release(w->tree, &n);
                return r;
        }
        w->depth++;
        w->stack[w->depth] = n;
        w->component_start[w->depth] = w->canonical_len;
        w->canonical[w->canonical_len++] = '/';
        memcpy(w->canonical + w->canonical_len, name, len);
        w->canonical_len += len;
        w->canonical[w->canonical_len] = 0;
        return 0;
}

/* Replaces the pending queue (*pending, from offset *pos) with target + rest. rest is empty or
 * starts with the '/' that followed the symlink's name, so a trailing slash is kept. */
static int splice_symlink(char **pending, size_t *pos, const char *target, uint64_t *steps) {
        const char *rest = *pending + *pos;
        size_t tl = strlen(target), rl = strlen(rest);
        char *n;

        if (tl + rl + 1 > WALK_MAX_PENDING)
                return -ENAMETOOLONG;
        *steps += (tl + rl) / 16;
        n = malloc(tl + rl + 1);
        if (!n)
                return -ENOMEM;
        memcpy(n, target, tl);
        memcpy(n + tl, rest, rl + 1);
        free(*pending);
        *pending = n;
        *pos = 0;
        return 0;
}

/* Whether nothing but "." components follow: then the component before them is the result. */
static bool only_dots_follow(const char *rest) {
        for (;;) {
                rest += strspn(rest, "/");
                if (*rest == 0)
                        return true;
                if (rest[0] != '.' || (rest[1] != '/' && rest[1] != 0))
                        return false;
                rest++;
        }
}

/* Resolves path, leaving w->stack[w->depth] at the result. */
static int walk(Walk *w, const char *path, unsigned flags, SdcStat *ret_stat) {
        _cleanup_free_ char *pending = NULL;
        SdcStat st = { .type = SDC_NODE_DIRECTORY, .mode = 0040755 };
        unsigned links = 0;
        bool want_dir = false;
        size_t pos = 0;
        int r;

        if (strlen(path) >= PATH_MAX)
                return -ENAMETOOLONG;
        pending = strdup(path);
        if (!pending)
                return -ENOMEM;

        r = w->tree->ops->root(w->tree, &w->stack[0]);
        if (r < 0)
                return r;
        w->have_root = true;
        w->depth = 0;
        w->canonical[0] = 0;
        w->canonical_len = 0;

        for (;;) {
                const char *name;
                size_t len;
                bool last;
                SdcNode child;
                SdcStat cst;
                char buf[NAME_MAX + 1];

                while (pending[pos] == '/')
                        pos++;
                if (pending[pos] == 0)
                        break;
                w->tree->steps++;
                name = pending + pos;
                len = strcspn(name, "/");
                pos += len;
                /* A trailing slash asks for a directory, as in the kernel. */
                last = pending[pos + strspn(pending + pos, "/")] == 0;
                if (last && pending[pos] == '/')
                        want_dir = true;

                if (len == 1 && name[0] == '.')
                        continue;
                if (len == 2 && name[0] == '.' && name[1] == '.') {
                        if (w->depth > 0)
                                walk_pop(w);
                        st = (SdcStat) { .type = SDC_NODE_DIRECTORY, .mode = 0040755 };
                        continue;
                }
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(buf, name, len);
                buf[len] = 0;

                /* The last component (but for "."s) is opened for reading right away if it is a
                 * regular file and the caller reads it; anything else stays a plain handle. */
                r = w->tree->ops->child(w->tree, &w->stack[w->depth], buf,
                                        (flags & SDC_RESOLVE_READABLE) && only_dots_follow(pending + pos)
                                                ? SDC_CHILD_READ_REGULAR
                                                : 0,
                                        &child, &cst);
                if (r < 0)
                        return r;

                if (cst.type == SDC_NODE_SYMLINK && !(last && (flags & SDC_RESOLVE_NOFOLLOW) && !want_dir)) {
                        _cleanup_free_ char *target = NULL;

                        r = w->tree->ops->readlink(w->tree, &child, &target);
                        w->tree->ops->release(w->tree, &child);
                        if (r < 0)
                                return r;
                        if (++links > SDC_TREE_MAX_SYMLINKS)
                                return -ELOOP;
                        if (isempty(target))
                                return -ENOENT;
                        if (target[0] == '/')
                                walk_reset(w);
                        r = splice_symlink(&pending, &pos, target, &w->tree->steps);
                        if (r < 0)
                                return r;
                        continue;
                }

                r = walk_push(w, child, buf, len);
                if (r < 0)
                        return r;
                st = cst;
        }

        if (want_dir && st.type != SDC_NODE_DIRECTORY)
                return -ENOTDIR;
        if (ret_stat)
                *ret_stat = st;
        return 0;
}

/* Resolves path to a handle the caller releases with t->ops->release(). */
static int resolve_node(SdcTree *t, const char *path, unsigned flags, SdcNode *ret, SdcStat *ret_stat,
                        char **ret_canonical, bool allow_fast_path) {
        Walk storage, *w = &storage;
        SdcStat st;
        int r;

        if (!ret_stat) {
                ret_stat = &st; /* backends always report what they found... */
                flags |= SDC_RESOLVE_NO_STAT; /* ... but the fast path need not */
        }
        if (allow_fast_path && !ret_canonical && t->ops->open_path) {
                r = t->ops->open_path(t, path, flags, ret, ret_stat);
                if (r != -EOPNOTSUPP)
                        return r;
        }

        walk_init(w, t);

        r = walk(w, path, flags, ret_stat);
        /* A directory to be listed: made readable now that it is known to be the result. */
        if (r >= 0 && (flags & SDC_RESOLVE_READABLE) && ret_stat->type == SDC_NODE_DIRECTORY && t->ops->read_dir)
                r = t->ops->read_dir(t, &w->stack[w->depth]);
        if (r >= 0 && ret_canonical) {
                *ret_canonical = strdup(w->canonical_len > 0 ? w->canonical : "/");
                if (!*ret_canonical)
                        r = -ENOMEM;
        }
        if (r < 0)
                walk_done(w);
        else {
                /* Hand the final handle out and release everything below it. */
                *ret = w->stack[w->depth];
                if (w->depth > 0) {
                        w->depth--;
                        walk_done(w);
                }
                /* else: the result is the root itself, and stack[0] now belongs to the caller. */
        }
        walk_free_stacks(w);
        return r;
}

int sdc_tree_resolve_node(SdcTree *t, const char *path, unsigned flags, SdcNode *ret, SdcStat *ret_stat) {
        return resolve_node(t, path, flags, ret, ret_stat, NULL, false);
}

int sdc_tree_resolve(SdcTree *t, const char *path, unsigned flags, char **ret_canonical, SdcStat *ret_stat) {
        SdcNode n;
        int r;

        r = resolve_node(t, path, flags, &n, ret_stat, ret_canonical, true);
        if (r < 0)
                return r;
        t->ops->release(t, &n);
        return 0;
}

/* Resolves path to a regular file: -EISDIR for a directory, -EINVAL for anything else. On success
 * the caller owns *ret_node and releases it. */
static int resolve_regular(SdcTree *t, const char *path, SdcNode *ret_node, SdcStat *ret_stat) {
        int r = resolve_node(t, path, SDC_RESOLVE_READABLE, ret_node, ret_stat, NULL, true);

        if (r < 0)
                return r;
        if (ret_stat->type == SDC_NODE_REGULAR)
                return 0;
        t->ops->release(t, ret_node);
        return ret_stat->type == SDC_NODE_DIRECTORY ? -EISDIR : -EINVAL;
}

int sdc_tree_read(SdcTree *t, const char *path, uint64_t max_size, SdcBlob *ret) {
        SdcStat st;
        SdcNode n;
        int r;

        r = resolve_regular(t, path, &n, &st);
        if (r < 0)
                return r;
        r = st.size > max_size ? -EFBIG : t->ops->read(t, &n, &st, max_size, ret);
        t->ops->release(t, &n);
        return r;
}

int sdc_tree_open_regular(SdcTree *t, const char *path, int *ret_fd) {
        SdcStat st;
        SdcNode n;
        int r;

        if (!t->ops->dup_fd)
                return -EOPNOTSUPP;
        r = resolve_regular(t, path, &n, &st);
        if (r < 0)
                return r;
        r = t->ops->dup_fd(t, &n);
        t->ops->release(t, &n);
        if (r < 0)
                return r;
        *ret_fd = r;
        return 0;
}

#define SCAN_PIECE_MAX ((size_t) 64 << 10)

/* How much of data[0..size) makes one piece: up to and including its last NUL, unless the range
 * ends here (then all of it) or there is no NUL (then all of it too: a string longer than a piece
 * is cut, nothing else is). */
static size_t scan_piece_size(const uint8_t *data, size_t size, bool range_ends_here) {
        const uint8_t *nul;

        if (range_ends_here)
                return size;
        nul = memrchr(data, 0, size);
        return nul ? (size_t) (nul - data) + 1 : size;
}

struct SdcTreeFile {
        SdcTree *tree;
        SdcNode node;
        SdcStat st;
};

int sdc_tree_file_open(SdcTree *t, const char *path, SdcTreeFile **ret) {
        SdcTreeFile *f = malloc(sizeof(*f));
        int r;

        if (!f)
                return -ENOMEM;
        r = resolve_regular(t, path, &f->node, &f->st);
        if (r < 0) {
                free(f);
                return r;
        }
        f->tree = t;
        *ret = f;
        return 0;
}

SdcTreeFile *sdc_tree_file_close(SdcTreeFile *f) {
        if (f) {
                f->tree->ops->release(f->tree, &f->node);
                free(f);
        }
        return NULL;
}

const SdcStat *sdc_tree_file_stat(const SdcTreeFile *f) {
        return &f->st;
}

int sdc_tree_file_scan(SdcTreeFile *f, uint64_t offset, uint64_t length, SdcTreeScanFunc cb, void *userdata) {
        SdcTree *t = f->tree;
        uint8_t *buf;
        SdcBlob b = {};
        uint64_t end;
        int r = 0;

        if (offset >= f->st.size)
                return 0;
        end = offset + MIN(length, f->st.size - offset);
        if (!t->ops->pread) {
                /* In memory already (an image's data): pieces of it, no copy. */
                r = t->ops->read(t, &f->node, &f->st, UINT64_MAX, &b);
                if (r < 0)
                        return r;
                end = MIN(end, (uint64_t) b.size);
                while (offset < end && r == 0) {
                        size_t avail = (size_t) MIN(end - offset, (uint64_t) SCAN_PIECE_MAX),
                               piece = scan_piece_size(b.data + offset, avail, offset + avail == end);

                        r = cb(b.data + offset, piece, userdata);
                        offset += piece;
                }
                sdc_blob_done(&b);
                return r;
        }

        buf = malloc(SCAN_PIECE_MAX);
        if (!buf)
                return -ENOMEM;
        while (offset < end && r == 0) {
                size_t want = (size_t) MIN(end - offset, (uint64_t) SCAN_PIECE_MAX), piece;
                ssize_t l = t->ops->pread(t, &f->node, offset, buf, want);

                if (l < 0) {
                        r = (int) l;
                        break;
                }
                if (l == 0) /* the file shrank under us: what there was, was scanned */
                        break;
                piece = scan_piece_size(buf, (size_t) l, offset + (uint64_t) l == end);
                r = cb(buf, piece, userdata);
                offset += piece;
        }
        free(buf);
        return r;
}

int sdc_tree_file_read_at(SdcTreeFile *f, uint64_t offset, void *buf, size_t size) {
        SdcTree *t = f->tree;
        uint8_t *p = buf;
        SdcBlob b = {};
        int r;

        if (!t->ops->pread) {
                r = t->ops->read(t, &f->node, &f->st, UINT64_MAX, &b);
                if (r < 0)
                        return r;
                r = offset <= b.size && size <= b.size - offset ? 0 : -ENODATA;
                if (r == 0 && size > 0)
                        memcpy(p, b.data + offset, size);
                sdc_blob_done(&b);
                return r;
        }
        while (size > 0) {
                ssize_t l = t->ops->pread(t, &f->node, offset, p, size);

                if (l < 0)
                        return (int) l;
                if (l == 0)
                        return -ENODATA;
                p += l;
                offset += (uint64_t) l;
                size -= (size_t) l;
        }
        return 0;
}

int sdc_tree_read_at(SdcTree *t, const char *path, uint64_t offset, void *buf, size_t size) {
        _cleanup_(sdc_tree_file_closep) SdcTreeFile *f = NULL;
        int r;

        r = sdc_tree_file_open(t, path, &f);
        return r < 0 ? r : sdc_tree_file_read_at(f, offset, buf, size);
}

int sdc_tree_scan(SdcTree *t, const char *path, uint64_t offset, uint64_t length, SdcTreeScanFunc cb,
                  void *userdata) {
        _cleanup_(sdc_tree_file_closep) SdcTreeFile *f = NULL;
        int r;

        r = sdc_tree_file_open(t, path, &f);
        return r < 0 ? r : sdc_tree_file_scan(f, offset, length, cb, userdata);
}

int sdc_tree_readlink(SdcTree *t, const char *path, char **ret) {
        SdcStat st;
        SdcNode n;
        int r;

        r = resolve_node(t, path, SDC_RESOLVE_NOFOLLOW, &n, &st, NULL, true);
        if (r < 0)
                return r;
        r = st.type == SDC_NODE_SYMLINK ? t->ops->readlink(t, &n, ret) : -EINVAL;
        t->ops->release(t, &n);
        return r;
}

int sdc_tree_list(SdcTree *t, const char *path, char ***ret) {
        SdcStat st;
        SdcNode n;
        int r;

        r = resolve_node(t, path, SDC_RESOLVE_READABLE, &n, &st, NULL, true);
        if (r < 0)
                return r;
        r = st.type == SDC_NODE_DIRECTORY ? t->ops->list(t, &n, ret) : -ENOTDIR;
        t->ops->release(t, &n);
        if (r >= 0)
                strv_sort(*ret);
        return r;
}

int sdc_tree_exists(SdcTree *t, const char *path) {
        int r = sdc_tree_resolve(t, path, 0, NULL, NULL);

        if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                return 0;
        return r < 0 ? r : 1;
}

int sdc_tree_open_filesystem(SdcTree *t, const char *path, const char *type, SdcTree **ret, char **ret_message) {
        char message[256] = "";
        SdcStat st;
        SdcNode n;
        int r;

        *ret_message = NULL;
        if (!t->ops->open_filesystem) {
                *ret_message = strdup("this kind of tree cannot open file system images");
                return -EOPNOTSUPP;
        }
        r = resolve_regular(t, path, &n, &st);
        if (r < 0) {
                *ret_message = strdup(strerror(-r));
                return r;
        }
        r = t->ops->open_filesystem(t, &n, type, ret, message, sizeof(message));
        t->ops->release(t, &n);
        if (r < 0)
                *ret_message = strdup(message[0] ? message : strerror(-r));
        return r;
}
