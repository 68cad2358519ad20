/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shipped hazard rules (rules.d/), each shown to fire and not to fire on facts as real systems
 * report them: Debian's and RHEL's version strings, real command lines. And the loader: vendor and
 * admin directories, masks, broken overrides. */

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "rules.h"
#include "strv.h"
#include "tests.h"

static SdcRuleSet *rules;

/* Facts of a pair where nothing is wrong but the versions and the command line given. */
static SdcPairFacts pair(const char *initrd, const char *root, const char *cmdline) {
        SdcPairFacts f = {
                .initrd_systemd = SDC_TRI_YES,
                .initrd_switch_root_via_systemctl = SDC_TRI_YES,
                /* The image's systemctl not read: the versions decide (SDC-H1-VERSION). */
                .initrd_systemctl_ignores_sigterm = SDC_TRI_UNKNOWN,
                .root_systemd = SDC_TRI_YES,
                .root_usr_separate = SDC_TRI_NO,
                .root_os_release = SDC_TRI_YES,
                .root_has_binary_path = SDC_TRI_YES,
                .init_args_break_parsing = SDC_TRI_NO,
                .has_initrd_version = true,
                .has_root_version = true,
                .has_kernel = true,
                .kernel_major = 6,
                .kernel_minor = 1,
        };

        ASSERT_EQ(sdc_version_parse(initrd, &f.initrd_version), 0);
        ASSERT_EQ(sdc_version_parse(root, &f.root_version), 0);
        ASSERT_EQ(sdc_cmdline_split(cmdline ?: "", &f.cmdline_words, &f.cmdline_dashdash), 0);
        /* Debian and RHEL 8/9 build with default-hierarchy=unified; RHEL 7 knows only v1. */
        f.initrd_cgroup = sdc_cgroup_mode_for(&f.initrd_version, "unified", f.cmdline_words, f.cmdline_dashdash, NULL);
        f.init_args_break_parsing = sdc_init_args_break_parsing(f.cmdline_words, f.cmdline_dashdash);
        return f;
}

static SdcMatch eval(const char *id, SdcPairFacts f) {
        const SdcRule *r = sdc_rules_find(rules, id);
        SdcMatch m;

        if (!r) {
                fprintf(stderr, "rule %s is not shipped\n", id);
                abort();
        }
        m = sdc_rule_evaluate(r, &f, NULL);
        sdc_pair_facts_done(&f);
        return m;
}

#define FIRES(id, f)   ASSERT_EQ(eval(id, f), SDC_MATCH_YES)
#define QUIET(id, f)   ASSERT_EQ(eval(id, f), SDC_MATCH_NO)
#define UNKNOWN(id, f) ASSERT_EQ(eval(id, f), SDC_MATCH_UNKNOWN)

static void test_h1(void) {
        FIRES("SDC-H1-VERSION",
              pair("219-67.el7_7.4", "219-73.el7_8.9", NULL)); /* RHEL 7.7 initrd, 7.8 root */
        FIRES("SDC-H1-VERSION", pair("219-67.el7", "239-78.el8", NULL)); /* RHEL 8 has no root-side hack */
        FIRES("SDC-H1-VERSION", pair("219-62.el7_6.9", "252.39-1~deb12u2", NULL));
        QUIET("SDC-H1-VERSION", pair("219-73.el7_8.9", "219-78.el7_9.3", NULL)); /* 219-70 protects itself */
        QUIET("SDC-H1-VERSION",
              pair("219-67.el7_7.4", "219-78.el7_9.9", NULL)); /* 219-78.2 root-side hack */
        QUIET("SDC-H1-VERSION", pair("219-67.el7_7.4", "219-67.el7_7.4", NULL)); /* SIGTERM still clean */
        QUIET("SDC-H1-VERSION", pair("247.3-7+deb11u5", "262.1-1", NULL));
        /* With the image's systemctl read, SDC-H1 decides and the version rule stays out. */
        {
                SdcPairFacts f = pair("219-67.el7_7.4", "219-73.el7_8.9", NULL);

                f.initrd_systemctl_ignores_sigterm = SDC_TRI_NO;
                QUIET("SDC-H1-VERSION", f);
                f = pair("219-67.el7_7.4", "219-73.el7_8.9", NULL);
                f.initrd_systemctl_ignores_sigterm = SDC_TRI_NO;
                FIRES("SDC-H1", f);
                f = pair("247.3-7+deb11u5", "262.1-1", NULL);
                f.initrd_systemctl_ignores_sigterm = SDC_TRI_YES;
                QUIET("SDC-H1", f);
                f = pair("219", "252.39-1~deb12u2", NULL); /* an upstream 219 image, its systemctl read */
                f.initrd_systemctl_ignores_sigterm = SDC_TRI_NO;
                strcpy(f.root_distro.id, "debian");
                FIRES("SDC-H1", f);
        }
}

