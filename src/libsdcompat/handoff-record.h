/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* negotiate's record of this boot's handoff, RUN_DIR/sdcompat/handoff.json (sdcompat.run(5)): both
 * trees' facts, the hazards, the plan, the actions, the errors. Written by `sdcompat negotiate`
 * beside the plan (plan-file.h) and kept when the plan cannot be written; printed by
 * `sdcompat status --json` and read by `sdcompat status` when there is no plan. JSON for operators
 * and tools; read back with the strict parser of json-parse.h. This module is the only one that
 * knows its members. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assess.h"
#include "plan.h"
#include "probe.h"

#define SDC_HANDOFF_RECORD_NAME    "handoff.json"
#define SDC_HANDOFF_RECORD_VERSION 1 /* "schema_version" */

/* What negotiate records; everything borrowed from the caller. */
typedef struct SdcHandoffRecord {
        const SdcPlan *plan;
        const SdcAssessment *assessment;
        const bool *applied;            /* _SDC_ACTION_MAX flags */
        const char *cmdline;
        const char *cgroup_observed;
        const char *shim_target, *shim_note;
        const char *shim_from;          /* "root", "initramfs"; NULL: no shim chosen (shim-select.h) */
        const char *shim_version, *shim_choice;
        const SdcTreeFacts *initrd, *root; /* NULL: not probed */
        char *const *errors;
        bool catalogue_from_root;
        unsigned catalogue_initramfs, catalogue_root, systemd_max;
        bool root_systemd_future;
        uint64_t duration_usec;
} SdcHandoffRecord;

/* dir/handoff.json written atomically (run-file.h); a warning when it cannot be. */
int sdc_handoff_record_write(const char *dir, const SdcHandoffRecord *rec);

/* What `sdcompat status` reads back of it. */
typedef struct SdcHandoffSummary {
        unsigned version;               /* schema_version */
        char *mode;
        char *errors;                   /* the errors, "; "-joined; NULL: none */
} SdcHandoffSummary;

/* -EBADMSG: not strict JSON, or no schema_version / "errors" array of strings; -EPROTONOSUPPORT: a
 * schema_version other than 1 to SDC_HANDOFF_RECORD_VERSION (it is in ret->version); -ENOMEM. */
int sdc_handoff_record_parse(const char *data, size_t size, SdcHandoffSummary *ret);
/* dir/handoff.json read and parsed as above: -ENOENT when there is none. */
int sdc_handoff_record_read(const char *dir, SdcHandoffSummary *ret);
void sdc_handoff_summary_done(SdcHandoffSummary *s);
