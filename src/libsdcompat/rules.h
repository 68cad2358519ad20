/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Hazard rules as data (sdcompat.rules(5)): one rule per file, *.rules, in
 * /usr/lib/sdcompat/rules.d/ (vendor), overridden by a file of the same name in
 * /run/sdcompat/rules.d/ or /etc/sdcompat/rules.d/ (admin), as systemd's drop-ins are; a symlink
 * to /dev/null or an empty file masks. Evaluation is a pure function of SdcPairFacts.
 *
 * A rule's [Match] section lists conditions; all must hold. A condition key may be given several
 * times: the rule holds if any of those lines does. Within one line, space-separated tokens must
 * all hold. Facts can be unknown (an unreadable version, a missing unit file): a condition on an
 * unknown fact is unknown, and so is a rule that is not decided without it. */

#include "action.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pairfacts.h"

typedef enum SdcSeverity {
        SDC_SEVERITY_COSMETIC,
        SDC_SEVERITY_DEGRADED,
        SDC_SEVERITY_BOOT_FAILS,
        _SDC_SEVERITY_MAX,
        _SDC_SEVERITY_INVALID = -1,
} SdcSeverity;


typedef enum SdcMatch {
        SDC_MATCH_NO,
        SDC_MATCH_YES,
        SDC_MATCH_UNKNOWN,
} SdcMatch;

typedef struct SdcCondition SdcCondition;

typedef struct SdcRule {
        char *id;          /* "SDC-H1" */
        char *hazard;      /* "H1", the catalogue's name; may be NULL */
        char *title;
        char *description; /* may be NULL */
        char *remedy;      /* what to do without sdcompat */
        char **references;
        SdcSeverity severity;
        SdcAction action;
        bool apply_when_unknown; /* ApplyWhenUnknown=yes: the action is harmless where the hazard
                                  * does not apply, so negotiate takes it when the rule cannot be
                                  * decided (an unknown fact), and check counts it as handled then */
        SdcCondition *conditions;
        size_t n_conditions;
        char *path;        /* the file it was read from */
} SdcRule;

/* The catalogue's version file in a vendor rules directory: CATALOGUE_VERSION=N (bumped with every
 * change to the rules) and CATALOGUE_SYSTEMD_MAX=M (the newest upstream systemd the rules were
 * checked against). */
#define SDC_CATALOGUE_FILE "catalogue"

typedef struct SdcCatalogue {
        unsigned version;     /* 0: the directory has no catalogue file (older than version 2) */
        unsigned systemd_max; /* 0: unknown */
} SdcCatalogue;

/* Reads DIR/catalogue. A missing file is version 0 and returns -ENOENT; a file without a valid
 * CATALOGUE_VERSION is -EBADMSG, one that is not a regular file -EISDIR or -EBADFD (without
 * blocking on a FIFO; version 0 too). */
int sdc_catalogue_read(const char *dir, SdcCatalogue *ret);
/* The same for the file PATH relative to dir_fd. */
int sdc_catalogue_read_at(int dir_fd, const char *path, SdcCatalogue *ret);

typedef struct SdcRuleSet {
        SdcRule *rules;
        size_t n_rules;
        char **errors; /* "file:line: reason" for everything that did not load */
        char **masked; /* file names masked by an admin */
        SdcCatalogue catalogue; /* the newest catalogue file among the directories */
        char *catalogue_dir;    /* the directory it is in; NULL if none has one */
} SdcRuleSet;

typedef struct SdcFinding {
        const SdcRule *rule;
        SdcMatch match;          /* YES or UNKNOWN; rules that do not match are not reported */
        const char *unknown_fact; /* for UNKNOWN: a condition key whose fact was unknown */
        bool handled_by_root; /* the root's own configuration handles it (sdc_assess()) */
} SdcFinding;

#define SDC_RULES_DIRS_DEFAULT "/etc/sdcompat/rules.d:/run/sdcompat/rules.d:" SDCOMPAT_RULESDIR

/* Parses one rule file. On a syntax error returns -EBADMSG and *ret_error is "path:line: reason". */
int sdc_rule_parse(const char *path, const char *data, size_t size, SdcRule *ret, char **ret_error);
void sdc_rule_done(SdcRule *r);

/* Loads every *.rules file from a colon-separated list of directories, highest precedence first.
 * Errors in single files are collected in the set, never fatal: when an override cannot be parsed,
 * the file it overrides is used instead, so a broken admin file cannot silently disable a shipped
 * rule. Returns -ENOMEM only. */
int sdc_rules_load(const char *dirs, SdcRuleSet **ret);
/* A set built from rules the caller parsed (tests). Takes ownership of the rules' contents. */
int sdc_rules_new(SdcRule *rules, size_t n, SdcRuleSet **ret);
SdcRuleSet *sdc_rules_free(SdcRuleSet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SdcRuleSet *, sdc_rules_free);

const SdcRule *sdc_rules_find(const SdcRuleSet *s, const char *id);

SdcMatch sdc_rule_evaluate(const SdcRule *r, const SdcPairFacts *f, const char **ret_unknown_fact);
/* Findings for the rules that match or cannot be decided, in file-name order. */
int sdc_rules_evaluate(const SdcRuleSet *s, const SdcPairFacts *f, SdcFinding **ret, size_t *ret_n);

/* Writes the rule's [Match] conditions as KEY=VALUE lines, each prefixed with indent. */
void sdc_rule_print_conditions(const SdcRule *r, FILE *f, const char *indent);

const char *sdc_severity_to_string(SdcSeverity s);
SdcSeverity sdc_severity_from_string(const char *s);
