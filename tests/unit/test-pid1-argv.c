/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The argument vectors PID 1 is given at switch-root, in the shapes each era produces (hazards.md
 * §2, and the pid1_argv= lines of the VM boots in tests/vm/BASELINE.md). */
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pid1-argv.h"
#include "tests.h"

#define ARGV(...) ((char *const[]) { __VA_ARGS__, NULL })

static void assert_argv(char **got, char *const *want) {
        size_t i = 0;

        ASSERT_TRUE(got);
        for (; want[i]; i++)
                ASSERT_STREQ(got[i], want[i]);
        ASSERT_TRUE(got[i] == NULL);
}

/* bullseye's v247 initramfs, seen in boots: "--deserialize N" as two words, nothing else. */
static void test_v247(void) {
        SdcPid1Argv a;
        _cleanup_free_ char **st = NULL, **fr = NULL;

        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("/lib/systemd/systemd", "--switched-root", "--system", "--deserialize", "30"), &a), 0);
        ASSERT_EQ(a.deserialize_fd, 30);
        ASSERT_TRUE(a.switched_root && a.system);
        ASSERT_EQ(a.n_rest, 0u);
        st = sdc_pid1_argv_build_stateful("/usr/lib/systemd/systemd", &a);
        assert_argv(st, ARGV("/usr/lib/systemd/systemd", "--switched-root", "--system", "--deserialize=30"));
        fr = sdc_pid1_argv_build_fresh("/usr/lib/systemd/systemd", &a);
        assert_argv(fr, ARGV("/usr/lib/systemd/systemd"));
        sdc_pid1_argv_done(&a);
}

/* v254+ (and Debian's 252.39, seen in boots): our options first, the kernel's tokens after. */
static void test_v254_order(void) {
        SdcPid1Argv a;
        _cleanup_free_ char **st = NULL, **fr = NULL;

        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("/lib/systemd/systemd", "--switched-root", "--system", "--deserialize=32", "hello", "--foo"), &a), 0);
        ASSERT_EQ(a.deserialize_fd, 32);
        ASSERT_EQ(a.n_rest, 2u);
        st = sdc_pid1_argv_build_stateful("/lib/systemd/systemd", &a);
        assert_argv(st, ARGV("/lib/systemd/systemd", "--switched-root", "--system", "--deserialize=32", "hello", "--foo"));
        fr = sdc_pid1_argv_build_fresh("/lib/systemd/systemd", &a);
        assert_argv(fr, ARGV("/lib/systemd/systemd", "hello", "--foo"));
        sdc_pid1_argv_done(&a);
}

/* Upstream v250..v253 (H5): the kernel's tokens first, "--" among them; after the reorder PID 1's
 * options come first, where every version parses them. */
static void test_v250_h5(void) {
        SdcPid1Argv a;
        _cleanup_free_ char **st = NULL;

        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("/usr/lib/systemd/systemd", "--", "hello", "-s", "--switched-root", "--system",
                                           "--deserialize", "27"),
                                      &a),
                  0);
        ASSERT_EQ(a.deserialize_fd, 27);
        ASSERT_EQ(a.n_rest, 3u);
        st = sdc_pid1_argv_build_stateful("/usr/lib/systemd/systemd", &a);
        assert_argv(st, ARGV("/usr/lib/systemd/systemd", "--switched-root", "--system", "--deserialize=27", "--", "hello", "-s"));
        sdc_pid1_argv_done(&a);
}

static void test_invalid(void) {
        SdcPid1Argv a;

        /* twice: which one is PID 1's cannot be told, so nothing is changed */
        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("systemd", "--deserialize=3", "--deserialize", "4"), &a), -EINVAL);
        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("systemd", "--deserialize"), &a), -EINVAL);
        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("systemd", "--deserialize=-1"), &a), -EINVAL);
        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("systemd", "--deserialize=12x"), &a), -EINVAL);
        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("systemd", "--deserialize=99999999999999999999"), &a), -EINVAL);
        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("systemd", "--deserialize="), &a), -EINVAL);
        /* a fresh boot's argv (no state) is fine */
        ASSERT_EQ(sdc_pid1_argv_parse(ARGV("/sbin/init", "splash"), &a), 0);
        ASSERT_EQ(a.deserialize_fd, -1);
        ASSERT_TRUE(!a.switched_root);
        sdc_pid1_argv_done(&a);
}

int main(void) {
        TEST(test_v247);
        TEST(test_v254_order);
        TEST(test_v250_h5);
        TEST(test_invalid);
        return 0;
}
