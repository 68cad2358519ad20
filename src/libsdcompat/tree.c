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

typedef struct Walk {
        SdcTree *tree;
        SdcNode stack[WALK_MAX_DEPTH + 1];
        size_t depth; /* stack[0] is the root; stack[depth] the current directory */
        bool have_root;
        char canonical[PATH_MAX];
        size_t canonical_len;
        size_t component_start[WALK_MAX_DEPTH + 1];
} Walk;

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
        if (w->depth >= WALK_MAX_DEPTH || w->canonical_len + 1 + len >= sizeof(w->canonical)) {
                w->tree->ops->release(w->tree, &n);
                return -ENAMETOOLONG;
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

                r = w->tree->ops->child(w->tree, &w->stack[w->depth], buf, &child, &cst);
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
        _cleanup_free_ Walk *w = NULL;
        SdcStat st;
        int r;

        if (!ret_stat)
                ret_stat = &st; /* backends always report what they found */
        if (allow_fast_path && !ret_canonical && t->ops->open_path) {
                r = t->ops->open_path(t, path, flags, ret, ret_stat);
                if (r != -EOPNOTSUPP)
                        return r;
        }

        /* Not calloc(): the stacks are large and only their used prefix is ever read. */
        w = malloc(sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->tree = t;
        w->depth = 0;
        w->have_root = false;

        r = walk(w, path, flags, ret_stat);
        if (r < 0) {
                walk_done(w);
                return r;
        }
        if (ret_canonical) {
                *ret_canonical = strdup(w->canonical_len > 0 ? w->canonical : "/");
                if (!*ret_canonical) {
                        walk_done(w);
                        return -ENOMEM;
                }
        }
        /* Hand the final handle out and release everything below it. */
        *ret = w->stack[w->depth];
        if (w->depth > 0) {
                w->depth--;
                walk_done(w);
        }
        /* else: the result is the root itself, and stack[0] now belongs to the caller. */
        return 0;
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
        int r = resolve_node(t, path, 0, ret_node, ret_stat, NULL, true);

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
        r = st.size > max_size ? -EFBIG : t->ops->read(t, &n, max_size, ret);
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

static int scan_node(SdcTree *t, const SdcNode *n, uint64_t offset, uint64_t end, SdcTreeScanFunc cb,
                     void *userdata) {
        _cleanup_free_ uint8_t *buf = NULL;
        SdcBlob b = {};
        int r = 0;

        if (!t->ops->pread) {
                /* In memory already (an image's data): pieces of it, no copy. */
                r = t->ops->read(t, n, UINT64_MAX, &b);
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
                ssize_t l = t->ops->pread(t, n, offset, buf, want);

                if (l < 0)
                        return (int) l;
                if (l == 0) /* the file shrank under us: what there was, was scanned */
                        break;
                piece = scan_piece_size(buf, (size_t) l, offset + (uint64_t) l == end);
                r = cb(buf, piece, userdata);
                offset += piece;
        }
        return r;
}

static int read_at_node(SdcTree *t, const SdcNode *n, uint64_t offset, uint8_t *buf, size_t size) {
        SdcBlob b = {};
        int r;

        if (!t->ops->pread) {
                r = t->ops->read(t, n, UINT64_MAX, &b);
                if (r < 0)
                        return r;
                r = offset <= b.size && size <= b.size - offset ? 0 : -ENODATA;
                if (r == 0 && size > 0)
                        memcpy(buf, b.data + offset, size);
                sdc_blob_done(&b);
                return r;
        }
        while (size > 0) {
                ssize_t l = t->ops->pread(t, n, offset, buf, size);

                if (l < 0)
                        return (int) l;
                if (l == 0)
                        return -ENODATA;
                buf += l;
                offset += (uint64_t) l;
                size -= (size_t) l;
        }
        return 0;
}

int sdc_tree_read_at(SdcTree *t, const char *path, uint64_t offset, void *buf, size_t size) {
        SdcStat st;
        SdcNode n;
        int r;

        r = resolve_regular(t, path, &n, &st);
        if (r < 0)
                return r;
        r = read_at_node(t, &n, offset, buf, size);
        t->ops->release(t, &n);
        return r;
}

int sdc_tree_scan(SdcTree *t, const char *path, uint64_t offset, uint64_t length, SdcTreeScanFunc cb,
                  void *userdata) {
        SdcStat st;
        SdcNode n;
        int r;

        r = resolve_regular(t, path, &n, &st);
        if (r < 0)
                return r;
        if (offset < st.size)
                r = scan_node(t, &n, offset, offset + MIN(length, st.size - offset), cb, userdata);
        t->ops->release(t, &n);
        return r;
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

        r = resolve_node(t, path, 0, &n, &st, NULL, true);
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
