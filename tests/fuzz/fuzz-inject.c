/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the reader sdcompat-inject --remove trusts before it truncates an image:
 * sdc_inject_find() on the whole input as an image file, and the record parser on the input as
 * text. Whatever it accepts must be self-consistent: the original it describes lies inside the
 * file, before the archive, with only zero bytes between. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SdcInjectRecord rec = {};
        char reason[256];
        int r;

        r = sdc_inject_find(data, size, &rec, reason, sizeof(reason));
        if (r == 1) {
                if (rec.original_size == 0 || rec.original_size > rec.segment_offset ||
                    rec.segment_offset > size ||
                    rec.segment_offset - rec.original_size != sdc_inject_padding(rec.original_size))
                        abort();
                for (uint64_t i = rec.original_size; i < rec.segment_offset; i++)
                        if (data[i] != 0)
                                abort();
                (void)sdc_inject_prefix_matches(data, size, &rec);
                sdc_inject_record_done(&rec);
        } else if (r != 0 && r != -EBADMSG && r != -ENOMEM)
                abort();
        else if (r == -EBADMSG && reason[0] == 0)
                abort(); /* a refusal always says why */

        if (sdc_inject_record_parse((const char *)data, size, &rec) == 0)
                sdc_inject_record_done(&rec);
        return 0;
}
