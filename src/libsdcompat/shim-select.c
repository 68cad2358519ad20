/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which sdcompat-shim negotiate mounts; the checks and their order are in shim-select.h. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "cmdline.h"
#include "envfile.h"
#include "fileio.h"
#include "macro.h"
#include "run-file.h"
#include "shim-select.h"
#include "shim-self-test.h"
#include "version.h"

/* subject: "the shim", "it"; the reason is formatted into buf. */
static const char *elf_not_static(const uint8_t *data, size_t size, const SdcElfInfo *want, const char *subject,
                                  char *buf, size_t buf_size) {
        SdcElfInfo info = {};

        if (sdc_elf_parse(data, size, &info) < 0) {
                (void) snprintf(buf, buf_size, "%s is not an ELF program", subject);
                return buf;
        }
        if (info.has_interp)
                (void) snprintf(buf, buf_size, "%s is dynamically linked (it has a program interpreter): a PID 1 must be static",
                                subject);
        else if (want && (info.is_64 != want->is_64 || info.little_endian != want->little_endian ||
                          info.machine != want->machine))
                (void) snprintf(buf, buf_size,
                                "%s is built for another machine (ELF %s-bit %s, machine %u; this one is %s-bit %s, machine %u)",
                                subject, info.is_64 ? "64" : "32", info.little_endian ? "LSB" : "MSB", info.machine,
                                want->is_64 ? "64" : "32", want->little_endian ? "LSB" : "MSB", want->machine);
        else
                buf = NULL;
        sdc_elf_info_done(&info);
        return buf;
}

const char *sdc_shim_not_static(const char *path, const SdcElfInfo *want, char *buf, size_t buf_size) {
        _cleanup_free_ char *data = NULL;
        size_t size;

        if (read_full_file_at(AT_FDCWD, path, SDC_SHIM_SIZE_MAX, &data, &size) < 0) {
                (void) snprintf(buf, buf_size, "the shim cannot be read");
                return buf;
        }
        return elf_not_static((const uint8_t *) data, size, want, "the shim", buf, buf_size);
}

static bool same(const char *a, const char *b) {
        return a && b && streq(a, b);
}

static bool version_char(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr(".+~:_-", c);
}

int sdc_shim_self_test_version(const uint8_t *data, size_t size, char **ret) {
        static const char head[] = SDC_SHIM_SELF_TEST_HEAD;
        const uint8_t *p = data, *end = data + size;

        /* The first occurrence followed by a version and a newline: the bare head (a reader's needle,
         * as in this very file) is followed by a NUL. */
        while ((p = memmem(p, (size_t) (end - p), head, sizeof(head) - 1))) {
                const uint8_t *v = p + sizeof(head) - 1, *e = v;

                while (e < end && e - v < 64 && version_char((char) *e))
                        e++;
                if (e > v && e < end && *e == '\n') {
                        *ret = strndup((const char *) v, (size_t) (e - v));
                        return *ret ? 0 : -ENOMEM;
                }
                p++;
        }
        return -ENOENT;
}

typedef struct SelfTestOutput {
        char *protocol, *version, *plan, *reason;
        bool declared[_SDC_ACTION_MAX];
        bool have_actions;
        int error;
} SelfTestOutput;

static int on_output(const char *key, const char *value, unsigned line, void *userdata) {
        SelfTestOutput *o = userdata;
        char **dst = NULL;

        (void) line;
        if (streq(key, "SDCOMPAT_SHIM_SELF_TEST"))
                dst = &o->protocol;
        else if (streq(key, "SDCOMPAT_SHIM_VERSION"))
                dst = &o->version;
        else if (streq(key, "PLAN"))
                dst = &o->plan;
        else if (streq(key, "REASON"))
                dst = &o->reason;
        else if (streq(key, "ACTIONS")) {
                /* Names this reader does not know are the newer shim's own: fine. */
                if (sdc_actions_parse(value, o->declared) < 0)
                        return -ENOMEM;
                o->have_actions = true;
        }
        if (!dst)
                return 0;
        /* A key said twice is a confused shim: which line would it mean? Not one to run as PID 1. */
        if (*dst)
                return -EEXIST;
        return strdup_to(dst, value);
}

