/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "cmdline.h"
#include "plan-decide.h"

int sdc_plan_decide(const SdcAssessment *a, const bool implemented[_SDC_ACTION_MAX], char *const *words, SdcPlan *ret) {
        SdcPlan p = { .mode = SDC_MODE_NATIVE };
        const char *v = NULL;
        bool need_fresh = false;
        int r;

        r = sdc_cmdline_get(words, "rd.sdcompat", &v);
        if (r > 0 && v && sdc_parse_boolean(v) == 0) {
                p.disabled = true;
                p.note = strdup("disabled by rd.sdcompat=0 on the kernel command line");
                *ret = p;
                return p.note ? 0 : -ENOMEM;
        }
        p.debug = sdc_cmdline_get(words, "rd.sdcompat.debug", &v) > 0 && (!v || sdc_parse_boolean(v) != 0);

        for (size_t i = 0; a && i < a->n_findings; i++) {
                const SdcFinding *f = &a->findings[i];
                SdcAction act = f->rule->action;

                /* An undecided rule's action is taken when the rule says it is harmless where the
                 * hazard does not apply; one the root's own configuration handles is not. */
                if ((f->match != SDC_MATCH_YES &&
                     !(f->match == SDC_MATCH_UNKNOWN && f->rule->apply_when_unknown)) ||
                    act == SDC_ACTION_NONE || f->handled_by_root)
                        continue;
                if (!implemented[act]) {
                        p.unavailable[act] = true;
                        continue;
                }
                p.apply[act] = true;
                if (act == SDC_ACTION_FRESH)
                        need_fresh = true;
        }
        for (int i = 0; i < _SDC_ACTION_MAX; i++)
                if (p.apply[i] && i != SDC_ACTION_FRESH)
                        p.mode = SDC_MODE_TRANSLATE;
        if (need_fresh)
                p.mode = SDC_MODE_FRESH;

        r = sdc_cmdline_get(words, "rd.sdcompat.mode", &v);
        if (r > 0) {
                SdcMode m = sdc_mode_from_string(v);

                if (m < 0) {
                        if (asprintf(&p.note, "rd.sdcompat.mode=%s is not native, translate or fresh: ignored", strna(v)) < 0)
                                return -ENOMEM;
                } else {
                        p.forced = true;
                        p.mode = m;
                        if (m == SDC_MODE_NATIVE)
                                memset(p.apply, 0, sizeof(p.apply));
                        if (m == SDC_MODE_FRESH && !implemented[SDC_ACTION_FRESH]) {
                                p.mode = SDC_MODE_NATIVE;
                                memset(p.apply, 0, sizeof(p.apply));
                                p.unavailable[SDC_ACTION_FRESH] = true;
                                p.note = strdup("rd.sdcompat.mode=fresh: this build cannot hand over fresh yet; "
                                                "handing over as stock systemd does");
                                if (!p.note)
                                        return -ENOMEM;
                        }
                }
        }
        *ret = p;
        return 0;
}
