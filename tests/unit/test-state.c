/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state stream parser and transforms, on streams captured in real switch-root boots of each
 * Debian systemd (tests/data/state/README.md says how they were made). */
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
#include "state-captures.h"

static bool is_mount_or_automount(const char *name, size_t len, void *userdata) {
        (void) userdata;
        return sdc_unit_is_mount(name, len);
}

static size_t count_units(const SdcState *s, bool (*match)(const char *, size_t, void *)) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_lines; i++) {
                const char *name;
                size_t len;

                if (s->lines[i].kind != SDC_STATE_UNIT_NAME || s->lines[i].dropped)
                        continue;
                name = sdc_state_unit_name(s, i, &len);
                if (!match || match(name, len, NULL))
                        n++;
        }
        return n;
}

static void test_suites_present(void) {
        static const char *const suites[] = { "bullseye", "bookworm", "bookworm-backports", "trixie", "sid" };
        _cleanup_strv_free_ char **l = captures();

        for (size_t i = 0; i < ELEMENTSOF(suites); i++) {
                bool found = false;
                char prefix[64];

                snprintf(prefix, sizeof(prefix), "/%s-", suites[i]);
                STRV_FOREACH(p, l)
                        if (strstr(*p, prefix) && !strstr(*p, "-backports-") == !strstr(prefix, "-backports-"))
                                found = true;
                fprintf(stderr, "   %s: %s\n", suites[i], found ? "captured" : "MISSING");
                ASSERT_TRUE(found);
        }
}

/* Parsed and written without changes, every capture comes out byte for byte. */
static void test_round_trip(void) {
        _cleanup_strv_free_ char **l = captures();

        STRV_FOREACH(p, l) {
                _cleanup_free_ char *data = NULL, *out = NULL;
                _cleanup_(sdc_state_done) SdcState s = {};
                size_t size, out_size;
                const char *v;
                size_t len;

                load(*p, &data, &size);
                ASSERT_EQ(sdc_state_parse(data, size, &s), 0);
                ASSERT_EQ(sdc_state_write(&s, &out, &out_size), 0);
                fprintf(stderr, "   %s: %zu bytes, %zu lines, %zu units\n", *p, size, s.n_lines, s.n_units);
                ASSERT_EQ(out_size, size);
                ASSERT_TRUE(memcmp(out, data, size) == 0);
                /* what every systemd writes on switch-root */
                ASSERT_TRUE(s.header_complete);
                ASSERT_TRUE(s.n_units > 10);
                ASSERT_TRUE(count_units(&s, NULL) == s.n_units);
                v = sdc_state_header_value(&s, "current-job-id", &len);
                ASSERT_TRUE(v && len > 0);
                for (size_t i = 0; i < s.n_lines; i++)
                        ASSERT_TRUE(s.lines[i].kind != SDC_STATE_JOB_BEGIN); /* never on switch-root */
        }
}

/* H4: initrds before v249 hand over mount and automount units; dropping them leaves every other
 * section byte for byte, and the result parses to the rest. */
static void test_drop_sections(void) {
        _cleanup_strv_free_ char **l = captures();
        bool saw_mounts = false;

        STRV_FOREACH(p, l) {
                _cleanup_free_ char *data = NULL, *out = NULL;
                _cleanup_(sdc_state_done) SdcState s = {}, again = {};
                size_t size, out_size, mounts, total, dropped;

                load(*p, &data, &size);
                ASSERT_EQ(sdc_state_parse(data, size, &s), 0);
                total = s.n_units;
                mounts = count_units(&s, is_mount_or_automount);
                dropped = sdc_state_drop_units(&s, is_mount_or_automount, NULL);
                fprintf(stderr, "   %s: %zu of %zu units are mounts or automounts\n", *p, mounts, total);
                ASSERT_EQ(dropped, mounts);
                /* v247 (bullseye) still serializes them on switch-root; v249+ do not. */
                if (strstr(*p, "/bullseye-")) {
                        ASSERT_TRUE(mounts > 0);
                        saw_mounts = true;
                } else
                        ASSERT_EQ(mounts, (size_t) 0);
                ASSERT_EQ(sdc_state_write(&s, &out, &out_size), 0);
                ASSERT_EQ(sdc_state_parse(out, out_size, &again), 0);
                ASSERT_EQ(again.n_units, total - mounts);
                ASSERT_EQ(count_units(&again, is_mount_or_automount), (size_t) 0);
                ASSERT_TRUE(again.header_complete);
                /* the header is untouched */
                for (size_t i = 0; i < s.n_lines && s.lines[i].kind != SDC_STATE_HEADER_END; i++)
                        ASSERT_TRUE(memcmp(out + s.lines[i].offset, data + s.lines[i].offset, s.lines[i].length) == 0);
        }
        ASSERT_TRUE(saw_mounts);
}

