/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sdcompat: the boot-time half of sdcompat, see sdcompat(8).
 *
 *   record     at image build (dracut): probe the staging tree, write the manifest into it
 *   negotiate  in the initramfs, before switch-root: probe /sysroot, evaluate the rules, decide
 *              the handoff, apply what can be applied before the switch, leave a record
 *   status     on the booted system: what happened at the last handoff
 *
 * negotiate never fails the boot: every error ends in the stock handoff ("native"), said in the
 * log and the record; a hard deadline bounds its run time; it exits 0 whatever happened. It
 * changes nothing outside /run. */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>

#include "alloc.h"
#include "assess.h"
#include "cgroup-release-record.h"
#include "clock.h"
#include "cmdline.h"
#include "elf-reader.h"
#include "envfile.h"
#include "fileio.h"
#include "handoff-record.h"
#include "json.h"
#include "log.h"
#include "manifest.h"
#include "pairfacts.h"
#include "pidns.h"
#include "plan-decide.h"
#include "plan-file.h"
#include "probe.h"
#include "rules.h"
#include "run-file.h"
#include "shim-record.h"
#include "shim-select.h"
#include "strv.h"
#include "tree.h"

#define NEGOTIATE_DEADLINE_SEC 10

static const char *arg_root = NULL;
static const char *arg_output = NULL;
static const char *arg_kernel = NULL;
static const char *arg_dracut_version = NULL;
static const char *arg_sysroot = "/sysroot";
static const char *arg_initrd_root = "/";
static const char *arg_run_dir = "/run";
static const char *arg_cmdline = NULL;
static const char *arg_rules_path = SDC_RULES_DIRS_DEFAULT;
static bool arg_json = false;

/* The shim's mount point while no plan names it: the deadline takes it back (a mount without a
 * plan is a shim that must guess). Set and cleared by the main flow only. */
static char *volatile mounted_unplanned = NULL;

static void help(void) {
        printf("%s COMMAND [OPTIONS...]\n\n"
               "The boot-time half of sdcompat: a safe switch-root between systemd versions.\n\n"
               "Commands:\n"
               "  record --root=DIR        Probe an initramfs staging tree and write its manifest\n"
               "  negotiate                In the initramfs: decide and prepare the handoff to /sysroot\n"
               "  status                   Show what happened at this boot's handoff\n\n"
               "Options:\n"
               "  -h --help                Show this help\n"
               "     --version             Show the version\n"
               "     --root=DIR            record: the staging tree\n"
               "     --output=FILE         record: where to write (default: DIR" SDC_MANIFEST_PATH ")\n"
               "     --kernel=VERSION      record: the kernel the image is built for\n"
               "     --dracut-version=V    record: the dracut building the image\n"
               "     --sysroot=DIR         negotiate: the root to hand over to (default: /sysroot)\n"
               "     --initrd-root=DIR     negotiate: the initramfs (default: /)\n"
               "     --run-dir=DIR         negotiate, status: the runtime directory (default: /run)\n"
               "     --cmdline=STRING      negotiate: kernel command line (default: /proc/cmdline)\n"
               "     --rules-path=DIRS     negotiate: rule directories (default: " SDC_RULES_DIRS_DEFAULT ")\n"
               "     --json                status: print the handoff record as JSON\n",
               program_invocation_short_name);
}

/* ---- record ------------------------------------------------------------------------------------ */

static int verb_record(void) {
        _cleanup_(sdc_tree_freep) SdcTree *t = NULL;
        _cleanup_free_ char *text = NULL, *out = NULL;
        SdcTreeFacts f = {};
        SdcManifest m = {};
        int r;

        if (!arg_root)
                return log_error_errno(EINVAL, "record needs --root=DIR (the initramfs staging tree).");
        r = sdc_tree_open_dir(AT_FDCWD, arg_root, 0, &t);
        if (r < 0)
                return log_error_errno(r, "%s: cannot open: %m", arg_root);
        r = sdc_probe_tree(t, SDC_ROLE_INITRD, &f);
        if (r < 0)
                return log_error_errno(r, "%s: cannot probe: %m", arg_root);
        r = sdc_manifest_from_facts(&f, arg_kernel, arg_dracut_version, &m);
        if (r >= 0)
                r = sdc_manifest_format(&m, &text);
        if (r < 0) {
                sdc_tree_facts_done(&f);
                sdc_manifest_done(&m);
                return log_oom();
        }
        if (arg_output)
                out = strdup(arg_output);
        else if (asprintf(&out, "%s%s", arg_root, SDC_MANIFEST_PATH) < 0)
                out = NULL;
        if (!out)
                r = log_oom();
        else {
                _cleanup_free_ char *dir = strdup(out);
                char *slash = dir ? strrchr(dir, '/') : NULL;

                if (slash && slash != dir) {
                        *slash = 0;
                        (void) mkdir_p(dir, 0755);
                }
                r = write_file_atomic_at(AT_FDCWD, out, text, strlen(text), 0644);
                if (r < 0)
                        log_error_errno(r, "%s: cannot write the manifest: %m", out);
        }
        if (r >= 0)
                log_info("%s: initramfs systemd %s%s, manifest written to %s", arg_root,
                         f.runs_systemd ? strna(m.systemd_version) : "(none: no systemd in this initramfs)",
                         f.runs_systemd && m.systemd_exec_path ? "" : "", out);
        sdc_tree_facts_done(&f);
        sdc_manifest_done(&m);
        return r;
}

/* ---- negotiate --------------------------------------------------------------------------------- */

static void deadline_reached(int sig) {
        static const char msg[] =
                "<3>sdcompat: negotiate ran past its deadline; handing over as stock systemd does\n";
        int fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);

        (void) sig;
        sdc_shim_self_test_abort();
        if (mounted_unplanned)
                (void) umount2(mounted_unplanned, MNT_DETACH);
        if (fd >= 0) {
                (void) !write(fd, msg, sizeof(msg) - 1);
                close(fd);
        }
        (void) !write(STDERR_FILENO, msg + 3, sizeof(msg) - 4);
        _exit(0); /* the unit ignores the status anyway; 0 keeps the journal free of a red herring */
}

