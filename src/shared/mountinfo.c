/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "macro.h"
#include "mountinfo.h"

/* Undoes the kernel's octal escapes (seq_file's mangle of " \t\n\\") in place. */
static void unescape(char *s) {
        char *w = s;

        for (char *p = s; *p; p++)
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
                        *w++ = (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
                        p += 3;
                } else
                        *w++ = *p;
        *w = 0;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": the 3rd field is the
 * device, the 5th the mount point. */
static int parse_line(char *line, MountinfoFunc f, void *userdata) {
        unsigned maj, min;
        char *fields[5], *save = NULL;
        char *tok = strtok_r(line, " ", &save);

        for (int i = 0; i < 5; i++) {
                if (!tok)
                        return -EBADMSG;
                fields[i] = tok;
                tok = strtok_r(NULL, " ", &save);
        }
        if (sscanf(fields[2], "%u:%u", &maj, &min) != 2)
                return -EBADMSG;
        unescape(fields[4]);
        return f(makedev(maj, min), fields[4], userdata);
}

int mountinfo_foreach(const char *text, MountinfoFunc f, void *userdata) {
        _cleanup_free_ char *copy = strdup(text);
        char *line, *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                r = parse_line(line, f, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}
