/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "log.h"

static int max_level = LOG_INFO;
static LogTarget target = LOG_TARGET_STDERR;
static const char *prefix = NULL;
static int kmsg_fd = -1;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_target(LogTarget t) {
        target = t;
}

void log_set_prefix(const char *p) {
        prefix = p;
}

void log_close(void) {
        kmsg_fd = safe_close(kmsg_fd);
}

static void write_kmsg(int level, const char *msg) {
        char buf[1024];
        int n;

        if (kmsg_fd < 0)
                kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (kmsg_fd < 0) {
                fprintf(stderr, "%s%s%s\n", prefix ?: "", prefix ? ": " : "", msg);
                return;
        }
        /* "<prio>name: message" is what the kernel log and journald expect from early userspace. */
        n = snprintf(buf, sizeof(buf), "<%i>%s: %s\n", level, prefix ?: "sdcompat", msg);
        if (n > 0)
                (void) write(kmsg_fd, buf, (size_t) MIN(n, (int) sizeof(buf) - 1));
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char msg[2048];
        va_list ap;
        int saved_errno = errno;

        (void) file;
        (void) line;

        if (error < 0)
                error = -error;

        if (level <= max_level) {
                errno = error;
                va_start(ap, fmt);
                (void) vsnprintf(msg, sizeof(msg), fmt, ap);
                va_end(ap);

                if (target == LOG_TARGET_KMSG)
                        write_kmsg(level, msg);
                else if (prefix)
                        fprintf(stderr, "%s: %s\n", prefix, msg);
                else
                        fprintf(stderr, "%s\n", msg);
        }

        errno = saved_errno;
        return -error;
}
