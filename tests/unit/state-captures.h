/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The state streams captured in real switch-root boots of each Debian systemd
 * (tests/data/state/README.md says how they were made), for the tests of state.c and state-fd.c. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"
#include "state.h"
#include "strv.h"
#include "tests.h"

static inline char *data_dir(void) {
        const char *src = getenv("SDCOMPAT_SOURCE_ROOT");
        char *d;

        if (!src) {
                fprintf(stderr, "SDCOMPAT_SOURCE_ROOT is not set: run this test through 'meson test'\n");
                abort();
        }
        ASSERT_TRUE(asprintf(&d, "%s/tests/data/state", src) >= 0);
        return d;
}

/* Every capture, sorted; the suite requires one per Debian suite of the VM matrix. */
static inline char **captures(void) {
        _cleanup_free_ char *dir = data_dir();
        char **l = NULL;
        DIR *d = opendir(dir);
        struct dirent *de;

        ASSERT_TRUE(d);
        while ((de = readdir(d))) {
                char *p;

                if (!endswith(de->d_name, ".state"))
                        continue;
                ASSERT_TRUE(asprintf(&p, "%s/%s", dir, de->d_name) >= 0);
                ASSERT_EQ(strv_consume(&l, p), 0);
        }
        closedir(d);
        strv_sort(l);
        return l;
}

static inline void load(const char *path, char **ret, size_t *ret_size) {
        ASSERT_EQ(read_full_file_at(AT_FDCWD, path, SDC_STATE_SIZE_MAX, ret, ret_size), 0);
}
