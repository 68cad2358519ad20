/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The handoff plan: from the hazards that apply and the command line, which mode and which
 * boot-time actions. Pure: the negotiator applies it, check could preview it. */

#include <stdbool.h>

#include "assess.h"
#include "rules.h"

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

/* implemented: the actions this build performs (SdcManifest.actions). words: the kernel command
 * line (sdc_cmdline_split()). */
int sdc_plan_decide(const SdcAssessment *a, const bool implemented[_SDC_ACTION_MAX], char *const *words, SdcPlan *ret);
void sdc_plan_done(SdcPlan *p);

const char *sdc_mode_to_string(SdcMode m);
SdcMode sdc_mode_from_string(const char *s);
