/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Trees: every path stays inside the root, for both directory resolvers (openat2 and the manual
 * walk) and for images, and images follow the kernel's override semantics. */

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "strv.h"
#include "tests.h"
#include "tree-image.h"
#include "tree-internal.h"
#include "tree.h"

static char root[PATH_MAX];
static char outside[PATH_MAX + 16];

static void xsymlink(const char *target, const char *rel) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        ASSERT_EQ(symlink(target, p), 0);
}

static void xfile(const char *rel, const char *content) {
        char p[PATH_MAX * 2];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        f = fopen(p, "we");
        ASSERT_TRUE(f);
        fputs(content, f);
        fclose(f);
}

static void xdir(const char *rel) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        ASSERT_EQ(mkdir(p, 0755), 0);
}

/* A root that tries every way out. The host file `outside` must never be reachable. */
static void make_hostile_root(void) {
        snprintf(root, sizeof(root), "/tmp/sdcompat-test-tree-XXXXXX");
        ASSERT_TRUE(mkdtemp(root));
        snprintf(outside, sizeof(outside), "%s-outside", root);
        FILE *f = fopen(outside, "we");
        ASSERT_TRUE(f);
        fputs("OUTSIDE", f);
        fclose(f);

        xdir("usr");
        xdir("usr/lib");
        xdir("usr/lib/systemd");
        xfile("usr/lib/systemd/systemd", "INSIDE");
        xsymlink("usr/lib", "lib");                          /* merged /usr */
        xsymlink("/", "etc");                                /* etc -> / */
        xsymlink("../../../../../../../../..", "dotdot");     /* climbs far above the root */
        xsymlink(outside, "abs-out");                        /* absolute path of a host file */
        xsymlink("../../../../../../../../.." "/tmp", "rel-out-dir");
        xsymlink("loop-b", "loop-a");
        xsymlink("loop-a", "loop-b");
        xsymlink("self", "self");
        xsymlink("chain2", "chain1");
        xsymlink("/lib/systemd/systemd", "chain2");          /* through lib -> usr/lib */
        xsymlink("usr/lib/systemd/systemd", "file-link");
        /* Deeper than a walk's stacks start out (tree.c: WALK_INLINE_DEPTH). */
        {
                char rel[PATH_MAX] = "deep";

                xdir(rel);
                for (int i = 0; i < 40; i++) {
                        strcat(rel, "/d");
                        xdir(rel);
                }
                strcat(rel, "/file");
                xfile(rel, "DEEP");
        }
}

#define DEEP_DIR "/deep/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d"

