/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan file (plan-file.h) and what it is made of: the actions' words (action.h) and the atomic
 * run-file writer (run-file.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"
#include "fileio.h"
#include "macro.h"
#include "plan-file.h"
#include "run-file.h"
#include "tests.h"

/* A plan as negotiate writes it for a bullseye initramfs and a sid root, byte for byte: the
 * version-1 format is a contract with the shim and with `sdcompat status` of other versions. */
static const char plan_v1[] =
        "# The handoff sdcompat negotiate prepared at this boot; see sdcompat(8).\n"
        "SDCOMPAT_PLAN_VERSION=1\n"
        "SDCOMPAT_VERSION=0.1\n"
        "MODE=translate\n"
        "DISABLED=no\n"
        "FORCED=no\n"
        "VERDICT=protected\n"
        "INITRD_SYSTEMD_VERSION=\"247.3-7+deb11u6\"\n"
        "ROOT_SYSTEMD_VERSION=\"262.1-1\"\n"
        "HAZARDS=\"SDC-H1 SDC-H4\"\n"
        "ACTIONS=\"dropin-sigterm-success shim-drop-sections\"\n"
        "UNAVAILABLE=\"\"\n"
        "DURATION_USEC=167579\n"
        "CATALOGUE=initramfs\n"
        "CATALOGUE_VERSION=3\n"
        "ROOT_SYSTEMD_FUTURE=\n"
        "SHIM_TARGET=\"/usr/lib/systemd/systemd\"\n"
        "SHIM_NOTE=\"\"\n"
        "SHIM_FROM=root\n"
        "SHIM_VERSION=0.2\n"
        "SHIM_CHOICE=\"the root's sdcompat-shim 0.2 (newer than the initramfs's 0.1)\"\n"
        "DEBUG=yes\n"
        "NOTE=\"a \\\"quoted\\\" note\"\n"
        "ERRORS=\"\"\n";

static char *format(const SdcPlanFile *p) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ASSERT_TRUE(f);
        ASSERT_EQ(sdc_plan_file_format(p, f), 0);
        ASSERT_EQ(fclose(f), 0);
        return buf;
}

static int parse(const char *text, SdcPlanFile *ret, unsigned *ret_format) {
        return sdc_plan_file_parse(text, strlen(text), ret, ret_format);
}

static void test_actions_words(void) {
        bool set[_SDC_ACTION_MAX] = {}, back[_SDC_ACTION_MAX] = {};
        char *words = NULL;

        ASSERT_EQ(sdc_actions_format(set, &words), 0);
        ASSERT_STREQ(words, "");
        free(words);
        set[SDC_ACTION_NONE] = set[SDC_ACTION_FRESH] = set[SDC_ACTION_DROPIN_SIGTERM_SUCCESS] = true;
        ASSERT_EQ(sdc_actions_format(set, &words), 0);
        /* the catalogue's order, never "none" */
        ASSERT_STREQ(words, "dropin-sigterm-success fresh");
        ASSERT_EQ(sdc_actions_parse(words, back), 0);
        free(words);
        ASSERT_TRUE(back[SDC_ACTION_FRESH] && back[SDC_ACTION_DROPIN_SIGTERM_SUCCESS] && !back[SDC_ACTION_NONE]);
        /* a newer writer's action is counted and skipped; blanks around words are no words */
        memset(back, 0, sizeof(back));
        ASSERT_EQ(sdc_actions_parse("  shim-fold-lines  teleport  fresh ", back), 1);
        ASSERT_TRUE(back[SDC_ACTION_SHIM_FOLD_LINES] && back[SDC_ACTION_FRESH]);
        /* every action at once: no buffer limit */
        for (int a = 0; a < _SDC_ACTION_MAX; a++)
                set[a] = true;
        ASSERT_EQ(sdc_actions_format(set, &words), 0);
        memset(back, 0, sizeof(back));
        ASSERT_EQ(sdc_actions_parse(words, back), 0);
        for (int a = 1; a < _SDC_ACTION_MAX; a++)
                ASSERT_TRUE(back[a]);
        free(words);
}