typedef struct Runs {
        const char *data;
        char *joined;
        size_t size, n, last_end, calls, fail_at;
} Runs;

static int collect_run(const char *p, size_t n, void *userdata) {
        Runs *r = userdata;
        size_t at = (size_t) (p - r->data);

        r->calls++;
        if (r->fail_at && r->calls == r->fail_at)
                return -EIO;
        ASSERT_TRUE(n > 0);
        /* in order, and maximal: a run never starts where the previous one ended */
        ASSERT_TRUE(r->n == 0 || at > r->last_end);
        memcpy(r->joined + r->size, p, n);
        r->size += n;
        r->n++;
        r->last_end = at + n;
        return 0;
}

/* The runs the shim writes to its new descriptor are exactly what sdc_state_write() returns: one
 * run per stretch between dropped sections, and an error from the writer stops them. */
static void test_write_runs(void) {
        _cleanup_strv_free_ char **l = captures();

        STRV_FOREACH(p, l) {
                _cleanup_free_ char *data = NULL, *out = NULL, *joined = NULL;
                _cleanup_(sdc_state_done) SdcState s = {};
                size_t size, out_size, dropped;
                Runs r;

                load(*p, &data, &size);
                joined = malloc(size + 1);
                ASSERT_TRUE(joined);
                ASSERT_EQ(sdc_state_parse(data, size, &s), 0);

                r = (Runs) { .data = data, .joined = joined };
                ASSERT_EQ(sdc_state_write_runs(&s, collect_run, &r), 0);
                ASSERT_EQ(r.n, (size_t) (size > 0)); /* nothing dropped: the whole stream in one run */
                ASSERT_EQ(r.size, size);

                dropped = sdc_state_drop_units(&s, is_mount_or_automount, NULL);
                r = (Runs) { .data = data, .joined = joined };
                ASSERT_EQ(sdc_state_write_runs(&s, collect_run, &r), 0);
                ASSERT_TRUE(r.n >= 1 && r.n <= dropped + 1);
                ASSERT_EQ(sdc_state_write(&s, &out, &out_size), 0);
                ASSERT_EQ(r.size, out_size);
                ASSERT_TRUE(memcmp(joined, out, out_size) == 0);

                r = (Runs) { .data = data, .joined = joined, .fail_at = 1 };
                ASSERT_EQ(sdc_state_write_runs(&s, collect_run, &r), -EIO);
                ASSERT_EQ(r.calls, (size_t) 1);
        }
}

/* H10: a real stream with one item made longer than a v239 reader's buffer (hand-made only in
 * that one line): that item goes, nothing else. */
static void test_long_lines(void) {
        _cleanup_strv_free_ char **l = captures();
        _cleanup_free_ char *data = NULL, *big = NULL, *out = NULL;
        _cleanup_(sdc_state_done) SdcState s = {}, again = {};
        size_t size, out_size, at, pad = 5000;
        const char *nl;

        ASSERT_TRUE(l && l[0]);
        load(l[0], &data, &size);
        /* after the first unit's name line: a long item inside that unit */
        nl = memchr(data, '\n', size);
        ASSERT_TRUE(nl);
        nl = strstr(data, "\n\n");
        ASSERT_TRUE(nl);
        nl = memchr(nl + 2, '\n', size - (size_t) (nl + 2 - data));
        ASSERT_TRUE(nl);
        at = (size_t) (nl + 1 - data);
        big = malloc(size + pad + 16);
        ASSERT_TRUE(big);
        memcpy(big, data, at);
        memcpy(big + at, "description=", 12);
        memset(big + at + 12, 'x', pad);
        big[at + 12 + pad] = '\n';
        memcpy(big + at + 13 + pad, data + at, size - at);

        ASSERT_EQ(sdc_state_parse(big, size + pad + 13, &s), 0);
        ASSERT_EQ(sdc_state_drop_long_lines(&s, SDC_STATE_OLD_READER_LINE_MAX), (size_t) 1);
        ASSERT_EQ(sdc_state_write(&s, &out, &out_size), 0);
        ASSERT_EQ(out_size, size);
        ASSERT_TRUE(memcmp(out, data, size) == 0);
        ASSERT_EQ(sdc_state_parse(out, out_size, &again), 0);
        ASSERT_EQ(again.n_units, s.n_units);
        ASSERT_EQ(s.longest, 12 + pad);
        ASSERT_TRUE(again.longest <= SDC_STATE_OLD_READER_LINE_MAX);
        /* nothing longer than that left: the walk is skipped and drops nothing */
        ASSERT_EQ(sdc_state_drop_long_lines(&again, SDC_STATE_OLD_READER_LINE_MAX), (size_t) 0);
}

