/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parts of cgroup-convert that read the kernel's tables, on tables real systems printed
 * (tests/data/cgroup/README.md says where each comes from), and the release's refusal to touch a
 * system that is not on cgroup2. The conversion and the release themselves need PID 1 and a
 * kernel to act on: tests/vm boots them. */
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup-convert.h"
#include "cgroup-mode.h"
#include "fileio.h"
#include "macro.h"
#include "strv.h"
#include "tests.h"

static char *data(const char *name) {
        const char *src = getenv("SDCOMPAT_SOURCE_ROOT");
        _cleanup_free_ char *path = NULL;
        char *text = NULL;

        if (!src) {
                fprintf(stderr, "SDCOMPAT_SOURCE_ROOT is not set: run this test through 'meson test'\n");
                abort();
        }
        ASSERT_TRUE(asprintf(&path, "%s/tests/data/cgroup/%s", src, name) >= 0);
        ASSERT_EQ(read_full_file_at(AT_FDCWD, path, 1 << 20, &text, NULL), 0);
        return text;
}

static const SdcV1Hierarchy *find(const SdcV1Hierarchy *h, size_t n, const char *controllers) {
        for (size_t i = 0; i < n; i++)
                if (streq(h[i].controllers, controllers))
                        return &h[i];
        return NULL;
}

/* A Debian 12 host with every controller in its own hierarchy, memory's busy with 64 cgroups. */
static void test_separate_hierarchies(void) {
        _cleanup_free_ char *cgroups = data("debian12-v1.proc-cgroups"), *mountinfo = data("debian12-v1.mountinfo");
        SdcV1Hierarchy h[SDC_V1_HIERARCHIES_MAX];
        int n = sdc_cgroup_v1_hierarchies(cgroups, h, ELEMENTSOF(h));
        const SdcV1Hierarchy *m;

        /* net_cls, perf_event, net_prio and hugetlb are on hierarchy 0 there: not v1's. */
        ASSERT_EQ(n, 8);
        ASSERT_TRUE(!find(h, (size_t) n, "hugetlb") && !find(h, (size_t) n, "net_cls"));
        m = find(h, (size_t) n, "memory");
        ASSERT_TRUE(m);
        ASSERT_EQ(m->id, 4);
        ASSERT_EQ(m->cgroups, 65);
        ASSERT_EQ(find(h, (size_t) n, "pids")->cgroups, 1);
        /* Every one is mounted under /sys/fs/cgroup: in use, never remounted. */
        for (int i = 0; i < n; i++)
                ASSERT_TRUE(sdc_cgroup_v1_mounted(mountinfo, h[i].controllers));
        ASSERT_TRUE(!sdc_cgroup_v1_mounted(mountinfo, "hugetlb"));
        /* "name=systemd" is a named hierarchy, not a controller; "cpu" is not "cpuset". */
        ASSERT_TRUE(!sdc_cgroup_v1_mounted(mountinfo, "systemd"));
        ASSERT_TRUE(!sdc_cgroup_v1_mounted("31 30 0:30 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n", "cpu"));
        /* the cgroup2 line does not count as v1 */
        ASSERT_TRUE(!sdc_cgroup_v1_mounted("40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,memory\n", "memory"));
}

/* Bounded and forgiving on what it cannot read. */
static void test_malformed(void) {
        SdcV1Hierarchy h[2];

        ASSERT_EQ(sdc_cgroup_v1_hierarchies(NULL, h, ELEMENTSOF(h)), 0);
        ASSERT_EQ(sdc_cgroup_v1_hierarchies("", h, ELEMENTSOF(h)), 0);
        ASSERT_EQ(sdc_cgroup_v1_hierarchies("#subsys_name\thierarchy\tnum_cgroups\tenabled\ngarbage\nmemory 4\n", h, 2), 0);
        /* disabled (cgroup_disable=memory) is not bound */
        ASSERT_EQ(sdc_cgroup_v1_hierarchies("memory\t4\t1\t0\n", h, 2), 0);
        /* no line ending at the end */
        ASSERT_EQ(sdc_cgroup_v1_hierarchies("a\t1\t1\t1\nb\t2\t1\t1", h, 2), 2);
        ASSERT_STREQ(h[1].controllers, "b");
        /* more hierarchies than room, or more controllers in one than its field holds: an error,
         * never a hierarchy or a controller left out */
        ASSERT_EQ(sdc_cgroup_v1_hierarchies("a\t1\t1\t1\nb\t2\t1\t1\nc\t3\t1\t1", h, 2), -E2BIG);
        {
                char text[4096] = "";

                for (int i = 0; i < 20; i++)
                        snprintf(text + strlen(text), sizeof(text) - strlen(text), "controller%02d\t5\t1\t1\n", i);
                ASSERT_EQ(sdc_cgroup_v1_hierarchies(text, h, ELEMENTSOF(h)), -E2BIG);
        }
        ASSERT_TRUE(!sdc_cgroup_v1_mounted(NULL, "memory"));
        ASSERT_TRUE(!sdc_cgroup_v1_mounted("no separator here\n - \n", "memory"));
}