static void test_round_trip(void) {
        SdcPlanFile p = {};
        unsigned fmt = 99;
        char *text;

        ASSERT_EQ(parse(plan_v1, &p, &fmt), 0);
        ASSERT_EQ(fmt, 1);
        ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
        ASSERT_TRUE(!p.disabled && !p.forced && p.debug && !p.root_systemd_future && !p.catalogue_from_root);
        ASSERT_STREQ(p.verdict, "protected");
        ASSERT_STREQ(p.root_systemd_version, "262.1-1");
        ASSERT_STREQ(p.hazards, "SDC-H1 SDC-H4");
        ASSERT_TRUE(p.actions[SDC_ACTION_SHIM_DROP_SECTIONS] && p.actions[SDC_ACTION_DROPIN_SIGTERM_SUCCESS]);
        ASSERT_TRUE(!p.actions[SDC_ACTION_FRESH]);
        ASSERT_EQ(p.duration_usec, 167579);
        ASSERT_EQ(p.catalogue_version, 3);
        ASSERT_STREQ(p.shim_target, "/usr/lib/systemd/systemd");
        ASSERT_TRUE(!p.shim_note && !p.errors); /* "" is no value */
        ASSERT_STREQ(p.shim_from, "root");
        ASSERT_STREQ(p.shim_version, "0.2");
        ASSERT_STREQ(p.shim_choice, "the root's sdcompat-shim 0.2 (newer than the initramfs's 0.1)");
        ASSERT_EQ(p.unknown_actions, 0);
        ASSERT_STREQ(p.note, "a \"quoted\" note");
        text = format(&p);
        ASSERT_STREQ(text, plan_v1);
        free(text);
        sdc_plan_file_done(&p);
        /* a value read quoted where version 1 writes a word is written quoted: it reads back */
        ASSERT_EQ(parse("SDCOMPAT_PLAN_VERSION=1\nMODE=fresh\nSDCOMPAT_VERSION=\"0.2 beta\"\nVERDICT=\"a b\"\n", &p, &fmt), 0);
        text = format(&p);
        ASSERT_TRUE(strstr(text, "\nSDCOMPAT_VERSION=\"0.2 beta\"\n") && strstr(text, "\nVERDICT=\"a b\"\n"));
        sdc_plan_file_done(&p);
        ASSERT_EQ(parse(text, &p, &fmt), 0);
        ASSERT_STREQ(p.sdcompat_version, "0.2 beta");
        ASSERT_EQ(p.mode, SDC_MODE_FRESH);
        free(text);
        sdc_plan_file_done(&p);
}

static void test_versions(void) {
        SdcPlanFile p = {};
        unsigned fmt;
        char *text = strdup(plan_v1), *v = strstr(text, "VERSION=1");

        ASSERT_TRUE(v);
        /* a newer writer's plan: refused, whatever its values mean; the version is said */
        v[strlen("VERSION=")] = '2';
        ASSERT_EQ(parse(text, &p, &fmt), -EPROTONOSUPPORT);
        ASSERT_EQ(fmt, 2);
        /* older than the first version there ever was */
        v[strlen("VERSION=")] = '0';
        ASSERT_EQ(parse(text, &p, &fmt), -EPROTONOSUPPORT);
        ASSERT_EQ(fmt, 0);
        /* not a number, and no version at all */
        v[strlen("VERSION=")] = 'x';
        ASSERT_EQ(parse(text, &p, &fmt), -EBADMSG);
        ASSERT_EQ(parse("MODE=translate\n", &p, &fmt), -EBADMSG);
        ASSERT_EQ(parse("SDCOMPAT_PLAN_VERSION=\nMODE=translate\n", &p, &fmt), -EBADMSG);
        /* a newer version's unknown mode is reported as the version, not as a bad value */
        ASSERT_EQ(parse("SDCOMPAT_PLAN_VERSION=7\nMODE=teleport\n", &p, &fmt), -EPROTONOSUPPORT);
        ASSERT_EQ(fmt, 7);
        /* and so is a line a newer format may write that version 1 calls malformed */
        ASSERT_EQ(parse("SDCOMPAT_PLAN_VERSION=2\nMODE=native\nNEW=a b\n", &p, &fmt), -EPROTONOSUPPORT);
        free(text);
        /* keys a newer writer added within version 1 are ignored; absent keys have defaults */
        ASSERT_EQ(parse("SDCOMPAT_PLAN_VERSION=1\nMODE=fresh\nSOMETHING_NEW=\"x\"\n", &p, &fmt), 0);
        ASSERT_EQ(p.mode, SDC_MODE_FRESH);
        ASSERT_TRUE(!p.debug && !p.shim_target);
        sdc_plan_file_done(&p);
}

/* A plan of a writer from before the shim choice (no SHIM_FROM, SHIM_VERSION, SHIM_CHOICE) reads, the
 * choice absent; a plan naming an action this reader lacks counts it, which the shim's self-test
 * refuses. */
static void test_older_and_newer_writers(void) {
        SdcPlanFile p = {};
        unsigned fmt;
        char *text = strdup(plan_v1), *a = strstr(text, "SHIM_FROM="), *b = strstr(text, "DEBUG=");

        ASSERT_TRUE(a && b);
        memmove(a, b, strlen(b) + 1);
        ASSERT_EQ(parse(text, &p, &fmt), 0);
        ASSERT_TRUE(!p.shim_from && !p.shim_version && !p.shim_choice);
        ASSERT_STREQ(p.shim_target, "/usr/lib/systemd/systemd");
        sdc_plan_file_done(&p);
        free(text);
        ASSERT_EQ(parse("SDCOMPAT_PLAN_VERSION=1\nMODE=translate\nACTIONS=\"shim-fold-lines teleport warp\"\n", &p, &fmt), 0);
        ASSERT_EQ(p.unknown_actions, 2);
        ASSERT_TRUE(p.actions[SDC_ACTION_SHIM_FOLD_LINES]);
        sdc_plan_file_done(&p);
        ASSERT_EQ(p.unknown_actions, 0);
}