static void check_resolver(unsigned flags) {
        SdcTree *t = NULL;
        char *canon = NULL;
        SdcStat st;
        SdcBlob b = {};
        char **names = NULL;

        ASSERT_EQ(sdc_tree_open_dir(AT_FDCWD, root, flags, &t), 0);

        /* Plain and merged-/usr paths. */
        ASSERT_EQ(sdc_tree_resolve(t, "/lib/systemd/systemd", 0, &canon, &st), 0);
        ASSERT_STREQ(canon, "/usr/lib/systemd/systemd");
        ASSERT_EQ(st.type, SDC_NODE_REGULAR);
        free(canon);

        /* Absolute symlink chains are relative to the root. */
        ASSERT_EQ(sdc_tree_resolve(t, "chain1", 0, &canon, NULL), 0);
        ASSERT_STREQ(canon, "/usr/lib/systemd/systemd");
        free(canon);
        ASSERT_EQ(sdc_tree_read(t, "/chain1", 1024, &b), 0);
        ASSERT_EQ(b.size, 6);
        ASSERT_TRUE(memcmp(b.data, "INSIDE", 6) == 0);
        sdc_blob_done(&b);

        /* etc -> / : /etc/etc/etc/usr is /usr. */
        ASSERT_EQ(sdc_tree_resolve(t, "/etc/etc/etc/usr/lib/systemd/systemd", 0, &canon, NULL), 0);
        ASSERT_STREQ(canon, "/usr/lib/systemd/systemd");
        free(canon);

        /* ".." is clamped at the root, in the path and in symlink targets. */
        ASSERT_EQ(sdc_tree_resolve(t, "/../../../../usr/../../usr/lib", 0, &canon, NULL), 0);
        ASSERT_STREQ(canon, "/usr/lib");
        free(canon);
        ASSERT_EQ(sdc_tree_resolve(t, "dotdot", 0, &canon, &st), 0);
        ASSERT_STREQ(canon, "/");
        ASSERT_EQ(st.type, SDC_NODE_DIRECTORY);
        free(canon);
        ASSERT_EQ(sdc_tree_read(t, "dotdot/usr/lib/systemd/systemd", 1024, &b), 0);
        sdc_blob_done(&b);

        /* A symlink to a host file resolves inside the root, where it does not exist. */
        ASSERT_EQ(sdc_tree_read(t, "/abs-out", 1024, &b), -ENOENT);
        ASSERT_EQ(sdc_tree_resolve(t, "/abs-out", 0, NULL, NULL), -ENOENT);
        ASSERT_EQ(sdc_tree_exists(t, "abs-out"), 0);
        /* A relative climb far above the root lands at the root's own /tmp, which does not exist. */
        ASSERT_EQ(sdc_tree_exists(t, "/rel-out-dir"), 0);
        ASSERT_EQ(sdc_tree_resolve(t, "/rel-out-dir", 0, &canon, NULL), -ENOENT); /* no /tmp inside */
        ASSERT_EQ(sdc_tree_read(t, "/etc/../../abs-out", 1024, &b), -ENOENT);

        /* Loops. */
        ASSERT_EQ(sdc_tree_resolve(t, "loop-a", 0, NULL, NULL), -ELOOP);
        ASSERT_EQ(sdc_tree_read(t, "/self", 1024, &b), -ELOOP);
        ASSERT_EQ(sdc_tree_exists(t, "self"), 0);

        /* Not following the last component. */
        ASSERT_EQ(sdc_tree_resolve(t, "/loop-a", SDC_RESOLVE_NOFOLLOW, &canon, &st), 0);
        ASSERT_STREQ(canon, "/loop-a");
        ASSERT_EQ(st.type, SDC_NODE_SYMLINK);
        free(canon);
        ASSERT_EQ(sdc_tree_readlink(t, "/chain2", &canon), 0);
        ASSERT_STREQ(canon, "/lib/systemd/systemd");
        free(canon);
        ASSERT_EQ(sdc_tree_readlink(t, "/usr", &canon), -EINVAL);

        /* A file is not a directory, with or without a trailing slash. */
        ASSERT_EQ(sdc_tree_resolve(t, "/file-link/", 0, NULL, NULL), -ENOTDIR);
        ASSERT_EQ(sdc_tree_resolve(t, "/usr/lib/systemd/systemd/x", 0, NULL, NULL), -ENOTDIR);
        ASSERT_EQ(sdc_tree_read(t, "/usr", 1024, &b), -EISDIR);
        ASSERT_EQ(sdc_tree_read(t, "/usr/lib/systemd/systemd", 3, &b), -EFBIG);

        /* A descriptor of the file resolved inside the root (sdc_tree_open_regular(): what negotiate
         * copies a root's shim from): its bytes from offset 0, never the host's file. */
        {
                char buf[16];
                int fd = -1;

                ASSERT_EQ(sdc_tree_open_regular(t, "/chain1", &fd), 0);
                ASSERT_EQ(read(fd, buf, sizeof(buf)), 6);
                ASSERT_TRUE(memcmp(buf, "INSIDE", 6) == 0);
                ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
                close(fd);
                ASSERT_EQ(sdc_tree_open_regular(t, "/abs-out", &fd), -ENOENT);
                ASSERT_EQ(sdc_tree_open_regular(t, "/etc/../../abs-out", &fd), -ENOENT);
                ASSERT_EQ(sdc_tree_open_regular(t, "/usr", &fd), -EISDIR);
                ASSERT_EQ(sdc_tree_open_regular(t, "/self", &fd), -ELOOP);
        }

        /* A walk deeper than its first stacks, and back up. */
        ASSERT_EQ(sdc_tree_resolve(t, "/usr/../" DEEP_DIR "/file", 0, &canon, &st), 0);
        ASSERT_STREQ(canon, DEEP_DIR "/file");
        ASSERT_EQ(st.type, SDC_NODE_REGULAR);
        free(canon);
        ASSERT_EQ(sdc_tree_read(t, DEEP_DIR "/file", 1024, &b), 0);
        ASSERT_TRUE(b.size == 4 && memcmp(b.data, "DEEP", 4) == 0);
        sdc_blob_done(&b);
        ASSERT_EQ(sdc_tree_resolve(t, DEEP_DIR "/../../..", 0, &canon, &st), 0);
        ASSERT_EQ(strlen(canon), strlen(DEEP_DIR) - 6);
        ASSERT_EQ(st.type, SDC_NODE_DIRECTORY);
        free(canon);
        ASSERT_EQ(sdc_tree_list(t, DEEP_DIR "/..", &names), 0);
        ASSERT_EQ(strv_length(names), 1);
        ASSERT_STREQ(names[0], "d");
        strv_free(names);

        /* The walk takes "file/." for the file (openat2 says ENOTDIR): then it is read as the file. */
        if (flags & SDC_TREE_NO_OPENAT2) {
                ASSERT_EQ(sdc_tree_read(t, DEEP_DIR "/file/.", 1024, &b), 0);
                ASSERT_TRUE(b.size == 4 && memcmp(b.data, "DEEP", 4) == 0);
                sdc_blob_done(&b);
        }

        /* One file resolved once, read at offsets and scanned. */
        {
                SdcTreeFile *f = NULL;
                char buf[4];

                ASSERT_EQ(sdc_tree_file_open(t, "/chain1", &f), 0);
                ASSERT_EQ(sdc_tree_file_stat(f)->size, 6);
                ASSERT_EQ(sdc_tree_file_read_at(f, 2, buf, 4), 0);
                ASSERT_TRUE(memcmp(buf, "SIDE", 4) == 0);
                ASSERT_EQ(sdc_tree_file_read_at(f, 3, buf, 4), -ENODATA);
                ASSERT_EQ(sdc_tree_file_read_at(f, 0, buf, 2), 0);
                ASSERT_TRUE(memcmp(buf, "IN", 2) == 0);
                sdc_tree_file_close(f);
                ASSERT_EQ(sdc_tree_file_open(t, "/abs-out", &f), -ENOENT);
                ASSERT_EQ(sdc_tree_file_open(t, "/usr", &f), -EISDIR);
        }

        /* Listing follows symlinks and sorts. */
        ASSERT_EQ(sdc_tree_list(t, "/lib", &names), 0);
        ASSERT_EQ(strv_length(names), 1);
        ASSERT_STREQ(names[0], "systemd");
        strv_free(names);
        ASSERT_EQ(sdc_tree_list(t, "/", &names), 0);
        ASSERT_STREQ(names[0], "abs-out");
        strv_free(names);
        ASSERT_EQ(sdc_tree_list(t, "/usr/lib/..", &names), 0);
        ASSERT_EQ(strv_length(names), 1);
        ASSERT_STREQ(names[0], "lib");
        strv_free(names);
        ASSERT_EQ(sdc_tree_list(t, "/usr/lib/systemd/systemd", &names), -ENOTDIR);

        sdc_tree_free(t);
}

