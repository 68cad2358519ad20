/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "cmdline.h"
#include "pairfacts.h"
#include "strv.h"

static int cmdline_bool(char *const *words, size_t dashdash, const char *key) {
        const char *v = NULL;
        int r;

        (void) dashdash; /* systemd reads every word of /proc/cmdline, "--" or not (cmdline.h) */
        r = sdc_cmdline_get(words, key, &v);
        if (r <= 0)
                return -1;
        if (!v)
                return 1; /* a bare word is "true", as proc_cmdline_get_bool() reads it */
        r = sdc_parse_boolean(v);
        return r < 0 ? -1 : r;
}

SdcCgroupMode sdc_cgroup_mode_for(const SdcVersion *v, const char *default_hierarchy, char *const *words,
                                  size_t dashdash, const char **ret_reason) {
        int unified = cmdline_bool(words, dashdash, "systemd.unified_cgroup_hierarchy");
        int legacy_ctl = cmdline_bool(words, dashdash, "systemd.legacy_systemd_cgroup_controller");
        int force = cmdline_bool(words, dashdash, "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE");
        const char *reason;
        SdcCgroupMode m;

        if (v->major < 230) {
                m = SDC_CGROUP_LEGACY;
                reason = "systemd < 230 knows only cgroup v1";
        } else if (v->major >= 258) {
                m = SDC_CGROUP_UNIFIED;
                reason = "systemd >= 258 mounts only cgroup v2";
        } else if (v->major >= 256 && unified == 0 && (force <= 0 || (v->major == 257 && unified != 0))) {
                m = SDC_CGROUP_UNIFIED;
                reason = "systemd 256/257 ignores systemd.unified_cgroup_hierarchy=0 without "
                         "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1";
        } else if (unified == 1) {
                m = SDC_CGROUP_UNIFIED;
                reason = "systemd.unified_cgroup_hierarchy=1 on the command line";
        } else if (unified == 0) {
                /* hybrid unless legacy_systemd_cgroup_controller says otherwise; before v233
                 * there was no hybrid mode. */
                if (v->major < 233 || legacy_ctl == 1 ||
                    (legacy_ctl < 0 && default_hierarchy && !streq(default_hierarchy, "hybrid")))
                        m = SDC_CGROUP_LEGACY;
                else
                        m = SDC_CGROUP_HYBRID;
                reason = "systemd.unified_cgroup_hierarchy=0 on the command line";
        } else if (v->major >= 256) {
                m = SDC_CGROUP_UNIFIED;
                reason = "systemd >= 256 defaults to cgroup v2";
        } else if (default_hierarchy) {
                m = streq(default_hierarchy, "unified") ? SDC_CGROUP_UNIFIED :
                    streq(default_hierarchy, "hybrid")  ? SDC_CGROUP_HYBRID :
                    streq(default_hierarchy, "legacy")  ? SDC_CGROUP_LEGACY :
                                                          SDC_CGROUP_UNKNOWN;
                reason = "the build's default-hierarchy";
        } else {
                m = SDC_CGROUP_UNKNOWN;
                reason = "no default-hierarchy in the binary's features";
        }
        if (ret_reason)
                *ret_reason = reason;
        return m;
}

/* The kernel hands init the words after "--", and words before it that are neither kernel
 * parameters nor assignments. A word starting with '-' among them ("--", "-s", "-b", "--foo")
 * stops systemd's getopt before it reaches --deserialize when an initramfs puts the kernel's words
 * first (v250–v253, H5). Words before "--" are counted only when they look like options: "quiet"
 * and friends are consumed by the kernel. */
SdcTri sdc_init_args_break_parsing(char *const *words, size_t dashdash) {
        size_t n = strv_length(words);

        for (size_t i = 0; i < n; i++) {
                if (i < dashdash && !strchr(words[i], '=') && words[i][0] == '-')
                        return SDC_TRI_YES;
                if (dashdash != SIZE_MAX && i >= dashdash && words[i][0] == '-')
                        return SDC_TRI_YES;
        }
        return SDC_TRI_NO;
}

