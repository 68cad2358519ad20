/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
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
        [SDC_ACTION_CGROUP_REVERT] = "cgroup-revert",
};

static const char *const action_texts[_SDC_ACTION_MAX] = {
        [SDC_ACTION_NONE] = "nothing: sdcompat cannot avoid this hazard at boot",
        [SDC_ACTION_DROPIN_SIGTERM_SUCCESS] =
                "sdcompat negotiate adds a drop-in in the initramfs so that initrd-switch-root.service killed by SIGTERM counts as a success",
        [SDC_ACTION_SHIM_ARGV_REORDER] =
                "sdcompat-shim puts --switched-root --system --deserialize first in the root's systemd arguments",
        [SDC_ACTION_SHIM_CLEAR_PASSPIDFD] = "sdcompat-shim turns SO_PASSPIDFD off on the handed-over notify socket",
        [SDC_ACTION_SHIM_DROP_SECTIONS] = "sdcompat-shim drops the mount and automount units from the handed-over state",
        [SDC_ACTION_SHIM_FOLD_LINES] = "sdcompat-shim folds the handed-over state into lines the root's systemd can read",
        [SDC_ACTION_CGROUP_CONVERT] =
                "sdcompat-shim converts the cgroup v1 hierarchy to cgroup2 before the root's systemd starts",
        [SDC_ACTION_SHIM_LEGACY_FORCE] =
                "sdcompat-shim gives the root's systemd the command line with SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1",
        [SDC_ACTION_FRESH] = "sdcompat-shim starts the root's systemd without the initramfs's state (fresh)",
        [SDC_ACTION_CGROUP_REVERT] =
                "sdcompat-shim empties and unmounts cgroup2 so that the root's systemd mounts its own cgroup v1 hierarchies",
};

const char *sdc_action_describe(SdcAction a) {
        return a >= 0 && a < _SDC_ACTION_MAX ? action_texts[a] : NULL;
}

const char *sdc_action_to_string(SdcAction a) {
        return a >= 0 && a < _SDC_ACTION_MAX ? action_names[a] : NULL;
}

SdcAction sdc_action_from_string(const char *s) {
        for (int i = 0; i < _SDC_ACTION_MAX; i++)
                if (streq(s, action_names[i]))
                        return (SdcAction) i;
        return _SDC_ACTION_INVALID;
}

int sdc_actions_format(const bool set[_SDC_ACTION_MAX], char **ret) {
        size_t len = 0;
        char *buf, *p;

        for (int a = 0; a < _SDC_ACTION_MAX; a++)
                if (set[a] && a != SDC_ACTION_NONE)
                        len += strlen(action_names[a]) + 1;
        buf = p = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        *p = 0;
        for (int a = 0; a < _SDC_ACTION_MAX; a++)
                if (set[a] && a != SDC_ACTION_NONE)
                        p = stpcpy(stpcpy(p, p == buf ? "" : " "), action_names[a]);
        *ret = buf;
        return 0;
}

int sdc_actions_parse(const char *words, bool set[_SDC_ACTION_MAX]) {
        _cleanup_free_ char *copy = strdup(words);
        char *save = NULL;
        int unknown = 0;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                SdcAction a = sdc_action_from_string(w);

                if (a >= 0)
                        set[a] = true;
                else
                        unknown++;
        }
        return unknown;
}

void sdc_actions_json(JsonWriter *w, const char *key, const bool set[_SDC_ACTION_MAX]) {
        json_array_begin(w, key);
        for (int a = 0; a < _SDC_ACTION_MAX; a++)
                if (set[a] && a != SDC_ACTION_NONE)
                        json_string(w, NULL, action_names[a]);
        json_array_end(w);
}
