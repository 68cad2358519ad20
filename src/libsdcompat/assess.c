/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "assess.h"
#include "strv.h"

static const char *const verdict_names[_SDC_VERDICT_MAX] = {
        [SDC_VERDICT_SAFE] = "safe",
        [SDC_VERDICT_AT_RISK] = "at-risk",
        [SDC_VERDICT_BLOCKED] = "blocked",
        [SDC_VERDICT_PROTECTED] = "protected",
};

const char *sdc_verdict_to_string(SdcVerdict v) {
        return v >= 0 && v < _SDC_VERDICT_MAX ? verdict_names[v] : NULL;
}

SdcVerdict sdc_verdict_worst(SdcVerdict a, SdcVerdict b) {
        static const int rank[_SDC_VERDICT_MAX] = {
                [SDC_VERDICT_SAFE] = 0, [SDC_VERDICT_PROTECTED] = 1, [SDC_VERDICT_BLOCKED] = 2, [SDC_VERDICT_AT_RISK] = 3
        };
        return rank[a] >= rank[b] ? a : b;
}

static int set(SdcAssessment *a, SdcVerdict v, const char *fmt, ...) _printf_(3, 4);
static int set(SdcAssessment *a, SdcVerdict v, const char *fmt, ...) {
        va_list ap;
        int r;

        a->verdict = v;
        va_start(ap, fmt);
        r = vasprintf(&a->reason, fmt, ap);
        va_end(ap);
        if (r < 0) {
                a->reason = NULL;
                return -ENOMEM;
        }
        return 0;
}

static bool serious(const SdcFinding *f) {
        return f->rule->severity >= SDC_SEVERITY_DEGRADED;
}

/* Whether the finding is handled: by the root's own configuration, or by the image's sdcompat,
 * which for an undecided rule takes the action only when the rule says it is harmless
 * (ApplyWhenUnknown=yes). */
bool sdc_finding_handled(const SdcFinding *f, const bool *handled) {
        if (f->handled_by_root)
                return true;
        if (!handled || f->rule->action == SDC_ACTION_NONE || !handled[f->rule->action])
                return false;
        return f->match == SDC_MATCH_YES || f->rule->apply_when_unknown;
}

/* "SDC-H1 (boot-fails), SDC-H4 (degraded)" for the serious findings of one kind. */
static char *list_ids(const SdcAssessment *a, SdcMatch m, const bool *handled, bool want_handled) {
        char *s = NULL;

        for (size_t i = 0; i < a->n_findings; i++) {
                const SdcFinding *f = &a->findings[i];
                bool h = sdc_finding_handled(f, handled);
                char *n;

                if (!serious(f) || h != want_handled ||
                    (f->match != m && !(want_handled && m == SDC_MATCH_YES)))
                        continue;
                if (asprintf(
                            &n, "%s%s%s%s (%s)", s ?: "", s ? ", " : "", f->rule->id,
                            f->handled_by_root ? " on the root" : "",
                            f->match == SDC_MATCH_UNKNOWN ? f->unknown_fact
                                                          : sdc_severity_to_string(f->rule->severity)) < 0) {
                        free(s);
                        return NULL;
                }
                free(s);
                s = n;
        }
        return s;
}