/* The line records in the caller's memory (the shim's read buffer): the same records as
 * sdc_state_parse()'s, whether they fit, fill it exactly, or outgrow it into an allocation of
 * their own; sdc_state_done() frees only that one. */
static void test_parse_in(void) {
        _cleanup_strv_free_ char **l = captures();

        STRV_FOREACH(p, l) {
                _cleanup_free_ char *data = NULL;
                _cleanup_free_ SdcStateLine *room = NULL;
                _cleanup_(sdc_state_done) SdcState ref = {};
                size_t size;

                load(*p, &data, &size);
                ASSERT_EQ(sdc_state_parse(data, size, &ref), 0);
                room = malloc(ref.n_lines * sizeof(SdcStateLine));
                ASSERT_TRUE(room);
                size_t rooms[] = { 0, 1, 2, 7, ref.n_lines / 2, ref.n_lines - 1, ref.n_lines };

                for (size_t k = 0; k < ELEMENTSOF(rooms); k++) {
                        SdcState s = {};
                        size_t n = rooms[k];

                        ASSERT_EQ(sdc_state_parse_in(data, size, n ? room : NULL, n, &s), 0);
                        ASSERT_EQ(s.n_lines, ref.n_lines);
                        ASSERT_EQ(s.n_units, ref.n_units);
                        ASSERT_EQ(s.longest, ref.longest);
                        ASSERT_TRUE(s.header_complete == ref.header_complete);
                        for (size_t i = 0; i < ref.n_lines; i++) {
                                ASSERT_EQ(s.lines[i].offset, ref.lines[i].offset);
                                ASSERT_EQ(s.lines[i].length, ref.lines[i].length);
                                ASSERT_TRUE(s.lines[i].kind == ref.lines[i].kind);
                                ASSERT_TRUE(s.lines[i].newline == ref.lines[i].newline);
                                ASSERT_TRUE(!s.lines[i].dropped);
                        }
                        /* in the room when it fits, moved out when it does not */
                        ASSERT_TRUE((s.lines == room) == (n > 0 && n >= ref.n_lines));
                        ASSERT_TRUE(s.lines_borrowed == (s.lines == room));
                        sdc_state_done(&s);
                }
                fprintf(stderr, "   %s: %zu records, in the caller's room or moved out\n", *p, ref.n_lines);
        }
}

static void test_unit_types(void) {
        ASSERT_TRUE(sdc_unit_type_known("foo.service", 11, 219));
        ASSERT_TRUE(sdc_unit_type_known("foo.snapshot", 12, 227));
        ASSERT_TRUE(!sdc_unit_type_known("foo.snapshot", 12, 233));
        ASSERT_TRUE(sdc_unit_type_known("foo.busname", 11, 234));
        ASSERT_TRUE(!sdc_unit_type_known("foo.busname", 11, 235));
        ASSERT_TRUE(!sdc_unit_type_known("foo.nonsense", 12, 262));
        ASSERT_TRUE(!sdc_unit_type_known(".service", 8, 262));
        ASSERT_TRUE(sdc_unit_type_known("a.b.service", 11, 262));
        ASSERT_TRUE(sdc_unit_type_known("x.snapshot.swap", 15, 262));
        ASSERT_TRUE(!sdc_unit_type_known("foo.service.", 12, 262));
        ASSERT_TRUE(!sdc_unit_type_known("service", 7, 262));
        ASSERT_TRUE(!sdc_unit_type_known("foo.servicex", 12, 262));
        ASSERT_TRUE(sdc_unit_is_mount("tmp.mount", 9));
        ASSERT_TRUE(sdc_unit_is_mount("proc-sys-fs-binfmt_misc.automount", 33));
        ASSERT_TRUE(!sdc_unit_is_mount(".mount", 6));
        ASSERT_TRUE(!sdc_unit_is_mount("tmp.mount.service", 17));
}

