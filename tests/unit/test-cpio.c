/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The cpio header parser: archives written by GNU cpio (newc and crc) entry by entry, then every way a
 * hand-made header can be wrong. */

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "macro.h"
#include "image-fixtures.h"
#include "tests.h"

static char fixtures[PATH_MAX];

/* Every entry of a real archive against the tree it was packed from, in the order of the list. */
static void test_real_archive(const char *archive, int crc) {
        _cleanup_free_ uint8_t *buf = NULL, *list = NULL;
        size_t size, list_size, pos = 0, n_entries = 0;
        char *line, *saveptr = NULL;
        SdcCpioEntry e;
        int r;

        buf = fixture_read(fixtures, archive, &size);
        list = fixture_read(fixtures, "tree.list", &list_size);
        list[list_size] = 0;

        line = strtok_r((char *) list, "\n", &saveptr);
        for (;;) {
                char path[2 * PATH_MAX];
                struct stat st;
                size_t next;

                r = sdc_cpio_parse_entry(buf + pos, size - pos, &e, &next);
                ASSERT_TRUE(r == 0 || r == 1);
                ASSERT_EQ(next % 4, 0);
                ASSERT_TRUE(next <= size - pos);
                ASSERT_EQ(e.offset, 0);
                if (r == 1) {
                        ASSERT_STREQ(e.name, "TRAILER!!!");
                        pos += next;
                        break;
                }
                ASSERT_TRUE(line);
                ASSERT_STREQ(e.name, line);
                ASSERT_EQ(e.name_len, strlen(line));
                ASSERT_EQ(e.check != 0, crc && S_ISREG(e.mode) && e.size > 0);

                snprintf(path, sizeof(path), "%s/tree/%s", fixtures, line);
                ASSERT_EQ(lstat(path, &st), 0);
                ASSERT_EQ(e.mode, st.st_mode);
                ASSERT_EQ(e.mtime, st.st_mtime);
                ASSERT_EQ(e.uid, st.st_uid);
                if (S_ISREG(st.st_mode)) {
                        _cleanup_free_ uint8_t *content = NULL;
                        char rel[2 * PATH_MAX];
                        size_t content_size;

                        snprintf(rel, sizeof(rel), "tree/%s", line);
                        content = fixture_read(fixtures, rel, &content_size);
                        ASSERT_EQ(e.size, content_size);
                        ASSERT_TRUE(memcmp(e.data, content, content_size) == 0);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlink(path, target, sizeof(target));
                        ASSERT_TRUE(n > 0);
                        ASSERT_EQ(e.size, n);
                        ASSERT_TRUE(memcmp(e.data, target, (size_t) n) == 0);
                } else
                        ASSERT_EQ(e.size, 0);

                pos += next;
                n_entries++;
                line = strtok_r(NULL, "\n", &saveptr);
        }
        ASSERT_TRUE(line == NULL); /* every listed file was in the archive */
        ASSERT_TRUE(n_entries >= 15);
        /* GNU cpio pads the archive to 512-byte blocks with zero bytes. */
        for (; pos < size; pos++)
                ASSERT_EQ(buf[pos], 0);
}

static void test_newc_archive(void) {
        test_real_archive("newc.cpio", 0);
}

static void test_crc_archive(void) {
        test_real_archive("crc.cpio", 1);
}

static void test_fields(void) {
        uint8_t buf[512];
        SdcCpioEntry e;
        size_t n, next;

        n = cpio_put_entry(buf, "070701", 0100644, 5, 6, "a/bcd", "hello", 5, 0);
        ASSERT_EQ(n, 124); /* 110 + 6 = 116, body 5 -> 121, padded to 124 */
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), 0);
        ASSERT_EQ(next, 124);
        ASSERT_STREQ(e.name, "a/bcd");
        ASSERT_EQ(e.name_len, 5);
        ASSERT_EQ(e.mode, 0100644);
        ASSERT_EQ(e.ino, 1);
        ASSERT_EQ(e.nlink, 1);
        ASSERT_EQ(e.size, 5);
        ASSERT_TRUE(memcmp(e.data, "hello", 5) == 0);
        ASSERT_EQ(e.data - buf, 116);

        /* Lower-case hex is as good as upper-case. */
        memcpy(buf + 6 + 8, "000081a4", 8);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), 0);
        ASSERT_EQ(e.mode, 0100644);

        /* The trailer, with what follows it. */
        n = cpio_put_entry(buf, "070701", 0, 0, 11, "TRAILER!!!", NULL, 0, 0);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), 1);
        ASSERT_EQ(next, n);

        /* A name with a NUL inside is, as for the kernel, the part before it. */
        n = cpio_put_entry(buf, "070701", 0100644, 0, 8, "ab", NULL, 0, 0);
        memcpy(buf + 110, "ab\0cdef", 8);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n + 4, &e, &next), 0);
        ASSERT_EQ(e.name_len, 2);

        /* The longest name there may be: 4095 characters and the NUL. */
        {
                _cleanup_free_ uint8_t *big = malloc(8192);
                char *name = malloc(SDC_CPIO_NAME_MAX);
                ASSERT_TRUE(big && name);
                memset(name, 'x', SDC_CPIO_NAME_MAX - 1);
                name[SDC_CPIO_NAME_MAX - 1] = 0;
                n = cpio_put_entry(big, "070701", 040755, 0, SDC_CPIO_NAME_MAX, name, NULL, 0, 0);
                ASSERT_EQ(sdc_cpio_parse_entry(big, n, &e, &next), 0);
                ASSERT_EQ(e.name_len, SDC_CPIO_NAME_MAX - 1);
                free(name);
        }
}