const char *sdc_shim_self_test_verdict(const char *out, size_t size, const char *version,
                                       const bool actions[_SDC_ACTION_MAX], char *buf, size_t buf_size) {
        SelfTestOutput o = {};
        const char *why = NULL;
        int r;

        r = sdc_envfile_parse(out, size, on_output, &o, NULL);
        if (r == -ENOMEM)
                why = "out of memory";
        else if (r == -EEXIST)
                why = "its self-test printed a key twice";
        else if (r < 0)
                why = "its self-test printed a line that is no KEY=value";
        else if (!same(o.protocol, SDC_SHIM_SELF_TEST_PROTOCOL))
                why = "its self-test speaks another protocol (SDCOMPAT_SHIM_SELF_TEST=" SDC_SHIM_SELF_TEST_PROTOCOL " expected)";
        else if (!same(o.version, version)) {
                (void) snprintf(buf, buf_size, "its self-test says version %s, its file %s", strna(o.version), version);
                why = buf;
        } else if (!same(o.plan, "understood")) {
                (void) snprintf(buf, buf_size, "its self-test does not understand the plan: %s",
                                o.reason ?: o.plan ?: "no PLAN= line");
                why = buf;
        } else if (!o.have_actions)
                why = "its self-test declares no actions";
        else
                for (int a = 0; a < _SDC_ACTION_MAX && !why; a++)
                        if (actions[a] && a != SDC_ACTION_NONE && !o.declared[a]) {
                                (void) snprintf(buf, buf_size, "its self-test does not declare the plan's action %s",
                                                sdc_action_to_string(a));
                                why = buf;
                        }
        free(o.protocol);
        free(o.version);
        free(o.plan);
        free(o.reason);
        return why;
}

/* The self-test's process group while it runs, for sdc_shim_self_test_abort(). */
static volatile pid_t self_test_pid = 0;

void sdc_shim_self_test_abort(void) {
        pid_t pid = self_test_pid;

        if (pid > 0) {
                (void) kill(-pid, SIGKILL);
                (void) kill(pid, SIGKILL);
        }
}

/* Runs `program --self-test=plan` as an ordinary process: no environment, standard input and error
 * on /dev/null, its own process group, which is killed at the deadline. Its standard output (at
 * most SDC_SHIM_SELF_TEST_OUTPUT_MAX bytes) in out. NULL when it exited 0, else why not. */
