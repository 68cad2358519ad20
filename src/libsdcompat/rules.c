/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rules: parsing, loading with vendor/admin precedence, evaluation.
 *
 * The parser is our own rather than libeconf (the library made for this vendor+admin layout):
 * the rules are evaluated inside the initramfs by a statically linked program and Debian ships no
 * static libeconf; the format is a small subset of systemd's unit syntax, ~150 lines here. */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmdline.h"
#include "envfile.h"
#include "fileio.h"
#include "rules.h"
#include "strv.h"

#define RULE_FILE_MAX (64u * 1024u)

typedef enum KeyType {
        TYPE_BOOL,    /* yes/no against a tri-state fact */
        TYPE_VERSION, /* version comparisons, all must hold */
        TYPE_KERNEL,  /* kernel major.minor comparisons, all must hold */
        TYPE_CGROUP,  /* one of the listed modes */
        TYPE_SKEW,    /* one of older-initrd, newer-initrd, same */
        TYPE_CMDLINE, /* [!]KEY[=VALUE] words, all must hold */
} KeyType;

typedef enum CondKey {
        KEY_INITRD_SYSTEMD,
        KEY_INITRD_VERSION,
        KEY_INITRD_SWITCH_ROOT_VIA_SYSTEMCTL,
        KEY_INITRD_CGROUP,
        KEY_ROOT_SYSTEMD,
        KEY_ROOT_VERSION,
        KEY_ROOT_USR_SEPARATE,
        KEY_ROOT_OS_RELEASE,
        KEY_ROOT_HAS_BINARY_PATH,
        KEY_SKEW,
        KEY_KERNEL_VERSION,
        KEY_CMDLINE,
        KEY_INIT_ARGS_BREAK_PARSING,
        KEY_INITRD_SYSTEMCTL_IGNORES_SIGTERM,
        KEY_ROOT_SPARES_SWITCH_ROOT,
        _KEY_MAX,
} CondKey;

static const struct {
        const char *name;
        KeyType type;
} keys[_KEY_MAX] = {
        [KEY_INITRD_SYSTEMD] = { "InitrdSystemd", TYPE_BOOL },
        [KEY_INITRD_VERSION] = { "InitrdVersion", TYPE_VERSION },
        [KEY_INITRD_SWITCH_ROOT_VIA_SYSTEMCTL] = { "InitrdSwitchRootViaSystemctl", TYPE_BOOL },
        [KEY_INITRD_CGROUP] = { "InitrdCgroup", TYPE_CGROUP },
        [KEY_ROOT_SYSTEMD] = { "RootSystemd", TYPE_BOOL },
        [KEY_ROOT_VERSION] = { "RootVersion", TYPE_VERSION },
        [KEY_ROOT_USR_SEPARATE] = { "RootUsrSeparate", TYPE_BOOL },
        [KEY_ROOT_OS_RELEASE] = { "RootOsRelease", TYPE_BOOL },
        [KEY_ROOT_HAS_BINARY_PATH] = { "RootHasInitrdBinaryPath", TYPE_BOOL },
        [KEY_SKEW] = { "Skew", TYPE_SKEW },
        [KEY_KERNEL_VERSION] = { "KernelVersion", TYPE_KERNEL },
        [KEY_CMDLINE] = { "KernelCommandLine", TYPE_CMDLINE },
        [KEY_INIT_ARGS_BREAK_PARSING] = { "InitArgsBreakParsing", TYPE_BOOL },
        [KEY_INITRD_SYSTEMCTL_IGNORES_SIGTERM] = { "InitrdSystemctlIgnoresSigterm", TYPE_BOOL },
        [KEY_ROOT_SPARES_SWITCH_ROOT] = { "RootSparesSwitchRootSigterm", TYPE_BOOL },
};

struct SdcCondition {
        CondKey key;
        char **lines; /* alternatives */
};

static const char *const severity_names[_SDC_SEVERITY_MAX] = {
        [SDC_SEVERITY_COSMETIC] = "cosmetic",
        [SDC_SEVERITY_DEGRADED] = "degraded",
        [SDC_SEVERITY_BOOT_FAILS] = "boot-fails",
};


const char *sdc_severity_to_string(SdcSeverity s) {
        return s >= 0 && s < _SDC_SEVERITY_MAX ? severity_names[s] : NULL;
}

