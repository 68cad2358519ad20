/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which shim negotiate mounts (shim-select.h): the version a shim's file names, the verdict on its
 * self-test's output, the static check, and the choice over real directory trees for the cases that
 * need no second build (tests/bats/root-shim.bats runs real newer builds). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "shim-select.h"
#include "shim-self-test.h"
#include "tests.h"

static void test_version_in_file(void) {
        static const char good[] = "\x7f" "ELF junk\0" SDC_SHIM_SELF_TEST_HEAD "\0more" SDC_SHIM_SELF_TEST_HEAD "0.2-1~x\nrest";
        static const char none[] = "\x7f" "ELF " SDC_SHIM_SELF_TEST_HEAD "\0" SDC_SHIM_SELF_TEST_HEAD " 0.2\n";
        static const char cut[] = SDC_SHIM_SELF_TEST_HEAD "0.2";
        char *v = NULL, longer[256];

        /* the bare head (a reader's needle) is skipped: the first one with a version and a newline */
        ASSERT_EQ(sdc_shim_self_test_version((const uint8_t *) good, sizeof(good) - 1, &v), 0);
        ASSERT_STREQ(v, "0.2-1~x");
        free(v);
        /* no version, a blank before it, or the file ends in it: none */
        ASSERT_EQ(sdc_shim_self_test_version((const uint8_t *) none, sizeof(none) - 1, &v), -ENOENT);
        ASSERT_EQ(sdc_shim_self_test_version((const uint8_t *) cut, sizeof(cut) - 1, &v), -ENOENT);
        ASSERT_EQ(sdc_shim_self_test_version((const uint8_t *) "", 0, &v), -ENOENT);
        /* a version of 64 characters or more is not one */
        snprintf(longer, sizeof(longer), "%s%0100d\n", SDC_SHIM_SELF_TEST_HEAD, 1);
        ASSERT_EQ(sdc_shim_self_test_version((const uint8_t *) longer, strlen(longer), &v), -ENOENT);
}

static const char *verdict(const char *out, const char *version, const bool actions[_SDC_ACTION_MAX], char buf[static 256]) {
        return sdc_shim_self_test_verdict(out, strlen(out), version, actions, buf, 256);
}

static void test_verdict(void) {
        static const char ok[] = SDC_SHIM_SELF_TEST_HEAD "0.2\nPLAN_VERSIONS=1-2\n"
                                 "ACTIONS=\"shim-argv-reorder shim-fold-lines teleport\"\nPLAN=understood\n";
        bool actions[_SDC_ACTION_MAX] = { [SDC_ACTION_SHIM_FOLD_LINES] = true, [SDC_ACTION_NONE] = true };
        char buf[256];

        /* a newer shim's own actions (teleport) are fine; "none" is never declared nor needed */
        ASSERT_TRUE(!verdict(ok, "0.2", actions, buf));
        /* the file said another version */
        ASSERT_STREQ(verdict(ok, "0.3", actions, buf), "its self-test says version 0.2, its file 0.3");
        /* a key said twice (found by fuzz-parsers: the first value leaked) */
        ASSERT_STREQ(verdict(SDC_SHIM_SELF_TEST_HEAD "0.2\nPLAN=understood\nPLAN=understood\n", "0.2", actions, buf),
                     "its self-test printed a key twice");
        /* an action of the plan it does not declare */
        actions[SDC_ACTION_CGROUP_CONVERT] = true;
        ASSERT_STREQ(verdict(ok, "0.2", actions, buf), "its self-test does not declare the plan's action cgroup-convert");
        actions[SDC_ACTION_CGROUP_CONVERT] = false;
        /* refused, with its reason; no PLAN= line; no ACTIONS= line; another protocol; not KEY=value */
        ASSERT_STREQ(verdict(SDC_SHIM_SELF_TEST_HEAD "0.2\nPLAN=refused\nREASON=\"format 1\"\n", "0.2", actions, buf),
                     "its self-test does not understand the plan: format 1");
        ASSERT_STREQ(verdict(SDC_SHIM_SELF_TEST_HEAD "0.2\n", "0.2", actions, buf),
                     "its self-test does not understand the plan: no PLAN= line");
        ASSERT_STREQ(verdict(SDC_SHIM_SELF_TEST_HEAD "0.2\nPLAN=understood\n", "0.2", actions, buf),
                     "its self-test declares no actions");
        ASSERT_TRUE(strstr(verdict("SDCOMPAT_SHIM_SELF_TEST=2\nSDCOMPAT_SHIM_VERSION=0.2\nPLAN=understood\n", "0.2", actions, buf),
                           "another protocol"));
        ASSERT_STREQ(verdict("hello world\n", "0.2", actions, buf), "its self-test printed a line that is no KEY=value");
}

