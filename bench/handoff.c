/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handoff [-n RUNS] [-m | -M] -s STATE -d FD RESULT LABEL PROGRAM ARGV0 [ARG...]
 *
 * Times the handoff from an exec to the root's systemd, RUNS times: for each run it forks, opens
 * STATE on descriptor FD in the child (no O_CLOEXEC, as systemd passes it), takes the time just
 * before execve(PROGRAM) with argv[0] = ARGV0 (the shim runs under the name of the binary it is
 * mounted over), and waits. PROGRAM is either sdcompat-shim, which ends by executing the plan's
 * SHIM_TARGET, or that target directly; the target is bench/handoff-target, which reports the
 * moment its main() started. The handoff time is that moment minus the time before execve: for
 * the shim, its whole run from exec to exec plus the target's exec; for the target alone, the
 * exec alone. Their difference is what the shim adds.
 *
 * Appends one line per run to RESULT, tab-separated:
 *   LABEL RUN HANDOFF_US TOTAL_US CPU_US FAULTS MAXRSS_KB TARGET_MAXRSS_KB BYTES EXIT
 * TOTAL_US: fork to reap (the target's reading of the state included). CPU_US and FAULTS: user +
 * system time and minor page faults of the child, shim and target together (from wait4(): the
 * steadier figures on a loaded machine, where wall time includes waiting for a core). MAXRSS_KB: wait4()'s
 * maximum resident set of the child over all its execs; TARGET_MAXRSS_KB: the same as the target
 * saw it when it started, i.e. the peak before the target ran (the shim's, or the forked child's).
 * BYTES: how much of the state the target read. HANDOFF_US is -1 when the target did not report.
 * The child's standard output and error go to /dev/null (the shim logs to stderr when it is not
 * PID 1; as PID 1 it writes to /dev/kmsg).
 *
 * With SDCOMPAT_SHIM_RUN_DIR set, the shim's marker of a handoff done (handoff-ran there) is
 * removed before each run, so that every run is a first switch-root that the shim translates.
 *
 * -m passes STATE as systemd does: copied into a new memfd before each fork (systemd serializes
 * into one just before its exec; the copy is not part of the child's times or faults), open for
 * reading and writing, offset 0. -M does the same and seals the memfd against writing, shrinking
 * and growing, as newer systemd does (finish_serialization_fd()). Without either, STATE is opened
 * read-only (a file on a tmpfs). */

#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A copy of fd at 64 or above, close-on-exec: sources there never collide with the small numbers
 * they are then dup2()ed to (dup2() onto itself would keep close-on-exec). */
static int high(int fd) {
        return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 64);
}