SdcSeverity sdc_severity_from_string(const char *s) {
        for (int i = 0; i < _SDC_SEVERITY_MAX; i++)
                if (streq(s, severity_names[i]))
                        return (SdcSeverity) i;
        return _SDC_SEVERITY_INVALID;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

typedef enum Op { OP_LT, OP_LE, OP_EQ, OP_NE, OP_GE, OP_GT } Op;

static const char *parse_op(const char *s, Op *ret) {
        static const struct {
                const char *text;
                Op op;
        } ops[] = { { "<=", OP_LE }, { ">=", OP_GE }, { "!=", OP_NE }, { "<", OP_LT }, { ">", OP_GT }, { "=", OP_EQ } };

        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (strneq(s, ops[i].text, strlen(ops[i].text))) {
                        *ret = ops[i].op;
                        return s + strlen(ops[i].text);
                }
        return NULL;
}

static bool op_holds(Op op, int c) {
        switch (op) {
        case OP_LT: return c < 0;
        case OP_LE: return c <= 0;
        case OP_EQ: return c == 0;
        case OP_NE: return c != 0;
        case OP_GE: return c >= 0;
        case OP_GT: return c > 0;
        }
        return false;
}

typedef struct VersionToken {
        bool negate;
        SdcDistroFamily family; /* SDC_DISTRO_NONE: any distribution */
        Op op;
        bool major_only; /* "256": compare the upstream major only */
        SdcVersion version;
        char os[32]; /* "os:rhel:>=7.8": the distribution's release, not systemd's version */
        char release[32];
} VersionToken;

/* "[!][rhel:|debian:]OP VERSION", e.g. "<233", ">=252.5", "!rhel:>=219-70", or
 * "[!]os:ID:OP RELEASE", e.g. "os:rhel:>=7.8": the release of the distribution the tree's files
 * name (SdcDistroFacts). */
static int parse_version_token(const char *t, VersionToken *ret) {
        VersionToken v = {};
        const char *p = t;

        if (*p == '!') {
                v.negate = true;
                p++;
        }
        if (strneq(p, "os:", 3)) {
                const char *colon = strchr(p + 3, ':');
                size_t n = colon ? (size_t)(colon - p - 3) : 0;

                if (n == 0 || n >= sizeof(v.os))
                        return -EINVAL;
                memcpy(v.os, p + 3, n);
                p = parse_op(colon + 1, &v.op);
                if (!p || !*p || strlen(p) >= sizeof(v.release) || strspn(p, "0123456789.") != strlen(p))
                        return -EINVAL;
                strcpy(v.release, p);
                *ret = v;
                return 0;
        }
        if (strneq(p, "rhel:", 5)) {
                v.family = SDC_DISTRO_RHEL;
                p += 5;
        } else if (strneq(p, "debian:", 7)) {
                v.family = SDC_DISTRO_DEBIAN;
                p += 7;
        }
        p = parse_op(p, &v.op);
        if (!p || sdc_version_parse(p, &v.version) < 0)
                return -EINVAL;
        v.major_only = !strpbrk(p, ".-~");
        *ret = v;
        return 0;
}

static SdcMatch negated(SdcMatch m, bool negate) {
        if (m == SDC_MATCH_UNKNOWN || !negate)
                return m;
        return m == SDC_MATCH_YES ? SDC_MATCH_NO : SDC_MATCH_YES;
}

/* v is the side's systemd version (NULL if unknown), d what the side's files say it is. */
static SdcMatch version_token_match(const VersionToken *t, const SdcVersion *v, const SdcDistroFacts *d) {
        bool holds;

        if (t->os[0]) {
                /* Nothing said (no os-release): unknown; another distribution named: the token does
                 * not hold; the family named without its release: unknown. A "!" negates what
                 * was decided. */
                if (!d->id[0])
                        /* ... unless the version carries its distribution's revision: then the
                         * rule's lines on the version decide, not this one. */
                        return v && v->revision[0] ? SDC_MATCH_NO : SDC_MATCH_UNKNOWN;
                if (!streq(d->id, t->os))
                        return negated(SDC_MATCH_NO, t->negate);
                if (!d->release[0])
                        return SDC_MATCH_UNKNOWN;
                return negated(
                        op_holds(t->op, sdc_verrevcmp(d->release, t->release)) ? SDC_MATCH_YES
                                                                               : SDC_MATCH_NO,
                        t->negate);
        }
        if (!v)
                return SDC_MATCH_UNKNOWN;
        if (t->family != SDC_DISTRO_NONE && v->family != t->family) {
                /* A bare upstream version of the token's own major ("219", what RHEL's binaries
                 * print) may be a build of that family with any release. Where the tree's files
                 * name that family and its release (os-release, redhat-release), the rule's "os:"
                 * lines carry what that release means and this token does not apply, negated or
                 * not; where they name Debian, it is not that family's; where they name nothing
                 * or another distribution (a rebuild, a rebrand), it is unknown. */
                if (v->revision[0] == 0 && v->major == t->version.major && !t->major_only &&
                    !streq(d->id, "debian")) {
                        if (streq(d->id, sdc_distro_family_to_string(t->family)) && d->release[0])
                                return SDC_MATCH_NO;
                        return SDC_MATCH_UNKNOWN;
                }
                holds = false;
        } else if (t->major_only)
                holds = op_holds(t->op, v->major < t->version.major ? -1 : v->major > t->version.major);
        else
                holds = op_holds(t->op, sdc_version_compare(v, &t->version));
        return negated(holds ? SDC_MATCH_YES : SDC_MATCH_NO, t->negate);
}

static int parse_kernel_token(const char *t, Op *op, unsigned *major, unsigned *minor) {
        const char *p = parse_op(t, op);
        char end;

        if (!p || sscanf(p, "%u.%u%c", major, minor, &end) != 2)
                return -EINVAL;
        return 0;
}

static int parse_cmdline_token(const char *t) {
        const char *k = t[0] == '!' ? t + 1 : t;
        return isempty(k) || k[0] == '=' ? -EINVAL : 0;
}

/* A boolean condition's value: yes/no as systemd spells them, or "unknown". -2 if neither. */
static int bool_token(const char *t) {
        int b;

        if (streq(t, "unknown"))
                return -1;
        b = sdc_parse_boolean(t);
        return b < 0 ? -2 : b;
}

static const char *const skew_names[] = { "older-initrd", "newer-initrd", "same" };

static int validate_line(KeyType type, const char *line) {
        _cleanup_free_ char *copy = strdup(line);
        char *save = NULL;
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save), n++) {
                VersionToken vt;
                Op op;
                unsigned a, b;
                int r = 0;

                switch (type) {
                case TYPE_BOOL: r = bool_token(t) < -1 || n > 0 ? -EINVAL : 0; break;
                case TYPE_VERSION: r = parse_version_token(t, &vt); break;
                case TYPE_KERNEL: r = parse_kernel_token(t, &op, &a, &b); break;
                case TYPE_CGROUP:
                        r = streq(t, "legacy") || streq(t, "hybrid") || streq(t, "unified") ? 0 : -EINVAL;
                        break;
                case TYPE_SKEW:
                        r = streq(t, skew_names[0]) || streq(t, skew_names[1]) || streq(t, skew_names[2]) ? 0 : -EINVAL;
                        break;
                case TYPE_CMDLINE: r = parse_cmdline_token(t); break;
                }
                if (r < 0)
                        return r;
        }
        return n == 0 ? -EINVAL : 0;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

