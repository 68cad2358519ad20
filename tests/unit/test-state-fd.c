/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state stream on a descriptor (state-fd.c): read without moving the offset, handed on in a
 * new memfd or compacted in place, and put back after a failed compaction. On the captured real
 * streams, in real memfds and files. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "state-fd.h"
#include "state.h"
#include "strv.h"
#include "tests.h"
#include "state-captures.h"

/* Something to drop in every capture (only bullseye's has mount units): every other unit
 * section, which makes many runs to move. */
static bool every_other(const char *name, size_t len, void *userdata) {
        unsigned *n = userdata;
        (void) name, (void) len;
        return (*n)++ % 2 == 1;
}

/* A memfd holding prefix and data, its offset after prefix (where "systemd" left it). */
static int memfd_with(const char *prefix, const char *data, size_t size, unsigned flags) {
        int fd = memfd_create("test-state", MFD_CLOEXEC | flags);
        size_t plen = strlen(prefix);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(loop_write(fd, prefix, plen), 0);
        ASSERT_EQ(loop_write(fd, data, size), 0);
        ASSERT_EQ(lseek(fd, (off_t) plen, SEEK_SET), (off_t) plen);
        return fd;
}

/* The whole file behind fd, whatever its offset. */
static char *contents(int fd, size_t *ret_size) {
        struct stat st;
        char *buf;

        ASSERT_EQ(fstat(fd, &st), 0);
        buf = malloc((size_t) st.st_size + 1);
        ASSERT_TRUE(buf);
        ASSERT_EQ(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        *ret_size = (size_t) st.st_size;
        return buf;
}

static void assert_holds(int fd, const char *prefix, const char *data, size_t size) {
        size_t plen = strlen(prefix), n;
        _cleanup_free_ char *c = contents(fd, &n);

        ASSERT_EQ(n, plen + size);
        ASSERT_TRUE(memcmp(c, prefix, plen) == 0);
        ASSERT_TRUE(memcmp(c + plen, data, size) == 0);
        ASSERT_EQ(lseek(fd, 0, SEEK_CUR), (off_t) plen);
}

/* The first byte a compaction changes: where the first dropped line starts. */
static size_t first_dropped(const SdcState *st) {
        for (size_t i = 0; i < st->n_lines; i++)
                if (st->lines[i].dropped)
                        return st->lines[i].offset;
        return st->size;
}

typedef struct Case {
        SdcStateInput in;
        SdcState st;
        char *expected;
        size_t expected_size;
        int fd;
} Case;

static void case_done(Case *c) {
        sdc_state_done(&c->st);
        sdc_state_input_done(&c->in);
        free(c->expected);
        safe_close(c->fd);
}

/* fd read and parsed, every other unit and lines over 200 bytes dropped, the expected result. */
static void case_prepare(Case *c, int fd) {
        unsigned n = 0;

        c->fd = fd;
        ASSERT_EQ(sdc_state_read_fd(fd, &c->in), 0);
        /* as the shim parses it: the records in the room the read left after the stream */
        ASSERT_TRUE(c->in.lines && c->in.n_lines > 0);
        ASSERT_EQ(sdc_state_parse_in(c->in.data, c->in.size, c->in.lines, c->in.n_lines, &c->st), 0);
        ASSERT_TRUE(c->st.lines == c->in.lines && c->st.lines_borrowed);
        ASSERT_TRUE(sdc_state_drop_units(&c->st, every_other, &n) > 0);
        (void) sdc_state_drop_long_lines(&c->st, 200);
        ASSERT_EQ(sdc_state_write(&c->st, &c->expected, &c->expected_size), 0);
        ASSERT_TRUE(c->expected_size < c->in.size);
}

/* In place and in a new memfd, byte for byte the same stream, on every capture; with the offset
 * at 0 (as systemd leaves it) and after a prefix; in a memfd and in an unlinked file. */
static void test_compact_matches_new_fd(void) {
        _cleanup_strv_free_ char **l = captures();
        static const char *const prefixes[] = { "", "not the state\n" };

        STRV_FOREACH(p, l)
                for (size_t k = 0; k < ELEMENTSOF(prefixes); k++)
                        for (int kind = 0; kind < 2; kind++) {
                                _cleanup_free_ char *data = NULL, *new_data = NULL;
                                _cleanup_(case_done) Case c = { .fd = -1 };
                                _cleanup_close_ int new_fd = -1;
                                size_t size, out_size = 0, new_size, n;
                                bool lost = true;
                                int fd;

                                load(*p, &data, &size);
                                if (kind == 0)
                                        fd = memfd_with(prefixes[k], data, size, 0);
                                else {
                                        char tmpl[] = "/tmp/test-state-fd-XXXXXX";

                                        fd = mkostemp(tmpl, O_CLOEXEC);
                                        ASSERT_TRUE(fd >= 0);
                                        ASSERT_EQ(unlink(tmpl), 0);
                                        ASSERT_EQ(loop_write(fd, prefixes[k], strlen(prefixes[k])), 0);
                                        ASSERT_EQ(loop_write(fd, data, size), 0);
                                        ASSERT_TRUE(lseek(fd, (off_t) strlen(prefixes[k]), SEEK_SET) >= 0);
                                }
                                case_prepare(&c, fd);
                                ASSERT_EQ(c.in.size, size);
                                ASSERT_EQ(c.in.start, (off_t) strlen(prefixes[k]));
                                ASSERT_TRUE(memcmp(c.in.data, data, size) == 0);
                                /* reading did not move the offset */
                                ASSERT_EQ(lseek(fd, 0, SEEK_CUR), c.in.start);

                                new_fd = sdc_state_new_fd(&c.st, &new_size);
                                ASSERT_TRUE(new_fd >= 0);
                                ASSERT_EQ(lseek(new_fd, 0, SEEK_CUR), 0);
                                new_data = contents(new_fd, &n);
                                ASSERT_EQ(n, new_size);

                                ASSERT_EQ(sdc_state_fd_compactable(fd), 0);
                                ASSERT_EQ(sdc_state_compact_fd(fd, &c.in, &c.st, 0, &out_size, &lost), 0);
                                ASSERT_TRUE(!lost);
                                ASSERT_EQ(out_size, c.expected_size);
                                ASSERT_EQ(new_size, c.expected_size);
                                ASSERT_TRUE(memcmp(new_data, c.expected, new_size) == 0);
                                assert_holds(fd, prefixes[k], c.expected, c.expected_size);
                                if (k == 0 && kind == 0)
                                        fprintf(stderr, "   %s: %zu -> %zu bytes in place, the first %zu kept where they were\n",
                                                *p, size, out_size, first_dropped(&c.st));
                        }
}

/* Nothing dropped: nothing written, the stream as it was. */
static void test_compact_nothing_dropped(void) {
        _cleanup_strv_free_ char **l = captures();
        _cleanup_free_ char *data = NULL;
        _cleanup_(sdc_state_input_done) SdcStateInput in = {};
        _cleanup_(sdc_state_done) SdcState st = {};
        _cleanup_close_ int fd = -1;
        size_t size, out_size = 0;
        bool lost = true;

        load(l[0], &data, &size);
        fd = memfd_with("", data, size, 0);
        ASSERT_EQ(sdc_state_read_fd(fd, &in), 0);
        ASSERT_EQ(sdc_state_parse(in.data, in.size, &st), 0);
        ASSERT_EQ(sdc_state_compact_fd(fd, &in, &st, 0, &out_size, &lost), 0);
        ASSERT_EQ(out_size, size);
        assert_holds(fd, "", data, size);
}

/* Descriptors that must not be rewritten: refused before anything is written, so the original
 * is there to hand on (the shim then writes a new memfd). */
static void test_compact_refused(void) {
        _cleanup_strv_free_ char **l = captures();
        _cleanup_free_ char *data = NULL;
        static const struct {
                const char *what;
                unsigned seals;   /* added to a memfd */
                int reopen_flags; /* or: the memfd reopened with these */
                int error;
        } cases[] = {
                { "sealed against writing (newer systemd)", F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE, 0, -EPERM },
                { "sealed against shrinking", F_SEAL_SHRINK, 0, -EPERM },
                { "read-only", 0, O_RDONLY, -EBADF },
                { "write-only", 0, O_WRONLY, -EBADF },
                { "O_APPEND", 0, O_RDWR | O_APPEND, -EINVAL },
        };
        size_t size;

        load(l[0], &data, &size);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(case_done) Case c = { .fd = -1 };
                _cleanup_close_ int memfd = memfd_with("", data, size, MFD_ALLOW_SEALING), fd = -1;
                size_t out_size = 0;
                bool lost = true;

                if (cases[i].seals)
                        ASSERT_EQ(fcntl(memfd, F_ADD_SEALS, cases[i].seals), 0);
                if (cases[i].reopen_flags || !cases[i].seals) {
                        char path[64];

                        snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
                        fd = open(path, cases[i].reopen_flags | O_CLOEXEC);
                        ASSERT_TRUE(fd >= 0);
                } else
                        fd = fcntl(memfd, F_DUPFD_CLOEXEC, 3);
                fprintf(stderr, "   %s\n", cases[i].what);
                ASSERT_EQ(sdc_state_fd_compactable(fd), cases[i].error);
                if (cases[i].reopen_flags == O_WRONLY) {
                        /* cannot be read either: the shim hands it on untouched */
                        SdcStateInput in = {};

                        ASSERT_EQ(sdc_state_read_fd(fd, &in), -EBADF);
                        assert_holds(memfd, "", data, size);
                        continue;
                }
                case_prepare(&c, TAKE_FD(fd));
                ASSERT_EQ(sdc_state_compact_fd(c.fd, &c.in, &c.st, 0, &out_size, &lost), cases[i].error);
                ASSERT_TRUE(!lost);
                assert_holds(memfd, "", data, size);
        }
        {
                /* a pipe cannot be read without consuming it */
                int p[2];
                SdcStateInput in = {};

                ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
                ASSERT_EQ(write(p[1], "a=b\n\n", 5), 5);
                ASSERT_EQ(sdc_state_fd_compactable(p[0]), -ESPIPE);
                ASSERT_EQ(sdc_state_read_fd(p[0], &in), -ESPIPE);
                safe_close(p[0]);
                safe_close(p[1]);
        }
}

