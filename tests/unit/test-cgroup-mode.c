/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one probe of which cgroup hierarchy is mounted. The tmpfs and cgroup2 cases are built in a
 * child of its own user, mount and cgroup namespaces (a cgroup2 mounted there is a view of the
 * child's own cgroup, in a mount table nobody else sees); nothing of the host is mounted on or
 * changed, and /sys/fs/cgroup is never looked at. */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup-mode.h"
#include "macro.h"
#include "tests.h"

static void test_names(void) {
        ASSERT_STREQ(sdc_cgroup_mode_to_string(SDC_CGROUP_UNKNOWN), "unknown");
        ASSERT_STREQ(sdc_cgroup_mode_to_string(SDC_CGROUP_LEGACY), "legacy");
        ASSERT_STREQ(sdc_cgroup_mode_to_string(SDC_CGROUP_HYBRID), "hybrid");
        ASSERT_STREQ(sdc_cgroup_mode_to_string(SDC_CGROUP_UNIFIED), "unified");
        ASSERT_TRUE(!sdc_cgroup_mode_to_string(_SDC_CGROUP_MAX));
}

/* No file system: the error, not a guess. Neither cgroup2 nor a tmpfs: unknown. */
static void test_not_cgroup(void) {
        SdcCgroupMode m = SDC_CGROUP_HYBRID;

        ASSERT_EQ(sdc_cgroup_mode_mounted("/nonexistent/sdcompat", &m), -ENOENT);
        ASSERT_EQ(m, SDC_CGROUP_HYBRID);
        ASSERT_EQ(sdc_cgroup_mode_mounted("/proc", &m), 0);
        ASSERT_EQ(m, SDC_CGROUP_UNKNOWN);
}

static void mounted_in_child(const char *dir) {
        char unified[256];
        SdcCgroupMode m;

        test_private_mounts_or_skip();
        ASSERT_EQ(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0);
        ASSERT_EQ(sdc_cgroup_mode_mounted(dir, &m), 0);
        ASSERT_EQ(m, SDC_CGROUP_LEGACY); /* a tmpfs with no cgroup2 at unified/ */
        snprintf(unified, sizeof(unified), "%s/unified", dir);
        ASSERT_EQ(mkdir(unified, 0755), 0);
        ASSERT_EQ(sdc_cgroup_mode_mounted(dir, &m), 0);
        ASSERT_EQ(m, SDC_CGROUP_LEGACY); /* a directory is not a hierarchy */
        ASSERT_EQ(mount("cgroup2", unified, "cgroup2", 0, NULL), 0);
        ASSERT_EQ(sdc_cgroup_mode_mounted(dir, &m), 0);
        ASSERT_EQ(m, SDC_CGROUP_HYBRID);
        ASSERT_EQ(sdc_cgroup_mode_mounted(unified, &m), 0);
        ASSERT_EQ(m, SDC_CGROUP_UNIFIED);
        _exit(0);
}

static void test_mounted(void) {
        char dir[] = "/tmp/sdcompat-test-cgroup-mode.XXXXXX";
        int status;
        pid_t pid;

        ASSERT_TRUE(mkdtemp(dir));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0 && !test_own_user_namespace(CLONE_NEWNS | CLONE_NEWCGROUP)) {
                        fprintf(stderr, "skipped: no user, mount and cgroup namespaces here (%m)\n");
                        _exit(77);
                }
                mounted_in_child(dir);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 77);
        ASSERT_EQ(rmdir(dir), 0);
}

int main(void) {
        TEST(test_names);
        TEST(test_not_cgroup);
        TEST(test_mounted);
        return 0;
}
