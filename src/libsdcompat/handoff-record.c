/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "handoff-record.h"
#include "json-parse.h"
#include "json.h"
#include "macro.h"
#include "run-file.h"
#include "strv.h"

static int fill(FILE *f, const void *userdata) {
        const SdcHandoffRecord *r = userdata;
        JsonWriter w;

        json_init(&w, f, true);
        json_object_begin(&w, NULL);
        json_uint(&w, "schema_version", SDC_HANDOFF_RECORD_VERSION);
        json_string(&w, "sdcompat_version", PACKAGE_VERSION);
        json_string(&w, "mode", sdc_mode_to_string(r->plan->mode));
        json_bool(&w, "disabled", r->plan->disabled);
        json_bool(&w, "forced", r->plan->forced);
        json_string(&w, "note", r->plan->note);
        json_string(&w, "verdict", r->plan->disabled ? NULL : sdc_verdict_to_string(sdc_verdict_applied(r->assessment, r->applied)));
        json_string(&w, "reason", r->assessment->reason);
        sdc_actions_json(&w, "actions_applied", r->applied);
        sdc_actions_json(&w, "actions_unavailable", r->plan->unavailable);
        sdc_findings_to_json(&w, "hazards", r->assessment);
        json_string(&w, "cmdline", r->cmdline);
        json_string(&w, "cgroup_observed", r->cgroup_observed);
        json_string(&w, "shim_target", r->shim_target);
        json_string(&w, "shim_note", r->shim_note);
        if (r->shim_from) {
                json_object_begin(&w, "shim");
                json_string(&w, "from", r->shim_from);
                json_string(&w, "version", r->shim_version);
                json_string(&w, "reason", r->shim_choice);
                json_object_end(&w);
        } else
                json_null(&w, "shim");
        if (r->initrd)
                sdc_tree_facts_to_json(&w, "initrd", r->initrd);
        else
                json_null(&w, "initrd");
        if (r->root)
                sdc_tree_facts_to_json(&w, "root", r->root);
        else
                json_null(&w, "root");
        json_array_begin(&w, "errors");
        STRV_FOREACH(e, r->errors)
                json_string(&w, NULL, *e);
        json_array_end(&w);
        json_object_begin(&w, "catalogue");
        json_string(&w, "used", r->catalogue_from_root ? "root" : "initramfs");
        json_uint(&w, "initramfs_version", r->catalogue_initramfs);
        json_uint(&w, "root_version", r->catalogue_root);
        json_uint(&w, "systemd_max", r->systemd_max);
        json_bool(&w, "root_systemd_future", r->root_systemd_future);
        json_object_end(&w);
        json_uint(&w, "duration_usec", r->duration_usec);
        json_object_end(&w);
        json_finish(&w);
        return 0;
}

int sdc_handoff_record_write(const char *dir, const SdcHandoffRecord *rec) {
        return sdc_run_file_write(dir, SDC_HANDOFF_RECORD_NAME, 0644, fill, rec);
}

static int summarize(const JsonValue *v, SdcHandoffSummary *s) {
        const JsonValue *errors = json_member(v, "errors");
        int64_t version;

        if (!json_member_integer(v, "schema_version", &version))
                return -EBADMSG;
        s->version = version > 0 && version <= UINT32_MAX ? (unsigned) version : 0;
        if (version < 1 || version > SDC_HANDOFF_RECORD_VERSION)
                return -EPROTONOSUPPORT;
        if (!errors || errors->type != JSON_ARRAY)
                return -EBADMSG;
        for (size_t i = 0; i < errors->n_items; i++) {
                char *joined;

                if (errors->items[i].type != JSON_STRING)
                        return -EBADMSG;
                if (asprintf(&joined, "%s%s%s", strempty(s->errors), s->errors ? "; " : "", errors->items[i].string) < 0)
                        return -ENOMEM;
                free(s->errors);
                s->errors = joined;
        }
        return strdup_to(&s->mode, json_member_string(v, "mode"));
}

int sdc_handoff_record_parse(const char *data, size_t size, SdcHandoffSummary *ret) {
        SdcHandoffSummary s = {};
        JsonValue *v = NULL;
        int r;

        r = json_parse(data, size, &v);
        if (r >= 0)
                r = summarize(v, &s);
        json_value_free(v);
        if (r < 0) {
                *ret = (SdcHandoffSummary) { .version = s.version };
                sdc_handoff_summary_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int sdc_handoff_record_read(const char *dir, SdcHandoffSummary *ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        *ret = (SdcHandoffSummary) {};
        r = sdc_run_file_read(dir, SDC_HANDOFF_RECORD_NAME, NULL, &data, &size);
        if (r < 0)
                return r;
        return sdc_handoff_record_parse(data, size, ret);
}

void sdc_handoff_summary_done(SdcHandoffSummary *s) {
        free(s->mode);
        free(s->errors);
        *s = (SdcHandoffSummary) {};
}
