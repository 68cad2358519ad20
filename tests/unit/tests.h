/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The unit tests' whole framework: each test is a function; a failed check prints file:line and
 * the expression and aborts the program (meson reports the test as failed). */

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#define ASSERT_TRUE(expr)                                                                                     \
        do {                                                                                                  \
                if (!(expr)) {                                                                                \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr);          \
                        abort();                                                                              \
                }                                                                                             \
        } while (0)

#define ASSERT_EQ(a, b)                                                                                       \
        do {                                                                                                  \
                long long _a = (long long) (a), _b = (long long) (b);                                         \
                if (_a != _b) {                                                                               \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, \
                                _a, _b);                                                                      \
                        abort();                                                                              \
                }                                                                                             \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                                    \
        do {                                                                                                  \
                const char *_a = (a), *_b = (b);                                                              \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                                      \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, \
                                #b, _a ? _a : "(null)", _b ? _b : "(null)");                                  \
                        abort();                                                                              \
                }                                                                                             \
        } while (0)

/* Runs one test function and prints its name, so a failing test is easy to find in the log. */
#define TEST(fn)                                                                                              \
        do {                                                                                                  \
                fprintf(stderr, "== %s\n", #fn);                                                              \
                fn();                                                                                         \
        } while (0)

/* Writes text to a /proc file (one write, as the kernel wants for uid_map). */
static inline bool test_write_proc(const char *name, const char *text) {
        FILE *f = fopen(name, "we");
        bool ok = f && fputs(text, f) >= 0;

        return f ? fclose(f) == 0 && ok : false;
}

/* For a test that is not root: unshare(CLONE_NEWUSER | flags) with this user mapped to root in the
 * new user namespace (so that files can be made on a tmpfs mounted there). */
static inline bool test_own_user_namespace(int flags) {
        char map[64];
        uid_t uid = getuid();
        gid_t gid = getgid();

        if (unshare(CLONE_NEWUSER | flags) < 0)
                return false;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned) uid);
        if (!test_write_proc("/proc/self/uid_map", map) || !test_write_proc("/proc/self/setgroups", "deny"))
                return false;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned) gid);
        return test_write_proc("/proc/self/gid_map", map);
}

/* In a child that unshared its mount namespace: makes every mount private, so that what the test
 * mounts can never propagate to the host. In a chroot whose root is not a mount point (a build
 * chroot, mmdebstrap's root) that is impossible (EINVAL): the test is skipped (77), not failed, and
 * nothing is mounted. Any other error fails it. */
static inline void test_private_mounts_or_skip(void) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
                return;
        if (errno == EINVAL) {
                fprintf(stderr, "skipped: / is not a mount point here (a chroot?): mounts cannot be made private (%m)\n");
                _exit(77);
        }
        fprintf(stderr, "making the mounts private failed: %m\n");
        _exit(1);
}
