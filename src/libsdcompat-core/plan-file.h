/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The plan file, RUN_DIR/sdcompat/plan (sdcompat.run(5)): what `sdcompat negotiate` prepared at
 * this boot. Written by negotiate in the initramfs, read by sdcompat-shim as PID 1 after the switch
 * and by `sdcompat status` on the booted system; this module is the only one that knows its keys.
 * KEY=value lines (os-release syntax, envfile.h), versioned by SDCOMPAT_PLAN_VERSION. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "action.h"
#include "plan.h"

#define SDC_PLAN_FILE_NAME    "plan"
#define SDC_PLAN_FILE_VERSION 1

typedef struct SdcPlanFile {
        unsigned format;                 /* SDCOMPAT_PLAN_VERSION */
        char *sdcompat_version;          /* the negotiate that wrote it */
        SdcMode mode;
        bool disabled, forced, debug;
        char *verdict;                   /* sdc_verdict_to_string(); NULL: none (disabled) */
        char *initrd_systemd_version, *root_systemd_version; /* NULL: unknown */
        char *hazards;                   /* space-separated rule ids that apply */
        bool actions[_SDC_ACTION_MAX];   /* applied: what the shim does */
        unsigned unknown_actions;        /* names in ACTIONS this reader does not know (a newer writer's) */
        bool unavailable[_SDC_ACTION_MAX];
        uint64_t duration_usec;
        bool catalogue_from_root;        /* the rules came from the root, not the initramfs */
        unsigned catalogue_version;
        bool root_systemd_future;        /* the root's systemd is newer than the catalogue knows */
        char *shim_target;               /* where the shim is mounted; NULL: not used */
        char *shim_note;                 /* why the shim is not used */
        char *shim_from;                 /* "root" or "initramfs": whose sdcompat-shim is (or, outside an
                                          * initramfs, would be) mounted (shim-select.h); NULL: the plan
                                          * needs no shim, or an older writer */
        char *shim_version;              /* that shim's version */
        char *shim_choice;               /* why that one, one sentence */
        char *note, *errors;             /* errors: "; "-joined */
} SdcPlanFile;

/* Writes the file's text to f. The format version written is SDC_PLAN_FILE_VERSION. */
int sdc_plan_file_format(const SdcPlanFile *p, FILE *f);
/* RUN_DIR/sdcompat/plan written atomically (run-file.h), a warning when it cannot be. */
int sdc_plan_file_write(const char *dir, const SdcPlanFile *p);

/* Reads a plan. Keys this reader does not know are ignored (a newer writer may add keys without
 * changing the version); absent keys keep their defaults (mode native, nothing applied).
 * -EBADMSG: a malformed line, SDCOMPAT_PLAN_VERSION or MODE missing, or a value this reader cannot
 *           take (a mode it does not know, a number that is none);
 * -EPROTONOSUPPORT: a version other than the ones this reader knows (1 up to
 *           SDC_PLAN_FILE_VERSION), in *ret_format when not NULL;
 * -ENOMEM. Nothing is returned in *ret unless the result is 0. */
int sdc_plan_file_parse(const char *data, size_t size, SdcPlanFile *ret, unsigned *ret_format);
/* dir/plan read and parsed as above; -ENOENT when there is none. The path in *ret_path. */
int sdc_plan_file_read(const char *dir, SdcPlanFile *ret, unsigned *ret_format, char **ret_path);
void sdc_plan_file_done(SdcPlanFile *p);
