/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The facts about one handoff: an initramfs's systemd, a root's systemd, and the kernel command
 * line they boot with, including what follows from them (which cgroup hierarchy the initramfs's
 * systemd will mount, whether the kernel passes init words that stop systemd's option parsing).
 * Rules are evaluated over these facts only: no I/O, so check and negotiate feed the same engine
 * from an image or from the running initramfs. */

#include <stdbool.h>
#include <stddef.h>

#include "cgroup-mode.h"
#include "probe.h"
#include "tri.h"
#include "tree.h"
#include "version.h"

typedef struct SdcPairFacts {
        SdcTri initrd_systemd; /* unknown when the initramfs's root is in initrd_root_image */
        char *initrd_root_image; /* owned: the file system image that holds the initramfs's root
                                  * (dracut's squash) and could not be read, NULL if none (or if it
                                  * was read: the initrd facts are then its root's) */
        char *initrd_root_image_error; /* owned: why it was not read */
        const char *initrd_root_image_type; /* static */
        SdcTri initrd_root_image_sdcompat; /* dracut's modules.txt lists sdcompat */
        bool has_initrd_version;
        SdcVersion initrd_version;
        SdcTri initrd_switch_root_via_systemctl;
        SdcTri initrd_systemctl_ignores_sigterm; /* the image's systemctl protects switch-root */
        SdcDistroFacts initrd_distro, root_distro; /* what each side's files say it is */
        SdcTri root_spares_switch_root; /* the root's manager counts the unit's SIGTERM as success */
        SdcTri root_sigterm_success; /* the root's unit configuration says SuccessExitStatus=SIGTERM */
        SdcCgroupMode initrd_cgroup;
        const char *initrd_cgroup_reason; /* static string: why that mode */
        SdcTri root_systemd;
        bool has_root_version;
        SdcVersion root_version;
        SdcTri root_usr_separate;
        SdcTri root_os_release;
        SdcTri root_has_binary_path; /* the root has the initramfs's compiled SYSTEMD_BINARY_PATH */
        bool has_kernel;
        unsigned kernel_major, kernel_minor;
        char **cmdline_words; /* owned */
        size_t cmdline_dashdash; /* index of the first word after "--"; SIZE_MAX if none */
        SdcTri init_args_break_parsing;
} SdcPairFacts;

/* root_tree may be NULL (then root_has_binary_path is unknown); kernel and cmdline may be NULL. */
int sdc_pair_facts_build(
        const SdcTreeFacts *initrd, const SdcTreeFacts *root, SdcTree *root_tree, const char *cmdline,
        const char *kernel, SdcPairFacts *ret);
void sdc_pair_facts_done(SdcPairFacts *f);

/* The hierarchy systemd of version v (with compile-time default `default_hierarchy`, may be NULL)
 * mounts at boot with this command line, following cg_is_unified_wanted()/cg_is_hybrid_wanted()
 * of each era. */
SdcCgroupMode sdc_cgroup_mode_for(const SdcVersion *v, const char *default_hierarchy, char *const *words,
                                  size_t dashdash, const char **ret_reason);

/* Whether the kernel hands init a word that stops systemd's option parsing (see pairfacts.c). */
SdcTri sdc_init_args_break_parsing(char *const *words, size_t dashdash);