/* What the initramfs's systemd actually mounted on /sys/fs/cgroup: this is what the root's
 * systemd inherits, whatever the command line says. */
static SdcCgroupMode observed_cgroup(void) {
        SdcCgroupMode m;

        return sdc_cgroup_mode_mounted("/sys/fs/cgroup", &m) < 0 ? SDC_CGROUP_UNKNOWN : m;
}

typedef struct Negotiation {
        char *cmdline;
        char **words;
        size_t dashdash;
        SdcRuleSet *rules;
        SdcTree *initrd_tree, *root_tree;
        SdcTreeFacts initrd, root;
        bool have_initrd, have_root, have_pair;
        SdcPairFacts pair;
        SdcCgroupMode cgroup_observed;
        SdcAssessment assessment;
        SdcPlan plan;
        bool applied[_SDC_ACTION_MAX];
        char *shim_target;       /* where in the root the shim is mounted; NULL if it is not */
        char *shim_note;         /* why the shim is not mounted */
        SdcShimChoice shim;      /* whose shim is (or would be) mounted; path NULL: none chosen */
        char **errors;
        uint64_t started, duration;
        unsigned catalogue_image, catalogue_root; /* CATALOGUE_VERSION of each side, 0 if none */
        bool catalogue_from_root;
} Negotiation;

static void negotiation_done(Negotiation *n) {
        free(n->cmdline);
        strv_free(n->words);
        sdc_rules_free(n->rules);
        sdc_tree_facts_done(&n->initrd);
        sdc_tree_facts_done(&n->root);
        sdc_tree_free(n->initrd_tree);
        sdc_tree_free(n->root_tree);
        sdc_pair_facts_done(&n->pair);
        sdc_assessment_done(&n->assessment);
        sdc_plan_done(&n->plan);
        strv_free(n->errors);
        free(n->shim_target);
        free(n->shim_note);
        sdc_shim_choice_done(&n->shim);
}

/* Returns r, as systemd's log helpers do: "return add_error(n, r, ...);". */
static int add_error(Negotiation *n, int r, const char *fmt, ...) _printf_(3, 4);
static int add_error(Negotiation *n, int r, const char *fmt, ...) {
        char buf[512], *e;
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        log_warning_errno(r, "%s: %m; handing over as stock systemd does", buf);
        if (asprintf(&e, "%s: %s", buf, strerror(r < 0 ? -r : r)) >= 0)
                (void) strv_consume(&n->errors, e);
        return r;
}

/* Why the shim is not mounted; returns error (read by the caller before this runs: strdup() may
 * change errno). */
static int shim_not_mounted(Negotiation *n, int error, const char *why) {
        n->shim_note = strdup(why);
        return error;
}

/* An image lives for years; the root's sdcompat package moves on. The rules come from the newer
 * side: the root's vendor catalogue (SYSROOT + the rules directory) replaces the image's when its
 * CATALOGUE_VERSION is higher, and the root's admin rules (SYSROOT/etc/sdcompat/rules.d) come
 * first, before the image's copy of them. The result is a --rules-path style list. */
static int rules_path_for_root(Negotiation *n, char **ret) {
        _cleanup_free_ char *image_vendor = NULL, *admin = NULL, *root_vendor = NULL, *root_admin = NULL;
        const char *last = strrchr(arg_rules_path, ':');
        SdcCatalogue image_cat, root_cat;
        bool use_root;

        image_vendor = strdup(last ? last + 1 : arg_rules_path);
        admin = last ? strndup(arg_rules_path, (size_t) (last - arg_rules_path)) : strdup("");
        if (!image_vendor || !admin || asprintf(&root_vendor, "%s%s", arg_sysroot, SDCOMPAT_RULESDIR) < 0 ||
            asprintf(&root_admin, "%s/etc/sdcompat/rules.d", arg_sysroot) < 0)
                return -ENOMEM;
        (void) sdc_catalogue_read(image_vendor, &image_cat);
        (void) sdc_catalogue_read(root_vendor, &root_cat);
        use_root = root_cat.version > image_cat.version;
        n->catalogue_image = image_cat.version;
        n->catalogue_root = root_cat.version;
        n->catalogue_from_root = use_root;
        if (use_root)
                log_info("Using the root's hazard catalogue %u from %s (the initramfs has %u).", root_cat.version,
                         root_vendor, image_cat.version);
        if (asprintf(ret, "%s%s%s:%s", root_admin, *admin ? ":" : "", admin, use_root ? root_vendor : image_vendor) < 0)
                return -ENOMEM;
        return 0;
}

static bool is_same_file(const char *a, const char *b);

/* negotiate ran before at this boot (initrd.target queued again after a failed switch-root) and
 * mounted the shim: the root's systemd binary is the shim now, and probing it would find no
 * systemd version. Every mount of the shim there goes first; this run decides afresh and mounts
 * again if its plan needs the shim. Only in the initramfs itself. */
static void take_back_earlier_mount(Negotiation *n) {
        _cleanup_free_ char *canonical = NULL, *where = NULL, *root_copy = NULL;
        const char *target = n->initrd.systemd.compiled_binary_path ?: "/usr/lib/systemd/systemd";
        unsigned removed = 0;
        SdcStat st;

        if (!streq(arg_initrd_root, "/") || sdc_tree_resolve(n->root_tree, target, 0, &canonical, &st) < 0 ||
            asprintf(&where, "%s%s", arg_sysroot, canonical) < 0 ||
            asprintf(&root_copy, "%s/sdcompat/%s", arg_run_dir, SDC_SHIM_ROOT_COPY) < 0)
                return;
        /* Either shim: the image's, or the copy of the root's (shim-select.h). */
        while (removed < 16 && (is_same_file(SDCOMPAT_SHIM_PATH, where) || is_same_file(root_copy, where))) {
                if (umount2(where, MNT_DETACH) < 0) {
                        add_error(n, -errno, "cannot unmount the shim an earlier run mounted on %s", where);
                        return;
                }
                removed++;
        }
        if (removed > 0)
                log_notice("%s was the shim (negotiate ran before at this boot): unmounted, deciding again.", where);
}