static void test_h1_unit(void) {
        SdcPairFacts f = pair("252.38-1~deb12u1", "257.13-1~deb13u1", NULL);

        f.initrd_switch_root_via_systemctl = SDC_TRI_NO; /* a shell wraps systemctl */
        FIRES("SDC-H1-UNIT", f);
        QUIET("SDC-H1-UNIT", pair("252.38-1~deb12u1", "257.13-1~deb13u1", NULL));
        f = pair("262.1-1", "247.3-7+deb11u5", NULL);
        f.initrd_switch_root_via_systemctl = SDC_TRI_NO;
        FIRES("SDC-H1-UNIT", f);
        f = pair("262.1-1", "219-67.el7", NULL);
        f.initrd_switch_root_via_systemctl = SDC_TRI_NO;
        QUIET("SDC-H1-UNIT", f); /* RHEL 7.7's own exit rules still call SIGTERM clean */
        f = pair("262.1-1", "262.1-1", NULL);
        f.initrd_switch_root_via_systemctl = SDC_TRI_UNKNOWN;
        UNKNOWN("SDC-H1-UNIT", f);
}

/* RHEL 7 as its trees really are: every binary prints a bare "219"; what differs is in the files
 * (os-release, redhat-release, dracut's initrd-release) and in the binaries' code (systemctl's
 * SIGTERM handling, RHEL's special case in the manager). The probe's facts, set by hand here; the
 * bats suite probes trees built from the RHEL sources. */
static SdcPairFacts
rhel7(const char *initrd_release, bool initrd_protected, const char *root_release, bool root_spares) {
        SdcPairFacts f = pair("219", "219", NULL);

        if (initrd_release) {
                strcpy(f.initrd_distro.id, "rhel");
                strcpy(f.initrd_distro.release, initrd_release);
        }
        if (root_release) {
                strcpy(f.root_distro.id, "rhel");
                strcpy(f.root_distro.release, root_release);
        }
        f.initrd_systemctl_ignores_sigterm = initrd_protected ? SDC_TRI_YES : SDC_TRI_NO;
        f.root_spares_switch_root = root_spares ? SDC_TRI_YES : SDC_TRI_NO;
        return f;
}

