/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json-parse.h"
#include "json.h"
#include "macro.h"
#include "run-file.h"
#include "shim-record.h"

typedef struct Record {
        SdcMode mode;
        const char *target;
        const SdcShimStep *steps;
        unsigned n_steps;
} Record;

static int fill(FILE *f, const void *userdata) {
        const Record *rec = userdata;
        JsonWriter w;

        json_init(&w, f, true);
        json_object_begin(&w, NULL);
        json_uint(&w, "schema_version", SDC_SHIM_RECORD_VERSION);
        json_string(&w, "sdcompat_version", PACKAGE_VERSION);
        json_string(&w, "mode", sdc_mode_to_string(rec->mode));
        json_string(&w, "target", rec->target);
        json_array_begin(&w, "steps");
        for (unsigned i = 0; i < rec->n_steps; i++) {
                json_object_begin(&w, NULL);
                json_string(&w, "step", rec->steps[i].name);
                json_string(&w, "detail", rec->steps[i].detail);
                json_int(&w, "error", rec->steps[i].error);
                json_object_end(&w);
        }
        json_array_end(&w);
        json_object_end(&w);
        json_finish(&w);
        return 0;
}

int sdc_shim_record_write(const char *dir, SdcMode mode, const char *target, const SdcShimStep *steps, unsigned n_steps) {
        const Record rec = { mode, target, steps, n_steps };

        return sdc_run_file_write(dir, SDC_SHIM_RECORD_NAME, 0644, fill, &rec);
}

static int parse_record(const JsonValue *v, SdcShimRecord *rec, unsigned *ret_version) {
        const JsonValue *steps = json_member(v, "steps");
        const char *mode = json_member_string(v, "mode");
        int64_t version;

        if (!json_member_integer(v, "schema_version", &version))
                return -EBADMSG;
        if (ret_version)
                *ret_version = version > 0 && version <= UINT32_MAX ? (unsigned) version : 0;
        if (version < 1 || version > SDC_SHIM_RECORD_VERSION)
                return -EPROTONOSUPPORT;
        if (!steps || steps->type != JSON_ARRAY)
                return -EBADMSG;
        for (size_t i = 0; i < steps->n_items; i++) {
                const JsonValue *st = &steps->items[i];
                int64_t error = 0;

                if (!json_member_string(st, "step"))
                        return -EBADMSG;
                if (json_member_integer(st, "error", &error) && error < 0)
                        rec->n_failed++;
        }
        rec->n_steps = (unsigned) steps->n_items;
        if (strdup_to(&rec->mode, mode) < 0 || strdup_to(&rec->version, json_member_string(v, "sdcompat_version")) < 0)
                return -ENOMEM;
        if (steps->n_items > 0) {
                const JsonValue *last = &steps->items[steps->n_items - 1];

                if (strdup_to(&rec->last_step, json_member_string(last, "step")) < 0 ||
                    strdup_to(&rec->last_detail, json_member_string(last, "detail")) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int sdc_shim_record_parse(const char *data, size_t size, SdcShimRecord *ret, unsigned *ret_version) {
        SdcShimRecord rec = {};
        JsonValue *v = NULL;
        const char *intended;
        int r;

        if (ret_version)
                *ret_version = 0;
        r = json_parse(data, size, &v);
        if (r >= 0)
                r = parse_record(v, &rec, ret_version);
        json_value_free(v);
        if (r < 0) {
                sdc_shim_record_done(&rec);
                return r;
        }
        intended = rec.mode && streq(rec.mode, "fresh") ? "exec-fresh" : "exec";
        rec.fallback = rec.n_failed > 0 || !rec.last_step || !streq(rec.last_step, intended);
        *ret = rec;
        return 0;
}

int sdc_shim_record_read(const char *run_dir, SdcShimRecord *ret, unsigned *ret_version) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *data = NULL;
        size_t size;
        int r;

        *ret = (SdcShimRecord) {};
        if (ret_version)
                *ret_version = 0;
        if (asprintf(&dir, "%s/sdcompat", run_dir) < 0)
                return -ENOMEM;
        r = sdc_run_file_read(dir, SDC_SHIM_RECORD_NAME, &path, &data, &size);
        if (r < 0)
                return r;
        r = sdc_shim_record_parse(data, size, ret, ret_version);
        if (r < 0)
                return r;
        ret->path = TAKE_PTR(path);
        return 0;
}

void sdc_shim_record_done(SdcShimRecord *r) {
        free(r->path);
        free(r->mode);
        free(r->version);
        free(r->last_step);
        free(r->last_detail);
        *r = (SdcShimRecord) {};
}
