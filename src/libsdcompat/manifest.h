/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The manifest sdcompat records into an initramfs when the image is built (sdcompat.manifest(5)):
 * what the image's systemd is and how it hands over, and which boot-time actions the sdcompat in
 * the image implements. KEY=value lines (os-release syntax), versioned; readers ignore keys they do
 * not know, so newer writers stay readable by older readers. */

#include <stdbool.h>
#include <stddef.h>

#include "probe.h"
#include "rules.h"

#define SDC_MANIFEST_PATH    "/usr/lib/sdcompat/manifest"
#define SDC_MANIFEST_VERSION 1

typedef struct SdcManifest {
        unsigned format;            /* SDCOMPAT_MANIFEST_VERSION */
        char *sdcompat_version;
        char *build_time;           /* RFC 3339, UTC */
        char *systemd_version;      /* "252.39-1~deb12u2"; NULL if the image runs no systemd */
        char *systemd_binary;       /* "/usr/lib/systemd/systemd" */
        char *systemd_exec_path;    /* compiled SYSTEMD_BINARY_PATH: what PID 1 execs after switch-root */
        char *switch_root_argv;     /* "deserialize-first" (v254+), "kernel-args-first" (v250-253),
                                     * "switched-root-first" (older); NULL if unknown */
        SdcTri switch_root_via_systemctl;
        char *default_hierarchy;
        char *dracut_version;
        char *kernel_version;
        char *injected_at;          /* RFC 3339: when sdcompat-inject added sdcompat to an existing
                                     * image (INJECTED_AT); NULL when dracut built it in */
        bool actions[_SDC_ACTION_MAX]; /* what this image's sdcompat does at boot */
} SdcManifest;

/* Fills a manifest from a probe of the image's tree. */
int sdc_manifest_from_facts(const SdcTreeFacts *f, const char *kernel, const char *dracut_version, SdcManifest *ret);
/* The actions this build of sdcompat implements at boot. */
void sdc_manifest_set_implemented_actions(SdcManifest *m);
int sdc_manifest_format(const SdcManifest *m, char **ret);
/* Unknown keys are ignored; -EBADMSG if the format version is missing or not a number. */
int sdc_manifest_parse(const char *data, size_t size, SdcManifest *ret);
void sdc_manifest_done(SdcManifest *m);
/* Reads SDC_MANIFEST_PATH from a tree: -ENOENT if the image has no sdcompat, -EBADMSG if broken. */
int sdc_manifest_read(SdcTree *t, SdcManifest *ret);
