/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pid1-argv.h"

static int parse_fd(const char *s) {
        char *end;
        long v;

        if (!s || !*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end || v < 0 || v > 65535)
                return -EINVAL;
        return (int) v;
}

int sdc_pid1_argv_parse(char *const *argv, SdcPid1Argv *ret) {
        SdcPid1Argv a = { .deserialize_fd = -1 };
        size_t n = 0;

        while (argv[n])
                n++;
        a.rest = calloc(n + 1, sizeof(char *));
        if (!a.rest)
                return -ENOMEM;

        /* Every position is looked at, "--" included: in the v250..v253 order the options PID 1
         * added come after the kernel's arguments, which may hold "--". PID 1 filters its own
         * options out of the kernel's (filter_args()), so each appears once. */
        for (size_t i = 1; i < n; i++) {
                const char *v = NULL;

                if (streq(argv[i], "--switched-root"))
                        a.switched_root = true;
                else if (streq(argv[i], "--system"))
                        a.system = true;
                else if (streq(argv[i], "--deserialize")) {
                        if (i + 1 >= n)
                                goto invalid;
                        v = argv[++i];
                } else if (strneq(argv[i], "--deserialize=", STRLEN("--deserialize=")))
                        v = argv[i] + STRLEN("--deserialize=");
                else
                        a.rest[a.n_rest++] = argv[i];

                if (v) {
                        if (a.deserialize_fd >= 0)
                                goto invalid;
                        a.deserialize_fd = parse_fd(v);
                        if (a.deserialize_fd < 0)
                                goto invalid;
                }
        }
        *ret = a;
        return 0;
invalid:
        free(a.rest);
        return -EINVAL;
}

void sdc_pid1_argv_done(SdcPid1Argv *a) {
        free(a->rest);
        *a = (SdcPid1Argv) { .deserialize_fd = -1 };
}

/* One block: the pointer array, then the "--deserialize=N" text. */
static char **alloc_argv(size_t n, char **ret_text) {
        char **v = calloc(1, (n + 1) * sizeof(char *) + 32);

        if (v)
                *ret_text = (char *) (v + n + 1);
        return v;
}

char **sdc_pid1_argv_build_stateful(const char *bin, const SdcPid1Argv *a) {
        char *text, **v = alloc_argv(4 + a->n_rest, &text);
        size_t k = 0;

        if (!v)
                return NULL;
        v[k++] = (char *) bin;
        if (a->switched_root)
                v[k++] = (char *) "--switched-root";
        if (a->system)
                v[k++] = (char *) "--system";
        if (a->deserialize_fd >= 0) {
                snprintf(text, 32, "--deserialize=%d", a->deserialize_fd);
                v[k++] = text;
        }
        for (unsigned i = 0; i < a->n_rest; i++)
                v[k++] = a->rest[i];
        v[k] = NULL;
        return v;
}

char **sdc_pid1_argv_build_fresh(const char *bin, const SdcPid1Argv *a) {
        char *text, **v = alloc_argv(1 + a->n_rest, &text);
        size_t k = 0;

        if (!v)
                return NULL;
        v[k++] = (char *) bin;
        for (unsigned i = 0; i < a->n_rest; i++)
                v[k++] = a->rest[i];
        v[k] = NULL;
        return v;
}