static void test_h1_rhel7_facts(void) {
        SdcPairFacts f;

        FIRES("SDC-H1", rhel7("7.7", false, "7.8", false)); /* the original failure */
        QUIET("SDC-H1", rhel7("7.7", false, "7.7", true)); /* 7.7 root: SIGTERM clean */
        QUIET("SDC-H1", rhel7("7.7", false, "7.7", false)); /* 7.7 GA root, no special case */
        QUIET("SDC-H1", rhel7("7.8", true, "7.8", false)); /* 7.8 systemctl ignores SIGTERM */
        QUIET("SDC-H1", rhel7("7.7", false, "7.9", true)); /* 219-78.2's special case */
        FIRES("SDC-H1", rhel7("7.7", false, "7.9", false)); /* 7.9 GA, before 219-78.2 */
        /* A 7.7 image whose systemctl is seen to protect itself (a hotfix build): the binary decides. */
        QUIET("SDC-H1", rhel7("7.7", true, "7.8", false));
        /* Rebranded root: a bare 219 and an os-release naming another distribution. */
        f = rhel7("7.7", false, NULL, false);
        strcpy(f.root_distro.id, "examplecloud");
        UNKNOWN("SDC-H1", f);
        /* No os-release at all on the root. */
        UNKNOWN("SDC-H1", rhel7(NULL, false, NULL, false));
        /* A rebranded image whose systemctl is seen to protect itself: decided. */
        QUIET("SDC-H1", rhel7(NULL, true, NULL, false));
        /* A RHEL-like root that does not say its minor release (CentOS 7 without centos-release). */
        f = rhel7("7.7", false, NULL, false);
        strcpy(f.root_distro.id, "rhel");
        UNKNOWN("SDC-H1", f);
        /* The manager could not be read: RHEL's special case unknown. */
        f = rhel7("7.7", false, "7.9", false);
        f.root_spares_switch_root = SDC_TRI_UNKNOWN;
        UNKNOWN("SDC-H1", f);
        /* The image's systemctl unreadable: the release in its initrd-release decides. */
        f = rhel7("7.7", false, "7.8", false);
        f.initrd_systemctl_ignores_sigterm = SDC_TRI_UNKNOWN;
        FIRES("SDC-H1-VERSION", f);
        f = rhel7("7.7", false, "7.8", false);
        f.initrd_systemctl_ignores_sigterm = SDC_TRI_UNKNOWN;
        UNKNOWN("SDC-H1", f);
        f = rhel7("7.8", false, "7.8", false);
        f.initrd_systemctl_ignores_sigterm = SDC_TRI_UNKNOWN;
        QUIET("SDC-H1-VERSION", f);
        f = rhel7(NULL, false, "7.8", false); /* a rebranded image, unread */
        f.initrd_systemctl_ignores_sigterm = SDC_TRI_UNKNOWN;
        UNKNOWN("SDC-H1-VERSION", f);
        /* And the unit rule sees the same root side. */
        f = rhel7("7.7", false, "7.8", false);
        f.initrd_switch_root_via_systemctl = SDC_TRI_NO;
        FIRES("SDC-H1-UNIT", f);
        f = rhel7("7.7", false, "7.9", true);
        f.initrd_switch_root_via_systemctl = SDC_TRI_NO;
        QUIET("SDC-H1-UNIT", f);
}

/* Rules of the harmless kind say so; the others do not (sdcompat.rules(5)). */
static void test_apply_when_unknown(void) {
        for (size_t i = 0; i < rules->n_rules; i++) {
                const SdcRule *r = &rules->rules[i];
                bool harmless = streq(r->id, "SDC-H1") || streq(r->id, "SDC-H1-UNIT") ||
                        streq(r->id, "SDC-H1-VERSION");

                if (r->apply_when_unknown != harmless) {
                        fprintf(stderr, "%s: ApplyWhenUnknown=%s\n", r->id,
                                r->apply_when_unknown ? "yes" : "no");
                        abort();
                }
        }
}