/* want: 1 (yes), 0 (no), -1 ("unknown": holds exactly when the fact is not known, for a rule that
 * is the fallback of another that decides from the fact). */
static SdcMatch tri_match(SdcTri fact, int want) {
        if (want == -1)
                return fact == SDC_TRI_UNKNOWN ? SDC_MATCH_YES : SDC_MATCH_NO;
        if (fact == SDC_TRI_UNKNOWN)
                return SDC_MATCH_UNKNOWN;
        return (fact == SDC_TRI_YES) == (want == 1) ? SDC_MATCH_YES : SDC_MATCH_NO;
}

static SdcMatch cmdline_token(const SdcPairFacts *f, const char *t) {
        bool negate = t[0] == '!';
        const char *k = negate ? t + 1 : t, *eq = strchr(k, '='), *value = NULL;
        _cleanup_free_ char *key = eq ? strndup(k, (size_t) (eq - k)) : strdup(k);
        bool holds;
        int r;

        if (!key)
                return SDC_MATCH_UNKNOWN;
        r = sdc_cmdline_get(f->cmdline_words, key, &value);
        if (!eq)
                holds = r > 0;
        else if (r <= 0)
                holds = false;
        else {
                int a = sdc_parse_boolean(eq + 1), b = sdc_parse_boolean(value ?: "1");
                /* "=0" matches "=no", "=false", ...: systemd reads these options as booleans. */
                holds = a >= 0 && b >= 0 ? a == b : streq(eq + 1, value ?: "");
        }
        return holds != negate ? SDC_MATCH_YES : SDC_MATCH_NO;
}

