/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-release-record.h"
#include "json-parse.h"
#include "json.h"
#include "macro.h"
#include "strv.h"

typedef struct List {
        const char *key;
        char *const *words;
} List;

int sdc_cgroup_release_record_write(FILE *f, int error, const SdcCgroupRelease *rep, bool pid1_reexecuted) {
        const List lists[] = {
                { "bound_before", rep->bound }, { "released", rep->released }, { "still_bound", rep->still_bound },
                { "in_use", rep->in_use },      { "busy", rep->busy },         { "failed", rep->failed },
                { "controllers", rep->controllers },
        };
        char *joined[ELEMENTSOF(lists)] = {};
        JsonWriter w;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                if (!(joined[i] = strv_join(lists[i].words, " ")))
                        r = -ENOMEM;
        if (r >= 0) {
                json_init(&w, f, true);
                json_object_begin(&w, NULL);
                json_uint(&w, "schema_version", SDC_CGROUP_RELEASE_RECORD_VERSION);
                json_int(&w, "error", error);
                json_string(&w, "bound_before", joined[0]);
                json_uint(&w, "cgroups_removed", rep->removed);
                json_uint(&w, "processes_moved", rep->moved);
                for (size_t i = 1; i < ELEMENTSOF(lists); i++)
                        json_string(&w, lists[i].key, joined[i]);
                json_uint(&w, "memory_tmpfs_held_bytes", rep->memory_tmpfs_held);
                json_uint(&w, "memory_cache_held_bytes", rep->memory_cache_held);
                json_bool(&w, "pid1_reexecuted", pid1_reexecuted);
                json_object_end(&w);
                json_finish(&w);
        }
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                free(joined[i]);
        return r;
}

int sdc_cgroup_release_record_parse(const char *data, SdcCgroupReleaseRecord *ret) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        SdcCgroupReleaseRecord rec = {};
        const JsonValue *reexec;
        const char *released, *still_bound;
        int64_t version, error;
        int r;

        *ret = (SdcCgroupReleaseRecord) {};
        r = json_parse(data, strlen(data), &v);
        if (r < 0)
                return r;
        if (!json_member_integer(v, "schema_version", &version) || version < 0 || version > 0xffff)
                return -EBADMSG;
        ret->schema_version = (unsigned) version;
        if (version != SDC_CGROUP_RELEASE_RECORD_VERSION)
                return -EPROTONOSUPPORT;
        reexec = json_member(v, "pid1_reexecuted");
        released = json_member_string(v, "released");
        still_bound = json_member_string(v, "still_bound");
        if (!json_member_integer(v, "error", &error) || error < INT_MIN || error > INT_MAX || !reexec ||
            reexec->type != JSON_BOOLEAN || !released || !still_bound)
                return -EBADMSG;
        rec = (SdcCgroupReleaseRecord) {
                .schema_version = (unsigned) version,
                .error = (int) error,
                .pid1_reexecuted = reexec->boolean,
                .released = strdup(released),
                .still_bound = strdup(still_bound),
        };
        if (!rec.released || !rec.still_bound) {
                sdc_cgroup_release_record_done(&rec);
                return -ENOMEM;
        }
        *ret = rec;
        return 0;
}

void sdc_cgroup_release_record_done(SdcCgroupReleaseRecord *r) {
        free(r->released);
        free(r->still_bound);
        *r = (SdcCgroupReleaseRecord) {};
}