static void test_h2(void) {
        const char *v1 = "quiet systemd.unified_cgroup_hierarchy=0";
        const char *v1force = "systemd.unified_cgroup_hierarchy=0 SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1";

        FIRES("SDC-H2A", pair("252.38-1~deb12u1", "262.1-1", v1));
        FIRES("SDC-H2A", pair("247.3-7+deb11u5", "262.1-1", "systemd.unified_cgroup_hierarchy=no"));
        FIRES("SDC-H2A", pair("219-78.el7_9.9", "258.1-1", NULL)); /* v219 mounts only v1 */
        QUIET("SDC-H2A", pair("252.38-1~deb12u1", "262.1-1", NULL));
        QUIET("SDC-H2A", pair("257.13-1~deb13u1", "262.1-1", v1)); /* 257 ignores it without FORCE */
        QUIET("SDC-H2A", pair("252.38-1~deb12u1", "257.13-1~deb13u1", v1));

        FIRES("SDC-H2B", pair("252.38-1~deb12u1", "256.7-1", v1));
        QUIET("SDC-H2B", pair("252.38-1~deb12u1", "256.7-1", v1force));
        QUIET("SDC-H2B", pair("252.38-1~deb12u1", "256.7-1", NULL));

        FIRES("SDC-H2C", pair("252.38-1~deb12u1", "257.13-1~deb13u1", v1));
        QUIET("SDC-H2C", pair("252.38-1~deb12u1", "257.13-1~deb13u1", v1force));
        QUIET("SDC-H2C", pair("252.38-1~deb12u1", "257.13-1~deb13u1", NULL));

        FIRES("SDC-H2D", pair("252.38-1~deb12u1", "219-78.el7_9.9", NULL));
        QUIET("SDC-H2D", pair("252.38-1~deb12u1", "219-78.el7_9.9", v1));
        QUIET("SDC-H2D", pair("252.38-1~deb12u1", "239-78.el8", NULL));
}

static void test_h3_h4(void) {
        FIRES("SDC-H3", pair("247.3-7+deb11u5", "233", NULL));
        FIRES("SDC-H3", pair("252.38-1~deb12u1", "234.11", NULL));
        QUIET("SDC-H3", pair("247.3-7+deb11u5", "235", NULL));
        QUIET("SDC-H3", pair("233", "234", NULL)); /* older initramfs */

        FIRES("SDC-H4", pair("247.3-7+deb11u5", "252.38-1~deb12u1", NULL));
        FIRES("SDC-H4", pair("219-78.el7_9.9", "239-78.el8", NULL));
        QUIET("SDC-H4", pair("249.11", "252.38-1~deb12u1", NULL));
        QUIET("SDC-H4", pair("247.3-7+deb11u5", "247.3-7+deb11u5", NULL)); /* stock bullseye */
        QUIET("SDC-H4", pair("252.38-1~deb12u1", "247.3-7+deb11u5", NULL));
}

static void test_h5(void) {
        const char *tokens = "root=LABEL=root quiet -- hello --foo";

        FIRES("SDC-H5", pair("252.5-2", "257.13-1~deb13u1", tokens));        /* Debian 12.0 */
        FIRES("SDC-H5", pair("253.4", "254.26-1~bpo12+1", tokens));           /* upstream 253 */
        FIRES("SDC-H5", pair("250.3-4.fc36", "254.26-1~bpo12+1", "ro --- quiet"));
        QUIET("SDC-H5", pair("252.39-1~deb12u1", "257.13-1~deb13u1", tokens)); /* carries the fix */
        QUIET("SDC-H5", pair("254.26-1~bpo12+1", "257.13-1~deb13u1", tokens));
        QUIET("SDC-H5", pair("252.5-2", "257.13-1~deb13u1", "root=LABEL=root quiet"));
}

static void test_h6(void) {
        SdcPairFacts f = pair("257.13-1~deb13u1", "252.38-1~deb12u1", NULL);

        f.kernel_major = 6, f.kernel_minor = 12;
        FIRES("SDC-H6", f);
        QUIET("SDC-H6", pair("257.13-1~deb13u1", "252.38-1~deb12u1", NULL)); /* kernel 6.1 has no SO_PASSPIDFD */
        f = pair("257.13-1~deb13u1", "262.1-1", NULL);
        f.kernel_major = 6, f.kernel_minor = 12;
        QUIET("SDC-H6", f);
        f = pair("262.1-1", "254.26-1~bpo12+1", NULL);
        f.has_kernel = false;
        UNKNOWN("SDC-H6", f);
}

