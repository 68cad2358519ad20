/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The squashfs root image of a real dracut squash image (tests/fixtures: dracut-sid-squashfs, dracut
 * 112's squash-squashfs) as a tree (tree-squashfs.c), opened from the image tree as the probe opens
 * it: paths resolve inside it with tree.c's resolver (".." at its root stays there, symlinks are
 * followed inside it), files read and list, and a missing file is not damage. Skips (77) in a build
 * without libsquashfs or without fixtures. */

#include <string.h>

#include "pair-fixtures.h"
#include "strv.h"

static SdcTree *image, *sq;

static void assert_resolves(const char *path, const char *canonical, SdcNodeType type) {
        char *c = NULL;
        SdcStat st;

        ASSERT_EQ(sdc_tree_resolve(sq, path, 0, &c, &st), 0);
        ASSERT_STREQ(c, canonical);
        ASSERT_EQ(st.type, type);
        free(c);
}

static void test_open(void) {
        static const SdcImageLimits limits = { .max_unpacked = 1ULL << 30, .max_entries = 1 << 20 };
        char path[PATH_MAX * 2];
        char *message = NULL;
        SdcImageError err = {};
        const char *d;

        snprintf(path, sizeof(path), "%s/images/dracut-sid-squashfs.img", fixtures_dir());
        ASSERT_EQ(sdc_tree_open_image(AT_FDCWD, path, &limits, &image, &err), 0);
        /* Through a path that only resolves inside the archive. */
        ASSERT_EQ(sdc_tree_open_filesystem(image, "/usr/../squashfs-root.img", "squashfs", &sq, &message), 0);
        ASSERT_TRUE(!message);
        d = sdc_tree_description(sq);
        ASSERT_TRUE(strlen(d) > strlen(path) && strncmp(d, path, strlen(path)) == 0);
        ASSERT_STREQ(d + strlen(path), ":/squashfs-root.img");
        /* No reader for erofs, whatever the file holds; a missing file says so. */
        {
                SdcTree *t = NULL;

                ASSERT_EQ(sdc_tree_open_filesystem(image, "/squashfs-root.img", "erofs", &t, &message),
                          -EOPNOTSUPP);
                ASSERT_STREQ(message, "sdcompat has no reader for erofs");
                free(message);
                ASSERT_EQ(sdc_tree_open_filesystem(image, "/nothing.img", "squashfs", &t, &message), -ENOENT);
                ASSERT_TRUE(message);
                free(message);
                ASSERT_TRUE(!t);
        }
}

/* dracut's root: /init is a symlink to systemd; /lib, /bin, /sbin point into /usr. */
static void test_resolve_inside(void) {
        char *target = NULL;

        assert_resolves("/", "/", SDC_NODE_DIRECTORY);
        assert_resolves("/init", "/usr/lib/systemd/systemd", SDC_NODE_REGULAR);
        assert_resolves("/../../../init", "/usr/lib/systemd/systemd", SDC_NODE_REGULAR);
        assert_resolves("usr/lib/../../../../usr/lib/systemd/systemd", "/usr/lib/systemd/systemd",
                        SDC_NODE_REGULAR);
        assert_resolves("/lib/systemd/systemd", "/usr/lib/systemd/systemd", SDC_NODE_REGULAR);
        assert_resolves("/usr/lib/systemd/system/../../../../../etc", "/etc", SDC_NODE_DIRECTORY);
        ASSERT_EQ(sdc_tree_readlink(sq, "/init", &target), 0);
        ASSERT_TRUE(strstr(target, "systemd"));
        free(target);
        ASSERT_EQ(sdc_tree_readlink(sq, "/etc", &target), -EINVAL);
        ASSERT_EQ(sdc_tree_resolve(sq, "/init/x", 0, NULL, NULL), -ENOTDIR);
        ASSERT_EQ(sdc_tree_exists(sq, "/no/such/file"), 0);
        ASSERT_EQ(sdc_tree_exists(sq, "/squashfs-root.img"), 0); /* the archive's, not in here */
}

static void test_read_list(void) {
        _cleanup_strv_free_ char **names = NULL;
        SdcBlob b = {};
        uint8_t elf[4];

        ASSERT_EQ(sdc_tree_read(sq, "/etc/initrd-release", 1 << 20, &b), 0);
        ASSERT_TRUE(b.size > 0 && memmem(b.data, b.size, "ID=", 3));
        sdc_blob_done(&b);
        ASSERT_EQ(sdc_tree_read(sq, "/init", 16, &b), -EFBIG);
        ASSERT_EQ(sdc_tree_read(sq, "/etc", 1 << 20, &b), -EISDIR);
        ASSERT_EQ(sdc_tree_read_at(sq, "/init", 0, elf, sizeof(elf)), 0);
        ASSERT_TRUE(memcmp(elf, "\177ELF", 4) == 0);
        ASSERT_EQ(sdc_tree_list(sq, "/", &names), 0);
        ASSERT_TRUE(strv_contains(names, "usr"));
        ASSERT_TRUE(strv_contains(names, "etc"));
        ASSERT_TRUE(!strv_contains(names, ".") && !strv_contains(names, ".."));
        ASSERT_EQ(sdc_tree_list(sq, "/init", &names), -ENOTDIR);
        /* Nothing above was damage: missing files and wrong types are answers. */
        ASSERT_TRUE(!sdc_tree_error(sq));
}

int main(void) {
        if (!HAVE_SQUASHFS) {
                fprintf(stderr, "SKIP: built without libsquashfs (-Dsquashfs)\n");
                return 77;
        }
        (void) fixtures_dir();
        TEST(test_open);
        TEST(test_resolve_inside);
        TEST(test_read_list);
        sq = sdc_tree_free(sq);
        image = sdc_tree_free(image);
        return 0;
}
