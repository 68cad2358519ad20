/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "cgroup-release-record.h"
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
        SdcCgroupReleaseRecord rec = {};
        int64_t version, error;
        int r;

        *ret = (SdcCgroupReleaseRecord) {};
        r = json_last_int(data, "schema_version", &version);
        if (r < 0 || version < 0 || version > 0xffff)
                return -EBADMSG;
        ret->schema_version = (unsigned) version;
        if (version != SDC_CGROUP_RELEASE_RECORD_VERSION)
                return -EPROTONOSUPPORT;
        rec.schema_version = (unsigned) version;
        r = json_last_int(data, "error", &error);
        if (r >= 0)
                r = json_last_bool(data, "pid1_reexecuted", &rec.pid1_reexecuted);
        if (r < 0)
                return -EBADMSG;
        rec.error = (int) error;
        /* a string member that is missing is a broken record; one that is there but could not be
         * copied, out of memory */
        rec.released = json_last_string(data, "released");
        rec.still_bound = json_last_string(data, "still_bound");
        if (!rec.released || !rec.still_bound) {
                sdc_cgroup_release_record_done(&rec);
                return strstr(data, "\"released\": \"") && strstr(data, "\"still_bound\": \"") ? -ENOMEM : -EBADMSG;
        }
        *ret = rec;
        return 0;
}

void sdc_cgroup_release_record_done(SdcCgroupReleaseRecord *r) {
        free(r->released);
        free(r->still_bound);
        *r = (SdcCgroupReleaseRecord) {};
}
