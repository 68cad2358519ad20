/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The shim's record of this boot's handoff, RUN_DIR/sdcompat/shim.json (sdcompat.run(5)): written
 * by sdcompat-shim before each step it takes, read by `sdcompat status` and sdcompat-check's
 * metrics. This module is the only one that knows its members. It stays JSON (operators and tools
 * read it, and the shim's fields were JSON from the start), so it is read back with a strict JSON
 * parser (json-parse.h, fuzzed) rather than with a format of its own. */

#include <stdbool.h>

#include "plan.h"

#define SDC_SHIM_RECORD_NAME    "shim.json"
#define SDC_SHIM_RECORD_VERSION 1 /* "schema_version" */

/* One step of the shim's chain, as the shim keeps it while it runs. */
typedef struct SdcShimStep {
        const char *name;
        char detail[512];
        int error; /* negative errno; 0: done */
} SdcShimStep;

/* dir/shim.json (dir is the shim's run directory, /run/sdcompat), written atomically: the mode the
 * shim runs in, the real binary, the steps so far. A warning when it cannot be. */
int sdc_shim_record_write(const char *dir, SdcMode mode, const char *target, const SdcShimStep *steps, unsigned n_steps);

typedef struct SdcShimRecord {
        char *path;
        char *mode;         /* the plan's mode the shim ran in: native, translate or fresh */
        char *version;      /* the shim's own version (sdcompat_version): the image's or the root's */
        char *last_step;    /* the last step recorded: the exec that took over, or where it stopped */
        char *last_detail;
        unsigned n_steps;
        unsigned n_failed;  /* steps recorded with an error: each one fell a step down the chain */
        bool fallback;      /* a step failed, or the step that took over is not the one the mode meant */
} SdcShimRecord;

/* Parses a record. -EBADMSG: not strict JSON, or not a record (no schema_version, steps that are no
 * array of objects with a string "step"); -EPROTONOSUPPORT: a schema_version other than 1 to
 * SDC_SHIM_RECORD_VERSION, in *ret_version when not NULL; -ENOMEM. */
int sdc_shim_record_parse(const char *data, size_t size, SdcShimRecord *ret, unsigned *ret_version);
/* RUN_DIR/sdcompat/shim.json (run_dir: /run) read and parsed as above; -ENOENT when this boot has no
 * record (no shim ran). */
int sdc_shim_record_read(const char *run_dir, SdcShimRecord *ret, unsigned *ret_version);
void sdc_shim_record_done(SdcShimRecord *r);