static void test_h7_h8(void) {
        SdcPairFacts f = pair("247.3-7+deb11u5", "257.13-1~deb13u1", NULL);

        f.root_has_binary_path = SDC_TRI_NO;
        FIRES("SDC-H7", f);
        QUIET("SDC-H7", pair("247.3-7+deb11u5", "257.13-1~deb13u1", NULL));

        f = pair("252.38-1~deb12u1", "257.13-1~deb13u1", NULL);
        f.root_usr_separate = SDC_TRI_YES;
        FIRES("SDC-H8", f);
        f = pair("252.38-1~deb12u1", "256.7-1", NULL);
        f.root_usr_separate = SDC_TRI_YES;
        QUIET("SDC-H8", f);
        QUIET("SDC-H8", pair("252.38-1~deb12u1", "257.13-1~deb13u1", NULL));

        f = pair("252.38-1~deb12u1", "257.13-1~deb13u1", NULL);
        f.root_os_release = SDC_TRI_NO;
        FIRES("SDC-H8-OSRELEASE", f);
        QUIET("SDC-H8-OSRELEASE", pair("252.38-1~deb12u1", "257.13-1~deb13u1", NULL));
}

static void test_h9_h10(void) {
        FIRES("SDC-H9", pair("257.13-1~deb13u1", "247.3-7+deb11u5", NULL));
        QUIET("SDC-H9", pair("247.3-7+deb11u5", "257.13-1~deb13u1", NULL));
        FIRES("SDC-H9-KEYED", pair("247.3-7+deb11u5", "245.4-4ubuntu3.24", NULL));
        QUIET("SDC-H9-KEYED", pair("252.38-1~deb12u1", "247.3-7+deb11u5", NULL));

        FIRES("SDC-H10", pair("252.38-1~deb12u1", "239-78.el8", NULL));
        FIRES("SDC-H10", pair("247.3-7+deb11u5", "219-78.el7_9.9", NULL));
        QUIET("SDC-H10", pair("252.38-1~deb12u1", "240", NULL));
}

static void test_no_systemd_in_initrd(void) {
        /* An initramfs-tools image: no rule applies, whatever the versions say. */
        for (size_t i = 0; i < rules->n_rules; i++) {
                SdcPairFacts f = pair("247.3-7+deb11u5", "262.1-1", "systemd.unified_cgroup_hierarchy=0 -- -s");
                f.initrd_systemd = SDC_TRI_NO;
                f.root_os_release = SDC_TRI_NO;
                f.root_has_binary_path = SDC_TRI_NO;
                ASSERT_EQ(sdc_rule_evaluate(&rules->rules[i], &f, NULL), SDC_MATCH_NO);
                sdc_pair_facts_done(&f);
        }
}

static char tmp[PATH_MAX];

static void write_file(const char *dir, const char *name, const char *content) {
        char p[PATH_MAX * 2];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s/%s", tmp, dir, name);
        f = fopen(p, "we");
        ASSERT_TRUE(f);
        fputs(content, f);
        fclose(f);
}

static const char *const minimal =
        "[Rule]\nId=SDC-T1\nTitle=test\nSeverity=degraded\nAction=none\nRemedy=none\n[Match]\nInitrdSystemd=yes\n";

/* A fresh tmp with the rule directories etc/ and usr/ in it. */
static void make_rule_dirs(char etc[static PATH_MAX + 16], char usr[static PATH_MAX + 16]) {
        snprintf(tmp, sizeof(tmp), "/tmp/sdcompat-test-rules-XXXXXX");
        ASSERT_TRUE(mkdtemp(tmp));
        snprintf(etc, PATH_MAX + 16, "%s/etc", tmp);
        snprintf(usr, PATH_MAX + 16, "%s/usr", tmp);
        ASSERT_EQ(mkdir(etc, 0755), 0);
        ASSERT_EQ(mkdir(usr, 0755), 0);
}

