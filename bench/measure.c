/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* measure [-i FILE [-s OFFSET]] RESULT COMMAND [ARG...]
 *
 * Runs COMMAND and appends "WALL_SECONDS CPU_SECONDS EXIT PEAK_RSS_KIB" to the file RESULT. Wall
 * time is from just before the fork to the moment the last descendant has been reaped; CPU time is
 * user+system of every descendant; the peak RSS is that of the largest single descendant
 * (getrusage()'s ru_maxrss for children: file pages mapped count, as they do for the kernel's OOM
 * killer and a cgroup's limit). bench/inspect needs this because 3cpio never waits for the gzip/xz/zstd it
 * spawns: the shell's `time` would miss that child's CPU time, and a descendant still running would
 * steal the next measurement's core. As a child subreaper this program inherits such orphans and
 * waits for them too.
 *
 * -i FILE: COMMAND's standard input, positioned at byte OFFSET (-s): the plain decompressors are
 * started at the compressed segment behind an uncompressed early cpio this way, with no pipe and
 * no copy in between. COMMAND's standard output and error are this program's. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(const struct timeval *tv) {
        return (double) tv->tv_sec + (double) tv->tv_usec / 1e6;
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        const char *input = NULL, *result;
        long long offset = 0;
        struct rusage ru;
        int opt, status, exit_code = -1;
        double start, wall;
        pid_t pid, p;
        FILE *f;

        while ((opt = getopt(argc, argv, "+i:s:")) != -1)
                switch (opt) {
                case 'i':
                        input = optarg;
                        break;
                case 's':
                        offset = atoll(optarg);
                        break;
                default:
                        return 2;
                }
        if (argc - optind < 2) {
                fprintf(stderr, "usage: measure [-i FILE [-s OFFSET]] RESULT COMMAND [ARG...]\n");
                return 2;
        }
        result = argv[optind];

        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                perror("measure: PR_SET_CHILD_SUBREAPER");
                return 2;
        }

        start = now();
        pid = fork();
        if (pid < 0) {
                perror("measure: fork");
                return 2;
        }
        if (pid == 0) {
                if (input) {
                        int fd = open(input, O_RDONLY | O_CLOEXEC);
                        if (fd < 0 || lseek(fd, (off_t) offset, SEEK_SET) < 0 || dup2(fd, 0) < 0) {
                                fprintf(stderr, "measure: %s at byte %lld: %s\n", input, offset, strerror(errno));
                                _exit(127);
                        }
                }
                execvp(argv[optind + 1], argv + optind + 1);
                fprintf(stderr, "measure: %s: %s\n", argv[optind + 1], strerror(errno));
                _exit(127);
        }

        /* Every descendant, the command's own orphans included, until none is left. */
        while ((p = wait(&status)) > 0 || (p < 0 && errno == EINTR))
                if (p == pid)
                        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        wall = now() - start;

        if (getrusage(RUSAGE_CHILDREN, &ru) < 0) {
                perror("measure: getrusage");
                return 2;
        }
        f = fopen(result, "ae");
        if (!f) {
                perror(result);
                return 2;
        }
        fprintf(f, "%.4f %.4f %d %ld\n", wall, seconds(&ru.ru_utime) + seconds(&ru.ru_stime), exit_code,
                ru.ru_maxrss);
        if (fclose(f) != 0) {
                perror(result);
                return 2;
        }
        return exit_code == 0 ? 0 : 1;
}
