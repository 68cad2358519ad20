/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state stream parser and its transforms on arbitrary bytes. Invariants checked, not just
 * "does not crash": an unchanged stream writes back byte for byte; after the transforms no item
 * line is longer than the limit, the written stream parses again into as many units as were
 * kept, the header stays complete if it was, and the runs sdc_state_write_runs() hands out (what
 * the shim writes to its new descriptor) are maximal and add up to the written stream; the records
 * parsed into a caller's room (the shim's read buffer) are the same, however many there are. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "state.h"

static bool drop_odd(const char *name, size_t len, void *userdata) {
        (void) userdata;
        return len > 0 && (name[0] & 1);
}

typedef struct Runs {
        const char *base;
        char *joined;
        size_t size, n;
} Runs;

static int join_run(const char *p, size_t n, void *userdata) {
        Runs *r = userdata;

        /* a run never starts where the previous one ended: they would be one */
        if (n == 0 || (r->n > 0 && p == r->base))
                abort();
        memcpy(r->joined + r->size, p, n);
        r->size += n;
        r->base = p + n;
        r->n++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SdcState s = {}, again = {};
        char *out = NULL, *out2 = NULL;
        char *ref;
        size_t out_size = 0, out2_size = 0, ref_size = 0, kept = 0;
        Runs runs;

        if (sdc_state_parse((const char *) data, size, &s) < 0)
                return 0;
        if (sdc_state_write(&s, &out, &out_size) < 0)
                abort();
        {
                /* the same records in a caller's room, outgrown after 8 lines as the shim's can be */
                SdcStateLine room[8];
                SdcState in = {};
                size_t longest = 0;

                if (sdc_state_parse_in((const char *) data, size, room, ELEMENTSOF(room), &in) < 0)
                        abort();
                if (in.n_lines != s.n_lines || in.n_units != s.n_units || in.longest != s.longest ||
                    in.lines_borrowed != (in.lines == room) ||
                    (in.lines == room) != (s.n_lines <= ELEMENTSOF(room)))
                        abort();
                for (size_t i = 0; i < s.n_lines; i++) {
                        if (in.lines[i].offset != s.lines[i].offset ||
                            in.lines[i].length != s.lines[i].length || in.lines[i].kind != s.lines[i].kind ||
                            in.lines[i].newline != s.lines[i].newline)
                                abort();
                        longest = s.lines[i].length > longest ? s.lines[i].length : longest;
                }
                if (longest != s.longest)
                        abort();
                sdc_state_done(&in);
        }
        if (out_size != size || memcmp(out, data, size) != 0)
                abort(); /* round trip must be exact */

        (void) sdc_state_drop_units(&s, drop_odd, NULL);
        (void) sdc_state_drop_long_lines(&s, 64);
        for (size_t i = 0; i < s.n_lines; i++) {
                const SdcStateLine *l = &s.lines[i];

                if (l->dropped)
                        continue;
                if (l->kind == SDC_STATE_UNIT_NAME)
                        kept++;
                if ((l->kind == SDC_STATE_HEADER_ITEM || l->kind == SDC_STATE_UNIT_ITEM || l->kind == SDC_STATE_JOB_ITEM) &&
                    l->length > 64)
                        abort();
        }
        if (sdc_state_write(&s, &out2, &out2_size) < 0)
                abort();
        /* the reference, line by line: the kept lines, each with its newline if it had one */
        ref = malloc(size + 1);
        if (!ref)
                abort();
        for (size_t i = 0; i < s.n_lines; i++) {
                const SdcStateLine *l = &s.lines[i];

                if (l->dropped)
                        continue;
                memcpy(ref + ref_size, data + l->offset, l->length);
                ref_size += l->length;
                if (l->newline)
                        ref[ref_size++] = '\n';
        }
        if (out2_size != ref_size || memcmp(out2, ref, ref_size) != 0)
                abort();
        runs = (Runs) { .joined = malloc(size + 1) };
        if (!runs.joined || sdc_state_write_runs(&s, join_run, &runs) < 0)
                abort();
        if (runs.size != ref_size || memcmp(runs.joined, ref, ref_size) != 0)
                abort();
        free(runs.joined);
        free(ref);
        if (sdc_state_parse(out2, out2_size, &again) < 0)
                abort();
        if (s.header_complete != again.header_complete)
                abort();
        if (again.n_units != kept)
                abort();
        sdc_state_done(&again);
        sdc_state_done(&s);
        free(out);
        free(out2);
        return 0;
}
