/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What test-pairfacts, test-assess and test-plan-decide share: the initramfs images and root
 * trees tests/fixtures/build made from Debian's packages (SDCOMPAT_FIXTURES, default
 * /var/tmp/sdcompat-fixtures, as the bats suite uses them) and the shipped rules (rules.d of the
 * source tree). No fixtures: the test says so and exits 77, which meson reports as SKIP (never a
 * pass); scripts/run-tests builds them (tests/fixtures/build). */

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmdline.h"
#include "pairfacts.h"
#include "probe.h"
#include "rules.h"
#include "tests.h"
#include "tree-image.h"
#include "tree.h"

static inline const char *fixtures_dir(void) {
        static char dir[PATH_MAX];
        const char *d = getenv("SDCOMPAT_FIXTURES") ?: "/var/tmp/sdcompat-fixtures";
        char index[PATH_MAX + 16];

        snprintf(index, sizeof(index), "%s/index.tsv", d);
        if (access(index, R_OK) < 0) {
                fprintf(stderr, "SKIP: no fixtures in %s (tests/fixtures/build makes them)\n", d);
                exit(77);
        }
        snprintf(dir, sizeof(dir), "%s", d);
        return dir;
}

/* The facts of one side: an image (images/NAME.img, read as sdcompat-check reads it) or a tree
 * (trees/NAME, as negotiate reads /sysroot). The tree stays open for the pair's facts. */
typedef struct Side {
        SdcTree *tree;
        SdcTreeFacts facts;
} Side;

static inline Side side_image(const char *name) {
        static const SdcImageLimits limits = { .max_unpacked = 1ULL << 30, .max_entries = 1 << 20 };
        char path[PATH_MAX * 2];
        SdcImageError err = {};
        Side s = {};

        snprintf(path, sizeof(path), "%s/images/%s.img", fixtures_dir(), name);
        if (sdc_tree_open_image(AT_FDCWD, path, &limits, &s.tree, &err) < 0) {
                fprintf(stderr, "%s: cannot open: %s\n", path, err.message);
                abort();
        }
        ASSERT_EQ(sdc_probe_tree(s.tree, SDC_ROLE_INITRD, &s.facts), 0);
        return s;
}

static inline Side side_tree(const char *name) {
        char path[PATH_MAX * 2];
        Side s = {};

        snprintf(path, sizeof(path), "%s/trees/%s", fixtures_dir(), name);
        ASSERT_EQ(sdc_tree_open_dir(AT_FDCWD, path, 0, &s.tree), 0);
        ASSERT_EQ(sdc_probe_tree(s.tree, SDC_ROLE_ROOT, &s.facts), 0);
        return s;
}

static inline void side_done(Side *s) {
        sdc_tree_facts_done(&s->facts);
        sdc_tree_free(s->tree);
        *s = (Side) {};
}

/* The facts of image INITRD handing over to tree ROOT with this command line, on a 6.1 kernel. */
static inline SdcPairFacts pair_of(const char *initrd, const char *root, const char *cmdline) {
        Side i = side_image(initrd), r = side_tree(root);
        SdcPairFacts f = {};

        ASSERT_EQ(sdc_pair_facts_build(&i.facts, &r.facts, r.tree, cmdline, "6.1.0-13-amd64", &f), 0);
        side_done(&i);
        side_done(&r);
        return f;
}

/* The shipped rules of this source tree. */
static inline SdcRuleSet *shipped_rules(void) {
        const char *src = getenv("SDCOMPAT_SOURCE_ROOT");
        char dir[PATH_MAX + 16];
        SdcRuleSet *rules = NULL;

        if (!src) {
                fprintf(stderr, "SDCOMPAT_SOURCE_ROOT is not set: run this test through 'meson test'\n");
                abort();
        }
        snprintf(dir, sizeof(dir), "%s/rules.d", src);
        ASSERT_EQ(sdc_rules_load(dir, &rules), 0);
        ASSERT_TRUE(rules->n_rules > 10);
        return rules;
}
