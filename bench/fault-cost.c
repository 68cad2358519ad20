/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-cost [PAGES]: what one first touch of a fresh anonymous page costs on this machine, in
 * microseconds of wall and CPU time (median of 5 rounds of PAGES pages, default 2048). bench/shim
 * prints it beside its table: the shim's time is mostly first touches of memory (its own pages,
 * the new state), and on a virtual machine that backs guest memory lazily a touch costs tens of
 * microseconds instead of a fraction of one. */

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_us(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static double wall_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

int main(int argc, char *argv[]) {
        size_t pages = argc > 1 ? strtoul(argv[1], NULL, 10) : 2048;
        double wall[5], cpu[5];

        if (pages == 0)
                return 2;
        for (int k = 0; k < 5; k++) {
                volatile char *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                double w, c;

                if (p == MAP_FAILED) {
                        perror("fault-cost: mmap");
                        return 1;
                }
                /* 4 KiB pages, as the shim's small allocations get */
                (void) madvise((void *) p, pages * 4096, MADV_NOHUGEPAGE);
                w = wall_us();
                c = cpu_us();
                for (size_t i = 0; i < pages; i++)
                        p[i * 4096] = 1;
                cpu[k] = (cpu_us() - c) / (double) pages;
                wall[k] = (wall_us() - w) / (double) pages;
                munmap((void *) p, pages * 4096);
        }
        qsort(wall, 5, sizeof(double), cmp);
        qsort(cpu, 5, sizeof(double), cmp);
        printf("%.2f %.2f\n", wall[2], cpu[2]);
        return 0;
}
