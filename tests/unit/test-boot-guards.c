/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The readers behind the shim's guards: pidns_is_initial() over a /proc laid out as each kind of
 * PID namespace shows it, and mountinfo_foreach() over lines as the kernel writes them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "mountinfo.h"
#include "pidns.h"
#include "tests.h"

/* A fake /proc in a temporary directory: self -> PID, and 2/stat with that line (NULL: no PID 2). */
static char *fake_proc(const char *self, const char *stat2) {
        char *dir = strdup("/tmp/test-boot-guards-XXXXXX");
        char path[256];

        ASSERT_TRUE(dir && mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/self", dir);
        ASSERT_EQ(symlink(self, path), 0);
        if (stat2) {
                snprintf(path, sizeof(path), "%s/2", dir);
                ASSERT_EQ(mkdir(path, 0755), 0);
                snprintf(path, sizeof(path), "%s/2/stat", dir);
                ASSERT_EQ(write_file_atomic_at(AT_FDCWD, path, stat2, strlen(stat2), 0644), 0);
        }
        return dir;
}

static void test_pidns(void) {
        char me[32];
        _cleanup_free_ char *host = NULL, *container = NULL, *foreign = NULL, *tricky = NULL, *empty = NULL;

        snprintf(me, sizeof(me), "%d", (int) getpid());
        /* kthreadd as Linux 6.1 shows it: flags 2129984 = 0x208040 has PF_KTHREAD (0x200000) */
        host = fake_proc(me, "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 18446744073709551615\n");
        ASSERT_EQ(pidns_is_initial(host), 1);
        /* a container: PID 2 is a user process (flags 4194560 = 0x400100), even one named kthreadd
         * with a ppid of 0 (a process that entered the namespace with setns) */
        container = fake_proc(me, "2 (kthreadd) S 0 2 2 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 18446744073709551615\n");
        ASSERT_EQ(pidns_is_initial(container), 0);
        /* a comm with blanks and parentheses does not shift the fields */
        tricky = fake_proc(me, "2 (a) S 0 0 0 0 -1 2129984 (b) S 1 1 1 0 -1 4194560 0 0 0\n");
        ASSERT_EQ(pidns_is_initial(tricky), 0);
        /* no PID 2 at all (unshare -p -f --mount-proc) */
        empty = fake_proc(me, NULL);
        ASSERT_EQ(pidns_is_initial(empty), 0);
        /* a /proc of another namespace (unshare -p -f without --mount-proc): self is not us */
        foreign = fake_proc("999999999", "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0\n");
        ASSERT_EQ(pidns_is_initial(foreign), 0);
        /* and this process: the test runs on a host or in a container; only the call is checked */
        ASSERT_TRUE(pidns_is_initial("/proc") >= 0);
}

typedef struct Seen {
        char points[8][128];
        dev_t devs[8];
        unsigned n;
} Seen;

static int collect(dev_t dev, const char *mount_point, void *userdata) {
        Seen *s = userdata;

        ASSERT_TRUE(s->n < 8);
        snprintf(s->points[s->n], sizeof(s->points[s->n]), "%s", mount_point);
        s->devs[s->n++] = dev;
        return 0;
}

static int stop_at_second(dev_t dev, const char *mount_point, void *userdata) {
        unsigned *n = userdata;

        (void) dev;
        (void) mount_point;
        return ++*n == 2 ? 42 : 0;
}

static void test_mountinfo(void) {
        static const char text[] =
                "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                /* the shim mounted twice over systemd (negotiate run twice) */
                "107 22 0:1 /usr/libexec/sdcompat/sdcompat-shim /usr/lib/systemd/systemd rw - rootfs rootfs rw\n"
                "108 107 0:1 /usr/libexec/sdcompat/sdcompat-shim /usr/lib/systemd/systemd rw - rootfs rootfs rw\n"
                /* a blank and a backslash in a mount point, escaped by the kernel */
                "109 22 0:45 / /mnt/a\\040b\\134c rw shared:9 master:2 - tmpfs tmpfs rw\n";
        Seen s = {};
        unsigned n = 0;

        ASSERT_EQ(mountinfo_foreach(text, collect, &s), 0);
        ASSERT_EQ(s.n, 4);
        ASSERT_STREQ(s.points[0], "/");
        ASSERT_EQ(s.devs[0], makedev(254, 0));
        ASSERT_STREQ(s.points[1], "/usr/lib/systemd/systemd");
        ASSERT_STREQ(s.points[2], "/usr/lib/systemd/systemd");
        ASSERT_EQ(s.devs[2], makedev(0, 1));
        ASSERT_STREQ(s.points[3], "/mnt/a b\\c");
        ASSERT_EQ(mountinfo_foreach(text, stop_at_second, &n), 42);
        ASSERT_EQ(n, 2);
        ASSERT_EQ(mountinfo_foreach("22 1 254:0 /\n", collect, &s), -EBADMSG);
        ASSERT_EQ(mountinfo_foreach("22 1 x:y / / rw - ext4 /dev/vda rw\n", collect, &s), -EBADMSG);
}

int main(void) {
        TEST(test_pidns);
        TEST(test_mountinfo);
        return 0;
}
