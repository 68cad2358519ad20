/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What sdcompat-shim recorded of this boot's handoff (RUN_DIR/sdcompat/shim.json, see
 * sdcompat-shim(8)): read by `sdcompat status` and by sdcompat-check's metrics. The record is
 * sdcompat's own JSON as json.c writes it (one member per line); this is no general JSON parser. */

#include <stdbool.h>

typedef struct SdcShimRecord {
        char *path;
        char *mode;         /* the plan's mode the shim ran in: native, translate or fresh */
        char *last_step;    /* the last step recorded: the exec that took over, or where it stopped */
        char *last_detail;
        unsigned n_steps;
        unsigned n_failed;  /* steps recorded with an error: each one fell a step down the chain */
        bool fallback;      /* a step failed, or the step that took over is not the one the mode meant */
} SdcShimRecord;

/* -ENOENT when this boot has no record (no shim ran). */
int sdc_shim_record_read(const char *run_dir, SdcShimRecord *ret);
void sdc_shim_record_done(SdcShimRecord *r);