/* Probes, evaluates and decides. Any failure leaves the plan native. */
static void decide(Negotiation *n) {
        static const bool none[_SDC_ACTION_MAX] = { [SDC_ACTION_NONE] = true };
        _cleanup_free_ char *rules_path = NULL;
        SdcManifest implemented = {};
        struct utsname u;
        int r;

        sdc_manifest_set_implemented_actions(&implemented);

        r = rules_path_for_root(n, &rules_path);
        if (r < 0) {
                add_error(n, r, "cannot compare the rule catalogues");
                goto native;
        }
        r = sdc_rules_load(rules_path, &n->rules);
        if (r < 0) {
                add_error(n, r, "cannot load rules from %s", rules_path);
                goto native;
        }
        STRV_FOREACH(e, n->rules->errors)
                log_warning("Rule not loaded: %s", *e);

        r = sdc_tree_open_dir(AT_FDCWD, arg_initrd_root, 0, &n->initrd_tree);
        if (r >= 0)
                r = sdc_probe_tree(n->initrd_tree, SDC_ROLE_INITRD, &n->initrd);
        if (r < 0) {
                add_error(n, r, "cannot probe the initramfs at %s", arg_initrd_root);
                goto native;
        }
        n->have_initrd = true;
        r = sdc_tree_open_dir(AT_FDCWD, arg_sysroot, 0, &n->root_tree);
        if (r >= 0)
                take_back_earlier_mount(n);
        if (r >= 0)
                r = sdc_probe_tree(n->root_tree, SDC_ROLE_ROOT, &n->root);
        if (r < 0) {
                add_error(n, r, "cannot probe the root at %s", arg_sysroot);
                goto native;
        }
        n->have_root = true;
        if (n->rules->catalogue.systemd_max > 0 && n->root.systemd.has_version &&
            n->root.systemd.version.major > n->rules->catalogue.systemd_max)
                log_notice("Root systemd %s is newer than the hazard catalogue %u knows (checked up to %u): "
                           "an unknown future version; its rules apply as written, nothing is guessed.",
                           n->root.systemd.version.text, n->rules->catalogue.version, n->rules->catalogue.systemd_max);

        r = sdc_pair_facts_build(&n->initrd, &n->root, n->root_tree, n->cmdline,
                                 uname(&u) >= 0 ? u.release : NULL, &n->pair);
        if (r < 0) {
                add_error(n, r, "cannot combine the facts");
                goto native;
        }
        n->have_pair = true;
        /* Only inside the initramfs itself is /sys/fs/cgroup what the root will inherit. */
        n->cgroup_observed = streq(arg_initrd_root, "/") ? observed_cgroup() : SDC_CGROUP_UNKNOWN;
        if (n->cgroup_observed != SDC_CGROUP_UNKNOWN && n->pair.initrd_systemd == SDC_TRI_YES) {
                n->pair.initrd_cgroup = n->cgroup_observed;
                n->pair.initrd_cgroup_reason = "mounted on /sys/fs/cgroup";
        }
        r = sdc_assess(n->rules, &n->pair, implemented.actions, &n->assessment);
        if (r < 0) {
                add_error(n, r, "cannot evaluate the rules");
                goto native;
        }
        r = sdc_plan_decide(&n->assessment, implemented.actions, n->words, &n->plan);
        if (r < 0) {
                add_error(n, r, "cannot decide the plan");
                goto native;
        }
        return;
native:
        sdc_plan_done(&n->plan);
        (void) sdc_plan_decide(NULL, none, n->words, &n->plan);
        n->plan.mode = SDC_MODE_NATIVE;
}

static int mkdir_parents_of(const char *path) {
        _cleanup_free_ char *d = strdup(path);
        char *slash = d ? strrchr(d, '/') : NULL;

        if (!d)
                return -ENOMEM;
        if (!slash || slash == d)
                return 0;
        *slash = 0;
        return mkdir_p(d, 0755);
}

/* SDC-H1: the root's PID 1 loads initrd-switch-root.service's drop-ins from /run when it
 * deserializes the unit; /run is carried across switch-root, so this file written in the
 * initramfs makes the SIGTERM of the switch-root command a success there. */
static int apply_dropin_sigterm(Negotiation *n) {
        static const char text[] =
                "# Written by sdcompat negotiate in the initramfs (hazard SDC-H1, see sdcompat(8)).\n"
                "# The initramfs's switch-root command may die in PID 1's final SIGTERM; the root's\n"
                "# systemd must not count that as a failure and start emergency.target.\n"
                "[Service]\n"
                "SuccessExitStatus=SIGTERM\n";
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/systemd/system/initrd-switch-root.service.d/50-sdcompat-sigterm.conf", arg_run_dir) < 0)
                return -ENOMEM;
        r = mkdir_parents_of(path);
        if (r >= 0)
                r = write_file_atomic_at(AT_FDCWD, path, text, sizeof(text) - 1, 0644);
        if (r < 0)
                add_error(n, r, "cannot write %s", path);
        return r;
}

static const SdcAction shim_actions[] = {
        SDC_ACTION_SHIM_ARGV_REORDER, SDC_ACTION_SHIM_CLEAR_PASSPIDFD, SDC_ACTION_SHIM_DROP_SECTIONS,
        SDC_ACTION_SHIM_FOLD_LINES,   SDC_ACTION_CGROUP_CONVERT,       SDC_ACTION_SHIM_LEGACY_FORCE,
        SDC_ACTION_FRESH,             SDC_ACTION_CGROUP_REVERT,
};

/* Takes the mount back: the stock handoff follows. */
static void unmount_shim(Negotiation *n) {
        char *where = mounted_unplanned;

        mounted_unplanned = NULL;
        if (!where)
                return;
        if (umount2(where, MNT_DETACH) < 0)
                add_error(n, -errno, "cannot unmount the shim from %s", where);
        free(where);
        free(n->shim_target);
        n->shim_target = NULL;
        for (size_t i = 0; i < ELEMENTSOF(shim_actions); i++)
                n->applied[shim_actions[i]] = false;
}