static int run(const char *cmd) {
        int r = system(cmd);
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Two archives made by the system's cpio, the second overriding the first the way the kernel
 * applies them. */
static void test_image_overrides(void) {
        char dir[PATH_MAX], cmd[PATH_MAX * 4], img[PATH_MAX + 8];
        SdcImageLimits limits = { SDC_IMAGE_DEFAULT_MAX_UNPACKED, SDC_IMAGE_DEFAULT_MAX_ENTRIES };
        SdcImageError err = {};
        SdcTree *t = NULL;
        SdcBlob b = {};
        SdcStat st;
        char *canon = NULL;

        snprintf(dir, sizeof(dir), "/tmp/sdcompat-test-img-XXXXXX");
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(img, sizeof(img), "%s.img", dir);
        snprintf(cmd, sizeof(cmd),
                 "set -e; command -v cpio >/dev/null || { echo 'cpio is required (apt-get install cpio)' >&2; exit 1; }; "
                 "cd %s && mkdir -p a/usr/lib b/lib a/gone && ln -s usr/lib a/lib && echo 1 > a/usr/lib/one && "
                 "echo old > a/f && ln -s f a/link && echo x > a/gone/x && "
                 "echo new > b/f && echo 2 > b/lib/two && mkdir b/link && echo y > b/gone && "
                 "(cd a && printf '%%s\\n' usr usr/lib usr/lib/one lib f link gone gone/x | cpio --quiet -o -H newc) > %s && "
                 "(cd b && printf '%%s\\n' f lib lib/two link gone | cpio --quiet -o -H newc) >> %s",
                 dir, img, img);
        ASSERT_EQ(run(cmd), 0);

        ASSERT_EQ(sdc_tree_open_image(AT_FDCWD, img, &limits, &t, &err), 0);
        /* A later regular file replaces the earlier one. */
        {
                int fd = -1;
                /* an image has no descriptors to give */
                ASSERT_EQ(sdc_tree_open_regular(t, "/f", &fd), -EOPNOTSUPP);
        }
        ASSERT_EQ(sdc_tree_read(t, "/f", 1024, &b), 0);
        ASSERT_EQ(b.size, 4);
        ASSERT_TRUE(memcmp(b.data, "new\n", 4) == 0);
        sdc_blob_done(&b);
        /* A directory entry does not replace the symlink lib -> usr/lib, and lib/two goes
         * through it. */
        ASSERT_EQ(sdc_tree_resolve(t, "/lib", SDC_RESOLVE_NOFOLLOW, NULL, &st), 0);
        ASSERT_EQ(st.type, SDC_NODE_SYMLINK);
        ASSERT_EQ(sdc_tree_resolve(t, "/lib/two", 0, &canon, NULL), 0);
        ASSERT_STREQ(canon, "/usr/lib/two");
        free(canon);
        ASSERT_EQ(sdc_tree_exists(t, "/usr/lib/one"), 1);
        /* mkdir over an existing symlink fails: "link" stays a symlink to f. */
        ASSERT_EQ(sdc_tree_resolve(t, "/link", SDC_RESOLVE_NOFOLLOW, NULL, &st), 0);
        ASSERT_EQ(st.type, SDC_NODE_SYMLINK);
        /* A file cannot replace a non-empty directory. */
        ASSERT_EQ(sdc_tree_resolve(t, "/gone", 0, NULL, &st), 0);
        ASSERT_EQ(st.type, SDC_NODE_DIRECTORY);
        ASSERT_EQ(sdc_tree_exists(t, "/gone/x"), 1);
        /* Escapes stay inside an image too. */
        ASSERT_EQ(sdc_tree_resolve(t, "/../../usr/../f", 0, &canon, NULL), 0);
        ASSERT_STREQ(canon, "/f");
        free(canon);
        /* ".." after a symlink is the parent of its target, as in the kernel: lib/.. is /usr. */
        ASSERT_EQ(sdc_tree_resolve(t, "/lib/../lib/one", 0, &canon, NULL), 0);
        ASSERT_STREQ(canon, "/usr/lib/one");
        free(canon);
        ASSERT_EQ(sdc_tree_resolve(t, "/lib/../f", 0, NULL, NULL), -ENOENT);
        ASSERT_TRUE(sdc_tree_image(t) != NULL);
        sdc_tree_free(t);

        /* "f" and "one" are not what the probe reads: their contents were let pass, and a read fetches
         * them by a second walk, counted against the cap on kept contents like the rest. */
        limits.max_kept = 3;
        ASSERT_EQ(sdc_tree_open_image(AT_FDCWD, img, &limits, &t, &err), 0);
        ASSERT_EQ(sdc_tree_read(t, "/f", 1024, &b), -EFBIG);
        ASSERT_EQ(sdc_tree_read(t, "/lib/one", 1024, &b), 0);
        ASSERT_EQ(b.size, 2);
        ASSERT_TRUE(memcmp(b.data, "1\n", 2) == 0);
        sdc_blob_done(&b);
        sdc_tree_free(t);

        snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, img);
        ASSERT_EQ(run(cmd), 0);
}

