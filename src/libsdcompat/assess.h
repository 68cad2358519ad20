/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verdict on one initramfs × root pair. Until the hazard rules exist this judges from the
 * versions alone; the rules engine will refine "at-risk" into specific hazards and add
 * "protected". check and negotiate both ask this, never their own logic. */

#include "json.h"
#include "probe.h"

typedef enum SdcVerdict {
        SDC_VERDICT_SAFE,
        SDC_VERDICT_AT_RISK,
        SDC_VERDICT_BLOCKED, /* could not check */
        _SDC_VERDICT_MAX,
} SdcVerdict;

typedef struct SdcAssessment {
        SdcVerdict verdict;
        char *reason; /* one sentence for the operator */
} SdcAssessment;

int sdc_assess_versions(const SdcTreeFacts *initrd, const SdcTreeFacts *root, SdcAssessment *ret);
void sdc_assessment_done(SdcAssessment *a);
const char *sdc_verdict_to_string(SdcVerdict v);
/* The more severe of two verdicts for a summary: at-risk > blocked > safe. */
SdcVerdict sdc_verdict_worst(SdcVerdict a, SdcVerdict b);

/* Writes facts as a JSON object named key (see sdcompat-check(8) for the schema). */
void sdc_tree_facts_to_json(JsonWriter *w, const char *key, const SdcTreeFacts *f);
