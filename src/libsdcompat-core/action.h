/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "json.h"

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
        SDC_ACTION_CGROUP_REVERT,
        _SDC_ACTION_MAX,
        _SDC_ACTION_INVALID = -1,
} SdcAction;

const char *sdc_action_to_string(SdcAction a);
SdcAction sdc_action_from_string(const char *s);
/* One sentence for an operator: what sdcompat does about a hazard at boot with this action. */
const char *sdc_action_describe(SdcAction a);

/* Sets of actions as sdcompat's files write them, the one place that turns them into words and
 * back (the manifest's and the plan's ACTIONS=, the JSON records' arrays).
 *
 * The set as space-separated names in the catalogue's order, without "none" (which no file lists);
 * "" for an empty set. A new string in *ret, or -ENOMEM. */
int sdc_actions_format(const bool set[_SDC_ACTION_MAX], char **ret);
/* Adds the actions named in the space-separated words to set. A name this build does not know is
 * skipped (a newer writer's action: this reader cannot do it anyway). Returns how many words were
 * skipped, or -ENOMEM. */
int sdc_actions_parse(const char *words, bool set[_SDC_ACTION_MAX]);
/* The set as a JSON array of names under key (without "none"), as the JSON records write it. */
void sdc_actions_json(JsonWriter *w, const char *key, const bool set[_SDC_ACTION_MAX]);
