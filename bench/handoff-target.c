/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handoff-target: the stand-in for the root's systemd in bench/shim, linked statically.
 *
 * It takes the time first thing in main(): that instant ends the measured handoff. Then it does
 * what every systemd does with the state, reduced to the I/O: finds --deserialize N or
 * --deserialize=N in its arguments and reads that descriptor to EOF (the same reads whether the
 * shim or bench/handoff started it). It writes "START_NS BYTES MAXRSS_KB" to the descriptor named
 * by SDCOMPAT_BENCH_REPORT_FD; MAXRSS_KB is getrusage(RUSAGE_SELF) taken at start, which the
 * kernel carries across execve(): the peak of everything this process ran before, i.e. the
 * shim's peak when the shim came first. Exits 0, or 1 when it cannot report. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        static char buf[1 << 16];
        struct timespec start;
        struct rusage ru;
        const char *env = getenv("SDCOMPAT_BENCH_REPORT_FD");
        int fd = -1, report;
        long long bytes = -1;
        char line[96];
        int len;

        clock_gettime(CLOCK_MONOTONIC, &start);
        getrusage(RUSAGE_SELF, &ru);

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--deserialize") == 0 && i + 1 < argc)
                        fd = atoi(argv[i + 1]);
                else if (strncmp(argv[i], "--deserialize=", 14) == 0)
                        fd = atoi(argv[i] + 14);
        }
        if (fd >= 0) {
                ssize_t n;

                bytes = 0;
                while ((n = read(fd, buf, sizeof(buf))) != 0) {
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                bytes = -1;
                                break;
                        }
                        bytes += n;
                }
        }

        if (!env)
                return 1;
        report = atoi(env);
        len = snprintf(line, sizeof(line), "%lld %lld %ld\n",
                       (long long) start.tv_sec * 1000000000LL + start.tv_nsec, bytes, ru.ru_maxrss);
        return write(report, line, (size_t) len) == len ? 0 : 1;
}