int sdc_root_image_text(const char *path, const char *type, SdcTri sdcompat, const char *unread, char **ret) {
        _cleanup_free_ char *where = NULL;
        int r;

        if (asprintf(&where,
                     "the image keeps its root, systemd included, in %s (%s, a file system image that its /init mounts "
                     "and switches into: dracut's squash module)",
                     path, type) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        if (!unread) /* read: what is left to say is why appending cannot reach it */
                r = asprintf(ret,
                             "%s: a segment appended to the image lands in the archive's root, which /init leaves for "
                             "that file system; %s",
                             where,
                             sdcompat == SDC_TRI_YES ?
                                     "dracut's modules.txt in the image lists sdcompat: it was built with `dracut "
                                     "--add sdcompat`, whose module inside that file system negotiates the handoff at boot" :
                                     "rebuild the image with `dracut --add sdcompat` (the module goes into that file "
                                     "system and protects the handoff at boot)");
        else if (sdcompat == SDC_TRI_YES)
                r = asprintf(ret,
                             "%s, which sdcompat could not read (%s); dracut's modules.txt in the image lists sdcompat: it "
                             "was built with `dracut --add sdcompat`, whose module inside that file system negotiates "
                             "the handoff at boot, which cannot be confirmed from here",
                             where, unread);
        else
                r = asprintf(ret,
                             "%s, which sdcompat could not read (%s), so the hazards of its handoff are unknown; rebuild "
                             "the image with `dracut --add sdcompat` (the module goes into that file system and protects "
                             "the handoff at boot, although sdcompat-check cannot confirm it there), or without dracut's "
                             "squash module",
                             where, unread);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

int sdc_assess(const SdcRuleSet *rules, const SdcPairFacts *f, const bool *handled, SdcAssessment *ret) {
        _cleanup_free_ char *open_ids = NULL, *handled_ids = NULL, *unknown = NULL;
        bool by_root_or_unknown = false;
        const char *handled_by;
        SdcAssessment a = {};
        int r;

        *ret = (SdcAssessment) {};
        /* Never "no systemd": it runs from the image's root file system image, unread. */
        if (f->initrd_root_image) {
                ret->verdict = SDC_VERDICT_BLOCKED;
                return sdc_root_image_text(f->initrd_root_image, f->initrd_root_image_type,
                                           f->initrd_root_image_sdcompat,
                                           f->initrd_root_image_error ?: "its contents are not read", &ret->reason);
        }
        if (f->initrd_systemd == SDC_TRI_NO)
                return set(ret, SDC_VERDICT_SAFE,
                           "no systemd in this initramfs: no state crosses switch-root, a version skew is harmless");
        if (rules->n_rules == 0)
                return set(ret, SDC_VERDICT_BLOCKED, "no hazard rules are loaded, so nothing can be judged");

        r = sdc_rules_evaluate(rules, f, &a.findings, &a.n_findings);
        if (r < 0)
                return r;
        /* The root's own SuccessExitStatus=SIGTERM for initrd-switch-root.service does what the
         * dropin-sigterm-success action would do at boot (sdcompat's package ships it). */
        for (size_t i = 0; i < a.n_findings; i++)
                a.findings[i].handled_by_root =
                        a.findings[i].rule->action == SDC_ACTION_DROPIN_SIGTERM_SUCCESS &&
                        f->root_sigterm_success == SDC_TRI_YES;
        /* handled: YES and UNKNOWN findings that are handled; open: YES ones that are not;
         * unknown: UNKNOWN ones that are not. */
        open_ids = list_ids(&a, SDC_MATCH_YES, handled, false);
        handled_ids = list_ids(&a, SDC_MATCH_YES, handled, true);
        unknown = list_ids(&a, SDC_MATCH_UNKNOWN, handled, false);
        for (size_t i = 0; i < a.n_findings; i++)
                if (sdc_finding_handled(&a.findings[i], handled) &&
                    (a.findings[i].handled_by_root || a.findings[i].match == SDC_MATCH_UNKNOWN))
                        by_root_or_unknown = true;
        /* "SDC-H1 on the root (boot-fails)": handled by the root's configuration; "SDC-H1
         * (RootVersion)": undecided, its harmless action taken by sdcompat in the image. */
        handled_by = by_root_or_unknown ? "; handled (on the root, or by sdcompat in the image): "
                                        : "; handled by sdcompat in the image: ";
        if (open_ids)
                r = set(&a, SDC_VERDICT_AT_RISK, "hazards apply: %s%s%s", open_ids,
                        handled_ids ? handled_by : "", strempty(handled_ids));
        else if (unknown)
                r = set(&a, SDC_VERDICT_BLOCKED, "could not decide, a fact is unknown: %s%s%s", unknown,
                        handled_ids ? handled_by : "", strempty(handled_ids));
        else if (handled_ids && !by_root_or_unknown)
                r = set(&a, SDC_VERDICT_PROTECTED, "hazards apply, and sdcompat in the image handles them at boot: %s",
                        handled_ids);
        else if (handled_ids)
                r = set(&a, SDC_VERDICT_PROTECTED,
                        "hazards apply or could not be ruled out, and each is handled (on the root, or by sdcompat in "
                        "the image): %s",
                        handled_ids);
        else if (f->has_root_version && rules->catalogue.systemd_max > 0 &&
                 f->root_version.major > rules->catalogue.systemd_max)
                /* No rule can have known this root: not "safe", but not a hazard either. */
                r = set(&a, SDC_VERDICT_BLOCKED,
                        "unknown future version: root systemd %s is newer than the hazard catalogue (version %u, "
                        "checked up to systemd %u) knows; no known hazard applies, none can be ruled out "
                        "(update sdcompat's rules)",
                        f->root_version.text, rules->catalogue.version, rules->catalogue.systemd_max);
        else if (f->has_initrd_version && f->has_root_version && f->initrd_version.major != f->root_version.major)
                r = set(&a, SDC_VERDICT_SAFE, "systemd %s in the initramfs, %s on the root: no known hazard applies",
                        f->initrd_version.text, f->root_version.text);
        else
                r = set(&a, SDC_VERDICT_SAFE, "same upstream systemd version in the initramfs and the root");
        if (r < 0) {
                sdc_assessment_done(&a);
                return r;
        }
        *ret = a;
        return 0;
}

void sdc_findings_to_json(JsonWriter *w, const char *key, const SdcAssessment *a) {
        sdc_findings_to_json_for_entry(w, key, a, NULL, NULL);
}

/* The report's finding: Leapp-like (rule, severity, inhibitor, remedy) plus what sdcompat does at
 * boot. Fields only ever added within a schema version (sdcompat-check(8)). */
void sdc_findings_to_json_for_entry(JsonWriter *w, const char *key, const SdcAssessment *a, const char *entry,
                                    const bool *handled) {
        json_array_begin(w, key);
        for (size_t i = 0; i < a->n_findings; i++) {
                const SdcFinding *fd = &a->findings[i];
                const SdcRule *r = fd->rule;

                json_object_begin(w, NULL);
                json_string(w, "id", r->id);
                json_string(w, "hazard", r->hazard);
                json_string(w, "title", r->title);
                json_string(w, "severity", sdc_severity_to_string(r->severity));
                json_bool(w, "inhibitor", r->severity == SDC_SEVERITY_BOOT_FAILS);
                json_string(w, "impact", r->severity == SDC_SEVERITY_BOOT_FAILS ? "fails-boot" :
                                         r->severity == SDC_SEVERITY_DEGRADED   ? "degrades" :
                                                                                  "cosmetic");
                json_string(w, "entry", entry);
                json_string(w, "action", sdc_action_to_string(r->action));
                json_string(w, "sdcompat_at_boot", sdc_action_describe(r->action));
                json_bool(w, "handled", sdc_finding_handled(fd, handled));
                json_string(w, "match", fd->match == SDC_MATCH_YES ? "yes" : "unknown");
                json_string(w, "unknown_fact", fd->unknown_fact);
                json_bool(w, "apply_when_unknown", r->apply_when_unknown);
                json_bool(w, "handled_by_root", fd->handled_by_root);
                json_string(w, "remedy", r->remedy);
                json_string(w, "rule_file", r->path);
                json_object_end(w);
        }
        json_array_end(w);
}

void sdc_assessment_done(SdcAssessment *a) {
        free(a->reason);
        free(a->findings);
        *a = (SdcAssessment) {};
}

bool sdc_finding_unhandled(const SdcFinding *f, const bool *applied) {
        return f->match == SDC_MATCH_YES && f->rule->severity >= SDC_SEVERITY_DEGRADED &&
               !sdc_finding_handled(f, applied);
}

SdcVerdict sdc_verdict_applied(const SdcAssessment *a, const bool *applied) {
        if (a->verdict != SDC_VERDICT_PROTECTED)
                return a->verdict;
        for (size_t i = 0; i < a->n_findings; i++)
                if (sdc_finding_unhandled(&a->findings[i], applied))
                        return SDC_VERDICT_AT_RISK;
        return SDC_VERDICT_PROTECTED;
}