static char *build_file(const char *name) {
        const char *root = getenv("SDCOMPAT_BUILD_ROOT");
        char *p = NULL;

        ASSERT_TRUE(root);
        ASSERT_TRUE(asprintf(&p, "%s/%s", root, name) >= 0);
        return p;
}

static void test_not_static(void) {
        _cleanup_free_ char *shim = build_file("sdcompat-shim"), *data = NULL;
        SdcElfInfo want = {}, other;
        char buf[256];
        size_t size;

        /* a dynamically linked program, and no program at all */
        ASSERT_STREQ(sdc_shim_not_static("/bin/true", NULL, buf, sizeof(buf)),
                     "the shim is dynamically linked (it has a program interpreter): a PID 1 must be static");
        ASSERT_STREQ(sdc_shim_not_static("/etc/passwd", NULL, buf, sizeof(buf)), "the shim is not an ELF program");
        ASSERT_STREQ(sdc_shim_not_static("/nonexistent", NULL, buf, sizeof(buf)), "the shim cannot be read");
        /* this build's shim is static unless sanitizers made it dynamic (meson.build) */
        ASSERT_EQ(read_full_file_at(AT_FDCWD, shim, 64 << 20, &data, &size), 0);
        ASSERT_EQ(sdc_elf_parse((const uint8_t *) data, size, &want), 0);
        if (want.has_interp) {
                fprintf(stderr, "  this build's shim is dynamic (sanitizers): its static case is not checked\n");
                sdc_elf_info_done(&want);
                return;
        }
        ASSERT_TRUE(!sdc_shim_not_static(shim, &want, buf, sizeof(buf)));
        /* another machine */
        other = want;
        other.machine = (uint16_t) (want.machine + 1);
        ASSERT_TRUE(strstr(sdc_shim_not_static(shim, &other, buf, sizeof(buf)), "is built for another machine"));
        other = want;
        other.is_64 = !want.is_64;
        ASSERT_TRUE(strstr(sdc_shim_not_static(shim, &other, buf, sizeof(buf)), "is built for another machine"));
        sdc_elf_info_done(&want);
}

static void put(const char *path, const char *text, unsigned mode) {
        ASSERT_EQ(write_file_atomic_at(AT_FDCWD, path, text, strlen(text), mode), 0);
}

