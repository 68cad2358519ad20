/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "plan.h"

static const char *const mode_names[_SDC_MODE_MAX] = {
        [SDC_MODE_NATIVE] = "native",
        [SDC_MODE_TRANSLATE] = "translate",
        [SDC_MODE_FRESH] = "fresh",
};

const char *sdc_mode_to_string(SdcMode m) {
        return m >= 0 && m < _SDC_MODE_MAX ? mode_names[m] : NULL;
}

SdcMode sdc_mode_from_string(const char *s) {
        for (int i = 0; i < _SDC_MODE_MAX; i++)
                if (s && streq(s, mode_names[i]))
                        return (SdcMode) i;
        return _SDC_MODE_INVALID;
}

void sdc_plan_done(SdcPlan *p) {
        free(p->note);
        p->note = NULL;
}