/* A real failure in the middle of the compaction: RLIMIT_FSIZE below the end of the stream makes
 * the writes past it fail with EFBIG. What was overwritten before goes back, and the descriptor
 * holds the original, byte for byte. */
static void test_compact_restore_after_failure(void) {
        _cleanup_strv_free_ char **l = captures();

        STRV_FOREACH(p, l) {
                _cleanup_free_ char *data = NULL;
                _cleanup_(case_done) Case c = { .fd = -1 };
                struct rlimit old, lim;
                size_t size, out_size = 0, first;
                bool lost = true;
                int r;

                load(*p, &data, &size);
                case_prepare(&c, memfd_with("prefix\n", data, size, 0));
                first = first_dropped(&c.st);
                ASSERT_TRUE(first < c.expected_size);
                ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
                lim = old;
                /* halfway between the first byte to move and the end of the output */
                lim.rlim_cur = (rlim_t) c.in.start + first + (c.expected_size - first) / 2;
                ASSERT_TRUE(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
                ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
                r = sdc_state_compact_fd(c.fd, &c.in, &c.st, 0, &out_size, &lost);
                ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
                ASSERT_TRUE(signal(SIGXFSZ, SIG_DFL) != SIG_ERR);
                fprintf(stderr, "   %s: limit at %llu: %s, %s\n", *p, (unsigned long long) lim.rlim_cur, strerror(-r),
                        lost ? "lost" : "restored");
                ASSERT_EQ(r, -EFBIG);
                ASSERT_TRUE(!lost);
                assert_holds(c.fd, "prefix\n", data, size);
        }
}

/* The test-only failures the shim's rd.sdcompat.fault=compact and =restore use. */
static void test_compact_faults(void) {
        _cleanup_strv_free_ char **l = captures();
        _cleanup_free_ char *data = NULL;
        size_t size;

        load(l[0], &data, &size);
        {
                _cleanup_(case_done) Case c = { .fd = -1 };
                size_t out_size = 0;
                bool lost = true;

                case_prepare(&c, memfd_with("", data, size, 0));
                ASSERT_EQ(sdc_state_compact_fd(c.fd, &c.in, &c.st, SDC_STATE_FAULT_COMPACT, &out_size, &lost), -EIO);
                ASSERT_TRUE(!lost);
                assert_holds(c.fd, "", data, size);
        }
        {
                _cleanup_(case_done) Case c = { .fd = -1 };
                size_t out_size = 0;
                bool lost = false;

                case_prepare(&c, memfd_with("", data, size, 0));
                ASSERT_EQ(sdc_state_compact_fd(c.fd, &c.in, &c.st, SDC_STATE_FAULT_COMPACT | SDC_STATE_FAULT_RESTORE,
                                               &out_size, &lost), -EIO);
                ASSERT_TRUE(lost);
        }
        {
                /* a parse of another buffer is refused: the compaction writes from in */
                _cleanup_(case_done) Case c = { .fd = -1 };
                _cleanup_(sdc_state_done) SdcState other = {};
                size_t out_size = 0;
                bool lost = true;

                case_prepare(&c, memfd_with("", data, size, 0));
                ASSERT_EQ(sdc_state_parse(data, size, &other), 0);
                ASSERT_EQ(sdc_state_compact_fd(c.fd, &c.in, &other, 0, &out_size, &lost), -EINVAL);
                ASSERT_TRUE(!lost);
                assert_holds(c.fd, "", data, size);
        }
}

/* Whether a line is longer than max: the same answer as the parser's line lengths, on every
 * capture, at lengths around the longest line, from an offset, without moving it. */
static void test_has_long_line(void) {
        _cleanup_strv_free_ char **l = captures();
        _cleanup_free_ char *long_prefix = malloc(1002);

        /* before the offset: longer than every line, and not looked at */
        ASSERT_TRUE(long_prefix);
        memset(long_prefix, '.', 1000);
        strcpy(long_prefix + 1000, "\n");

        STRV_FOREACH(p, l) {
                _cleanup_free_ char *data = NULL;
                _cleanup_(sdc_state_done) SdcState st = {};
                _cleanup_close_ int fd = -1;
                size_t size, longest = 0;

                load(*p, &data, &size);
                ASSERT_EQ(sdc_state_parse(data, size, &st), 0);
                for (size_t i = 0; i < st.n_lines; i++)
                        longest = MAX(longest, (size_t) st.lines[i].length);
                fprintf(stderr, "   %s: longest line %zu bytes\n", *p, longest);
                fd = memfd_with(long_prefix, data, size, 0);
                for (size_t max = 0; max <= longest + 1; max = max < longest - 2 ? max + 97 : max + 1) {
                        size_t n = 0;

                        ASSERT_EQ(sdc_state_fd_has_long_line(fd, max, &n), longest > max);
                        ASSERT_TRUE(n > 0 && n <= size);
                        if (longest <= max)
                                ASSERT_EQ(n, size);
                }
                ASSERT_EQ(lseek(fd, 0, SEEK_CUR), (off_t) strlen(long_prefix));
        }
        {
                /* lines across the 16 KiB pieces, and a last one without a newline */
                static const size_t lengths[] = { 16383, 16384, 16385, 40000, 5 };
                _cleanup_free_ char *text = malloc(100000);
                size_t size = 0;

                ASSERT_TRUE(text);
                for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
                        memset(text + size, 'x', lengths[i]);
                        size += lengths[i];
                        if (i + 1 < ELEMENTSOF(lengths))
                                text[size++] = '\n';
                }
                {
                        _cleanup_close_ int fd = memfd_with("", text, size, 0);
                        size_t n;

                        ASSERT_EQ(sdc_state_fd_has_long_line(fd, 40000, &n), 0);
                        ASSERT_EQ(n, size);
                        ASSERT_EQ(sdc_state_fd_has_long_line(fd, 39999, &n), 1);
                        ASSERT_EQ(sdc_state_fd_has_long_line(fd, 16384, &n), 1);
                        ASSERT_EQ(n, (size_t) 4 * 16384); /* the 16385-byte line ends in the fourth piece */
                        ASSERT_EQ(sdc_state_fd_has_long_line(fd, 16383, &n), 1);
                        ASSERT_EQ(n, (size_t) 2 * 16384); /* the 16384-byte line is too long before its end */
                }
                {
                        static const char text2[] = "a=b\n\nfoo.service\nxxxxxxxxxxxx";
                        _cleanup_close_ int fd = memfd_with("", text2, STRLEN(text2), 0);
                        size_t n;

                        ASSERT_EQ(sdc_state_fd_has_long_line(fd, 12, &n), 0);
                        ASSERT_EQ(n, STRLEN(text2));
                        ASSERT_EQ(sdc_state_fd_has_long_line(fd, 11, &n), 1); /* the last line, without a newline */
                }
        }
}

int main(void) {
        TEST(test_compact_matches_new_fd);
        TEST(test_compact_nothing_dropped);
        TEST(test_compact_refused);
        TEST(test_compact_restore_after_failure);
        TEST(test_compact_faults);
        TEST(test_has_long_line);
        return 0;
}
