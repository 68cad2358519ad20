/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "json.h"
#include "macro.h"
#include "shim-record.h"

static unsigned count(const char *data, const char *needle) {
        unsigned n = 0;

        for (const char *q = data; (q = strstr(q, needle)); q += strlen(needle))
                n++;
        return n;
}

int sdc_shim_record_read(const char *run_dir, SdcShimRecord *ret) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        SdcShimRecord rec = {};
        const char *intended;
        int r;

        *ret = (SdcShimRecord) {};
        if (asprintf(&path, "%s/sdcompat/shim.json", run_dir) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, 1 << 20, &data, NULL);
        if (r < 0)
                return r;
        rec.mode = json_last_string(data, "mode");
        rec.last_step = json_last_string(data, "step");
        rec.last_detail = json_last_string(data, "detail");
        rec.n_steps = count(data, "\"step\": \"");
        rec.n_failed = count(data, "\"error\": -");
        intended = rec.mode && streq(rec.mode, "fresh") ? "exec-fresh" : "exec";
        rec.fallback = rec.n_failed > 0 || !rec.last_step || !streq(rec.last_step, intended);
        rec.path = TAKE_PTR(path);
        *ret = rec;
        return 0;
}

void sdc_shim_record_done(SdcShimRecord *r) {
        free(r->path);
        free(r->mode);
        free(r->last_step);
        free(r->last_detail);
        *r = (SdcShimRecord) {};
}
