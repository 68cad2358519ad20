/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "action.h"
#include "macro.h"

static const char *const action_names[_SDC_ACTION_MAX] = {
        [SDC_ACTION_NONE] = "none",
        [SDC_ACTION_DROPIN_SIGTERM_SUCCESS] = "dropin-sigterm-success",
        [SDC_ACTION_SHIM_ARGV_REORDER] = "shim-argv-reorder",
        [SDC_ACTION_SHIM_CLEAR_PASSPIDFD] = "shim-clear-passpidfd",
        [SDC_ACTION_SHIM_DROP_SECTIONS] = "shim-drop-sections",
        [SDC_ACTION_SHIM_FOLD_LINES] = "shim-fold-lines",
        [SDC_ACTION_CGROUP_CONVERT] = "cgroup-convert",
        [SDC_ACTION_SHIM_LEGACY_FORCE] = "shim-legacy-force",
        [SDC_ACTION_FRESH] = "fresh",
};

const char *sdc_action_to_string(SdcAction a) {
        return a >= 0 && a < _SDC_ACTION_MAX ? action_names[a] : NULL;
}

SdcAction sdc_action_from_string(const char *s) {
        for (int i = 0; i < _SDC_ACTION_MAX; i++)
                if (streq(s, action_names[i]))
                        return (SdcAction) i;
        return _SDC_ACTION_INVALID;
}