static SdcMatch eval_line(CondKey key, const char *line, const SdcPairFacts *f) {
        _cleanup_free_ char *copy = strdup(line);
        KeyType type = keys[key].type;
        bool any_mode = type == TYPE_CGROUP || type == TYPE_SKEW; /* listed values are alternatives */
        SdcMatch result = any_mode ? SDC_MATCH_NO : SDC_MATCH_YES;
        char *save = NULL;

        if (!copy)
                return SDC_MATCH_UNKNOWN;
        for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                SdcMatch m = SDC_MATCH_UNKNOWN;

                switch (key) {
                case KEY_INITRD_SYSTEMD: m = tri_match(f->initrd_systemd, bool_token(t)); break;
                case KEY_INITRD_SWITCH_ROOT_VIA_SYSTEMCTL:
                        m = tri_match(f->initrd_switch_root_via_systemctl, bool_token(t));
                        break;
                case KEY_ROOT_SYSTEMD: m = tri_match(f->root_systemd, bool_token(t)); break;
                case KEY_ROOT_USR_SEPARATE: m = tri_match(f->root_usr_separate, bool_token(t)); break;
                case KEY_ROOT_OS_RELEASE: m = tri_match(f->root_os_release, bool_token(t)); break;
                case KEY_ROOT_HAS_BINARY_PATH: m = tri_match(f->root_has_binary_path, bool_token(t)); break;
                case KEY_INIT_ARGS_BREAK_PARSING:
                        m = tri_match(f->init_args_break_parsing, bool_token(t));
                        break;
                case KEY_INITRD_SYSTEMCTL_IGNORES_SIGTERM:
                        m = tri_match(f->initrd_systemctl_ignores_sigterm, bool_token(t));
                        break;
                case KEY_ROOT_SPARES_SWITCH_ROOT:
                        m = tri_match(f->root_spares_switch_root, bool_token(t));
                        break;
                case KEY_INITRD_VERSION:
                case KEY_ROOT_VERSION: {
                        bool initrd = key == KEY_INITRD_VERSION;
                        bool have = initrd ? f->has_initrd_version : f->has_root_version;
                        VersionToken vt;

                        if (parse_version_token(t, &vt) >= 0)
                                m = version_token_match(
                                        &vt, have ? (initrd ? &f->initrd_version : &f->root_version) : NULL,
                                        initrd ? &f->initrd_distro : &f->root_distro);
                        break;
                }
                case KEY_KERNEL_VERSION: {
                        Op op;
                        unsigned a, b;

                        if (f->has_kernel && parse_kernel_token(t, &op, &a, &b) >= 0) {
                                int c = f->kernel_major != a ? (f->kernel_major < a ? -1 : 1) :
                                        f->kernel_minor != b ? (f->kernel_minor < b ? -1 : 1) : 0;
                                m = op_holds(op, c) ? SDC_MATCH_YES : SDC_MATCH_NO;
                        }
                        break;
                }
                case KEY_INITRD_CGROUP:
                        if (f->initrd_cgroup != SDC_CGROUP_UNKNOWN)
                                m = streq(t, sdc_cgroup_mode_to_string(f->initrd_cgroup)) ? SDC_MATCH_YES : SDC_MATCH_NO;
                        break;
                case KEY_SKEW:
                        if (f->has_initrd_version && f->has_root_version) {
                                unsigned i = f->initrd_version.major, r = f->root_version.major;
                                const char *skew = i < r ? skew_names[0] : i > r ? skew_names[1] : skew_names[2];
                                m = streq(t, skew) ? SDC_MATCH_YES : SDC_MATCH_NO;
                        }
                        break;
                case KEY_CMDLINE: m = cmdline_token(f, t); break;
                case _KEY_MAX: break;
                }

                if (any_mode) { /* OR */
                        if (m == SDC_MATCH_YES)
                                return SDC_MATCH_YES;
                        if (m == SDC_MATCH_UNKNOWN)
                                result = SDC_MATCH_UNKNOWN;
                } else { /* AND */
                        if (m == SDC_MATCH_NO)
                                return SDC_MATCH_NO;
                        if (m == SDC_MATCH_UNKNOWN)
                                result = SDC_MATCH_UNKNOWN;
                }
        }
        return result;
}

SdcMatch sdc_rule_evaluate(const SdcRule *r, const SdcPairFacts *f, const char **ret_unknown_fact) {
        SdcMatch result = SDC_MATCH_YES;
        const char *unknown = NULL;

        for (size_t i = 0; i < r->n_conditions; i++) {
                const SdcCondition *c = &r->conditions[i];
                SdcMatch cm = SDC_MATCH_NO;

                STRV_FOREACH(line, c->lines) { /* OR over the lines */
                        SdcMatch m = eval_line(c->key, *line, f);
                        if (m == SDC_MATCH_YES) {
                                cm = SDC_MATCH_YES;
                                break;
                        }
                        if (m == SDC_MATCH_UNKNOWN)
                                cm = SDC_MATCH_UNKNOWN;
                }
                if (cm == SDC_MATCH_NO)
                        return SDC_MATCH_NO; /* decided, whatever else is unknown */
                if (cm == SDC_MATCH_UNKNOWN && !unknown) {
                        unknown = keys[c->key].name;
                        result = SDC_MATCH_UNKNOWN;
                }
        }
        if (ret_unknown_fact)
                *ret_unknown_fact = unknown;
        return result;
}

int sdc_rules_evaluate(const SdcRuleSet *s, const SdcPairFacts *f, SdcFinding **ret, size_t *ret_n) {
        SdcFinding *findings = NULL;
        size_t n = 0;

        for (size_t i = 0; i < s->n_rules; i++) {
                const char *unknown = NULL;
                SdcMatch m = sdc_rule_evaluate(&s->rules[i], f, &unknown);
                SdcFinding *nf;

                if (m == SDC_MATCH_NO)
                        continue;
                nf = realloc(findings, (n + 1) * sizeof(SdcFinding));
                if (!nf) {
                        free(findings);
                        return -ENOMEM;
                }
                findings = nf;
                findings[n++] = (SdcFinding) { .rule = &s->rules[i], .match = m, .unknown_fact = unknown };
        }
        *ret = findings;
        *ret_n = n;
        return 0;
}

/* ---- parsing --------------------------------------------------------------------------------- */

static int set_error(char **ret_error, const char *path, unsigned line, const char *fmt, ...) _printf_(4, 5);
static int set_error(char **ret_error, const char *path, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (line > 0)
                r = asprintf(ret_error, "%s:%u: %s", path, line, msg);
        else
                r = asprintf(ret_error, "%s: %s", path, msg);
        return r < 0 ? -ENOMEM : -EBADMSG;
}

