/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The argument vector the initramfs's PID 1 gives the root's PID 1 at switch-root:
 *   v219..v249  BIN --switched-root --system --deserialize N
 *   v250..v253  BIN <kernel arguments> --switched-root --system --deserialize N      (hazard H5)
 *   v254+       BIN --switched-root --system --deserialize=N <kernel arguments>
 * Every systemd stops option parsing at "--", at an unknown option or at -b/-s/-z, so in the
 * v250..v253 order the state can be lost. Pure: no I/O. */

#include <stdbool.h>

typedef struct SdcPid1Argv {
        int deserialize_fd;  /* -1 if none */
        bool switched_root;
        bool system;
        char **rest;         /* the other arguments in their order (pointers into the input) */
        unsigned n_rest;
} SdcPid1Argv;

/* -EINVAL when --deserialize appears more than once, or its value is not a descriptor number. */
int sdc_pid1_argv_parse(char *const *argv, SdcPid1Argv *ret);
void sdc_pid1_argv_done(SdcPid1Argv *a);

/* NULL-terminated vectors (one allocation; the strings point into a and a static buffer in the
 * result's own storage). stateful: "BIN --switched-root --system --deserialize=N rest...", the v254+
 * order every version parses; fresh: "BIN rest...", what systemd's own no-state path passes. */
char **sdc_pid1_argv_build_stateful(const char *bin, const SdcPid1Argv *a);
char **sdc_pid1_argv_build_fresh(const char *bin, const SdcPid1Argv *a);
