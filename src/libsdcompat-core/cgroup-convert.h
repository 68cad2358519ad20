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
#include <stddef.h>

/* Lists of words (controllers, and entries about them) stay lists until a report line is made
 * of them, by strv_join() alone: nothing is ever cut to fit. NULL is the empty list. */
typedef struct SdcCgroupReport {
        bool converted;              /* cgroup2 is mounted now, and was not before */
        unsigned moved;              /* processes moved to a hierarchy's root */
        unsigned removed;            /* child cgroups removed */
        unsigned kept;               /* child cgroups that could not be removed */
        unsigned unmounted;          /* hierarchies unmounted (the tmpfs not counted) */
        char **v1_controllers;       /* bound to v1 hierarchies before */
        char **controllers;          /* cgroup2's cgroup.controllers after */
        char **still_bound;          /* v1 controllers not in cgroup2 after */
        char **held_by;              /* "systemd-journal[245](pids memory)": why they are */
        char **left;                 /* "pids:4": cgroups the hierarchies of still_bound still count */
        unsigned zombies;            /* exited processes waiting for the root's PID 1 to reap them */
        char **zombie_names;         /* "systemd-journal[122]" */
        const char *options;         /* the cgroup2 mount options that were accepted */
} SdcCgroupReport;

/* root: "/sys/fs/cgroup" (a test may pass another tmpfs). 0 and converted=false when cgroup2 is
 * mounted already; -EMEDIUMTYPE when root is neither cgroup2 nor a tmpfs; other negative errno when
 * a step failed (the report says how far it got; -ENOMEM: cgroup2 may be mounted, the report is
 * incomplete); -EPERM when not PID 1: it moves every process and takes the hierarchies away, which
 * only the init between initramfs and root may do. The report is freed with
 * sdc_cgroup_report_done() whatever it returned. */
int sdc_cgroup_convert(const char *root, SdcCgroupReport *ret);
void sdc_cgroup_report_done(SdcCgroupReport *r);

/* ---- later, once the root's PID 1 has reaped them ---------------------------------------------- */

/* A v1 hierarchy as /proc/cgroups shows it: its id, how many cgroups it still counts (dying ones
 * included; 1 = its root only) and its controllers as mount options name them ("cpu,cpuacct"). */
typedef struct SdcV1Hierarchy {
        unsigned id;
        unsigned cgroups;
        char controllers[128];
} SdcV1Hierarchy;

#define SDC_V1_HIERARCHIES_MAX 32

/* The hierarchies that /proc/cgroups text binds enabled controllers to (hierarchy id not 0),
 * grouped by id. Returns how many; lines that do not parse are skipped. -E2BIG when there are more
 * than max, or a hierarchy's controllers do not fit in SdcV1Hierarchy.controllers: never a
 * hierarchy or a controller left out. */
int sdc_cgroup_v1_hierarchies(const char *proc_cgroups, SdcV1Hierarchy *h, size_t max);

/* Whether /proc/self/mountinfo text mounts a cgroup (v1) file system with any of controllers
 * (comma separated) among its options: such a hierarchy is in use and left alone. */
bool sdc_cgroup_v1_mounted(const char *mountinfo, const char *controllers);

typedef struct SdcCgroupRelease {
        char **bound;                /* the v1 controllers of only bound before */
        unsigned removed;            /* cgroups left in the hierarchies, removed now */
        unsigned moved;              /* processes found in them, moved to the hierarchy's root */
        char **released;             /* those now cgroup2's */
        char **in_use;               /* hierarchies mounted somewhere: left alone ("cpu,cpuacct") */
        char **busy;                 /* "memory:3": cgroups still counted after the wait */
        char **failed;               /* "memory: Device or resource busy": mount or unmount refused */
        char **still_bound;          /* v1 controllers after */
        char **controllers;          /* cgroup2's cgroup.controllers after */
        unsigned long long memory_tmpfs_held; /* bytes of tmpfs pages charged to removed memory cgroups */
        unsigned long long memory_cache_held; /* bytes of other page cache charged to them */
} SdcCgroupRelease;

/* Frees the controllers a conversion left bound to unmounted v1 hierarchies, once the exited
 * processes that held them are reaped: mounts each such hierarchy again (the kernel reuses the
 * lingering one for the same controllers), removes the cgroups left in it as the conversion does,
 * waits up to timeout_ms for the kernel to free them, and unmounts it: with only its root left the
 * kernel destroys it, which hands its controllers to cgroup2. Only hierarchies whose controllers
 * are all in only (the ones the conversion left bound) are touched. One
 * mounted here, or with a process in any of its cgroups (mounted in another mount namespace), is in
 * use and left exactly as it is; no process is ever moved. scratch: a directory for the temporary
 * mount points.
 * -EMEDIUMTYPE when root is not cgroup2 (a system on v1 keeps its hierarchies); -ENOMEM; 0
 * otherwise, with the report saying what came free and what did not. The report is freed with
 * sdc_cgroup_release_done() whatever it returned. */
int sdc_cgroup_release(const char *root, char *const *only, const char *scratch, unsigned timeout_ms, SdcCgroupRelease *ret);
void sdc_cgroup_release_done(SdcCgroupRelease *r);

/* ---- the other direction: cgroup2 for a root PID 1 that knows only v1 (H2d) ---------------------- */

typedef struct SdcCgroupRevert {
        bool reverted;               /* cgroup2 is unmounted from root now */
        unsigned moved;              /* processes moved to the cgroup2 root */
        unsigned removed;            /* child cgroups removed */
        unsigned kept;               /* child cgroups that could not be removed */
        char **disabled;             /* controllers taken out of the root's cgroup.subtree_control */
        char **not_disabled;         /* "memory: Device or resource busy": the kernel refused */
        unsigned left;               /* cgroups cgroup2 still counts besides its root after the wait
                                      * (/proc/cgroups counts per hierarchy, dying ones included: removed
                                      * cgroups an exited process not yet reaped, or charged pages, still
                                      * reference). A controller with such a cgroup cannot be mounted on
                                      * v1 (EBUSY) until the kernel frees it; which ones, the kernel does
                                      * not say. */
} SdcCgroupRevert;

/* Hands a root PID 1 older than systemd 230 (RHEL 7's 219) a /sys/fs/cgroup it can set up: it skips
 * its tmpfs when something is mounted there, and cgroup2 refuses the controller links it then
 * makes (EPERM), after which 219 freezes. Runs in sdcompat-shim as PID 1: moves every process in a
 * child cgroup to the cgroup2 root, removes the child cgroups depth first, takes every controller
 * out of the root's cgroup.subtree_control, waits (bounded) for the kernel to free the removed
 * cgroups (a controller can be mounted on a v1 hierarchy only once no cgroup2 cgroup references
 * it, and the kernel frees them asynchronously), and unmounts cgroup2 from root. The root's PID 1
 * then mounts its tmpfs and v1 hierarchies itself (219 skips, with a message, a controller the
 * kernel refuses to bind: see left).
 * 0 and reverted=false when root is not cgroup2; -EPERM when not PID 1; other negative errno when a
 * step failed (the report says how far it got). Freed with sdc_cgroup_revert_done() whatever it
 * returned. */
int sdc_cgroup_revert(const char *root, SdcCgroupRevert *ret);
void sdc_cgroup_revert_done(SdcCgroupRevert *r);
