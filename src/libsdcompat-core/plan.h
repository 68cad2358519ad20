/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The handoff plan: which mode and which boot-time actions. The shim reads it, so it lives in the
 * core; deciding it from the hazards (sdc_plan_decide(), plan-decide.h) needs the rules and the
 * assessment, so that part lives in the full library. */

#include <stdbool.h>

#include "action.h"

typedef enum SdcMode {
        SDC_MODE_NATIVE,    /* hand over as stock systemd does */
        SDC_MODE_TRANSLATE, /* keep the state, make it safe */
        SDC_MODE_FRESH,     /* the root's systemd starts without the state */
        _SDC_MODE_MAX,
        _SDC_MODE_INVALID = -1,
} SdcMode;

typedef struct SdcPlan {
        bool disabled;                   /* rd.sdcompat=0 */
        bool forced;                     /* rd.sdcompat.mode= */
        bool debug;                      /* rd.sdcompat.debug */
        SdcMode mode;
        bool apply[_SDC_ACTION_MAX];     /* actions to take */
        bool unavailable[_SDC_ACTION_MAX]; /* needed by a hazard, not implemented by this build */
        char *note;                      /* why, in one sentence; NULL if nothing to say */
} SdcPlan;

void sdc_plan_done(SdcPlan *p);

const char *sdc_mode_to_string(SdcMode m);
SdcMode sdc_mode_from_string(const char *s);
