/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target: any bytes as an initramfs image. Small limits keep each run fast and bounded; the
 * callback reads every name and body byte so that a pointer outside the input or the unpacked data
 * is caught by ASan, and every error must come with its report filled in. */

#include <stdlib.h>
#include <string.h>

#include "image.h"

static int touch_entry(const SdcCpioEntry *e, unsigned segment, void *userdata) {
        uint64_t *sum = userdata;

        if (strlen(e->name) != e->name_len)
                abort();
        for (size_t i = 0; i < e->size; i++)
                *sum += e->data[i];
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const SdcImageLimits limits = {
                .max_unpacked = UINT64_C(64) << 20,
                .max_entries = 100000,
        };
        _cleanup_(sdc_image_freep) SdcImage *img = NULL;
        SdcImageError error;
        uint64_t sum = 0;
        int r;

        r = sdc_image_open_buffer(data, size, &limits, touch_entry, &sum, &img, &error);
        if (r < 0) {
                if (error.error != r || error.message[0] == 0 || (size > 0 && error.offset >= size))
                        abort();
                return 0;
        }
        if (!img || sdc_image_file_size(img) != size || sdc_image_n_segments(img) == 0)
                abort();
        for (size_t i = 0; i < sdc_image_n_segments(img); i++) {
                const SdcImageSegment *s = sdc_image_segment(img, i);
                if (s->offset + s->length > size)
                        abort();
        }
        return 0;
}
