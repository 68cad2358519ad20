/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What sdcompat does at boot; the negotiator and the shim implement exactly these. */
typedef enum SdcAction {
        SDC_ACTION_NONE,
        SDC_ACTION_DROPIN_SIGTERM_SUCCESS,
        SDC_ACTION_SHIM_ARGV_REORDER,
        SDC_ACTION_SHIM_CLEAR_PASSPIDFD,
        SDC_ACTION_SHIM_DROP_SECTIONS,
        SDC_ACTION_SHIM_FOLD_LINES,
        SDC_ACTION_CGROUP_CONVERT,
        SDC_ACTION_SHIM_LEGACY_FORCE,
        SDC_ACTION_FRESH,
        _SDC_ACTION_MAX,
        _SDC_ACTION_INVALID = -1,
} SdcAction;

const char *sdc_action_to_string(SdcAction a);
SdcAction sdc_action_from_string(const char *s);
/* One sentence for an operator: what sdcompat does about a hazard at boot with this action. */
const char *sdc_action_describe(SdcAction a);
