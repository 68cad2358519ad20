/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "macro.h"
#include "tests.h"
#include "version.h"

typedef struct Expect {
        const char *input;
        unsigned major, point;
        bool has_point;
        unsigned rc;
        bool prerelease;
        const char *revision, *release;
        SdcDistroFamily family;
        const char *text;
} Expect;

static void check_one(const Expect *e) {
        SdcVersion v;

        fprintf(stderr, "   parse \"%s\"\n", e->input);
        ASSERT_EQ(sdc_version_parse(e->input, &v), 0);
        ASSERT_EQ(v.major, e->major);
        ASSERT_EQ(v.point, e->point);
        ASSERT_EQ(v.has_point, e->has_point);
        ASSERT_EQ(v.rc, e->rc);
        ASSERT_EQ(v.prerelease, e->prerelease);
        ASSERT_STREQ(v.revision, e->revision);
        ASSERT_STREQ(v.release, e->release);
        ASSERT_EQ(v.family, e->family);
        ASSERT_STREQ(v.text, e->text);
}

static void test_parse_wild(void) {
        static const Expect cases[] = {
                { "219", 219, 0, false, 0, false, "", "", SDC_DISTRO_NONE, "219" },
                { "219-78.el7_9.9", 219, 0, false, 0, false, "78.el7_9.9", "78.9", SDC_DISTRO_RHEL,
                  "219-78.el7_9.9" },
                { "219-70.el7", 219, 0, false, 0, false, "70.el7", "70", SDC_DISTRO_RHEL, "219-70.el7" },
                { "239-82.el8_10.2", 239, 0, false, 0, false, "82.el8_10.2", "82.2", SDC_DISTRO_RHEL,
                  "239-82.el8_10.2" },
                { "252.39-1~deb12u2", 252, 39, true, 0, false, "1~deb12u2", "1~deb12u2", SDC_DISTRO_DEBIAN,
                  "252.39-1~deb12u2" },
                { "247.3-7+deb11u5", 247, 3, true, 0, false, "7+deb11u5", "7+deb11u5", SDC_DISTRO_DEBIAN,
                  "247.3-7+deb11u5" },
                { "254.26-1~bpo12+1", 254, 26, true, 0, false, "1~bpo12+1", "1~bpo12+1", SDC_DISTRO_DEBIAN,
                  "254.26-1~bpo12+1" },
                { "257.13", 257, 13, true, 0, false, "", "", SDC_DISTRO_NONE, "257.13" },
                { "257.13-1~deb13u1", 257, 13, true, 0, false, "1~deb13u1", "1~deb13u1", SDC_DISTRO_DEBIAN,
                  "257.13-1~deb13u1" },
                { "262.1-1", 262, 1, true, 0, false, "1", "1", SDC_DISTRO_DEBIAN, "262.1-1" },
                { "258~rc2", 258, 0, false, 2, true, "", "", SDC_DISTRO_NONE, "258~rc2" },
                { "258-rc2", 258, 0, false, 2, true, "", "", SDC_DISTRO_NONE, "258-rc2" },
                { "258~devel", 258, 0, false, 0, true, "", "", SDC_DISTRO_NONE, "258~devel" },
                { "258~rc2-1", 258, 0, false, 2, true, "1", "1", SDC_DISTRO_DEBIAN, "258~rc2-1" },
                { "v261", 261, 0, false, 0, false, "", "", SDC_DISTRO_NONE, "261" },
                { "v258-rc2", 258, 0, false, 2, true, "", "", SDC_DISTRO_NONE, "258-rc2" },
                { "245.4-4ubuntu3.24", 245, 4, true, 0, false, "4ubuntu3.24", "4ubuntu3.24", SDC_DISTRO_DEBIAN,
                  "245.4-4ubuntu3.24" },
                { "256.11-1.fc41", 256, 11, true, 0, false, "1.fc41", "1.fc41", SDC_DISTRO_OTHER,
                  "256.11-1.fc41" },
                { "systemd 252 (252.39-1~deb12u2)", 252, 39, true, 0, false, "1~deb12u2", "1~deb12u2",
                  SDC_DISTRO_DEBIAN, "252.39-1~deb12u2" },
                { "systemd 219", 219, 0, false, 0, false, "", "", SDC_DISTRO_NONE, "219" },
                { "systemd 219 (219-78.el7_9.9)\n", 219, 0, false, 0, false, "78.el7_9.9", "78.9",
                  SDC_DISTRO_RHEL, "219-78.el7_9.9" },
                { "systemd 257 (257.5-1-arch)", 257, 5, true, 0, false, "1-arch", "1-arch", SDC_DISTRO_OTHER,
                  "257.5-1-arch" },
                /* The parenthesised part names another major or is free text: the major alone stands. */
                { "systemd 252 (251.4-1)", 252, 0, false, 0, false, "", "", SDC_DISTRO_NONE, "252" },
                { "systemd 252 (vendor build)", 252, 0, false, 0, false, "", "", SDC_DISTRO_NONE, "252" },
                { "  252.5\n", 252, 5, true, 0, false, "", "", SDC_DISTRO_NONE, "252.5" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_one(&cases[i]);
}

static void test_parse_junk(void) {
        static const char *const junk[] = {
                "abc", "", " ", "-1", "999999999999", "100000", "0", "v", "vv261", "252.", "252..1",
                "252.39.1", "252-", "258~rc", "258-rc", "258~rc0", "258~rcx", "252.39~rc1", "252 39",
                "252-1 2", "252-1:2", "1:252-1", "systemd", "systemd abc", "systemd 252 junk",
                "systemd 252 (252.39-1", "systemd252", "SYSTEMD 252", "252\n+PAM", "252-\xc3\xa9",
        };
        char big[512];
        SdcVersion v;

        for (size_t i = 0; i < ELEMENTSOF(junk); i++) {
                fprintf(stderr, "   reject \"%s\"\n", junk[i]);
                ASSERT_EQ(sdc_version_parse(junk[i], &v), -EINVAL);
        }
        ASSERT_EQ(sdc_version_parse(NULL, &v), -EINVAL);

        /* Overlong: a revision that does not fit, and an input longer than any version. */
        snprintf(big, sizeof(big), "252-%0100d", 1);
        ASSERT_EQ(sdc_version_parse(big, &v), -EINVAL);
        snprintf(big, sizeof(big), "252-%062d", 1); /* 62 digits: fits revision[64] */
        ASSERT_EQ(sdc_version_parse(big, &v), 0);
        ASSERT_EQ(strlen(v.revision), 62);
        memset(big, ' ', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        memcpy(big + 200, "252", 3);
        ASSERT_EQ(sdc_version_parse(big, &v), -EINVAL);
}

static int sign(int x) {
        return (x > 0) - (x < 0);
}

static int cmp_str(const char *a, const char *b) {
        SdcVersion va, vb;

        ASSERT_EQ(sdc_version_parse(a, &va), 0);
        ASSERT_EQ(sdc_version_parse(b, &vb), 0);
        return sign(sdc_version_compare(&va, &vb));
}

#define ASSERT_ORDER(a, op, b)                                                                                \
        do {                                                                                                  \
                fprintf(stderr, "   %s %s %s\n", a, #op, b);                                                  \
                ASSERT_TRUE(cmp_str(a, b) op 0);                                                              \
                ASSERT_TRUE(0 op cmp_str(b, a));                                                              \
        } while (0)

static void test_order(void) {
        ASSERT_ORDER("219-67", <, "219-70");
        ASSERT_ORDER("219-70", <, "219-78.el7_9.2");
        ASSERT_ORDER("219-78.el7_9.2", <, "219-78.el7_9.9");
        ASSERT_ORDER("219-67", <, "219-78.el7_9.9");
        ASSERT_ORDER("219-70.el7", ==, "219-70");
        ASSERT_ORDER("219-78.el7_9.2", ==, "219-78.2");
        ASSERT_ORDER("219-73.el7_8.9", <, "219-78.el7_9.2");
        ASSERT_ORDER("258~rc2", <, "258");
        ASSERT_ORDER("258", <, "258.1");
        ASSERT_ORDER("258~rc2", <, "258.1");
        ASSERT_ORDER("258~devel", <, "258~rc1");
        ASSERT_ORDER("258~rc1", <, "258-rc2");
        ASSERT_ORDER("258-rc2", ==, "258~rc2");
        ASSERT_ORDER("257.13", <, "258~rc1");
        ASSERT_ORDER("252.5", <, "252.39");
        ASSERT_ORDER("252.39-1~deb12u1", <, "252.39-1~deb12u2");
        ASSERT_ORDER("254.26-1~bpo12+1", <, "254.26-1");
        ASSERT_ORDER("247.3-7+deb11u5", >, "247.3-7");
        ASSERT_ORDER("v261", ==, "261");
        ASSERT_ORDER("systemd 252 (252.39-1~deb12u2)", ==, "252.39-1~deb12u2");
        ASSERT_ORDER("219", <, "219-1");
        ASSERT_ORDER("219-78.el7_9.9", <, "252");
        /* Different families, neither bare: the revisions say nothing about each other. */
        ASSERT_ORDER("252.39-1~deb12u2", ==, "252.39-1.fc41");
        ASSERT_ORDER("252-46.el9_4.1", ==, "252-1~deb12u2");

        /* A sorted list: every pair must compare as its positions do. */
        static const char *const sorted[] = {
                "219", "219-67", "219-70.el7", "219-78.el7_9.2", "219-78.el7_9.9", "247.3-7+deb11u5",
                "252", "252.5", "252.39-1~deb12u1", "252.39-1~deb12u2", "254.26-1~bpo12+1", "254.26-1",
                "257.13", "257.13-1~deb13u1", "258~devel", "258~rc1", "258~rc2", "258", "258.1", "v261",
                "262.1-1",
        };
        for (size_t i = 0; i < ELEMENTSOF(sorted); i++)
                for (size_t j = 0; j < ELEMENTSOF(sorted); j++)
                        if (cmp_str(sorted[i], sorted[j]) != sign((int) i - (int) j)) {
                                fprintf(stderr, "order of \"%s\" and \"%s\" wrong\n", sorted[i], sorted[j]);
                                ASSERT_TRUE(false);
                        }
}

static void test_verrevcmp_basics(void) {
        ASSERT_EQ(sdc_verrevcmp("1~deb12u1", "1~deb12u2"), -1);
        ASSERT_EQ(sdc_verrevcmp("1~bpo12+1", "1"), -1);
        ASSERT_EQ(sdc_verrevcmp("1", "1"), 0);
        ASSERT_EQ(sdc_verrevcmp("01", "1"), 0);
        ASSERT_EQ(sdc_verrevcmp("", NULL), 0);
        ASSERT_EQ(sdc_verrevcmp("~", ""), -1);
        ASSERT_EQ(sdc_verrevcmp("~~", "~"), -1);
        ASSERT_EQ(sdc_verrevcmp("a", ""), 1);
        ASSERT_EQ(sdc_verrevcmp("a", "+"), -1); /* letters before non-letters */
        ASSERT_EQ(sdc_verrevcmp("9", "10"), -1); /* digits numerically */
        ASSERT_EQ(sdc_verrevcmp("78.9", "78.10"), -1);
        /* Digit runs longer than any integer type. */
        ASSERT_EQ(sdc_verrevcmp("123456789012345678901234567890", "123456789012345678901234567891"), -1);
        ASSERT_EQ(sdc_verrevcmp("99999999999999999999999999999", "123456789012345678901234567891"), -1);
}

/* dpkg itself is the reference for sdc_verrevcmp(): "0-X" is a Debian version whose revision X
 * dpkg orders with its verrevcmp() once the equal upstream parts "0" are compared; "0" stands for
 * the empty revision. */
static int dpkg_compare(const char *a, const char *b) {
        char cmd[512];
        int status;

        for (int i = 0; i < 2; i++) {
                snprintf(cmd, sizeof(cmd), "dpkg --compare-versions '0%s%s' %s '0%s%s' 2>/dev/null", *a ? "-" : "", a,
                         i == 0 ? "lt" : "eq", *b ? "-" : "", b);
                status = system(cmd);
                ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) <= 1);
                if (WEXITSTATUS(status) == 0)
                        return i - 1;
        }
        return 1;
}

static int qsort_verrevcmp(const void *a, const void *b) {
        return sdc_verrevcmp(*(const char *const *) a, *(const char *const *) b);
}

static void test_verrevcmp_vs_dpkg(void) {
        const char *s[] = {
                "", "~", "~~", "~a", "a", "b", "A", "Z", "+", ".", "1", "01", "1.0", "1.00", "1~deb12u1",
                "1~deb12u2", "1~deb12u10", "1~bpo12+1", "1+deb11u5", "1+b1", "1.1", "1a", "1+", "1.a",
                "78.9", "78.10", "78.2", "4ubuntu3.24", "4ubuntu3.3", "1.fc41", "1.fc9", "10", "9",
                "1~rc1", "1~~rc1", "1a~", "99999999999999999999", "100000000000000000000", "0", "00",
                "a1", "a01", "a.1", "a+1", "a~1", "1~", "1~~", "1.~", "1.+", "2~bpo11+1", "2", "2.0~1",
        };
        size_t n = ELEMENTSOF(s);

        if (system("command -v dpkg >/dev/null 2>&1") != 0) {
                fprintf(stderr, "   dpkg not installed, skipping the comparison with dpkg\n");
                return;
        }

        /* Sort with sdc_verrevcmp(). The order must be consistent for every pair (a total
         * preorder), and dpkg must agree on each neighbouring pair: then, dpkg's order being
         * transitive, it agrees on every pair. */
        qsort(s, n, sizeof(s[0]), qsort_verrevcmp);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++) {
                        int c = sdc_verrevcmp(s[i], s[j]);
                        bool equal_run = true;

                        for (size_t k = i; k < j; k++)
                                if (sdc_verrevcmp(s[k], s[k + 1]) != 0)
                                        equal_run = false;
                        ASSERT_EQ(sdc_verrevcmp(s[j], s[i]), -c);
                        ASSERT_EQ(c, equal_run ? 0 : -1);
                }
        for (size_t i = 0; i + 1 < n; i++) {
                int ours = sdc_verrevcmp(s[i], s[i + 1]), ref = dpkg_compare(s[i], s[i + 1]);

                fprintf(stderr, "   \"%s\" %s \"%s\"\n", s[i], ours < 0 ? "<" : "=", s[i + 1]);
                if (ours != ref) {
                        fprintf(stderr, "verrevcmp(\"%s\", \"%s\") = %d, dpkg says %d\n", s[i], s[i + 1], ours, ref);
                        ASSERT_TRUE(false);
                }
        }
        fprintf(stderr, "   %zu strings ordered as dpkg --compare-versions orders them\n", n);
}

/* The banner of the systemd installed here against its package's version: both real. */
static void test_installed_systemd(void) {
        char banner[256] = "", pkg[128] = "";
        SdcVersion vb, vp;
        FILE *f;

        f = popen("systemd --version 2>/dev/null | head -n1; "
                  "dpkg-query -W -f='${Version}' systemd 2>/dev/null", "r");
        ASSERT_TRUE(f);
        if (!fgets(banner, sizeof(banner), f) || !fgets(pkg, sizeof(pkg), f))
                banner[0] = '\0';
        pclose(f);
        if (strncmp(banner, "systemd ", 8) != 0 || pkg[0] == '\0') {
                fprintf(stderr, "   systemd or its package not installed, skipping\n");
                return;
        }
        fprintf(stderr, "   banner \"%.*s\", package %s\n", (int) strcspn(banner, "\n"), banner, pkg);
        ASSERT_EQ(sdc_version_parse(banner, &vb), 0);
        ASSERT_EQ(sdc_version_parse(pkg, &vp), 0);
        ASSERT_STREQ(vb.text, pkg);
        ASSERT_EQ(sdc_version_compare(&vb, &vp), 0);
        ASSERT_EQ(vb.family, SDC_DISTRO_DEBIAN);
}

/* The distribution and its release as the files of real trees name them: RHEL 7's os-release and
 * redhat-release, CentOS 7's (VERSION_ID="7": the minor only in centos-release, which
 * redhat-release links to), Amazon Linux 2 (rhel only in ID_LIKE, its own numbering), RHEL 7's
 * dracut initrd-release (ID=dracut), Debian's, and a rebrand that names nothing. */
static void test_distro(void) {
        SdcDistroFacts d;

        sdc_distro_from_os_release(
                "rhel", "fedora", "7.8", "7.8 (Maipo)", "Red Hat Enterprise Linux Server 7.8 (Maipo)",
                "Red Hat Enterprise Linux Server release 7.8 (Maipo)", &d);
        ASSERT_STREQ(d.id, "rhel");
        ASSERT_STREQ(d.release, "7.8");
        ASSERT_STREQ(d.source, "redhat-release");

        sdc_distro_from_os_release("rhel", "fedora", "7.7", NULL, NULL, NULL, &d);
        ASSERT_STREQ(d.release, "7.7");
        ASSERT_STREQ(d.source, "os-release VERSION_ID");

        sdc_distro_from_os_release(
                "centos", "rhel fedora", "7", "7 (Core)", "CentOS Linux 7 (Core)",
                "CentOS Linux release 7.8.2003 (Core)", &d);
        ASSERT_STREQ(d.id, "rhel");
        ASSERT_STREQ(d.release, "7.8");

        sdc_distro_from_os_release(
                "centos", "rhel fedora", "7", "7 (Core)", "CentOS Linux 7 (Core)", NULL, &d);
        ASSERT_STREQ(d.id, "rhel");
        ASSERT_STREQ(d.release, ""); /* "7" has no minor */

        sdc_distro_from_os_release("amzn", "centos rhel fedora", "2", "2", "Amazon Linux 2", NULL, &d);
        ASSERT_STREQ(d.id, "rhel");
        ASSERT_STREQ(d.release, ""); /* Amazon's "2" is not RHEL's numbering */

        sdc_distro_from_os_release(
                "dracut", NULL, "033-568.el7", "7.8 (Maipo) dracut-033-568.el7",
                "Red Hat Enterprise Linux Server 7.8 (Maipo) dracut-033-568.el7 (Initramfs)", NULL, &d);
        ASSERT_STREQ(d.id, "rhel");
        ASSERT_STREQ(d.release, "7.8");
        ASSERT_STREQ(d.source, "initrd-release VERSION");

        sdc_distro_from_os_release(
                "debian", NULL, "12", "12 (bookworm) dracut-059-4",
                "Debian GNU/Linux 12 (bookworm) dracut-059-4 (Initramfs)", NULL, &d);
        ASSERT_STREQ(d.id, "debian");
        ASSERT_STREQ(d.release, "12");

        sdc_distro_from_os_release("ubuntu", "debian", "22.04", NULL, NULL, NULL, &d);
        ASSERT_STREQ(d.id, "debian");

        sdc_distro_from_os_release(
                "examplecloud", NULL, "2", "2 (Nimbus)", "Example Cloud OS 2 (Nimbus)", NULL, &d);
        ASSERT_STREQ(d.id, "examplecloud");
        ASSERT_STREQ(d.release, "");

        sdc_distro_from_os_release(NULL, NULL, NULL, NULL, NULL, NULL, &d);
        ASSERT_STREQ(d.id, "");
        ASSERT_TRUE(d.source == NULL);
}

static void test_family_strings(void) {
        ASSERT_STREQ(sdc_distro_family_to_string(SDC_DISTRO_NONE), "none");
        ASSERT_STREQ(sdc_distro_family_to_string(SDC_DISTRO_DEBIAN), "debian");
        ASSERT_STREQ(sdc_distro_family_to_string(SDC_DISTRO_RHEL), "rhel");
        ASSERT_STREQ(sdc_distro_family_to_string(SDC_DISTRO_OTHER), "other");
        ASSERT_TRUE(sdc_distro_family_to_string((SdcDistroFamily) 42) == NULL);
}

int main(void) {
        TEST(test_parse_wild);
        TEST(test_parse_junk);
        TEST(test_order);
        TEST(test_verrevcmp_basics);
        TEST(test_verrevcmp_vs_dpkg);
        TEST(test_installed_systemd);
        TEST(test_family_strings);
        TEST(test_distro);
        return 0;
}
