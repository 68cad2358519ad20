/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/statfs.h>

#include "cgroup-mode.h"

/* linux/magic.h; written out so that the static build needs no kernel headers. */
#define CGROUP2_SUPER_MAGIC 0x63677270
#define TMPFS_MAGIC         0x01021994

static const char *const cgroup_names[_SDC_CGROUP_MAX] = {
        [SDC_CGROUP_UNKNOWN] = "unknown",
        [SDC_CGROUP_LEGACY] = "legacy",
        [SDC_CGROUP_HYBRID] = "hybrid",
        [SDC_CGROUP_UNIFIED] = "unified",
};

const char *sdc_cgroup_mode_to_string(SdcCgroupMode m) {
        return m >= 0 && m < _SDC_CGROUP_MAX ? cgroup_names[m] : NULL;
}

static int fs_type(const char *path, unsigned long *ret) {
        struct statfs s;

        if (statfs(path, &s) < 0)
                return -errno;
        *ret = (unsigned long) s.f_type;
        return 0;
}

int sdc_cgroup_mode_mounted(const char *root, SdcCgroupMode *ret) {
        char unified[PATH_MAX];
        unsigned long type = 0;
        int r;

        r = fs_type(root, &type);
        if (r < 0)
                return r;
        if (type == CGROUP2_SUPER_MAGIC) {
                *ret = SDC_CGROUP_UNIFIED;
                return 0;
        }
        if (type != TMPFS_MAGIC) {
                *ret = SDC_CGROUP_UNKNOWN;
                return 0;
        }
        if (snprintf(unified, sizeof(unified), "%s/unified", root) >= (int) sizeof(unified))
                return -ENAMETOOLONG;
        *ret = fs_type(unified, &type) >= 0 && type == CGROUP2_SUPER_MAGIC ? SDC_CGROUP_HYBRID : SDC_CGROUP_LEGACY;
        return 0;
}