int sdc_pair_facts_build(
        const SdcTreeFacts *initrd, const SdcTreeFacts *root, SdcTree *root_tree, const char *cmdline,
        const char *kernel, SdcPairFacts *ret) {
        SdcPairFacts f = {
                /* /init switches into a file system image first: what runs then is not known, unless
                 * that image was read (the facts are then its root's). */
                .initrd_systemd = initrd->root_image && !initrd->root_image_read ? SDC_TRI_UNKNOWN :
                                                                                   tri_from_bool(initrd->runs_systemd),
                .initrd_root_image_type = initrd->root_image_type,
                .initrd_root_image_sdcompat = initrd->root_image_sdcompat,
                .root_systemd = tri_from_bool(root->systemd.found),
                .initrd_switch_root_via_systemctl = initrd->switch_root_via_systemctl,
                .initrd_systemctl_ignores_sigterm = initrd->systemctl_ignores_sigterm,
                .initrd_distro = initrd->distro,
                .root_distro = root->distro,
                .root_spares_switch_root = root->systemd.found ? root->spares_switch_root : SDC_TRI_UNKNOWN,
                .root_sigterm_success = root->sigterm_success,
                .root_usr_separate = root->usr_separate,
                .root_os_release = tri_from_bool(root->os_release_path != NULL),
                .root_has_binary_path = SDC_TRI_UNKNOWN,
                .cmdline_dashdash = SIZE_MAX,
        };
        int r;

        if (initrd->root_image && !initrd->root_image_read) {
                f.initrd_root_image = strdup(initrd->root_image);
                f.initrd_root_image_error = initrd->root_image_error ? strdup(initrd->root_image_error) : NULL;
                if (!f.initrd_root_image || (initrd->root_image_error && !f.initrd_root_image_error)) {
                        sdc_pair_facts_done(&f);
                        return -ENOMEM;
                }
        }
        if (initrd->systemd.has_version) {
                f.has_initrd_version = true;
                f.initrd_version = initrd->systemd.version;
        }
        if (root->systemd.has_version) {
                f.has_root_version = true;
                f.root_version = root->systemd.version;
        }
        r = sdc_cmdline_split(cmdline ?: "", &f.cmdline_words, &f.cmdline_dashdash);
        if (r < 0) {
                sdc_pair_facts_done(&f);
                return r;
        }
        f.init_args_break_parsing = sdc_init_args_break_parsing(f.cmdline_words, f.cmdline_dashdash);

        f.initrd_cgroup = SDC_CGROUP_UNKNOWN;
        f.initrd_cgroup_reason = "the initramfs's systemd version is unknown";
        if (f.has_initrd_version)
                f.initrd_cgroup = sdc_cgroup_mode_for(&f.initrd_version, initrd->systemd.default_hierarchy,
                                                      f.cmdline_words, f.cmdline_dashdash, &f.initrd_cgroup_reason);

        if (root_tree && initrd->systemd.compiled_binary_path) {
                r = sdc_tree_exists(root_tree, initrd->systemd.compiled_binary_path);
                f.root_has_binary_path = r < 0 ? SDC_TRI_UNKNOWN : r ? SDC_TRI_YES : SDC_TRI_NO;
        }
        /* No fstab entry for /usr (or no fstab): /usr is part of the root, unless the command line
         * names a /usr file system itself (mount.usr=, as image-based systems do). */
        if (f.root_usr_separate != SDC_TRI_YES)
                f.root_usr_separate = sdc_cmdline_get(f.cmdline_words, "mount.usr", NULL) > 0 ? SDC_TRI_YES :
                                      f.root_usr_separate == SDC_TRI_UNKNOWN           ? SDC_TRI_NO :
                                                                                         f.root_usr_separate;
        if (kernel && sscanf(kernel, "%u.%u", &f.kernel_major, &f.kernel_minor) == 2)
                f.has_kernel = true;

        *ret = f;
        return 0;
}

void sdc_pair_facts_done(SdcPairFacts *f) {
        strv_free(f->cmdline_words);
        f->cmdline_words = NULL;
        free(f->initrd_root_image);
        f->initrd_root_image = NULL;
        free(f->initrd_root_image_error);
        f->initrd_root_image_error = NULL;
}