static const char *run_self_test(const char *program, const char *plan, uint64_t timeout_usec, char *out,
                                 size_t *out_size, char *buf, size_t buf_size) {
        _cleanup_free_ char *arg = NULL;
        _cleanup_close_ int devnull = -1;
        uint64_t deadline = now_monotonic_usec() + timeout_usec;
        int p[2], status = 0;
        bool timed_out = false, too_much = false;
        size_t got = 0;
        pid_t pid;

        if (asprintf(&arg, SDC_SHIM_SELF_TEST_OPTION "%s", plan) < 0)
                return "out of memory";
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (pipe2(p, O_CLOEXEC) < 0)
                return "cannot create a pipe for its self-test";
        pid = fork();
        if (pid < 0) {
                (void) close(p[0]);
                (void) close(p[1]);
                return "cannot fork for its self-test";
        }
        if (pid == 0) {
                char *argv[] = { (char *) "sdcompat-shim", arg, NULL }, *envp[] = { NULL };

                (void) setpgid(0, 0);
                if (dup2(p[1], STDOUT_FILENO) < 0 ||
                    (devnull >= 0 && (dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDERR_FILENO) < 0)))
                        _exit(127);
                execve(program, argv, envp);
                _exit(127);
        }
        (void) setpgid(pid, pid); /* here too: whichever runs first, the group exists before a kill */
        self_test_pid = pid;
        (void) close(p[1]);

        for (;;) {
                uint64_t now = now_monotonic_usec();
                struct pollfd pfd = { .fd = p[0], .events = POLLIN };
                char discard[512];
                ssize_t l;
                int k;

                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                k = poll(&pfd, 1, (int) ((deadline - now + 999) / 1000));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        continue; /* the deadline check above ends it */
                if (got < SDC_SHIM_SELF_TEST_OUTPUT_MAX)
                        l = read(p[0], out + got, SDC_SHIM_SELF_TEST_OUTPUT_MAX - got);
                else {
                        l = read(p[0], discard, sizeof(discard));
                        too_much = too_much || l > 0;
                }
                if (l < 0 && errno == EINTR)
                        continue;
                if (l <= 0)
                        break; /* end of its output */
                if (got < SDC_SHIM_SELF_TEST_OUTPUT_MAX)
                        got += (size_t) l;
        }
        (void) close(p[0]);
        /* Its output ended: it exits now, or it is made to at the deadline. */
        while (!timed_out) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                struct timespec ts = { .tv_nsec = 1000000 };

                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR) {
                        status = -1;
                        break;
                }
                if (now_monotonic_usec() >= deadline)
                        timed_out = true;
                else
                        (void) nanosleep(&ts, NULL);
        }
        if (timed_out) {
                (void) kill(-pid, SIGKILL);
                (void) kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                self_test_pid = 0;
                (void) snprintf(buf, buf_size, "its self-test did not finish within %" PRIu64 " ms: killed",
                                timeout_usec / 1000);
                return buf;
        }
        self_test_pid = 0;
        out[got] = 0;
        *out_size = got;
        if (too_much) {
                (void) snprintf(buf, buf_size, "its self-test printed more than %u bytes", SDC_SHIM_SELF_TEST_OUTPUT_MAX);
                return buf;
        }
        if (WIFSIGNALED(status)) {
                (void) snprintf(buf, buf_size, "its self-test was killed by signal %d", WTERMSIG(status));
                return buf;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                (void) snprintf(buf, buf_size, "its self-test failed (exit status %d%s)",
                                WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": it could not be executed" : "");
                return buf;
        }
        return NULL;
}

static int fill_plan(FILE *f, const void *userdata) {
        return sdc_plan_file_format(userdata, f);
}

/* This machine: what the running program was built for. */
static int this_machine(SdcElfInfo *ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/exe", 64 << 20, &data, &size);
        if (r < 0)
                return r;
        return sdc_elf_parse((const uint8_t *) data, size, ret);
}

/* The root's copy passed every check: *c says so. */
static int choose_root(SdcShimChoice *c, const char *copy, const char *version, const char *image_version,
                       const char *root_file) {
        c->from_root = true;
        if (strdup_to(&c->path, copy) < 0 || strdup_to(&c->version, version) < 0 ||
            asprintf(&c->reason,
                     "the root's sdcompat-shim %s (newer than the initramfs's %s; static, for this machine, self-test "
                     "passed), copied from %s to %s",
                     version, image_version, root_file, copy) < 0) {
                c->reason = NULL;
                return -ENOMEM;
        }
        return 0;
}

typedef struct VersionScan {
        char *version;
} VersionScan;