static int append_text(char **field, const char *value) {
        char *n;

        if (asprintf(&n, "%s%s%s", *field ?: "", *field ? "\n" : "", value) < 0)
                return -ENOMEM;
        free(*field);
        *field = n;
        return 0;
}

static int add_condition(SdcRule *rule, CondKey key, const char *value) {
        SdcCondition *c = NULL;

        for (size_t i = 0; i < rule->n_conditions; i++)
                if (rule->conditions[i].key == key)
                        c = &rule->conditions[i];
        if (!c) {
                SdcCondition *n = realloc(rule->conditions, (rule->n_conditions + 1) * sizeof(SdcCondition));
                if (!n)
                        return -ENOMEM;
                rule->conditions = n;
                c = &rule->conditions[rule->n_conditions++];
                *c = (SdcCondition) { .key = key };
        }
        return strv_extend(&c->lines, value);
}

static bool valid_id(const char *s) {
        if (!strneq(s, "SDC-", 4) || !s[4])
                return false;
        for (const char *p = s + 4; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return strlen(s) <= 64;
}

static int parse_rule_key(SdcRule *rule, const char *key, const char *value, const char *path, unsigned line,
                          char **ret_error) {
        if (streq(key, "Id")) {
                if (!valid_id(value))
                        return set_error(ret_error, path, line, "Id=%s: must be SDC- followed by A-Z, 0-9 or -", value);
                free(rule->id);
                rule->id = strdup(value);
                return rule->id ? 0 : -ENOMEM;
        }
        if (streq(key, "Hazard")) {
                free(rule->hazard);
                rule->hazard = strdup(value);
                return rule->hazard ? 0 : -ENOMEM;
        }
        if (streq(key, "Title")) {
                free(rule->title);
                rule->title = strdup(value);
                return rule->title ? 0 : -ENOMEM;
        }
        if (streq(key, "Description"))
                return append_text(&rule->description, value);
        if (streq(key, "Remedy"))
                return append_text(&rule->remedy, value);
        if (streq(key, "Reference"))
                return strv_extend(&rule->references, value);
        if (streq(key, "Severity")) {
                rule->severity = sdc_severity_from_string(value);
                if (rule->severity < 0)
                        return set_error(ret_error, path, line,
                                         "Severity=%s: expected boot-fails, degraded or cosmetic", value);
                return 0;
        }
        if (streq(key, "ApplyWhenUnknown")) {
                int b = sdc_parse_boolean(value);

                if (b < 0)
                        return set_error(
                                ret_error, path, line, "ApplyWhenUnknown=%s: expected yes or no", value);
                rule->apply_when_unknown = b;
                return 0;
        }
        if (streq(key, "Action")) {
                rule->action = sdc_action_from_string(value);
                if (rule->action < 0)
                        return set_error(ret_error, path, line, "Action=%s: not an action sdcompat implements", value);
                return 0;
        }
        return set_error(ret_error, path, line, "unknown key %s= in [Rule]", key);
}

/* The parser proper: data[size] is a NUL, and the lines are cut in place. */
static int rule_parse_in_place(const char *path, char *data, size_t size, SdcRule *ret, char **ret_error) {
        SdcRule rule = { .severity = _SDC_SEVERITY_INVALID, .action = _SDC_ACTION_INVALID };
        enum { NONE, RULE, MATCH } section = NONE;
        char *p = data, *end = data + size;
        unsigned line = 0;
        int r = 0;

        *ret_error = NULL;
        if (size > RULE_FILE_MAX) {
                r = set_error(ret_error, path, 0, "larger than %u bytes", RULE_FILE_MAX);
                goto fail;
        }
        if (memchr(data, 0, size)) {
                r = set_error(ret_error, path, 0, "contains a NUL byte: not a rule file");
                goto fail;
        }
        while (p < end) {
                char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end;
                char *l = p, *s, *eq, *k, *v;

                *eol = 0;
                line++;
                p = eol + 1;
                s = l + strspn(l, " \t");
                for (size_t n = strlen(s); n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'); n--)
                        s[n - 1] = 0;
                if (*s == 0 || *s == '#' || *s == ';')
                        continue;
                if (*s == '[') {
                        if (streq(s, "[Rule]"))
                                section = RULE;
                        else if (streq(s, "[Match]"))
                                section = MATCH;
                        else {
                                r = set_error(ret_error, path, line, "unknown section %s", s);
                                goto fail;
                        }
                        continue;
                }
                eq = strchr(s, '=');
                if (!eq) {
                        r = set_error(ret_error, path, line, "expected KEY=VALUE");
                        goto fail;
                }
                *eq = 0;
                k = s;
                for (size_t n = strlen(k); n > 0 && (k[n - 1] == ' ' || k[n - 1] == '\t'); n--)
                        k[n - 1] = 0;
                v = eq + 1 + strspn(eq + 1, " \t");

                if (section == NONE) {
                        r = set_error(ret_error, path, line, "%s= outside of a section", k);
                        goto fail;
                }
                if (section == RULE) {
                        r = parse_rule_key(&rule, k, v, path, line, ret_error);
                        if (r < 0)
                                goto fail;
                        continue;
                }
                for (CondKey ck = 0; ck < _KEY_MAX; ck++)
                        if (streq(k, keys[ck].name)) {
                                r = validate_line(keys[ck].type, v);
                                if (r == -EINVAL)
                                        r = set_error(ret_error, path, line, "%s=%s: invalid value", k, v);
                                if (r >= 0)
                                        r = add_condition(&rule, ck, v);
                                if (r < 0)
                                        goto fail;
                                goto next;
                        }
                r = set_error(ret_error, path, line, "unknown condition %s= in [Match]", k);
                goto fail;
        next:;
        }

        if (!rule.id || !rule.title || rule.severity < 0 || rule.action < 0 || !rule.remedy) {
                r = set_error(ret_error, path, 0, "a rule needs Id=, Title=, Severity=, Action= and Remedy=");
                goto fail;
        }
        if (rule.apply_when_unknown && rule.action == SDC_ACTION_NONE) {
                r = set_error(ret_error, path, 0, "ApplyWhenUnknown=yes needs an Action= to apply");
                goto fail;
        }
        if (rule.n_conditions == 0) {
                r = set_error(ret_error, path, 0, "a rule needs a [Match] section with at least one condition");
                goto fail;
        }
        rule.path = strdup(path);
        if (!rule.path) {
                r = -ENOMEM;
                goto fail;
        }
        *ret = rule;
        return 0;
fail:
        sdc_rule_done(&rule);
        return r;
}

int sdc_rule_parse(const char *path, const char *data, size_t size, SdcRule *ret, char **ret_error) {
        _cleanup_free_ char *copy = malloc(size + 1);

        *ret_error = NULL;
        if (!copy)
                return -ENOMEM;
        if (size > 0)
                memcpy(copy, data, size);
        copy[size] = 0;
        return rule_parse_in_place(path, copy, size, ret, ret_error);
}

void sdc_rule_done(SdcRule *r) {
        free(r->id);
        free(r->hazard);
        free(r->title);
        free(r->description);
        free(r->remedy);
        strv_free(r->references);
        for (size_t i = 0; i < r->n_conditions; i++)
                strv_free(r->conditions[i].lines);
        free(r->conditions);
        free(r->path);
        *r = (SdcRule) {};
}

/* ---- loading --------------------------------------------------------------------------------- */

static int add_rule(SdcRuleSet *s, SdcRule *rule) {
        SdcRule *n = realloc(s->rules, (s->n_rules + 1) * sizeof(SdcRule));

        if (!n)
                return -ENOMEM;
        s->rules = n;
        s->rules[s->n_rules++] = *rule;
        *rule = (SdcRule) {};
        return 0;
}

/* One directory of the search list, opened and listed once: its *.rules entries and their types
 * as the listing gave them; the files are then opened relative to it. fd is -1 if it could not be
 * opened, error says why (-ENOENT: not there). */
typedef struct RulesDir {
        const char *path;
        int fd;
        int error;
        char **names;
        unsigned char *types; /* d_type of names[i] */
        size_t n_names;
        bool has_catalogue;
} RulesDir;

static void rules_dir_done(RulesDir *d) {
        d->fd = safe_close(d->fd);
        strv_free(d->names);
        free(d->types);
}

static int rules_dir_add(const char *name, unsigned char type, void *userdata) {
        RulesDir *d = userdata;
        size_t l = strlen(name);
        unsigned char *t;
        int r;

        if (streq(name, SDC_CATALOGUE_FILE)) {
                d->has_catalogue = true;
                return 0;
        }
        if (l <= 6 || !streq(name + l - 6, ".rules"))
                return 0;
        r = strv_extend(&d->names, name);
        if (r < 0)
                return r;
        t = realloc(d->types, d->n_names + 1);
        if (!t)
                return -ENOMEM;
        d->types = t;
        d->types[d->n_names++] = type;
        return 0;
}

/* -ENOMEM only; a directory that cannot be opened or listed is recorded in d. */
static int rules_dir_open(RulesDir *d, const char *path) {
        int r;

        *d = (RulesDir) { .path = path, .fd = -1 };
        d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->fd < 0) {
                d->error = -errno;
                return 0;
        }
        /* A listing that fails half-way keeps what it listed, as readdir() did. */
        r = dir_foreach(d->fd, rules_dir_add, d);
        return r == -ENOMEM ? r : 0;
}

typedef enum RuleEntry {
        ENTRY_ABSENT, /* not there, or a dangling symlink that is not a mask */
        ENTRY_MASK,   /* a symlink to /dev/null, or empty */
        ENTRY_FILE,   /* something to read */
} RuleEntry;

/* What NAME is, relative to dir_fd (AT_FDCWD with a whole path for a directory that could not be
 * opened): access(), readlink() and stat(), following symlinks as a path would. */
static RuleEntry rule_entry_by_name(int dir_fd, const char *name) {
        char target[16];
        ssize_t l;
        struct stat st;

        l = readlinkat(dir_fd, name, target, sizeof(target) - 1);
        if (l == 9 && memcmp(target, "/dev/null", 9) == 0)
                return ENTRY_MASK;
        if (fstatat(dir_fd, name, &st, 0) >= 0)
                return S_ISREG(st.st_mode) && st.st_size == 0 ? ENTRY_MASK : ENTRY_FILE;
        /* Not a mask: a dangling symlink or a missing file is skipped, anything else (a loop, a
         * permission) is read and says why it cannot be. */
        return faccessat(dir_fd, name, F_OK, 0) < 0 && errno == ENOENT ? ENTRY_ABSENT : ENTRY_FILE;
}

/* One buffer for every rule file of a load (they are parsed one at a time, and the parser copies
 * what it keeps): no allocation per file. */
typedef struct ReadBuffer {
        char *data;
        size_t allocated;
        size_t size;
} ReadBuffer;

/* What open_regular_at() returns for something that is not a regular file (the caller says so in
 * words; no errno of its own means that). */
#define RULE_NOT_REGULAR (-EBADFD)

/* By name, following symlinks. A FIFO (or a device) in a rules directory would otherwise block the
 * read, and negotiate with it until its deadline. */
static int read_rule_file(int dir_fd, const char *name, ReadBuffer *b) {
        _cleanup_close_ int fd = open_regular_at(dir_fd, name);

        if (fd < 0)
                return fd;
        return read_full_fd_into(fd, RULE_FILE_MAX, &b->data, &b->allocated, &b->size);
}

/* Looks up NAME in D: a file masks its namesake when it is a symlink to /dev/null or empty. A
 * regular file as the listing says is opened at once with O_NOFOLLOW and read into b (*ret_read:
 * 0, or why the read failed); anything else is looked at by name, to be read later through
 * symlinks, as it always was (*ret_read: 1). */
static RuleEntry rule_entry(const RulesDir *d, const char *name, ReadBuffer *b, int *ret_read) {
        size_t i;

        *ret_read = 1;
        if (d->fd < 0) {
                char path[PATH_MAX];

                if (d->error == -ENOENT)
                        return ENTRY_ABSENT;
                /* Too long: the read says so. */
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", d->path, name) >= sizeof(path))
                        return ENTRY_FILE;
                return rule_entry_by_name(AT_FDCWD, path);
        }
        for (i = 0; i < d->n_names; i++)
                if (streq(d->names[i], name))
                        break;
        if (i == d->n_names)
                return ENTRY_ABSENT;
        if (d->types[i] == DT_REG) {
                _cleanup_close_ int fd = openat(d->fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

                if (fd >= 0) {
                        *ret_read = read_full_fd_into(fd, RULE_FILE_MAX, &b->data, &b->allocated, &b->size);
                        return *ret_read == 0 && b->size == 0 ? ENTRY_MASK : ENTRY_FILE;
                }
                /* Replaced since the listing, or not readable: as any other entry. */
        }
        return rule_entry_by_name(d->fd, name);
}

int sdc_rules_load(const char *dirs, SdcRuleSet **ret) {
        _cleanup_(sdc_rules_freep) SdcRuleSet *s = NULL;
        _cleanup_strv_free_ char **dir_list = NULL, **names = NULL;
        _cleanup_free_ char *copy = strdup(dirs);
        _cleanup_free_ RulesDir *d = NULL;
        ReadBuffer buf = {};
        size_t n_dirs;
        char *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
                r = strv_extend(&dir_list, p);
                if (r < 0)
                        return r;
        }
        n_dirs = strv_length(dir_list);
        d = calloc(MAX(n_dirs, (size_t) 1), sizeof(RulesDir));
        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < n_dirs; i++)
                d[i].fd = -1;
        for (size_t i = 0; i < n_dirs && r >= 0; i++) {
                r = rules_dir_open(&d[i], dir_list[i]);
                STRV_FOREACH(n, d[i].names)
                        if (r >= 0 && !strv_contains(names, *n))
                                r = strv_extend(&names, *n);
        }
        if (r < 0)
                goto finish;
        strv_sort(names);

        for (size_t i = 0; i < n_dirs; i++) {
                SdcCatalogue c = {};

                if (d[i].fd >= 0 && !d[i].has_catalogue)
                        continue;
                if ((d[i].fd >= 0 ? sdc_catalogue_read_at(d[i].fd, SDC_CATALOGUE_FILE, &c)
                                  : sdc_catalogue_read(d[i].path, &c)) >= 0 &&
                    c.version > s->catalogue.version) {
                        s->catalogue = c;
                        free(s->catalogue_dir);
                        s->catalogue_dir = strdup(d[i].path);
                        if (!s->catalogue_dir) {
                                r = -ENOMEM;
                                goto finish;
                        }
                }
        }

        STRV_FOREACH(name, names) {
                bool first = true;

                for (size_t i = 0; i < n_dirs; i++) {
                        _cleanup_free_ char *path = NULL, *error = NULL;
                        SdcRule rule = {};
                        RuleEntry e;

                        e = rule_entry(&d[i], *name, &buf, &r);
                        if (e == ENTRY_ABSENT)
                                continue;
                        if (first && e == ENTRY_MASK) {
                                r = strv_extend(&s->masked, *name);
                                if (r < 0)
                                        goto finish;
                                break;
                        }
                        if (e == ENTRY_MASK)
                                continue;
                        first = false;
                        if (asprintf(&path, "%s/%s", d[i].path, *name) < 0) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        if (r == 1)
                                r = d[i].fd >= 0 ? read_rule_file(d[i].fd, *name, &buf)
                                                 : read_rule_file(AT_FDCWD, path, &buf);
                        if (r < 0) {
                                if (asprintf(&error, "%s: cannot read: %s", path,
                                             r == RULE_NOT_REGULAR ? "not a regular file" : strerror(-r)) < 0) {
                                        r = -ENOMEM;
                                        goto finish;
                                }
                        } else {
                                /* The buffer is this load's: parsed where it is, no copy. */
                                r = rule_parse_in_place(path, buf.data, buf.size, &rule, &error);
                                if (r == -ENOMEM)
                                        goto finish;
                        }
                        if (r >= 0 && sdc_rules_find(s, rule.id)) {
                                if (asprintf(&error, "%s: Id=%s is already defined by %s", path, rule.id,
                                             sdc_rules_find(s, rule.id)->path) < 0) {
                                        sdc_rule_done(&rule);
                                        r = -ENOMEM;
                                        goto finish;
                                }
                                sdc_rule_done(&rule);
                                r = -EEXIST;
                        }
                        if (r >= 0) {
                                r = add_rule(s, &rule);
                                if (r < 0)
                                        goto finish;
                                break;
                        }
                        /* Broken: say so, and fall back to the file it overrides, if any. */
                        r = strv_consume(&s->errors, TAKE_PTR(error));
                        if (r < 0)
                                goto finish;
                }
        }
        r = 0;
        *ret = TAKE_PTR(s);
finish:
        for (size_t i = 0; i < n_dirs; i++)
                rules_dir_done(&d[i]);
        free(buf.data);
        return r;
}

