/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What test-cpio and test-image share: the fixtures that mkimage.sh builds with the real tools, and a
 * writer of hand-made cpio headers for malformed input. */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "macro.h"
#include "tests.h"

/* Runs tests/unit/mkimage.sh into a new temporary directory, whose path is written to dir. A missing
 * tool makes the script fail, and with it the test: fixtures are never silently skipped. */
static inline void fixtures_make(char dir[static PATH_MAX], int cpio_only) {
        const char *src = getenv("SDCOMPAT_SOURCE_ROOT");
        char cmd[3 * PATH_MAX];
        int status;

        if (!src) {
                fprintf(stderr, "SDCOMPAT_SOURCE_ROOT is not set: run this test through 'meson test'\n");
                abort();
        }
        strcpy(dir, "/tmp/sdcompat-test-XXXXXX");
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(cmd, sizeof(cmd), "sh '%s/tests/unit/mkimage.sh' %s '%s'", src, cpio_only ? "--cpio-only" : "", dir);
        status = system(cmd);
        if (status != 0) {
                fprintf(stderr, "mkimage.sh failed (status %d): the fixtures could not be built\n", status);
                abort();
        }
}

static inline void fixtures_remove(const char *dir) {
        char cmd[2 * PATH_MAX];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}

/* The whole file, malloc()ed; aborts if it cannot be read. */
static inline uint8_t *fixture_read(const char *dir, const char *name, size_t *ret_size) {
        /* Allocated to fit: callers build names from other paths, and a silently truncated path
         * would open the wrong file (release builds' -Wformat-truncation says so too). */
        _cleanup_free_ char *path = NULL;
        struct stat st;
        uint8_t *buf;
        FILE *f;

        ASSERT_TRUE(asprintf(&path, "%s/%s", dir, name) >= 0);
        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "cannot open fixture %s\n", path);
                abort();
        }
        ASSERT_EQ(fstat(fileno(f), &st), 0);
        buf = malloc((size_t) st.st_size + 1); /* +1: never malloc(0) */
        ASSERT_TRUE(buf);
        ASSERT_EQ(fread(buf, 1, (size_t) st.st_size, f), (size_t) st.st_size);
        fclose(f);
        *ret_size = (size_t) st.st_size;
        return buf;
}

/* Writes one newc ("070701") or crc ("070702") entry at p, its name and body padded to 4 bytes as
 * cpio does, and returns its length. namesize is written as given (tests pass wrong ones); the name
 * written is strlen(name)+1 bytes. */
static inline size_t cpio_put_entry(uint8_t *p, const char *magic, uint32_t mode, uint32_t filesize, uint32_t namesize,
                                    const char *name, const void *body, size_t body_len, uint32_t check) {
        size_t n, name_len = strlen(name) + 1;

        n = (size_t) sprintf((char *) p, "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic, 1u, mode,
                             0u, 0u, 1u, 0u, filesize, 0u, 0u, 0u, 0u, namesize, check);
        ASSERT_EQ(n, 110);
        memcpy(p + n, name, name_len);
        n += name_len;
        while (n % 4)
                p[n++] = 0;
        if (body_len > 0)
                memcpy(p + n, body, body_len);
        n += body_len;
        while (n % 4)
                p[n++] = 0;
        return n;
}