/* Malformed input: no header end, a truncated unit, blank lines of spaces, no final newline. */
static void test_malformed(void) {
        static const char *const inputs[] = {
                "", "\n", "a=b", "a=b\n", "a=b\n\n", "a=b\n\nfoo.service\nx=1", "a=b\n  \t\nfoo.service\njob\nx\n\n",
                "\n\n\n\n", "a\r\n\r\nb.mount\r\n\r\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                _cleanup_(sdc_state_done) SdcState s = {};
                _cleanup_free_ char *out = NULL;
                size_t out_size;

                ASSERT_EQ(sdc_state_parse(inputs[i], strlen(inputs[i]), &s), 0);
                ASSERT_EQ(sdc_state_write(&s, &out, &out_size), 0);
                ASSERT_EQ(out_size, strlen(inputs[i]));
                ASSERT_TRUE(memcmp(out, inputs[i], out_size) == 0);
        }
        {
                _cleanup_(sdc_state_done) SdcState s = {};

                static const char text[] = "a=b\n  \t\nfoo.service\njob\nx\n\n";

                ASSERT_EQ(sdc_state_parse(text, STRLEN(text), &s), 0);
                ASSERT_EQ(s.n_lines, (size_t) 6);
                ASSERT_TRUE(s.header_complete);
                ASSERT_EQ(s.n_units, (size_t) 1);
                ASSERT_EQ(s.lines[3].kind, SDC_STATE_JOB_BEGIN);
                ASSERT_EQ(s.lines[5].kind, SDC_STATE_JOB_END);
        }
        {
                SdcState s;
                ASSERT_EQ(sdc_state_parse("", SDC_STATE_SIZE_MAX + 1, &s), -EFBIG);
        }
        {
                /* far more lines than real streams have for their size: the line array grows */
                _cleanup_(sdc_state_done) SdcState s = {};
                _cleanup_free_ char *text = malloc(20001), *out = NULL;
                size_t out_size;

                ASSERT_TRUE(text);
                for (size_t i = 0; i < 20000; i += 2)
                        memcpy(text + i, i % 6 == 0 ? "\n\n" : "x\n", 2);
                ASSERT_EQ(sdc_state_parse(text, 20000, &s), 0);
                ASSERT_TRUE(s.n_lines > 20000 / 24 + 16);
                ASSERT_EQ(sdc_state_write(&s, &out, &out_size), 0);
                ASSERT_EQ(out_size, (size_t) 20000);
                ASSERT_TRUE(memcmp(out, text, out_size) == 0);
        }
}

/* The parser's lines are exactly the newline-separated pieces a plain memchr() walk finds: on every
 * capture, and on lines of every length from 0 to 200 (across the 64-byte blocks the parser
 * scans), with and without a final newline. */
static void assert_lines_as_memchr(const char *data, size_t size) {
        _cleanup_(sdc_state_done) SdcState s = {};
        size_t i = 0, off = 0;

        ASSERT_EQ(sdc_state_parse(data, size, &s), 0);
        while (off < size) {
                const char *nl = memchr(data + off, '\n', size - off);
                size_t len = nl ? (size_t) (nl - (data + off)) : size - off;

                ASSERT_TRUE(i < s.n_lines);
                ASSERT_EQ(s.lines[i].offset, off);
                ASSERT_EQ(s.lines[i].length, len);
                ASSERT_EQ(s.lines[i].newline, nl != NULL);
                off += len + (nl ? 1 : 0);
                i++;
        }
        ASSERT_EQ(s.n_lines, i);
}

static void test_line_split(void) {
        _cleanup_strv_free_ char **l = captures();
        _cleanup_free_ char *text = malloc(201 * 202 / 2 + 1);
        size_t size = 0;

        STRV_FOREACH(p, l) {
                _cleanup_free_ char *data = NULL;
                size_t n;

                load(*p, &data, &n);
                assert_lines_as_memchr(data, n);
        }
        ASSERT_TRUE(text);
        for (size_t len = 0; len <= 200; len++) {
                memset(text + size, len % 2 ? 'x' : ' ', len);
                size += len;
                text[size++] = '\n';
        }
        for (size_t cut = 0; cut <= size; cut += cut < 300 ? 1 : 61)
                assert_lines_as_memchr(text, cut);
        for (size_t start = 1; start < 64; start++)
                assert_lines_as_memchr(text + start, size - start);
}

int main(void) {
        TEST(test_unit_types);
        TEST(test_malformed);
        TEST(test_line_split);
        TEST(test_suites_present);
        TEST(test_round_trip);
        TEST(test_drop_sections);
        TEST(test_write_runs);
        TEST(test_long_lines);
        TEST(test_parse_in);
        return 0;
}