typedef struct Pieces {
        uint8_t *data;
        size_t size, n, stop_after;
} Pieces;

static int collect_piece(const uint8_t *data, size_t size, void *userdata) {
        Pieces *p = userdata;

        ASSERT_TRUE(size > 0 && size <= 64 << 10);
        memcpy(p->data + p->size, data, size);
        p->size += size;
        p->n++;
        return p->n == p->stop_after ? 42 : 0;
}

/* sdc_tree_scan() and sdc_tree_read_at(): a file of NUL-terminated strings of every length up to
 * 999 bytes (300 KiB), read through a symlink, comes back whole and in order, each piece but the
 * last ends with a NUL, and a non-zero return stops the scan. */
static void test_scan_and_read_at(void) {
        size_t size = 0, cap = 320 << 10;
        _cleanup_free_ uint8_t *content = malloc(cap), *got = malloc(cap);
        SdcTree *t = NULL;
        Pieces p = { .data = got };
        char path[PATH_MAX * 2];
        uint8_t small[16];
        FILE *f;

        ASSERT_TRUE(content && got);
        for (unsigned len = 0; size + len + 1 <= 300 << 10; len = (len + 7) % 1000) {
                memset(content + size, 'a' + len % 26, len);
                size += len;
                content[size++] = 0;
        }
        snprintf(path, sizeof(path), "%s/usr/lib/strings", root);
        f = fopen(path, "we");
        ASSERT_TRUE(f);
        ASSERT_EQ(fwrite(content, 1, size, f), size);
        fclose(f);
        xsymlink("/lib/strings", "strings-link");

        ASSERT_EQ(sdc_tree_open_dir(AT_FDCWD, root, 0, &t), 0);
        ASSERT_EQ(sdc_tree_scan(t, "/strings-link", 1000, UINT64_MAX, collect_piece, &p), 0);
        ASSERT_EQ(p.size, size - 1000);
        ASSERT_TRUE(memcmp(got, content + 1000, p.size) == 0);
        ASSERT_TRUE(p.n >= 5);
        /* Where pieces ended: at a NUL each, checked by scanning again piece by piece. */
        for (size_t k = 1; k < p.n; k++) {
                Pieces q = { .data = got, .stop_after = k };
                ASSERT_EQ(sdc_tree_scan(t, "/strings-link", 1000, UINT64_MAX, collect_piece, &q), 42);
                ASSERT_EQ(q.n, k);
                ASSERT_EQ(got[q.size - 1], 0);
        }
        /* A range inside the file, and one past its end. */
        p = (Pieces) { .data = got };
        ASSERT_EQ(sdc_tree_scan(t, "/strings-link", 5, 100, collect_piece, &p), 0);
        ASSERT_EQ(p.size, 100);
        ASSERT_TRUE(memcmp(got, content + 5, 100) == 0);
        p = (Pieces) { .data = got };
        ASSERT_EQ(sdc_tree_scan(t, "/strings-link", size, 100, collect_piece, &p), 0);
        ASSERT_EQ(p.n, 0);
        ASSERT_EQ(sdc_tree_scan(t, "/usr", 0, 100, collect_piece, &p), -EISDIR);
        ASSERT_EQ(sdc_tree_scan(t, "/nonexistent", 0, 100, collect_piece, &p), -ENOENT);

        ASSERT_EQ(sdc_tree_read_at(t, "/strings-link", size - sizeof(small), small, sizeof(small)), 0);
        ASSERT_TRUE(memcmp(small, content + size - sizeof(small), sizeof(small)) == 0);
        ASSERT_EQ(sdc_tree_read_at(t, "/strings-link", size - 4, small, sizeof(small)), -ENODATA);
        ASSERT_EQ(sdc_tree_read_at(t, "/usr", 0, small, sizeof(small)), -EISDIR);
        sdc_tree_free(t);
}