static bool plan_needs_shim(const SdcPlan *p) {
        /* rd.sdcompat.mode=translate|fresh asks for the shim even where no rule does. */
        if (p->mode == SDC_MODE_FRESH || (p->forced && p->mode == SDC_MODE_TRANSLATE))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(shim_actions); i++)
                if (p->apply[shim_actions[i]])
                        return true;
        return false;
}

/* Why exec of the shim could be refused after the switch; NULL if nothing says so. IMA appraisal
 * would refuse an unsigned binary as PID 1, and a bind mount keeps the source's noexec. */
static const char *shim_exec_refused(Negotiation *n, const char *shim) {
        const char *v = NULL;
        struct statvfs sv;

        if (sdc_cmdline_get(n->words, "ima_appraise", &v) > 0 && !(v && streq(v, "off")))
                return "IMA appraisal is on (ima_appraise=)";
        if (sdc_cmdline_get(n->words, "ima_policy", &v) > 0 && v && strstr(v, "appraise"))
                return "IMA appraisal is on (ima_policy=)";
        if (statvfs(shim, &sv) >= 0 && (sv.f_flag & ST_NOEXEC))
                return "the shim lies on a noexec file system";
        return NULL;
}

/* init= on the kernel command line: the initramfs's PID 1 execs that in the root (systemctl
 * switch-root takes it from there), not its compiled systemd path. Unless it resolves to the same
 * file in the root, the shim would never run and stay mounted for the whole boot. NULL: mount. */
static char *init_elsewhere(Negotiation *n, const char *canonical_target) {
        _cleanup_free_ char *canonical = NULL;
        const char *v = NULL;
        char *why = NULL;
        SdcStat st;

        if (sdc_cmdline_get(n->words, "init", &v) <= 0 || isempty(v))
                return NULL;
        if (v[0] != '/' || sdc_tree_resolve(n->root_tree, v, 0, &canonical, &st) < 0 || !streq(canonical, canonical_target))
                (void) asprintf(&why, "init=%s on the kernel command line: the initramfs's PID 1 execs that, not %s; "
                                      "the shim is not mounted", v, canonical_target);
        return why;
}

/* Whether where is the shim already (negotiate ran before at this boot: initrd.target queued
 * again after a failed switch-root). A second mount would stack on the first. */
