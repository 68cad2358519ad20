/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

time_t build_clock(void) {
        const char *e = getenv("SOURCE_DATE_EPOCH");
        unsigned long long v;
        char *end;

        if (e && *e >= '0' && *e <= '9') {
                errno = 0;
                v = strtoull(e, &end, 10);
                /* The convention: an integer; anything else is ignored rather than half-read. */
                if (errno == 0 && *end == 0 && v <= (unsigned long long) INT32_MAX)
                        return (time_t) v;
        }
        return time(NULL);
}

const char *format_rfc3339(time_t t, char buf[static 32]) {
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                strcpy(buf, "unknown");
        return buf;
}

uint64_t now_monotonic_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}