static void test_openat2_resolver(void) {
        check_resolver(0);
}

static void test_manual_walk(void) {
        check_resolver(SDC_TREE_NO_OPENAT2);
}

/* The hostile images of issue #10 (tests/unit/mkhostile.sh), built once into hostile_dir. */
static char hostile_dir[PATH_MAX];

static long peak_rss_kib(void) {
        struct rusage ru;

        ASSERT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
        return ru.ru_maxrss;
}

static void make_hostile_images(void) {
        const char *src = getenv("SDCOMPAT_SOURCE_ROOT");
        char cmd[PATH_MAX * 3];

        snprintf(hostile_dir, sizeof(hostile_dir), "/tmp/sdcompat-test-hostile-XXXXXX");
        ASSERT_TRUE(mkdtemp(hostile_dir));
        snprintf(cmd, sizeof(cmd), "sh %s/tests/unit/mkhostile.sh %s 3000", src ? src : "..", hostile_dir);
        ASSERT_EQ(run(cmd), 0);
}

static int open_hostile(const char *name, SdcTree **ret, SdcImageError *err) {
        char path[PATH_MAX * 2];

        snprintf(path, sizeof(path), "%s/%s", hostile_dir, name);
        return sdc_tree_open_image(AT_FDCWD, path, NULL, ret, err);
}