int sdc_rules_new(SdcRule *rules, size_t n, SdcRuleSet **ret) {
        SdcRuleSet *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (add_rule(s, &rules[i]) < 0) {
                        sdc_rules_free(s);
                        return -ENOMEM;
                }
        *ret = s;
        return 0;
}

SdcRuleSet *sdc_rules_free(SdcRuleSet *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_rules; i++)
                sdc_rule_done(&s->rules[i]);
        free(s->rules);
        strv_free(s->errors);
        strv_free(s->masked);
        free(s->catalogue_dir);
        free(s);
        return NULL;
}

void sdc_rule_print_conditions(const SdcRule *r, FILE *f, const char *indent) {
        for (size_t i = 0; i < r->n_conditions; i++)
                STRV_FOREACH(line, r->conditions[i].lines)
                        fprintf(f, "%s%s=%s\n", indent, keys[r->conditions[i].key].name, *line);
}

const SdcRule *sdc_rules_find(const SdcRuleSet *s, const char *id) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (streq(s->rules[i].id, id))
                        return &s->rules[i];
        return NULL;
}

/* ---- the catalogue's version --------------------------------------------------------------------- */

static int parse_unsigned(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (*end || errno || v > 1000000)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int sdc_catalogue_read(const char *dir, SdcCatalogue *ret) {
        _cleanup_free_ char *path = NULL;

        *ret = (SdcCatalogue) {};
        if (asprintf(&path, "%s/%s", dir, SDC_CATALOGUE_FILE) < 0)
                return -ENOMEM;
        return sdc_catalogue_read_at(AT_FDCWD, path, ret);
}

int sdc_catalogue_read_at(int dir_fd, const char *path, SdcCatalogue *ret) {
        _cleanup_free_ char *data = NULL, *v = NULL, *m = NULL;
        _cleanup_close_ int fd = -1;
        SdcCatalogue c = {};
        size_t size;
        int r;

        *ret = c;
        /* Not a read that blocks on a FIFO: the same open as the rule files'. */
        fd = open_regular_at(dir_fd, path);
        if (fd < 0)
                return fd;
        r = read_full_fd(fd, 64 * 1024, &data, &size);
        if (r < 0)
                return r;
        if (sdc_envfile_get(data, size, "CATALOGUE_VERSION", &v) < 0 || parse_unsigned(v, &c.version) < 0 ||
            c.version == 0)
                return -EBADMSG;
        if (sdc_envfile_get(data, size, "CATALOGUE_SYSTEMD_MAX", &m) >= 0 && parse_unsigned(m, &c.systemd_max) < 0)
                c.systemd_max = 0;
        *ret = c;
        return 0;
}
