/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state stream parser and its transforms on arbitrary bytes. Invariants checked, not just
 * "does not crash": an unchanged stream writes back byte for byte; after the transforms no item
 * line is longer than the limit, the written stream parses again into as many units as were
 * kept, and the header stays complete if it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static bool drop_odd(const char *name, size_t len, void *userdata) {
        (void) userdata;
        return len > 0 && (name[0] & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SdcState s = {}, again = {};
        char *out = NULL, *out2 = NULL;
        size_t out_size = 0, out2_size = 0, kept = 0;

        if (sdc_state_parse((const char *) data, size, &s) < 0)
                return 0;
        if (sdc_state_write(&s, &out, &out_size) < 0)
                abort();
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