/* The state in a new memfd, as systemd hands it on: read-write, offset 0, sealed with -M. */
static int state_memfd(const char *data, size_t size, bool seal) {
        int fd = memfd_create("systemd-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        if (fd < 0)
                return -1;
        for (size_t done = 0; done < size;) {
                ssize_t n = write(fd, data + done, size - done);

                if (n <= 0) {
                        close(fd);
                        return -1;
                }
                done += (size_t) n;
        }
        if (lseek(fd, 0, SEEK_SET) < 0 ||
            (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)) {
                close(fd);
                return -1;
        }
        return fd;
}

_Noreturn static void child(const char *state, int memfd, int state_fd, int report_w, int report_fd,
                            volatile int64_t *exec_ns, char *const argv[]) {
        int fd = high(memfd >= 0 ? memfd : open(state, O_RDONLY | O_CLOEXEC)),
            null = high(open("/dev/null", O_WRONLY | O_CLOEXEC));

        report_w = high(report_w);
        if (fd < 0 || null < 0 || report_w < 0 || dup2(fd, state_fd) < 0 || dup2(report_w, report_fd) < 0 ||
            dup2(null, 1) < 0 || dup2(null, 2) < 0)
                _exit(126);
        *exec_ns = now_ns();
        execv(argv[0], argv + 1);
        _exit(127);
}

int main(int argc, char *argv[]) {
        const char *state = NULL, *result, *label;
        int runs = 1, state_fd = -1, report_fd, opt, memfd_mode = 0;
        char *state_data = NULL;
        size_t state_size = 0;
        volatile int64_t *exec_ns;
        char fdbuf[16];
        FILE *out;

        while ((opt = getopt(argc, argv, "+n:s:d:mM")) != -1)
                switch (opt) {
                case 'm':
                case 'M':
                        memfd_mode = opt;
                        break;
                case 'n':
                        runs = atoi(optarg);
                        break;
                case 's':
                        state = optarg;
                        break;
                case 'd':
                        state_fd = atoi(optarg);
                        break;
                default:
                        return 2;
                }
        if (argc - optind < 4 || !state || state_fd < 3 || runs < 1) {
                fprintf(stderr, "usage: handoff [-n RUNS] [-m | -M] -s STATE -d FD RESULT LABEL PROGRAM ARGV0 [ARG...]\n");
                return 2;
        }
        result = argv[optind];
        label = argv[optind + 1];
        /* argv for child(): PROGRAM, then the argv it gets */
        argv += optind + 2;

        report_fd = state_fd == 9 ? 10 : 9;
        snprintf(fdbuf, sizeof(fdbuf), "%d", report_fd);
        if (setenv("SDCOMPAT_BENCH_REPORT_FD", fdbuf, 1) < 0)
                return 2;
        /* Written by the child just before execve(), read by us after it is gone. */
        exec_ns = mmap(NULL, sizeof(*exec_ns), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (exec_ns == MAP_FAILED) {
                perror("handoff: mmap");
                return 2;
        }
        if (memfd_mode) {
                int fd = open(state, O_RDONLY | O_CLOEXEC);
                struct stat st;

                if (fd < 0 || fstat(fd, &st) < 0 || !(state_data = malloc((size_t) st.st_size + 1)) ||
                    read(fd, state_data, (size_t) st.st_size) != st.st_size) {
                        perror(state);
                        return 2;
                }
                state_size = (size_t) st.st_size;
                close(fd);
        }
        out = fopen(result, "ae");
        if (!out) {
                perror(result);
                return 2;
        }

        for (int run = 0; run < runs; run++) {
                long long start_ns = -1, bytes = -1, target_rss = -1;
                struct rusage ru = {};
                int p[2], status = 0, exit_code, memfd = -1;
                int64_t fork_ns, end_ns;
                char line[128] = "";
                ssize_t n;
                pid_t pid;

                if (pipe2(p, O_CLOEXEC) < 0) {
                        perror("handoff: pipe2");
                        return 2;
                }
                if (memfd_mode && (memfd = state_memfd(state_data, state_size, memfd_mode == 'M')) < 0) {
                        perror("handoff: memfd");
                        return 2;
                }
                /* Every run is this boot's first switch-root: the shim hands on anything after the
                 * first untouched, and knows the first by the marker it leaves in its run directory. */
                if (getenv("SDCOMPAT_SHIM_RUN_DIR")) {
                        char marker[4096];

                        snprintf(marker, sizeof(marker), "%s/handoff-ran", getenv("SDCOMPAT_SHIM_RUN_DIR"));
                        if (unlink(marker) < 0 && errno != ENOENT) {
                                perror(marker);
                                return 2;
                        }
                }
                *exec_ns = 0;
                fork_ns = now_ns();
                pid = fork();
                if (pid < 0) {
                        perror("handoff: fork");
                        return 2;
                }
                if (pid == 0)
                        child(state, memfd, state_fd, p[1], report_fd, exec_ns, argv);
                close(p[1]);
                if (memfd >= 0)
                        close(memfd);
                while (wait4(pid, &status, 0, &ru) < 0)
                        if (errno != EINTR) {
                                perror("handoff: wait4");
                                return 2;
                        }
                end_ns = now_ns();
                n = read(p[0], line, sizeof(line) - 1);
                close(p[0]);
                if (n > 0) {
                        line[n] = 0;
                        if (sscanf(line, "%lld %lld %lld", &start_ns, &bytes, &target_rss) != 3)
                                start_ns = -1;
                }
                exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                fprintf(out, "%s\t%d\t%.1f\t%.1f\t%.1f\t%ld\t%ld\t%lld\t%lld\t%d\n", label, run,
                        start_ns > 0 && *exec_ns > 0 ? (double) (start_ns - *exec_ns) / 1e3 : -1.0,
                        (double) (end_ns - fork_ns) / 1e3,
                        (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec),
                        ru.ru_minflt, ru.ru_maxrss, target_rss, bytes, exit_code);
        }
        if (fclose(out) != 0) {
                perror(result);
                return 2;
        }
        return 0;
}