/* Memory does not follow the image: 512 MiB of zeros in a file the probe does not read pass
 * without being kept (before the reader streamed, they took 512 MiB). Reading that file anyway is
 * refused by the cap on kept contents, and so is an image whose systemd binary is that large. Run
 * first, while this process's peak is still small. */
static void test_image_memory_bounded(void) {
        SdcImageError err = {};
        SdcTree *t = NULL;
        SdcBlob b = {};
        long before = peak_rss_kib();

        ASSERT_EQ(open_hostile("zeros-unread.cpio.zst", &t, &err), 0);
        fprintf(stderr, "   peak RSS %ld KiB before, %ld KiB after\n", before, peak_rss_kib());
        ASSERT_TRUE(peak_rss_kib() < before + 64 * 1024);
        ASSERT_EQ(sdc_tree_exists(t, "/usr/lib/firmware.bin"), 1);
        ASSERT_EQ(sdc_tree_read(t, "/usr/lib/firmware.bin", UINT64_MAX, &b), -EFBIG);
        sdc_tree_free(t);

        ASSERT_EQ(open_hostile("zeros-systemd.cpio.zst", &t, &err), -E2BIG);
        ASSERT_TRUE(strstr(err.message, "file contents the probe needs exceed the limit of 64.0 MiB"));
        ASSERT_TRUE(strstr(err.message, "usr/lib/systemd/systemd"));
        ASSERT_TRUE(peak_rss_kib() < before + 128 * 1024);
}

/* The caps on metadata and on kept contents, made small: each is an error that names the limit. */
static void test_image_caps(void) {
        SdcImageLimits limits = { .max_unpacked = SDC_IMAGE_DEFAULT_MAX_UNPACKED,
                                  .max_entries = SDC_IMAGE_DEFAULT_MAX_ENTRIES,
                                  .max_metadata = 256 << 10 };
        char path[PATH_MAX * 2];
        SdcImageError err = {};
        SdcTree *t = NULL;

        /* 3000 names of 200 bytes: about 900 KiB of nodes and names. */
        snprintf(path, sizeof(path), "%s/many-names.cpio.zst", hostile_dir);
        ASSERT_EQ(sdc_tree_open_image(AT_FDCWD, path, &limits, &t, &err), -E2BIG);
        ASSERT_TRUE(strstr(err.message,
                           "names, link targets and directory entries of the image exceed the limit of 262144 B"));
        ASSERT_EQ(sdc_tree_open_image(AT_FDCWD, path, NULL, &t, &err), 0);
        sdc_tree_free(t);
}

/* CPU does not follow symlink chains: entries under two loops of 40 long symlinks, alternating,
 * cost a bounded number of path steps and then a clear error (before: about 2 ms per entry, with
 * no bound); entries all under one such loop cost one walk thanks to the negative cache. */
static void test_image_symlink_chains(void) {
        SdcImageError err = {};
        SdcTree *t = NULL;

        ASSERT_EQ(open_hostile("chains-alternating.cpio.zst", &t, &err), -E2BIG);
        ASSERT_TRUE(strstr(err.message, "path steps"));

        ASSERT_EQ(open_hostile("chains-one-parent.cpio.zst", &t, &err), 0);
        fprintf(stderr, "   %" PRIu64 " path steps for 3000 entries under one loop\n", t->steps);
        /* One walk of a loop is ~90,000 steps (40 links of 2,000 components each). */
        ASSERT_TRUE(t->steps < 200000);
        ASSERT_EQ(sdc_tree_exists(t, "/a0/x0"), 0);
        ASSERT_EQ(sdc_tree_resolve(t, "/a0", 0, NULL, NULL), -ELOOP);
        sdc_tree_free(t);
}

int main(void) {
        char cmd[PATH_MAX * 4];

        make_hostile_images();
        TEST(test_image_memory_bounded);
        TEST(test_image_symlink_chains);
        TEST(test_image_caps);
        make_hostile_root();
        TEST(test_openat2_resolver);
        TEST(test_manual_walk);
        TEST(test_image_overrides);
        TEST(test_scan_and_read_at);

        snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", root, outside, hostile_dir);
        ASSERT_EQ(run(cmd), 0);
        return 0;
}
