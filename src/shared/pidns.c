/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "pidns.h"

#define PF_KTHREAD_ 0x00200000U /* include/linux/sched.h, the same value since Linux 2.6.27 */

/* The flags field (the 9th) of a /proc/PID/stat line; comm (2nd) may hold blanks and parentheses,
 * so the fields are counted from its last ')'. */
static int stat_flags(const char *line, unsigned long *ret) {
        const char *p = strrchr(line, ')');
        char *end;

        if (!p)
                return -EBADMSG;
        p++;
        /* state ppid pgrp session tty_nr tpgid, then flags */
        for (int i = 0; i < 6; i++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
                if (!*p)
                        return -EBADMSG;
        }
        errno = 0;
        *ret = strtoul(p, &end, 10);
        if (errno != 0 || end == p)
                return -EBADMSG;
        return 0;
}

int pidns_is_initial(const char *proc) {
        _cleanup_free_ char *self = NULL, *stat2 = NULL, *text = NULL;
        char link[32];
        unsigned long flags;
        ssize_t n;
        int r;

        if (asprintf(&self, "%s/self", proc) < 0 || asprintf(&stat2, "%s/2/stat", proc) < 0)
                return -ENOMEM;
        n = readlink(self, link, sizeof(link) - 1);
        if (n < 0)
                return -errno;
        link[n] = 0;
        if (strtol(link, NULL, 10) != (long) getpid())
                return 0; /* a /proc of another PID namespace: it cannot tell about ours */
        r = read_full_file_at(AT_FDCWD, stat2, 4096, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = stat_flags(text, &flags);
        if (r < 0)
                return r;
        return !!(flags & PF_KTHREAD_);
}
