/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Deciding the handoff plan: from the hazards that apply and the command line, which mode and
 * which boot-time actions. Pure: the negotiator applies it, check could preview it. */

#include <stdbool.h>

#include "assess.h"
#include "plan.h"
#include "rules.h"

/* implemented: the actions this build performs (SdcManifest.actions). words: the kernel command
 * line (sdc_cmdline_split()). */
int sdc_plan_decide(const SdcAssessment *a, const bool implemented[_SDC_ACTION_MAX], char *const *words, SdcPlan *ret);