static bool is_same_file(const char *a, const char *b) {
        struct stat sa, sb;

        return stat(a, &sa) >= 0 && stat(b, &sb) >= 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int plan_file_of(const Negotiation *n, SdcPlanFile *ret);

/* Whose shim: the image's, or the root's newer one (shim-select.h). Also outside an initramfs, so
 * that a run on trees records which one would be mounted and why. One line in the log says it. */
static void choose_shim(Negotiation *n, const char *canonical_target) {
        _cleanup_free_ char *run = NULL;
        SdcPlanFile p;
        int r;

        /* The plan as it will be written when the mount succeeds: what the chosen shim will read. */
        r = plan_file_of(n, &p);
        if (r >= 0) {
                for (size_t i = 0; i < ELEMENTSOF(shim_actions); i++)
                        p.actions[shim_actions[i]] = p.actions[shim_actions[i]] || n->plan.apply[shim_actions[i]];
                p.actions[SDC_ACTION_FRESH] = p.actions[SDC_ACTION_FRESH] || n->plan.mode == SDC_MODE_FRESH;
                r = strdup_to(&p.shim_target, canonical_target);
                if (r >= 0 && asprintf(&run, "%s/sdcompat", arg_run_dir) < 0)
                        r = -ENOMEM;
                if (r >= 0) {
                        SdcShimSelect in = {
                                .root = n->root_tree,
                                .root_path = arg_sysroot,
                                .shim_path = SDCOMPAT_SHIM_PATH,
                                .image_version = PACKAGE_VERSION,
                                .run_dir = run,
                                .plan = &p,
                                .cmdline = n->words,
                        };
                        r = sdc_shim_select(&in, &n->shim);
                }
                sdc_plan_file_done(&p);
        }
        if (r < 0) {
                add_error(n, r, "cannot choose between the initramfs's and the root's shim: the initramfs's");
                if (!n->shim.path) {
                        sdc_shim_choice_done(&n->shim);
                        n->shim.path = strdup(SDCOMPAT_SHIM_PATH);
                        n->shim.version = strdup(PACKAGE_VERSION);
                }
        }
        log_full(n->shim.from_root ? LOG_NOTICE : n->shim.root_refused ? LOG_WARNING : LOG_INFO, "Shim: %s.",
                 strna(n->shim.reason));
}

/* Bind-mounts the chosen shim over the binary the initramfs's PID 1 will exec in the root: its
 * compiled SYSTEMD_BINARY_PATH, resolved inside /sysroot (an absolute symlink there points into the
 * root, not into the initramfs). */
static int mount_shim(Negotiation *n) {
        _cleanup_free_ char *canonical = NULL, *where = NULL;
        bool in_initramfs = streq(arg_initrd_root, "/");
        const char *shim, *target, *why;
        char buf[256];
        SdcStat st;
        int r;

        if (in_initramfs && (why = shim_exec_refused(n, SDCOMPAT_SHIM_PATH)))
                return shim_not_mounted(n, -EPERM, why);
        target = n->initrd.systemd.compiled_binary_path ?: "/usr/lib/systemd/systemd";
        r = sdc_tree_resolve(n->root_tree, target, 0, &canonical, &st);
        if (r < 0 && !in_initramfs)
                return shim_not_mounted(n, -EOPNOTSUPP, "not in the initramfs (--initrd-root given): the shim is not mounted");
        if (r < 0)
                return add_error(n, r, "cannot resolve %s in %s", target, arg_sysroot);
        n->shim_note = init_elsewhere(n, canonical);
        if (n->shim_note)
                return -EXDEV;
        choose_shim(n, canonical);
        if (!in_initramfs)
                return shim_not_mounted(n, -EOPNOTSUPP, "not in the initramfs (--initrd-root given): the shim is not mounted");
        shim = n->shim.path;
        if (!shim)
                return -ENOMEM;
        if (access(shim, X_OK) < 0)
                return shim_not_mounted(n, -errno, n->shim.from_root ? "the copy of the root's shim cannot be executed"
                                                                     : "this image has no " SDCOMPAT_SHIM_PATH);
        why = shim_exec_refused(n, shim) ?: sdc_shim_not_static(shim, NULL, buf, sizeof(buf));
        if (why)
                return shim_not_mounted(n, -EPERM, why);
        if (asprintf(&where, "%s%s", arg_sysroot, canonical) < 0)
                return -ENOMEM;
        if (is_same_file(shim, where)) {
                log_notice("%s is the shim already (negotiate ran before at this boot): not mounted again.", where);
                n->shim_target = TAKE_PTR(canonical);
                return 0;
        }
        if (mount(shim, where, NULL, MS_BIND, NULL) < 0)
                return add_error(n, -errno, "cannot bind-mount %s over %s", shim, where);
        mounted_unplanned = TAKE_PTR(where);
        /* The exec will go where the mount is: prove it before relying on it. */
        if (!is_same_file(shim, mounted_unplanned)) {
                add_error(n, -EIO, "%s is not the shim after mounting it", mounted_unplanned);
                unmount_shim(n);
                return -EIO;
        }
        n->shim_target = TAKE_PTR(canonical);
        log_debug("Mounted %s over %s.", shim, where);
        return 0;
}

static void apply(Negotiation *n) {
        bool any = false;

        if (n->plan.disabled || n->plan.mode == SDC_MODE_NATIVE)
                return;
        if (n->plan.apply[SDC_ACTION_DROPIN_SIGTERM_SUCCESS] && apply_dropin_sigterm(n) >= 0)
                n->applied[SDC_ACTION_DROPIN_SIGTERM_SUCCESS] = true;
        if (plan_needs_shim(&n->plan)) {
                if (mount_shim(n) >= 0) {
                        for (size_t i = 0; i < ELEMENTSOF(shim_actions); i++)
                                n->applied[shim_actions[i]] = n->plan.apply[shim_actions[i]];
                        if (n->plan.mode == SDC_MODE_FRESH)
                                n->applied[SDC_ACTION_FRESH] = true;
                } else {
                        log_warning("The shim is not used (%s): its actions are not applied.", strna(n->shim_note));
                        if (n->plan.mode == SDC_MODE_FRESH)
                                n->plan.mode = SDC_MODE_TRANSLATE;
                }
        }
        any = n->shim_target != NULL;
        for (int a = 0; a < _SDC_ACTION_MAX; a++)
                any = any || (a != SDC_ACTION_NONE && n->applied[a]);
        /* Nothing applied: the plan says what was meant, the record says what was done. */
        if (!any)
                n->plan.mode = SDC_MODE_NATIVE;
}

static char *join_hazards(const SdcAssessment *a) {
        char buf[512] = "";

        for (size_t i = 0; i < a->n_findings; i++)
                if (a->findings[i].match == SDC_MATCH_YES) {
                        if (buf[0])
                                strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
                        strncat(buf, a->findings[i].rule->id, sizeof(buf) - strlen(buf) - 1);
                }
        return strdup(buf);
}

/* The root's systemd is newer than the catalogue in use was checked against: recorded, and handled
 * by the stated policy (sdcompat(8)): the catalogue's rules apply as written, nothing is guessed. */
static bool root_is_future(const Negotiation *n) {
        return n->rules && n->rules->catalogue.systemd_max > 0 && n->root.systemd.has_version &&
               n->root.systemd.version.major > n->rules->catalogue.systemd_max;
}

static char *join_errors(char **errors) {
        char *joined = NULL;

        STRV_FOREACH(e, errors) {
                char *x;
                if (asprintf(&x, "%s%s%s", joined ?: "", joined ? "; " : "", *e) >= 0) {
                        free(joined);
                        joined = x;
                }
        }
        return joined;
}

/* The plan file's record of this negotiation (plan-file.h writes it). */
static int plan_file_of(const Negotiation *n, SdcPlanFile *ret) {
        SdcPlanFile p = {
                .mode = n->plan.mode,
                .disabled = n->plan.disabled,
                .forced = n->plan.forced,
                .debug = n->plan.debug,
                .duration_usec = n->duration,
                .catalogue_from_root = n->catalogue_from_root,
                .catalogue_version = n->catalogue_from_root ? n->catalogue_root : n->catalogue_image,
                .root_systemd_future = root_is_future(n),
                .hazards = join_hazards(&n->assessment),
                .errors = join_errors(n->errors),
        };

        memcpy(p.actions, n->applied, sizeof(p.actions));
        memcpy(p.unavailable, n->plan.unavailable, sizeof(p.unavailable));
        if (!p.hazards || (n->errors && !p.errors) || strdup_to(&p.sdcompat_version, PACKAGE_VERSION) < 0 ||
            strdup_to(&p.verdict, n->plan.disabled ? NULL : sdc_verdict_to_string(sdc_verdict_applied(&n->assessment, n->applied))) < 0 ||
            strdup_to(&p.initrd_systemd_version, n->initrd.systemd.has_version ? n->initrd.systemd.version.text : NULL) < 0 ||
            strdup_to(&p.root_systemd_version, n->root.systemd.has_version ? n->root.systemd.version.text : NULL) < 0 ||
            strdup_to(&p.shim_target, n->shim_target) < 0 || strdup_to(&p.shim_note, n->shim_note) < 0 ||
            strdup_to(&p.shim_from, !n->shim.path ? NULL : n->shim.from_root ? "root" : "initramfs") < 0 ||
            strdup_to(&p.shim_version, n->shim.path ? n->shim.version : NULL) < 0 ||
            strdup_to(&p.shim_choice, n->shim.reason) < 0 ||
            strdup_to(&p.note, n->plan.note) < 0) {
                sdc_plan_file_done(&p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

/* The plan the shim reads after the switch, RUN_DIR/sdcompat/plan. */
static int write_plan(const char *dir, const Negotiation *n) {
        SdcPlanFile p;
        int r = plan_file_of(n, &p);

        if (r < 0)
                return log_warning_errno(r, "Cannot write %s/%s: %m", dir, SDC_PLAN_FILE_NAME);
        r = sdc_plan_file_write(dir, &p);
        sdc_plan_file_done(&p);
        return r;
}

/* negotiate's record, RUN_DIR/sdcompat/handoff.json (handoff-record.h writes it). */
static int write_handoff_record(const char *dir, const Negotiation *n) {
        SdcHandoffRecord rec = {
                .plan = &n->plan,
                .assessment = &n->assessment,
                .applied = n->applied,
                .cmdline = n->cmdline,
                .cgroup_observed = sdc_cgroup_mode_to_string(n->cgroup_observed),
                .shim_target = n->shim_target,
                .shim_note = n->shim_note,
                .shim_from = !n->shim.path ? NULL : n->shim.from_root ? "root" : "initramfs",
                .shim_version = n->shim.version,
                .shim_choice = n->shim.reason,
                .initrd = n->have_initrd ? &n->initrd : NULL,
                .root = n->have_root ? &n->root : NULL,
                .errors = n->errors,
                .catalogue_from_root = n->catalogue_from_root,
                .catalogue_initramfs = n->catalogue_image,
                .catalogue_root = n->catalogue_root,
                .systemd_max = n->rules ? n->rules->catalogue.systemd_max : 0,
                .root_systemd_future = root_is_future(n),
                .duration_usec = n->duration,
        };

        return sdc_handoff_record_write(dir, &rec);
}

/* rd.sdcompat.fault=plan: the plan cannot be written (a full /run), for the tests that prove the
 * mount is taken back. Only in a build configured with -Dtest-faults=true. */
static bool fault_plan(char **words) {
        const char *v = NULL;

        if (sdc_cmdline_get(words, "rd.sdcompat.fault", &v) <= 0 || !v)
                return false;
#if ENABLE_TEST_FAULTS
        {
                _cleanup_free_ char *list = strdup(v);
                char *save = NULL;

                for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
                        if (streq(tok, "plan")) {
                                log_warning("rd.sdcompat.fault=%s: the plan will not be written (test only).", v);
                                return true;
                        }
        }
#else
        log_warning("rd.sdcompat.fault=%s ignored: this build has no test faults (meson -Dtest-faults=true).", v);
#endif
        return false;
}

/* negotiate prepares the handoff of the machine it runs in, from an initramfs: by hand on a booted
 * system (no /etc/initrd-release) or in a container it would mount over the host's systemd. The
 * unit has ConditionPathExists=/etc/initrd-release; the program checks it too. */
static int negotiate_allowed(void) {
        int r;

        if (!streq(arg_initrd_root, "/"))
                return 0; /* a dry run on trees (--initrd-root): nothing is mounted */
        if (access("/etc/initrd-release", F_OK) < 0)
                return log_error_errno(errno, "/etc/initrd-release: %m: not in an initramfs; sdcompat negotiate "
                                              "prepares a switch-root from one and refuses to run here "
                                              "(--initrd-root=DIR --sysroot=DIR try it on trees).");
        r = pidns_is_initial("/proc");
        if (r <= 0)
                return log_error_errno(r < 0 ? r : EPERM, "Not the initial PID namespace (a container or unshare -p): "
                                                          "sdcompat negotiate refuses to prepare a switch-root here.");
        return 0;
}

static void log_summary(Negotiation *n) {
        _cleanup_free_ char *actions = NULL, *hazards = join_hazards(&n->assessment);
        int level = n->errors ? LOG_WARNING : LOG_NOTICE;

        (void) sdc_actions_format(n->applied, &actions);
        if (n->plan.disabled) {
                log_full(level, "disabled by rd.sdcompat=0: stock handoff");
                return;
        }
        log_full(level, "initramfs systemd %s -> root systemd %s: %s%s%s%s%s%s (%" PRIu64 " us%s)",
                 n->initrd.systemd.has_version ? n->initrd.systemd.version.text : "?",
                 n->root.systemd.has_version ? n->root.systemd.version.text : "?",
                 sdc_mode_to_string(n->plan.mode), n->plan.forced ? " (forced)" : "",
                 !isempty(hazards) ? ", hazards " : "", strempty(hazards), !isempty(actions) ? ", applied " : "",
                 strempty(actions), n->duration, n->errors ? ", with errors: stock handoff where it failed" : "");
}

/* A hazard that applies and that nothing at this boot handles (no action for it, an action this
 * build lacks, or one that failed) is the stock handoff's risk, unchanged: say so, with what to do,
 * rather than let the summary line read as if sdcompat had it covered. */
static void log_unmitigated(const Negotiation *n) {
        if (n->plan.disabled)
                return;
        for (size_t i = 0; i < n->assessment.n_findings; i++) {
                const SdcFinding *f = &n->assessment.findings[i];

                if (!sdc_finding_unhandled(f, n->applied))
                        continue;
                log_full(f->rule->severity == SDC_SEVERITY_BOOT_FAILS ? LOG_WARNING : LOG_NOTICE,
                         "%s (%s) applies and nothing at this boot handles it, as without sdcompat: %s. %s",
                         f->rule->id, sdc_severity_to_string(f->rule->severity), f->rule->title,
                         strempty(f->rule->remedy));
        }
}

static int verb_negotiate(void) {
        _cleanup_free_ char *dir = NULL;
        Negotiation n = { .started = now_monotonic_usec(), .dashdash = SIZE_MAX };
        struct sigaction sa = { .sa_handler = deadline_reached };
        int r;

        if (negotiate_allowed() < 0)
                return 1;
        (void) sigaction(SIGALRM, &sa, NULL);
        (void) alarm(NEGOTIATE_DEADLINE_SEC);
        /* In the initramfs, the kernel log is where an operator (and the console) sees it. */
        if (streq(arg_initrd_root, "/"))
                log_set_target(LOG_TARGET_KMSG);

        if (arg_cmdline)
                n.cmdline = strdup(arg_cmdline);
        else if (read_full_file_at(AT_FDCWD, "/proc/cmdline", 1 << 16, &n.cmdline, NULL) >= 0)
                n.cmdline[strcspn(n.cmdline, "\n")] = 0;
        if (!n.cmdline)
                n.cmdline = strdup("");
        r = sdc_cmdline_split(n.cmdline ?: "", &n.words, &n.dashdash);
        if (r < 0)
                add_error(&n, r, "cannot read the kernel command line");

        if (r >= 0 && sdc_cmdline_get(n.words, "rd.sdcompat.debug", NULL) > 0)
                log_set_max_level(LOG_DEBUG);

        {
                static const bool none[_SDC_ACTION_MAX] = { [SDC_ACTION_NONE] = true };
                (void) sdc_plan_decide(NULL, none, n.words, &n.plan);
        }
        if (!n.plan.disabled) {
                sdc_plan_done(&n.plan);
                decide(&n);
                apply(&n);
        }
        n.duration = now_monotonic_usec() - n.started;

        if (asprintf(&dir, "%s/sdcompat", arg_run_dir) >= 0 && mkdir_p(dir, 0755) >= 0) {
                r = fault_plan(n.words) ? -ENOSPC : write_plan(dir, &n);
                if (r < 0 && mounted_unplanned) {
                        /* The shim without a plan would have to guess: the stock handoff instead. */
                        add_error(&n, r, "cannot write the plan: the shim is unmounted again");
                        unmount_shim(&n);
                        n.plan.mode = SDC_MODE_NATIVE;
                } else if (r < 0)
                        add_error(&n, r, "cannot write the plan"); /* for `sdcompat status`, from handoff.json */
                (void) write_handoff_record(dir, &n);
        } else {
                log_warning("Cannot create %s/sdcompat: no record of this handoff.", arg_run_dir);
                if (mounted_unplanned) {
                        add_error(&n, -EIO, "no plan: the shim is unmounted again");
                        unmount_shim(&n);
                        n.plan.mode = SDC_MODE_NATIVE;
                }
        }
        /* From here the plan names the mount: the shim finds it. */
        free(mounted_unplanned);
        mounted_unplanned = NULL;

        log_summary(&n);
        log_unmitigated(&n);
        negotiation_done(&n);
        (void) alarm(0);
        return 0; /* never the reason a boot fails */
}

/* ---- status ------------------------------------------------------------------------------------ */

/* RUN_DIR/sdcompat/name, and its path; -ENOENT and friends when there is none. */
static int read_record(const char *name, char **ret_path, char **ret_data) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/sdcompat/%s", arg_run_dir, name) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, 1 << 20, ret_data, NULL);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* What sdcompat-shim did after the switch, when it ran: its last step is the one that took over. */
static void print_shim_record(void) {
        SdcShimRecord rec;
        unsigned version;
        int r = sdc_shim_record_read(arg_run_dir, &rec, &version);

        if (r == -EPROTONOSUPPORT)
                printf("%15s: its record %s/sdcompat/%s has schema_version %u; this sdcompat reads 1 to %u\n", "Shim",
                       arg_run_dir, SDC_SHIM_RECORD_NAME, version, SDC_SHIM_RECORD_VERSION);
        else if (r == -EBADMSG)
                printf("%15s: its record %s/sdcompat/%s is not one this sdcompat can read (not strict JSON, or not a record)\n",
                       "Shim", arg_run_dir, SDC_SHIM_RECORD_NAME);
        if (r < 0)
                return;
        printf("%15s: %s: %s%s (sdcompat-shim %s; all steps: %s)\n", "Shim", strna(rec.last_step), strna(rec.last_detail),
               rec.fallback ? "; fell back: a step failed or another took over" : "", strna(rec.version), rec.path);
        sdc_shim_record_done(&rec);
}

/* What sdcompat-shim --release-cgroups did later in the boot, when the shim installed it. */
static void print_release_record(void) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_(sdc_cgroup_release_record_done) SdcCgroupReleaseRecord rec = {};
        int r;

        if (read_record(SDC_CGROUP_RELEASE_RECORD, &path, &data) < 0)
                return;
        r = sdc_cgroup_release_record_parse(data, &rec);
        if (r == -EPROTONOSUPPORT)
                printf("%15s: a record of schema version %u, this sdcompat reads version %u only (%s)\n", "Cgroup release",
                       rec.schema_version, SDC_CGROUP_RELEASE_RECORD_VERSION, path);
        else if (r < 0)
                printf("%15s: the record cannot be read: %s (%s)\n", "Cgroup release", strerror(-r), path);
        else
                printf("%15s: released to cgroup2: %s; still bound to v1: %s%s (%s)\n", "Cgroup release",
                       isempty(rec.released) ? "none" : rec.released, isempty(rec.still_bound) ? "none" : rec.still_bound,
                       rec.pid1_reexecuted ? "; PID 1 re-executed to use them" : "", path);
}

static void print_row(const char *label, const char *value) {
        if (!isempty(value))
                printf("%15s: %s\n", label, value);
}

/* The plan's record, as the plan file module read it. */
static void print_plan(const SdcPlanFile *p) {
        _cleanup_free_ char *actions = NULL, *unavailable = NULL;
        char duration[32], catalogue[16];

        (void) sdc_actions_format(p->actions, &actions);
        (void) sdc_actions_format(p->unavailable, &unavailable);
        snprintf(duration, sizeof(duration), "%" PRIu64, p->duration_usec);
        snprintf(catalogue, sizeof(catalogue), "%u", p->catalogue_version);
        print_row("Handoff", sdc_mode_to_string(p->mode));
        print_row("Disabled", yes_no(p->disabled));
        print_row("Forced", yes_no(p->forced));
        print_row("Verdict", p->verdict);
        print_row("Initrd systemd", p->initrd_systemd_version);
        print_row("Root systemd", p->root_systemd_version);
        print_row("Hazards", p->hazards);
        print_row("Applied", actions);
        print_row("Not available", unavailable);
        print_row("Took (us)", duration);
        print_row("Rules from", p->catalogue_from_root ? "root" : "initramfs");
        print_row("Catalogue", catalogue);
        print_row("Root too new", p->root_systemd_future ? "yes" : NULL);
        print_row("Shim on", p->shim_target);
        print_row("Shim not used", p->shim_note);
        print_row("Shim chosen", p->shim_choice); /* names whose shim, its version and why */
        print_row("Note", p->note);
        print_row("Errors", p->errors);
}

/* No plan: either negotiate did not run at this boot, or it ran and could not write the plan (then
 * the shim was unmounted again and the handoff was stock systemd's); its record says which. */
static int print_no_plan(const char *dir) {
        SdcHandoffSummary h;
        int r = sdc_handoff_record_read(dir, &h);

        if (r == -ENOENT) {
                printf("This system was booted without sdcompat negotiating the handoff (no %s/%s).\n", dir, SDC_PLAN_FILE_NAME);
                return 3;
        }
        if (r == -EPROTONOSUPPORT)
                return log_error_errno(r, "%s/%s: no plan, and the record has schema_version %u; this sdcompat reads 1 to %u "
                                          "(sdcompat.run(5)).",
                                       dir, SDC_HANDOFF_RECORD_NAME, h.version, SDC_HANDOFF_RECORD_VERSION);
        if (r < 0)
                return log_error_errno(r, "%s/%s: no plan, and the record cannot be read: %s", dir, SDC_HANDOFF_RECORD_NAME,
                                       r == -EBADMSG ? "not strict JSON, or not a record" : strerror(-r));
        print_row("Handoff", h.mode);
        printf("%15s: not written (no %s/%s): sdcompat-shim, if mounted, was taken back; negotiate's record is %s/%s "
               "(sdcompat status --json)\n",
               "Plan", dir, SDC_PLAN_FILE_NAME, dir, SDC_HANDOFF_RECORD_NAME);
        print_row("Errors", h.errors);
        sdc_handoff_summary_done(&h);
        print_shim_record();
        print_release_record();
        return 0;
}

static int verb_status(void) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *data = NULL;
        SdcPlanFile plan;
        unsigned format;
        size_t size;
        int r;

        if (asprintf(&dir, "%s/sdcompat", arg_run_dir) < 0)
                return log_oom();
        if (arg_json) {
                r = sdc_run_file_read(dir, "handoff.json", &path, &data, &size);
                if (r == -ENOENT) {
                        printf("This system was booted without sdcompat negotiating the handoff (no %s/handoff.json).\n", dir);
                        return 3;
                }
                if (r < 0)
                        return log_error_errno(r, "%s/handoff.json: cannot read: %m", dir);
                fwrite(data, 1, size, stdout);
                return 0;
        }
        r = sdc_plan_file_read(dir, &plan, &format, &path);
        if (r == -ENOENT)
                return print_no_plan(dir);
        if (r == -EPROTONOSUPPORT)
                return log_error_errno(r, "%s: plan format version %u; this sdcompat reads 1 to %u (sdcompat.run(5)): "
                                          "the initramfs's sdcompat is another version than the root's.",
                                       path, format, SDC_PLAN_FILE_VERSION);
        if (r == -EBADMSG)
                return log_error_errno(r, "%s: not a plan this sdcompat can read (a malformed line, or no "
                                          "SDCOMPAT_PLAN_VERSION or MODE; sdcompat.run(5)).",
                                       path ?: dir);
        if (r < 0)
                return log_error_errno(r, "%s/%s: cannot read: %m", dir, SDC_PLAN_FILE_NAME);
        print_plan(&plan);
        sdc_plan_file_done(&plan);
        print_shim_record();
        print_release_record();
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_ROOT,
                ARG_OUTPUT,
                ARG_KERNEL,
                ARG_DRACUT_VERSION,
                ARG_SYSROOT,
                ARG_INITRD_ROOT,
                ARG_RUN_DIR,
                ARG_CMDLINE,
                ARG_RULES_PATH,
                ARG_JSON,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "output", required_argument, NULL, ARG_OUTPUT },
                { "kernel", required_argument, NULL, ARG_KERNEL },
                { "dracut-version", required_argument, NULL, ARG_DRACUT_VERSION },
                { "sysroot", required_argument, NULL, ARG_SYSROOT },
                { "initrd-root", required_argument, NULL, ARG_INITRD_ROOT },
                { "run-dir", required_argument, NULL, ARG_RUN_DIR },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "rules-path", required_argument, NULL, ARG_RULES_PATH },
                { "json", no_argument, NULL, ARG_JSON },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': help(); return 0;
                case ARG_VERSION: printf("sdcompat %s\n", PACKAGE_VERSION); return 0;
                case ARG_ROOT: arg_root = optarg; break;
                case ARG_OUTPUT: arg_output = optarg; break;
                case ARG_KERNEL: arg_kernel = optarg; break;
                case ARG_DRACUT_VERSION: arg_dracut_version = optarg; break;
                case ARG_SYSROOT: arg_sysroot = optarg; break;
                case ARG_INITRD_ROOT: arg_initrd_root = optarg; break;
                case ARG_RUN_DIR: arg_run_dir = optarg; break;
                case ARG_CMDLINE: arg_cmdline = optarg; break;
                case ARG_RULES_PATH: arg_rules_path = optarg; break;
                case ARG_JSON: arg_json = true; break;
                case '?': return -EINVAL;
                default: abort();
                }
        return 1;
}

int main(int argc, char *argv[]) {
        const char *verb;
        int r;

        log_set_prefix("sdcompat");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (optind >= argc) {
                log_error("A command is needed: record, negotiate or status (see --help).");
                return 2;
        }
        verb = argv[optind];
        if (optind + 1 < argc) {
                log_error("Unexpected argument: %s (see --help)", argv[optind + 1]);
                return 2;
        }
        if (streq(verb, "record"))
                return verb_record() < 0 ? 1 : 0;
        if (streq(verb, "negotiate"))
                return verb_negotiate();
        if (streq(verb, "status")) {
                r = verb_status();
                return r < 0 ? 1 : r;
        }
        log_error("Unknown command '%s' (record, negotiate, status).", verb);
        return 2;
}