/* The choice over a directory tree, for the cases one build can show. */
static void test_select(void) {
        char dir[] = "/tmp/test-shim-select-XXXXXX", path[512], run[256];
        SdcPlanFile plan = { .mode = SDC_MODE_TRANSLATE };
        char *words[] = { (char *) "root=/dev/vda", NULL }, *opt_out[] = { (char *) "rd.sdcompat.shim=image", NULL };
        SdcShimChoice c;
        SdcTree *t = NULL;
        SdcShimSelect in = {
                .root_path = dir,
                .shim_path = "/usr/libexec/sdcompat/sdcompat-shim",
                .image_version = "0.1",
                .run_dir = run,
                .plan = &plan,
        };

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(run, sizeof(run), "%s/run/sdcompat", dir);
        snprintf(path, sizeof(path), "%s/root/usr/libexec/sdcompat", dir);
        ASSERT_EQ(mkdir_p(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/root", dir);
        ASSERT_EQ(sdc_tree_open_dir(AT_FDCWD, path, 0, &t), 0);
        in.root = t;
        in.root_path = path;
        in.cmdline = words;

        /* none in the root */
        ASSERT_EQ(sdc_shim_select(&in, &c), 0);
        ASSERT_TRUE(!c.from_root && !c.root_refused);
        ASSERT_STREQ(c.path, "/usr/libexec/sdcompat/sdcompat-shim");
        ASSERT_STREQ(c.version, "0.1");
        ASSERT_TRUE(strstr(c.reason, "the initramfs's sdcompat-shim 0.1 (the root has none at "));
        sdc_shim_choice_done(&c);

        /* a directory there */
        snprintf(path, sizeof(path), "%s/root/usr/libexec/sdcompat/sdcompat-shim", dir);
        ASSERT_EQ(mkdir(path, 0755), 0);
        ASSERT_EQ(sdc_shim_select(&in, &c), 0);
        ASSERT_TRUE(!c.from_root && c.root_refused && strstr(c.reason, "is not used: it is not a regular file"));
        sdc_shim_choice_done(&c);
        ASSERT_EQ(rmdir(path), 0);

        /* a text file: copied, then refused on the copy, and the copy removed (as root: the
         * root's files are root's; anyone else's file is refused for that first) */
        put(path, "#!/bin/sh\nexit 0\n", 0755);
        if (geteuid() != 0) {
                ASSERT_EQ(sdc_shim_select(&in, &c), 0);
                ASSERT_TRUE(!c.from_root && c.root_refused && strstr(c.reason, "is not used: it is not owned by root"));
                sdc_shim_choice_done(&c);
                fprintf(stderr, "  not root: the checks after the owner's are not reached\n");
                sdc_tree_free(t);
                snprintf(path, sizeof(path), "rm -rf %s", dir);
                ASSERT_EQ(system(path), 0);
                return;
        }
        ASSERT_EQ(sdc_shim_select(&in, &c), 0);
        ASSERT_TRUE(!c.from_root && c.root_refused && strstr(c.reason, "is not used: it has no self-test"));
        sdc_shim_choice_done(&c);
        snprintf(path, sizeof(path), "%s/%s", run, SDC_SHIM_ROOT_COPY);
        ASSERT_EQ(access(path, F_OK), -1);

        /* the head of a newer version, but no program: the ELF check, on the copy */
        snprintf(path, sizeof(path), "%s/root/usr/libexec/sdcompat/sdcompat-shim", dir);
        put(path, "#!/bin/sh\n: '" SDC_SHIM_SELF_TEST_HEAD "9.9\n'\n", 0755);
        ASSERT_EQ(sdc_shim_select(&in, &c), 0);
        ASSERT_TRUE(!c.from_root && c.root_refused);
        ASSERT_TRUE(strstr(c.reason, "(version 9.9) is not used: it is not an ELF program"));
        sdc_shim_choice_done(&c);

        /* empty: no shim */
        snprintf(path, sizeof(path), "%s/root/usr/libexec/sdcompat/sdcompat-shim", dir);
        ASSERT_EQ(unlink(path), 0);
        put(path, "", 0755);
        ASSERT_EQ(sdc_shim_select(&in, &c), 0);
        ASSERT_TRUE(!c.from_root && strstr(c.reason, "its size, 0 bytes, is not that of a shim"));
        sdc_shim_choice_done(&c);

        /* this build's own shim (the image's version): not newer, never run */
        {
                _cleanup_free_ char *shim = build_file("sdcompat-shim"), *data = NULL, *v = NULL;
                _cleanup_close_ int fd = open(shim, O_RDONLY | O_CLOEXEC);
                size_t size;

                ASSERT_TRUE(fd >= 0);
                ASSERT_EQ(unlink(path), 0);
                ASSERT_EQ(copy_file_atomic_at(fd, AT_FDCWD, path, 0755), 0);
                ASSERT_EQ(read_full_file_at(AT_FDCWD, shim, 64 << 20, &data, &size), 0);
                ASSERT_EQ(sdc_shim_self_test_version((const uint8_t *) data, size, &v), 0);
                ASSERT_STREQ(v, PACKAGE_VERSION);
                in.image_version = PACKAGE_VERSION;
                ASSERT_EQ(sdc_shim_select(&in, &c), 0);
                ASSERT_TRUE(!c.from_root);
                if (!strstr(c.reason, "dynamically linked")) { /* a sanitizer build's shim is dynamic */
                        ASSERT_TRUE(!c.root_refused);
                        ASSERT_TRUE(strstr(c.reason, "is not newer than the initramfs's " PACKAGE_VERSION));
                }
                sdc_shim_choice_done(&c);
                /* the operator's opt-out: not looked at */
                in.cmdline = opt_out;
                ASSERT_EQ(sdc_shim_select(&in, &c), 0);
                ASSERT_TRUE(!c.from_root && !c.root_refused);
                ASSERT_STREQ(c.reason, "the initramfs's sdcompat-shim " PACKAGE_VERSION ": rd.sdcompat.shim=image");
                sdc_shim_choice_done(&c);
        }
        sdc_tree_free(t);
        {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
                ASSERT_EQ(system(cmd), 0);
        }
}

int main(void) {
        TEST(test_version_in_file);
        TEST(test_verdict);
        TEST(test_not_static);
        TEST(test_select);
        return 0;
}