static void test_loader(void) {
        char etc[PATH_MAX + 16], usr[PATH_MAX + 16], path[PATH_MAX * 5], link[PATH_MAX + 64];
        SdcRuleSet *s = NULL;

        make_rule_dirs(etc, usr);

        write_file("usr", "10-a.rules", minimal);
        write_file("usr", "20-b.rules",
                   "[Rule]\nId=SDC-T2\nTitle=b\nSeverity=boot-fails\nAction=fresh\nRemedy=r\n[Match]\nRootVersion=>=258\n");
        write_file("usr", "30-c.rules",
                   "[Rule]\nId=SDC-T3\nTitle=c\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        /* An admin override that changes the severity, a broken override, a mask. */
        write_file("etc", "10-a.rules",
                   "[Rule]\nId=SDC-T1\nTitle=admin\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nInitrdSystemd=yes\n");
        write_file("etc", "20-b.rules", "[Rule]\nId=SDC-T2\nSeverity=sometimes\n");
        snprintf(link, sizeof(link), "%s/30-c.rules", etc);
        ASSERT_EQ(symlink("/dev/null", link), 0);
        /* A new admin rule that reuses a shipped Id is refused. */
        write_file("etc", "40-dup.rules", minimal);

        /* A symlink to a file elsewhere is followed; a dangling one is skipped, as a missing file. */
        write_file("usr", "50-e.rules",
                   "[Rule]\nId=SDC-T5\nTitle=e\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        write_file(".", "elsewhere.rules",
                   "[Rule]\nId=SDC-T5\nTitle=linked\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        snprintf(link, sizeof(link), "%s/50-e.rules", etc);
        ASSERT_EQ(symlink("../elsewhere.rules", link), 0);
        write_file("usr", "60-f.rules",
                   "[Rule]\nId=SDC-T6\nTitle=f\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        snprintf(link, sizeof(link), "%s/60-f.rules", etc);
        ASSERT_EQ(symlink("../nowhere.rules", link), 0);
        /* An empty file masks too. */
        write_file("usr", "70-g.rules",
                   "[Rule]\nId=SDC-T7\nTitle=g\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        write_file("etc", "70-g.rules", "");
        /* A broken override falls back past a mask in a lower directory to the shipped file. */
        write_file("usr", "80-h.rules",
                   "[Rule]\nId=SDC-T8\nTitle=h\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        write_file("etc", "80-h.rules", "[Rule]\nId=SDC-T8\nSeverity=rarely\n");
        snprintf(link, sizeof(link), "%s/run", tmp);
        ASSERT_EQ(mkdir(link, 0755), 0);
        snprintf(link, sizeof(link), "%s/run/80-h.rules", tmp);
        ASSERT_EQ(symlink("/dev/null", link), 0);
        /* Something that is not a file cannot be read: said, and the shipped file is used. */
        write_file("usr", "90-i.rules",
                   "[Rule]\nId=SDC-T9\nTitle=i\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        snprintf(link, sizeof(link), "%s/90-i.rules", etc);
        ASSERT_EQ(mkdir(link, 0755), 0);

        /* A directory that does not exist is no error. */
        snprintf(path, sizeof(path), "%s:%s/missing:%s/run:%s", etc, tmp, tmp, usr);
        ASSERT_EQ(sdc_rules_load(path, &s), 0);
        ASSERT_EQ(s->n_rules, 6);
        ASSERT_STREQ(sdc_rules_find(s, "SDC-T5")->title, "linked");
        ASSERT_TRUE(strstr(sdc_rules_find(s, "SDC-T5")->path, "/etc/50-e.rules") != NULL);
        ASSERT_TRUE(strstr(sdc_rules_find(s, "SDC-T6")->path, "/usr/60-f.rules") != NULL);
        ASSERT_TRUE(sdc_rules_find(s, "SDC-T7") == NULL);
        ASSERT_TRUE(strv_contains(s->masked, "70-g.rules"));
        ASSERT_TRUE(strstr(sdc_rules_find(s, "SDC-T8")->path, "/usr/80-h.rules") != NULL);
        ASSERT_TRUE(strstr(sdc_rules_find(s, "SDC-T9")->path, "/usr/90-i.rules") != NULL);
        ASSERT_EQ(strv_length(s->masked), 2);
        ASSERT_EQ(strv_length(s->errors), 4);
        ASSERT_TRUE(strstr(s->errors[2], "etc/80-h.rules:3: Severity=rarely") != NULL);
        ASSERT_TRUE(strstr(s->errors[3], "etc/90-i.rules: cannot read: Is a directory") != NULL);
        ASSERT_STREQ(sdc_rules_find(s, "SDC-T1")->title, "admin");
        ASSERT_EQ(sdc_rules_find(s, "SDC-T1")->severity, SDC_SEVERITY_COSMETIC);
        /* The broken override did not disable the shipped rule. */
        ASSERT_TRUE(sdc_rules_find(s, "SDC-T2") != NULL);
        ASSERT_TRUE(strstr(sdc_rules_find(s, "SDC-T2")->path, "/usr/20-b.rules") != NULL);
        ASSERT_TRUE(sdc_rules_find(s, "SDC-T3") == NULL);
        ASSERT_TRUE(strv_contains(s->masked, "30-c.rules"));
        ASSERT_TRUE(strstr(s->errors[0], "etc/20-b.rules:3: Severity=sometimes") != NULL);
        ASSERT_TRUE(strstr(s->errors[1], "Id=SDC-T1 is already defined") != NULL);
        sdc_rules_free(s);

        snprintf(path, sizeof(path), "rm -rf %s", tmp);
        ASSERT_EQ(system(path), 0);
}

static void test_parse_errors(void) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                { "Id=SDC-X\n", "x.rules:1: Id= outside of a section" },
                { "[Rule]\n[Nope]\n", "x.rules:2: unknown section [Nope]" },
                { "[Rule]\nId=h1\n", "x.rules:2: Id=h1: must be SDC-" },
                { "[Rule]\nAction=reboot\n", "x.rules:2: Action=reboot: not an action" },
                { "[Match]\nInitrdVersion=~233\n", "x.rules:2: InitrdVersion=~233: invalid value" },
                { "[Match]\nInitrdCgroup=v1\n", "x.rules:2: InitrdCgroup=v1: invalid value" },
                { "[Match]\nKernelVersion=>=6\n", "x.rules:2: KernelVersion=>=6: invalid value" },
                { "[Match]\nInitrdSystemd=maybe\n", "x.rules:2: InitrdSystemd=maybe: invalid value" },
                { "[Match]\nRootFlavour=x\n", "x.rules:2: unknown condition RootFlavour=" },
                { "[Rule]\nnonsense\n", "x.rules:2: expected KEY=VALUE" },
                { "[Rule]\nId=SDC-X\nTitle=t\n", "x.rules: a rule needs Id=, Title=, Severity=" },
                { "[Rule]\nId=SDC-X\nTitle=t\nSeverity=cosmetic\nAction=none\nRemedy=r\n",
                  "needs a [Match] section" },
                { "[Rule]\nId=SDC-X\nTitle=t\nSeverity=cosmetic\nAction=none\nApplyWhenUnknown=yes\nRemedy=r\n[Match]\nInitrdSystemd=yes\n",
                  "needs an Action=" },
                { "[Rule]\nId=SDC-X\nTitle=t\nSeverity=cosmetic\nAction=none\nApplyWhenUnknown=maybe\nRemedy=r\n",
                  "expected yes or no" },
                { "[Rule]\nId=SDC-X\nTitle=t\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nRootVersion=os:rhel:>=7.8a\n",
                  "invalid value" },
                { "[Rule]\nId=SDC-X\nTitle=t\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nRootVersion=os::>=7.8\n",
                  "invalid value" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                SdcRule r = {};
                char *error = NULL;

                ASSERT_EQ(sdc_rule_parse("x.rules", cases[i].text, strlen(cases[i].text), &r, &error), -EBADMSG);
                if (!strstr(error, cases[i].error)) {
                        fprintf(stderr, "case %zu: '%s' does not contain '%s'\n", i, error, cases[i].error);
                        abort();
                }
                free(error);
        }
        {
                SdcRule r = {};
                char *error = NULL;
                ASSERT_EQ(sdc_rule_parse("x.rules", "[Rule]\0x", 8, &r, &error), -EBADMSG);
                free(error);
        }
}

/* A FIFO where a rule file should be (or a symlink to one) is an error said at once, not a read that
 * blocks negotiate until its deadline; the shipped file of the same name is used. */
static void test_loader_fifo(void) {
        char etc[PATH_MAX + 16], usr[PATH_MAX + 16], path[PATH_MAX * 3], fifo[PATH_MAX + 64], link[PATH_MAX + 64];
        SdcRuleSet *s = NULL;

        make_rule_dirs(etc, usr);
        write_file("usr", "10-a.rules", minimal);
        snprintf(fifo, sizeof(fifo), "%s/10-a.rules", etc);
        ASSERT_EQ(mkfifo(fifo, 0644), 0);
        write_file("usr", "20-b.rules",
                   "[Rule]\nId=SDC-T2\nTitle=b\nSeverity=cosmetic\nAction=none\nRemedy=r\n[Match]\nSkew=same\n");
        snprintf(fifo, sizeof(fifo), "%s/pipe", tmp);
        ASSERT_EQ(mkfifo(fifo, 0644), 0);
        snprintf(link, sizeof(link), "%s/20-b.rules", etc);
        ASSERT_EQ(symlink(fifo, link), 0);
        /* The catalogue is read the same way: a FIFO there is no catalogue. */
        snprintf(fifo, sizeof(fifo), "%s/catalogue", etc);
        ASSERT_EQ(mkfifo(fifo, 0644), 0);

        snprintf(path, sizeof(path), "%s:%s", etc, usr);
        ASSERT_EQ(sdc_rules_load(path, &s), 0);
        ASSERT_EQ(s->n_rules, 2);
        ASSERT_TRUE(strstr(sdc_rules_find(s, "SDC-T1")->path, "/usr/10-a.rules") != NULL);
        ASSERT_TRUE(strstr(sdc_rules_find(s, "SDC-T2")->path, "/usr/20-b.rules") != NULL);
        ASSERT_EQ(strv_length(s->errors), 2);
        ASSERT_TRUE(strstr(s->errors[0], "etc/10-a.rules: cannot read: not a regular file") != NULL);
        ASSERT_TRUE(strstr(s->errors[1], "etc/20-b.rules: cannot read: not a regular file") != NULL);
        ASSERT_EQ(s->catalogue.version, 0u);
        sdc_rules_free(s);

        snprintf(path, sizeof(path), "rm -rf %s", tmp);
        ASSERT_EQ(system(path), 0);
}

int main(void) {
        char dirs[PATH_MAX];
        const char *src = getenv("SDCOMPAT_SOURCE_ROOT");

        ASSERT_TRUE(src);
        snprintf(dirs, sizeof(dirs), "%s/rules.d", src);
        ASSERT_EQ(sdc_rules_load(dirs, &rules), 0);
        STRV_FOREACH(e, rules->errors)
                fprintf(stderr, "shipped rule does not load: %s\n", *e);
        ASSERT_EQ(strv_length(rules->errors), 0);
        ASSERT_TRUE(rules->n_rules >= 15);

        TEST(test_h1);
        TEST(test_h1_unit);
        TEST(test_h1_rhel7_facts);
        TEST(test_apply_when_unknown);
        TEST(test_h2);
        TEST(test_h3_h4);
        TEST(test_h5);
        TEST(test_h6);
        TEST(test_h7_h8);
        TEST(test_h9_h10);
        TEST(test_no_systemd_in_initrd);
        TEST(test_loader);
        TEST(test_loader_fifo);
        TEST(test_parse_errors);
        sdc_rules_free(rules);
        return 0;
}