/* A system whose /sys/fs/cgroup is not cgroup2 keeps its v1 hierarchies: nothing is mounted or
 * unmounted, whatever /proc/cgroups says. */
static void test_release_refuses_non_cgroup2(void) {
        char dir[] = "/tmp/sdcompat-test-cgroup.XXXXXX";
        SdcCgroupRelease rep;

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(sdc_cgroup_release(dir, (char *[]) { (char *) "memory", (char *) "pids", NULL }, dir, 0, &rep), -EMEDIUMTYPE);
        ASSERT_TRUE(!rep.released && !rep.bound);
        sdc_cgroup_release_done(&rep);
        ASSERT_EQ(rmdir(dir), 0);
}

/* The conversion moves every process and unmounts the hierarchies: anything but PID 1 is refused
 * before it looks at anything (asked on a scratch directory, so that a regression cannot reach the
 * host's /sys/fs/cgroup). */
static void test_convert_only_pid1(void) {
        char dir[] = "/tmp/sdcompat-test-cgroup.XXXXXX";
        SdcCgroupReport rep;

        ASSERT_TRUE(getpid() != 1);
        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(sdc_cgroup_convert(dir, &rep), -EPERM);
        ASSERT_EQ(rep.converted, false);
        ASSERT_EQ(rmdir(dir), 0);
}

/* The reverse conversion (H2d) moves every process and unmounts cgroup2: anything but PID 1 is
 * refused before it looks at anything (a scratch directory, never the host's /sys/fs/cgroup). */
static void test_revert_only_pid1(void) {
        char dir[] = "/tmp/sdcompat-test-cgroup.XXXXXX";
        SdcCgroupRevert rep;

        ASSERT_TRUE(getpid() != 1);
        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(sdc_cgroup_revert(dir, &rep), -EPERM);
        ASSERT_TRUE(!rep.reverted && !rep.disabled && rep.moved == 0);
        sdc_cgroup_revert_done(&rep);
        ASSERT_EQ(rmdir(dir), 0);
}

/* As PID 1 of its own user, mount and PID namespaces (a child; nothing of the host is mounted on):
 * a /sys/fs/cgroup that is not cgroup2 (here a tmpfs, the v1 layout) is left exactly as it is. */
static void revert_tmpfs_as_pid1(const char *dir) {
        SdcCgroupRevert rep;
        SdcCgroupMode m;
        char sub[256];

        ASSERT_EQ(getpid(), 1);
        test_private_mounts_or_skip();
        ASSERT_EQ(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0);
        snprintf(sub, sizeof(sub), "%s/cpu", dir);
        ASSERT_EQ(mkdir(sub, 0755), 0);
        ASSERT_EQ(sdc_cgroup_revert(dir, &rep), 0);
        ASSERT_TRUE(!rep.reverted && rep.moved == 0 && rep.removed == 0 && !rep.disabled && rep.left == 0);
        sdc_cgroup_revert_done(&rep);
        ASSERT_EQ(sdc_cgroup_mode_mounted(dir, &m), 0);
        ASSERT_EQ(m, SDC_CGROUP_LEGACY); /* still mounted */
        ASSERT_EQ(access(sub, F_OK), 0); /* nothing removed */
        _exit(0);
}

static void test_revert_leaves_non_cgroup2(void) {
        char dir[] = "/tmp/sdcompat-test-cgroup.XXXXXX";
        int status;
        pid_t pid;

        ASSERT_TRUE(mkdtemp(dir));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                pid_t init;

                if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0 && !test_own_user_namespace(CLONE_NEWNS | CLONE_NEWPID)) {
                        fprintf(stderr, "skipped: no user, mount and PID namespaces here (%m)\n");
                        _exit(77);
                }
                init = fork();
                if (init < 0)
                        _exit(1);
                if (init == 0)
                        revert_tmpfs_as_pid1(dir);
                if (waitpid(init, &status, 0) != init || !WIFEXITED(status))
                        _exit(1);
                _exit(WEXITSTATUS(status));
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 77);
        ASSERT_EQ(rmdir(dir), 0);
}

int main(void) {
        TEST(test_separate_hierarchies);
        TEST(test_malformed);
        TEST(test_release_refuses_non_cgroup2);
        TEST(test_convert_only_pid1);
        TEST(test_revert_only_pid1);
        TEST(test_revert_leaves_non_cgroup2);
        return 0;
}
