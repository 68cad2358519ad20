/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verdict on one initramfs × root pair from the hazard rules that apply to it. check and
 * negotiate both ask this, never their own logic. */

#include "json.h"
#include "pairfacts.h"
#include "probe.h"
#include "rules.h"

typedef enum SdcVerdict {
        SDC_VERDICT_SAFE,
        SDC_VERDICT_AT_RISK,
        SDC_VERDICT_BLOCKED,   /* could not check */
        SDC_VERDICT_PROTECTED, /* hazards apply, and the image's sdcompat handles each of them */
        _SDC_VERDICT_MAX,
} SdcVerdict;

typedef struct SdcAssessment {
        SdcVerdict verdict;
        char *reason;         /* one sentence for the operator */
        SdcFinding *findings; /* rules that apply (match YES) or could not be decided (UNKNOWN) */
        size_t n_findings;
} SdcAssessment;

/* safe: no rule of severity degraded or boot-fails applies (cosmetic ones are listed);
 * protected: some do, and `handled` (the actions the image's sdcompat performs at boot, from its
 * manifest; NULL if the image has no sdcompat) covers every one of them;
 * at-risk: at least one applies that nothing handles; blocked: none does, but one could not be
 * decided, or no rules are loaded at all, or the root's systemd is newer than the catalogue was
 * checked against (CATALOGUE_SYSTEMD_MAX: "unknown future version", never "safe"), or the
 * initramfs's root is in a file system image that could not be read (dracut's squash). A pair whose
 * initramfs runs no systemd is safe: no state crosses switch-root. */
int sdc_assess(const SdcRuleSet *rules, const SdcPairFacts *facts, const bool *handled, SdcAssessment *ret);
/* An image whose root, systemd included, is in a file system image that its /init mounts
 * (SdcTreeFacts.root_image, of type): when it was not read (unread: why), why it cannot be judged
 * and the remedy; when it was (unread NULL), why appending to the image cannot protect it (inject)
 * and the remedy; either way, when dracut's modules.txt lists sdcompat (sdcompat yes), that it was
 * applied instead of the remedy. The one text that check's verdict and inject's refusal give. */
int sdc_root_image_text(const char *path, const char *type, SdcTri sdcompat, const char *unread, char **ret);
void sdc_assessment_done(SdcAssessment *a);
const char *sdc_verdict_to_string(SdcVerdict v);
/* The more severe of two verdicts for a summary: at-risk > blocked > protected > safe. */
SdcVerdict sdc_verdict_worst(SdcVerdict a, SdcVerdict b);

/* The findings as a JSON array named key. */
void sdc_findings_to_json(JsonWriter *w, const char *key, const SdcAssessment *a);
/* The same, each finding also naming the boot entry it affects (entry, may be NULL) and whether
 * the image's sdcompat handles it (handled as for sdc_assess(); NULL: no sdcompat in the image). */
void sdc_findings_to_json_for_entry(JsonWriter *w, const char *key, const SdcAssessment *a, const char *entry,
                                    const bool *handled);
/* Whether finding f is handled: by the root's own configuration, or by the image's sdcompat (its
 * manifest's actions; NULL if none) at boot, for an undecided rule only where ApplyWhenUnknown=yes. */
bool sdc_finding_handled(const SdcFinding *f, const bool *handled);
/* Whether finding f is the stock handoff's risk with only the actions applied at this boot
 * (applied: what negotiate wrote or mounted, not what the build could do): it applies, it is
 * degraded or boot-fails, and neither the root's configuration nor an applied action handles it. */
bool sdc_finding_unhandled(const SdcFinding *f, const bool *applied);
/* The verdict for this boot: a's, except that "protected" needs every finding handled by what was
 * applied (the shim not mounted, or an action that failed: at-risk). */
SdcVerdict sdc_verdict_applied(const SdcAssessment *a, const bool *applied);