static void test_truncated(void) {
        uint8_t buf[512];
        SdcCpioEntry e;
        size_t n, next;

        n = cpio_put_entry(buf, "070701", 0100644, 9, 4, "abc", "123456789", 9, 0);
        /* Cut anywhere, including inside the padding behind the body: -ENODATA, never a read past the
         * end (the test runs under ASan in CI: a copy of exactly that length catches it). */
        for (size_t cut = 0; cut < n; cut++) {
                uint8_t *copy = malloc(cut + 1);
                memcpy(copy, buf, cut);
                ASSERT_EQ(sdc_cpio_parse_entry(copy, cut, &e, &next), -ENODATA);
                free(copy);
        }
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), 0);
}

static void test_malformed(void) {
        uint8_t buf[8192];
        char reason[128];
        SdcCpioEntry e;
        size_t n, next;

        /* Not a header at all, even when short. */
        ASSERT_EQ(sdc_cpio_parse_entry((const uint8_t *) "ABCD", 4, &e, &next), -EBADMSG);
        ASSERT_EQ(sdc_cpio_parse_entry((const uint8_t *) "0707", 4, &e, &next), -ENODATA);
        n = cpio_put_entry(buf, "070707", 0100644, 0, 2, "a", NULL, 0, 0);
        ASSERT_EQ(sdc_cpio_parse_entry_reason(buf, n, &e, &next, reason, sizeof(reason)), -EBADMSG);
        ASSERT_TRUE(strstr(reason, "odc"));

        /* A non-hex digit in each field in turn. */
        for (size_t field = 0; field < 13; field++)
                for (size_t digit = 0; digit < 8; digit += 7) {
                        n = cpio_put_entry(buf, "070701", 0100644, 0, 2, "a", NULL, 0, 0);
                        buf[6 + 8 * field + digit] = 'g';
                        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), -EBADMSG);
                        buf[6 + 8 * field + digit] = ' ';
                        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), -EBADMSG);
                }
        /* strtoul() would take "+0000001" or " 0x00001": the kernel's hex2bin() does not. */
        n = cpio_put_entry(buf, "070701", 0100644, 0, 2, "a", NULL, 0, 0);
        memcpy(buf + 6 + 8 * 6, "+0000000", 8);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), -EBADMSG);

        /* namesize 0, and one over PATH_MAX. */
        n = cpio_put_entry(buf, "070701", 0100644, 0, 0, "a", NULL, 0, 0);
        ASSERT_EQ(sdc_cpio_parse_entry_reason(buf, n, &e, &next, reason, sizeof(reason)), -EBADMSG);
        ASSERT_STREQ(reason, "name length 0");
        n = cpio_put_entry(buf, "070701", 0100644, 0, 9000, "a", NULL, 0, 0);
        ASSERT_EQ(sdc_cpio_parse_entry_reason(buf, sizeof(buf), &e, &next, reason, sizeof(reason)), -EBADMSG);
        ASSERT_STREQ(reason, "name length 9000 exceeds 4096");
        n = cpio_put_entry(buf, "070701", 0100644, 0, 0xFFFFFFFF, "a", NULL, 0, 0);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, sizeof(buf), &e, &next), -EBADMSG);

        /* A name that does not end in NUL within namesize. */
        n = cpio_put_entry(buf, "070701", 0100644, 0, 2, "ab", NULL, 0, 0);
        ASSERT_EQ(sdc_cpio_parse_entry_reason(buf, n, &e, &next, reason, sizeof(reason)), -EBADMSG);
        ASSERT_TRUE(strstr(reason, "NUL"));

        /* filesize near UINT32_MAX: the body cannot be there; no overflow may make it look so. */
        for (uint32_t size = 0xFFFFFFF0; size != 0; size++) {
                n = cpio_put_entry(buf, "070701", 0100644, size, 2, "a", NULL, 0, 0);
                ASSERT_EQ(sdc_cpio_parse_entry(buf, sizeof(buf), &e, &next), -ENODATA);
        }
}

static void test_crc_checksum(void) {
        uint8_t buf[512];
        char reason[128];
        SdcCpioEntry e;
        size_t n, next;
        uint32_t sum = 'h' + 'e' + 'l' + 'l' + 'o';

        n = cpio_put_entry(buf, "070702", 0100644, 5, 2, "f", "hello", 5, sum);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), 0);
        ASSERT_EQ(e.check, sum);

        n = cpio_put_entry(buf, "070702", 0100644, 5, 2, "f", "hellp", 5, sum);
        ASSERT_EQ(sdc_cpio_parse_entry_reason(buf, n, &e, &next, reason, sizeof(reason)), -EBADMSG);
        ASSERT_TRUE(strstr(reason, "checksum"));

        /* newc carries no checksum: the field is not looked at. */
        n = cpio_put_entry(buf, "070701", 0100644, 5, 2, "f", "hellp", 5, sum);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), 0);

        /* The kernel checks regular files only; a symlink's target is not summed. */
        n = cpio_put_entry(buf, "070702", 0120777, 5, 2, "l", "hello", 5, 0);
        ASSERT_EQ(sdc_cpio_parse_entry(buf, n, &e, &next), 0);
}

int main(void) {
        fixtures_make(fixtures, 1);

        TEST(test_newc_archive);
        TEST(test_crc_archive);
        TEST(test_fields);
        TEST(test_truncated);
        TEST(test_malformed);
        TEST(test_crc_checksum);

        fixtures_remove(fixtures);
        return 0;
}
