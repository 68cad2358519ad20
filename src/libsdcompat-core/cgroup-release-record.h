/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The cgroup release record (RUN_DIR/sdcompat/cgroup-release.json, sdcompat-shim(8)): what
 * `sdcompat-shim --release-cgroups` did, written by it and read by `sdcompat status`. This module
 * is the only writer and the only reader of the format. JSON, one member per line; within a
 * schema version members are only ever added. A reader meeting another schema version reads
 * nothing of it and says which version it found (-EPROTONOSUPPORT). */

#include <stdbool.h>
#include <stdio.h>

#include "cgroup-convert.h"

#define SDC_CGROUP_RELEASE_RECORD         "cgroup-release.json"
#define SDC_CGROUP_RELEASE_RECORD_VERSION 1

/* What a reader gets back of a record. */
typedef struct SdcCgroupReleaseRecord {
        unsigned schema_version;
        int error;                   /* the release's error, 0 if it ran */
        char *released;              /* controllers now cgroup2's, space separated ("" none) */
        char *still_bound;           /* controllers still bound to v1 */
        bool pid1_reexecuted;        /* PID 1 was asked to re-execute to use the released ones */
} SdcCgroupReleaseRecord;

/* Writes the record of a release (rep) that ended with error, PID 1 asked to re-execute or not.
 * -ENOMEM when the record cannot be made. */
int sdc_cgroup_release_record_write(FILE *f, int error, const SdcCgroupRelease *rep, bool pid1_reexecuted);

/* -EBADMSG: no schema_version, or a member of this version missing or malformed;
 * -EPROTONOSUPPORT: another schema version (ret->schema_version says which); -ENOMEM. */
int sdc_cgroup_release_record_parse(const char *data, SdcCgroupReleaseRecord *ret);
void sdc_cgroup_release_record_done(SdcCgroupReleaseRecord *r);
