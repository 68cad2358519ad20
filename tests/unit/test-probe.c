/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The systemd probe: the version and feature scanners on real libraries, and on the forms no
 * Debian package carries. Whole trees and images of every Debian release are probed by the bats
 * suite (tests/bats/probe.bats) on fixtures built from the real packages. */

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "probe.h"
#include "tests.h"
#include "tree.h"

#define S(x) (const uint8_t *) (x), sizeof(x) - 1

/* RHEL 7's systemd (v219) is not in Debian's archive. Its version() printed the literal
 * PACKAGE_STRING "\n" SYSTEMD_FEATURES, so the binary carries these bytes; RHEL's release
 * ("219-78.el7_9.9") is only in the RPM database, never in the binary. */
static void test_scan_v219_form(void) {
        SdcVersion v;
        char *features = NULL;
        static const char v219[] = "\0systemd 219\n+PAM +AUDIT +SELINUX +IMA -APPARMOR +SMACK +SYSVINIT +UTMP "
                                   "+LIBCRYPTSETUP +GCRYPT +GNUTLS +ACL +XZ +LZ4 -SECCOMP +BLKID +ELFUTILS +KMOD "
                                   "+IDN\0";

        ASSERT_EQ(sdc_probe_scan_version(S(v219), &v), 1);
        ASSERT_EQ(v.major, 219);
        ASSERT_STREQ(v.revision, "");
        ASSERT_EQ(sdc_probe_scan_features(S(v219), &features), 1);
        ASSERT_TRUE(strncmp(features, "+PAM +AUDIT", 11) == 0);
        free(features);
}

/* Strings that look like versions but are not systemd's --version output. */
static void test_scan_rejects(void) {
        SdcVersion v;
        char *features = NULL;

        ASSERT_EQ(sdc_probe_scan_version(S("\0systemd 25 is not it\0"), &v), 0);
        ASSERT_EQ(sdc_probe_scan_version(S("\0running systemd 1234567 (x)\0"), &v), 0);
        ASSERT_EQ(sdc_probe_scan_version(S("systemd "), &v), 0);
        ASSERT_EQ(sdc_probe_scan_version(S("\0systemd 252 (git-abcdef)\0"), &v), 1);
        ASSERT_EQ(v.major, 252); /* the parenthesised part is not a version: the major stands */
        ASSERT_EQ(sdc_probe_scan_features(S("+PAM +AUDIT without an end"), &features), 0);
}

/* The host's own systemd, if it has one: the probe must find what dpkg says is installed. */
static void test_probe_host_root(void) {
        SdcTree *t = NULL;
        SdcTreeFacts f = {};
        char version[128] = "";
        FILE *p;

        if (access("/usr/lib/systemd/systemd", X_OK) < 0) {
                fprintf(stderr, "no systemd on this host, not probing it\n");
                return;
        }
        p = popen("dpkg-query -W -f '${Version}' systemd 2>/dev/null", "r");
        ASSERT_TRUE(p);
        ASSERT_TRUE(fgets(version, sizeof(version), p));
        pclose(p);

        ASSERT_EQ(sdc_tree_open_dir(AT_FDCWD, "/", 0, &t), 0);
        ASSERT_EQ(sdc_probe_tree(t, SDC_ROLE_ROOT, &f), 0);
        ASSERT_TRUE(f.systemd.found);
        ASSERT_TRUE(f.systemd.has_version);
        ASSERT_STREQ(f.systemd.version.text, version);
        ASSERT_STREQ(f.systemd.binary, "/usr/lib/systemd/systemd");
        ASSERT_TRUE(f.systemd.shared_library != NULL);
        ASSERT_TRUE(f.systemd.features != NULL);
        ASSERT_TRUE(f.systemd.compiled_binary_path != NULL);
        ASSERT_TRUE(!f.is_initrd);
        sdc_tree_facts_done(&f);
        sdc_tree_free(t);
}

static void write_file(int dir_fd, const char *path, const char *content, size_t size) {
        int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, size), (ssize_t) size);
        close(fd);
}

/* A unit file that ends in "ExecStart" without a newline: the parser must stay inside the file's
 * bytes, which are not NUL-terminated (a heap over-read under ASan before it did). The systemd
 * binary is this test's own ELF file; /init points at it, so the probe reads the unit files. */
static void test_probe_unit_without_newline(void) {
        char dir[] = "/tmp/test-probe-XXXXXX", cmd[256];
        static const char unit[] = "[Service]\nExecStart=/bin/systemctl --no-block switch-root\nExecStart";
        static const char dropin[] = "[Service]\n  ExecSta";
        SdcTree *t = NULL;
        SdcTreeFacts f = {};
        int dir_fd;

        ASSERT_TRUE(mkdtemp(dir));
        (void) snprintf(cmd, sizeof(cmd),
                        "mkdir -p %s/usr/lib/systemd/system/initrd-switch-root.service.d && cp /proc/%d/exe "
                        "%s/usr/lib/systemd/systemd && ln -s usr/lib/systemd/systemd %s/init",
                        dir, (int) getpid(), dir, dir);
        ASSERT_EQ(system(cmd), 0);
        dir_fd = open(dir, O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        write_file(dir_fd, "usr/lib/systemd/system/initrd-switch-root.service", unit, sizeof(unit) - 1);
        write_file(dir_fd, "usr/lib/systemd/system/initrd-switch-root.service.d/x.conf", dropin, sizeof(dropin) - 1);

        ASSERT_EQ(sdc_tree_open_dir(dir_fd, ".", 0, &t), 0);
        ASSERT_EQ(sdc_probe_tree(t, SDC_ROLE_INITRD, &f), 0);
        ASSERT_TRUE(f.runs_systemd);
        ASSERT_STREQ(f.switch_root_exec, "/bin/systemctl --no-block switch-root");
        ASSERT_EQ(f.switch_root_via_systemctl, 1);
        sdc_tree_facts_done(&f);
        sdc_tree_free(t);
        close(dir_fd);
        (void) snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}

int main(void) {
        TEST(test_scan_v219_form);
        TEST(test_scan_rejects);
        TEST(test_probe_host_root);
        TEST(test_probe_unit_without_newline);
        return 0;
}
