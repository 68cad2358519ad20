/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which cgroup hierarchy a system has: the one fact the rules reason about (what the initramfs's
 * systemd will mount, pairfacts.h), negotiate observes, and the shim and its cgroup conversion act
 * on. The file system magics live here and nowhere else. */

typedef enum SdcCgroupMode {
        SDC_CGROUP_UNKNOWN,
        SDC_CGROUP_LEGACY,  /* cgroup v1 only (tmpfs on /sys/fs/cgroup) */
        SDC_CGROUP_HYBRID,  /* v1 controllers plus cgroup2 for systemd (tmpfs on /sys/fs/cgroup) */
        SDC_CGROUP_UNIFIED, /* cgroup2 on /sys/fs/cgroup */
        _SDC_CGROUP_MAX,
} SdcCgroupMode;

const char *sdc_cgroup_mode_to_string(SdcCgroupMode m);

/* What is mounted on root ("/sys/fs/cgroup"; a test may pass another directory): cgroup2 is
 * UNIFIED; a tmpfs is HYBRID with cgroup2 on root/unified, else LEGACY; any other file system is
 * UNKNOWN. Negative errno when root cannot be looked at (statfs() failed). */
int sdc_cgroup_mode_mounted(const char *root, SdcCgroupMode *ret);