static void test_malformed(void) {
        static const char *const bad[] = {
                "SDCOMPAT_PLAN_VERSION=1\n",                             /* no mode */
                "SDCOMPAT_PLAN_VERSION=1\nMODE=\n",                      /* empty mode */
                "SDCOMPAT_PLAN_VERSION=1\nMODE=teleport\n",              /* a mode version 1 lacks */
                "SDCOMPAT_PLAN_VERSION=1\nMODE=native\nDEBUG=perhaps\n", /* not a boolean */
                "SDCOMPAT_PLAN_VERSION=1\nMODE=native\nDURATION_USEC=-5\n",
                "SDCOMPAT_PLAN_VERSION=1\nMODE=native\nDURATION_USEC=99999999999999999999999\n",
                "SDCOMPAT_PLAN_VERSION=1\nMODE=native\nCATALOGUE=elsewhere\n",
                "SDCOMPAT_PLAN_VERSION=1\nMODE=native\nSHIM_FROM=elsewhere\n",
                "SDCOMPAT_PLAN_VERSION=1\nMODE=native\nACTIONS=a b\n", /* the shell would run b */
                "SDCOMPAT_PLAN_VERSION=1\nMODE=native\nSHIM_TARGET=\"/usr/lib/sys", /* cut in a value */
        };
        SdcPlanFile p;
        unsigned fmt;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                fprintf(stderr, "  %s\n", bad[i]);
                ASSERT_EQ(parse(bad[i], &p, &fmt), -EBADMSG);
        }
        /* the real plan cut at every byte: before its mode is whole, and inside a quoted value, it
         * is refused; elsewhere it reads as a shorter plan (absent keys take their defaults) */
        {
                size_t mode_end = (size_t) (strstr(plan_v1, "MODE=translate\n") - plan_v1) + strlen("MODE=translate");
                bool quoted = false;

                for (size_t cut = 0; cut < sizeof(plan_v1) - 1; cut++) {
                        int r = sdc_plan_file_parse(plan_v1, cut, &p, &fmt);

                        if (cut < mode_end || quoted)
                                ASSERT_EQ(r, -EBADMSG);
                        else
                                ASSERT_TRUE(r == 0 || r == -EBADMSG);
                        if (r == 0) {
                                ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
                                sdc_plan_file_done(&p);
                        }
                        if (plan_v1[cut] == '\\')
                                cut++;
                        else if (plan_v1[cut] == '"')
                                quoted = !quoted;
                }
        }
        /* a NUL byte */
        ASSERT_EQ(sdc_plan_file_parse("SDCOMPAT_PLAN_VERSION=1\nMODE=nat\0ive\n", 36, &p, &fmt), -EBADMSG);
}

static void test_run_file(void) {
        char dir[] = "/tmp/test-plan-file-XXXXXX", *path = NULL, *data = NULL;
        SdcPlanFile p = {}, q = {};
        unsigned fmt;
        struct stat st;
        size_t size;
        int dfd;

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(sdc_plan_file_read(dir, &q, &fmt, &path), -ENOENT);
        ASSERT_EQ(parse(plan_v1, &p, &fmt), 0);
        ASSERT_EQ(sdc_plan_file_write(dir, &p), 0);
        ASSERT_EQ(sdc_run_file_read(dir, SDC_PLAN_FILE_NAME, &path, &data, &size), 0);
        ASSERT_EQ(size, strlen(plan_v1));
        ASSERT_STREQ(data, plan_v1);
        ASSERT_TRUE(strstr(path, "/plan"));
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0644);
        free(data);
        free(path);
        path = NULL;
        ASSERT_EQ(sdc_plan_file_read(dir, &q, &fmt, &path), 0);
        ASSERT_EQ(q.mode, SDC_MODE_TRANSLATE);
        ASSERT_TRUE(path);
        sdc_plan_file_done(&q);
        /* nothing but the file itself is left in the directory: no temporary file */
        dfd = open(dir, O_RDONLY | O_DIRECTORY);
        ASSERT_TRUE(dfd >= 0);
        ASSERT_EQ(faccessat(dfd, "plan", F_OK, 0), 0);
        close(dfd);
        {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s)\" = plan", dir);
                ASSERT_EQ(system(cmd), 0);
        }
        /* a directory that does not exist: the error, and nothing written */
        {
                char missing[160];
                snprintf(missing, sizeof(missing), "%s/no/such", dir);
                ASSERT_EQ(sdc_plan_file_write(missing, &p), -ENOENT);
        }
        unlink(path);
        free(path);
        rmdir(dir);
        sdc_plan_file_done(&p);
}

int main(void) {
        TEST(test_actions_words);
        TEST(test_round_trip);
        TEST(test_versions);
        TEST(test_older_and_newer_writers);
        TEST(test_malformed);
        TEST(test_run_file);
        return 0;
}
