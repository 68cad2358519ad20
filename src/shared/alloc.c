/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc.h"

void *malloc_large(size_t bytes) {
        const size_t huge = (size_t) 2 << 20;
        void *p;

        if (bytes < huge)
                return malloc(bytes);
        if (posix_memalign(&p, huge, bytes) != 0)
                return NULL;
        (void) madvise(p, bytes, MADV_HUGEPAGE);
        return p;
}
