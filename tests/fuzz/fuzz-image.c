/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libFuzzer target: any bytes as an initramfs image, twice. First the walker alone, keeping every
 * body: the callback reads every name and body byte so that a pointer outside the input or a kept
 * body is caught by ASan, and every error must come with its report filled in. Then the image as a
 * tree, probed as sdcompat-check probes it (streaming, the probe's bodies only, path resolution
 * with its step budget, the second walk for a body let pass). Small limits keep each run bounded;
 * an input that is slow or fat anyway is a finding (scripts/run-tests runs the smoke with
 * -timeout, -rss_limit_mb and -malloc_limit_mb). */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "probe.h"
#include "tree-image.h"
#include "tree.h"

static int touch_entry(const SdcCpioEntry *e, unsigned segment, void *userdata) {
        uint64_t *sum = userdata;

        if (strlen(e->name) != e->name_len)
                abort();
        if (!e->data) /* the walker keeps every body when not told otherwise */
                abort();
        for (size_t i = 0; i < e->size; i++)
                *sum += e->data[i];
        if (e->data[e->size] != 0) /* kept bodies are NUL-terminated */
                abort();
        return 0;
}

static void probe_as_tree(const uint8_t *data, size_t size, const SdcImageLimits *limits) {
        static int fd = -1;
        char path[64];
        SdcImageError error;
        SdcTreeFacts facts = {};
        SdcTree *t = NULL;

        if (fd < 0) {
                fd = memfd_create("fuzz-image", MFD_CLOEXEC);
                if (fd < 0)
                        abort();
        }
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
                abort();
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (sdc_tree_open_image(AT_FDCWD, path, limits, &t, &error) < 0) {
                if (error.message[0] == 0)
                        abort();
                return;
        }
        if (sdc_probe_tree(t, SDC_ROLE_INITRD, &facts) >= 0)
                sdc_tree_facts_done(&facts);
        sdc_tree_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const SdcImageLimits limits = {
                .max_unpacked = UINT64_C(64) << 20,
                .max_entries = 100000,
                .max_kept = UINT64_C(16) << 20,
                .max_metadata = UINT64_C(16) << 20,
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
        probe_as_tree(data, size, &limits);
        return 0;
}