static int scan_version(const uint8_t *data, size_t size, void *userdata) {
        VersionScan *v = userdata;
        int r = sdc_shim_self_test_version(data, size, &v->version);

        return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

#define NO_SELF_TEST "it has no self-test (an sdcompat-shim older than the initramfs's, or no sdcompat-shim): not run"

/* NULL when version is strictly newer than image_version (dpkg's order), else why not. */
static const char *not_newer(const char *version, const char *image_version, char *buf, size_t buf_size) {
        if (sdc_verrevcmp(version, image_version) > 0)
                return NULL;
        (void) snprintf(buf, buf_size, "its version %s is not newer than the initramfs's %s", version, image_version);
        return buf;
}

/* Checks 3 to 7 of shim-select.h on the root's shim: NULL when it is to be used, else why not.
 * *ret_version is the version its file names, once known. */
static const char *check_root_shim(const SdcShimSelect *in, const char *root_file, const char *copy,
                                   char **ret_version, char *buf, size_t buf_size) {
        _cleanup_free_ char *data = NULL, *out = NULL, *plan_path = NULL;
        _cleanup_close_ int fd = -1, dir_fd = -1;
        SdcElfInfo machine = {};
        const char *why;
        struct stat st;
        size_t size = 0, out_size = 0;
        int r;

        r = sdc_tree_open_regular(in->root, in->shim_path, &fd);
        if (r < 0) {
                (void) snprintf(buf, buf_size, "cannot open it: %s", strerror(-r));
                return buf;
        }
        if (fstat(fd, &st) < 0)
                return "cannot stat it";
        if (st.st_uid != 0) {
                (void) snprintf(buf, buf_size, "it is not owned by root (uid %u)", (unsigned) st.st_uid);
                return buf;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                (void) snprintf(buf, buf_size, "it is writable by %s (mode %04o)",
                                (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned) (st.st_mode & 07777));
                return buf;
        }
        if ((uint64_t) st.st_size > SDC_SHIM_SIZE_MAX || st.st_size == 0) {
                (void) snprintf(buf, buf_size, "its size, %lld bytes, is not that of a shim (1 to %" PRIu64 ")",
                                (long long) st.st_size, SDC_SHIM_SIZE_MAX);
                return buf;
        }

        /* Its version, read from the root's file only to stop early: the ordinary root carries the
         * image's own version, and an equal or older one (or a file that names none) is never copied,
         * let alone run. This can only ever lead to the image's shim. Read in pieces through one small
         * buffer (tree.h), not into fresh memory: a megabyte of page faults at every boot otherwise. */
        {
                VersionScan vs = {};

                r = sdc_tree_scan(in->root, in->shim_path, 0, SDC_SHIM_SIZE_MAX, scan_version, &vs);
                if (r < 0) {
                        free(vs.version);
                        (void) snprintf(buf, buf_size, "cannot read it: %s", strerror(-r));
                        return buf;
                }
                if (r == 0)
                        return NO_SELF_TEST;
                *ret_version = vs.version;
                why = not_newer(*ret_version, in->image_version, buf, buf_size);
                if (why)
                        return why;
                free(*ret_version);
                *ret_version = NULL;
        }

        /* From here on only the copy counts: it is what is checked, run and mounted. */
        r = mkdir_p(in->run_dir, 0755);
        if (r >= 0) {
                dir_fd = open(in->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = dir_fd < 0 ? -errno : 0;
        }
        if (r >= 0)
                r = copy_file_atomic_at(fd, dir_fd, SDC_SHIM_ROOT_COPY, 0755);
        if (r < 0) {
                (void) snprintf(buf, buf_size, "cannot copy it to %s: %s", copy, strerror(-r));
                return buf;
        }
        r = read_full_file_at(AT_FDCWD, copy, SDC_SHIM_SIZE_MAX, &data, &size);
        if (r < 0) {
                (void) snprintf(buf, buf_size, "cannot read its copy %s: %s", copy, strerror(-r));
                return buf;
        }
        /* Everything again on the copy, the version first. */
        r = sdc_shim_self_test_version((const uint8_t *) data, size, ret_version);
        if (r == -ENOMEM)
                return "out of memory";
        if (r < 0)
                return NO_SELF_TEST;
        why = not_newer(*ret_version, in->image_version, buf, buf_size);
        if (why)
                return why;
        if (this_machine(&machine) < 0)
                return "cannot tell this machine's architecture (/proc/self/exe)";
        why = elf_not_static((const uint8_t *) data, size, &machine, "it", buf, buf_size);
        sdc_elf_info_done(&machine);
        if (why)
                return why;

        if (asprintf(&plan_path, "%s/%s", in->run_dir, SDC_SHIM_SELF_TEST_PLAN) < 0)
                return "out of memory";
        r = sdc_run_file_write(in->run_dir, SDC_SHIM_SELF_TEST_PLAN, 0644, fill_plan, in->plan);
        if (r < 0) {
                (void) snprintf(buf, buf_size, "cannot write the plan for its self-test: %s", strerror(-r));
                return buf;
        }
        out = malloc(SDC_SHIM_SELF_TEST_OUTPUT_MAX + 1);
        why = out ? run_self_test(copy, plan_path, in->timeout_usec ?: SDC_SHIM_SELF_TEST_TIMEOUT_USEC, out, &out_size,
                                  buf, buf_size)
                  : "out of memory";
        (void) unlink(plan_path);
        if (why)
                return why;
        return sdc_shim_self_test_verdict(out, out_size, *ret_version, in->plan->actions, buf, buf_size);
}

int sdc_shim_select(const SdcShimSelect *in, SdcShimChoice *ret) {
        _cleanup_free_ char *root_file = NULL, *copy = NULL, *root_version = NULL;
        SdcShimChoice c = {};
        const char *v = NULL, *why = NULL;
        char buf[512];
        SdcStat st;
        int r;

        *ret = (SdcShimChoice) {};
        if (asprintf(&root_file, "%s%s", in->root_path, in->shim_path) < 0 ||
            asprintf(&copy, "%s/%s", in->run_dir, SDC_SHIM_ROOT_COPY) < 0 || strdup_to(&c.path, in->shim_path) < 0 ||
            strdup_to(&c.version, in->image_version) < 0)
                goto oom;

        /* 1. The operator's word first; an unknown value is read as "image", the cautious side. */
        if (sdc_cmdline_get(in->cmdline, "rd.sdcompat.shim", &v) > 0 && !same(v, "auto")) {
                if (asprintf(&c.reason, "the initramfs's sdcompat-shim %s: rd.sdcompat.shim=%s%s", in->image_version, strempty(v),
                             same(v, "image") ? "" : " (not auto or image: read as image)") < 0)
                        goto oom;
                *ret = c;
                return 0;
        }
        /* 2. Resolved inside the root: a symlink that points elsewhere points into the root too. */
        r = sdc_tree_resolve(in->root, in->shim_path, 0, NULL, &st);
        if (r == -ENOENT || r == -ENOTDIR) {
                if (asprintf(&c.reason, "the initramfs's sdcompat-shim %s (the root has none at %s)", in->image_version,
                             root_file) < 0)
                        goto oom;
                *ret = c;
                return 0;
        }
        if (r < 0) {
                (void) snprintf(buf, sizeof(buf), "it cannot be resolved inside the root: %s", strerror(-r));
                why = buf;
        } else if (st.type != SDC_NODE_REGULAR)
                why = "it is not a regular file";
        else
                why = check_root_shim(in, root_file, copy, &root_version, buf, sizeof(buf));

        if (!why) {
                if (choose_root(&c, copy, root_version, in->image_version, root_file) < 0)
                        goto oom;
                *ret = c;
                return 0;
        }
        (void) unlink(copy);
        /* An older or equal version is the ordinary case of a root that has not moved on. */
        c.root_refused = !(root_version && sdc_verrevcmp(root_version, in->image_version) <= 0);
        if (asprintf(&c.reason, "the initramfs's sdcompat-shim %s: the root's %s%s%s%s is not used: %s", in->image_version,
                     root_file, root_version ? " (version " : "", strempty(root_version), root_version ? ")" : "", why) < 0)
                goto oom;
        *ret = c;
        return 0;
oom:
        c.reason = NULL;
        sdc_shim_choice_done(&c);
        *ret = (SdcShimChoice) { .path = strdup(in->shim_path), .version = strdup(in->image_version) };
        return -ENOMEM;
}

void sdc_shim_choice_done(SdcShimChoice *c) {
        free(c->path);
        free(c->version);
        free(c->reason);
        *c = (SdcShimChoice) {};
}
