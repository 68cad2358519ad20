/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Hand the root's PID 1 a cgroup2 /sys/fs/cgroup when the initramfs mounted cgroup v1 (a tmpfs with
 * v1 hierarchies, "legacy", or "hybrid" with cgroup2 at unified/), which v258+ refuses outright and
 * v256 without SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 too (hazards H2a, H2b; H2c: v257 stalls 30 s).
 *
 * Runs in sdcompat-shim as PID 1, before the root's systemd: moves every process left in a child
 * cgroup to its hierarchy's root, empties the memory cgroups' page cache (force_empty), removes the
 * child cgroups bottom-up, unmounts the hierarchies and the tmpfs, and mounts cgroup2.
 *
 * A v1 controller comes free for cgroup2 only when its hierarchy is destroyed, and the kernel
 * destroys a hierarchy at unmount only if no cgroup in it is still referenced. Processes of the
 * initramfs that already exited are zombies until the root's PID 1 reaps them (their exit status
 * is its to judge, so they are not reaped here), and a zombie references its cgroups: the
 * controllers of those cgroups stay bound. The report names each such controller and the
 * processes that hold it. (Seen in boots: the kernel shows a zombie's removed v1 cgroups as "/" in
 * /proc/PID/cgroup, so the holders are named as the exited processes, not per controller.) */

#include <stdbool.h>

typedef struct SdcCgroupReport {
        bool converted;              /* cgroup2 is mounted now, and was not before */
        unsigned moved;              /* processes moved to a hierarchy's root */
        unsigned removed;            /* child cgroups removed */
        unsigned kept;               /* child cgroups that could not be removed */
        unsigned unmounted;          /* hierarchies unmounted (the tmpfs not counted) */
        char v1_controllers[256];    /* bound to v1 hierarchies before, space separated */
        char controllers[256];       /* cgroup2's cgroup.controllers after */
        char still_bound[256];       /* v1 controllers not in cgroup2 after */
        char held_by[512];           /* "systemd-journal[245](pids memory) ..." why they are */
        char left[256];              /* "pids:4 ...": cgroups the hierarchies of still_bound still count */
        unsigned zombies;            /* exited processes waiting for the root's PID 1 to reap them */
        char zombie_names[256];      /* "systemd-journal[122] systemctl[360]" */
        char options[64];            /* the cgroup2 mount options that were accepted */
} SdcCgroupReport;

/* root: "/sys/fs/cgroup" (a test may pass another tmpfs). 0 and converted=false when cgroup2 is
 * mounted already; -EMEDIUMTYPE when root is neither cgroup2 nor a tmpfs; other negative errno when
 * a step failed (the report says how far it got). */
int sdc_cgroup_convert(const char *root, SdcCgroupReport *ret);
