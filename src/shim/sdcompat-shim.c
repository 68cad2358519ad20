/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sdcompat-shim: PID 1 for a few milliseconds between the initramfs's systemd and the root's.
 *
 * sdcompat negotiate bind-mounts this program over the systemd binary the initramfs's PID 1 will
 * exec in the root, when its plan (/run/sdcompat/plan) is "translate" or "fresh". After the switch
 * it runs as PID 1 with the root's systemd arguments and state descriptor, makes them safe for the
 * root's version as the plan says, unmounts itself and execs the real binary. See sdcompat-shim(8).
 *
 * The rules that keep it obviously correct:
 *   - It never forks, never waits and never touches SIGCHLD before its last resort: the initramfs's
 *     dying services are PID 1's children, and their exit statuses belong to the root's systemd.
 *   - It never returns and never exits as PID 1. Each failure falls one step down the chain:
 *       translated state → the original state and argv, untouched → the real binary without state
 *       ("fresh") → /sbin/init → stay alive, reap, and say so on the console every few seconds.
 *   - Each step is logged to the kernel log and recorded in /run/sdcompat/shim.json before it is
 *     taken; rd.sdcompat.debug keeps the state before and after in /run/sdcompat.
 *   - It acts as PID 1 only for the machine's PID 1 (the initial PID namespace, pidns.h), and
 *     changes a state only in a real switch-root handoff (--switched-root in argv, the first run
 *     at this boot). Anything else — an init= wrapper that execs systemd later, a container,
 *     a second run — gets every mount of this program removed and the real binary exec'd with
 *     its arguments untouched.
 *   - `sdcompat-shim --self-test=PLAN` (not PID 1) only reads the plan and says whether it
 *     understands it (shim-self-test.h): negotiate runs a root's newer shim so before it mounts it.
 *   - rd.sdcompat.fault=STEP[,STEP...] (transform, exec, fresh, init) makes that step fail on
 *     purpose. It exists for the test suite, which proves the chain in boots, and is honoured
 *     only in a build configured with -Dtest-faults=true. */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup-convert.h"
#include "cgroup-mode.h"
#include "cgroup-release-record.h"
#include "cmdline.h"
#include "envfile.h"
#include "fileio.h"
#include "json.h"
#include "log.h"
#include "mountinfo.h"
#include "pid1-argv.h"
#include "pidns.h"
#include "plan-file.h"
#include "plan.h"
#include "run-file.h"
#include "shim-record.h"
#include "shim-self-test.h"
#include "action.h"
#include "alloc.h"
#include "state.h"
#include "state-fd.h"
#include "strv.h"
#include "version.h"


#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76 /* Linux 6.5 */
#endif
#ifndef SYS_close_range
#define SYS_close_range 436 /* Linux 5.9, the same number on every architecture; bullseye's headers lack it */
#endif

#define STEPS_MAX 16

typedef enum Fault {
        FAULT_TRANSFORM,
        FAULT_COMPACT,
        FAULT_RESTORE,
        FAULT_EXEC,
        FAULT_FRESH,
        FAULT_INIT,
        _FAULT_MAX,
} Fault;

static const char *const fault_names[_FAULT_MAX] = {
        [FAULT_TRANSFORM] = "transform",
        [FAULT_COMPACT] = "compact",
        [FAULT_RESTORE] = "restore",
        [FAULT_EXEC] = "exec",
        [FAULT_FRESH] = "fresh",
        [FAULT_INIT] = "init",
};

typedef SdcShimStep Step;

typedef struct Shim {
        char *const *argv;
        const char *run_dir;     /* /run/sdcompat */
        const char *init;        /* /sbin/init */
        const char *cmdline;     /* NULL: /proc/cmdline */
        bool pid1;               /* the machine's PID 1: PID 1 of the initial PID namespace */
        bool handoff;            /* a switch-root handoff, the first at this boot */
        SdcMode mode;
        bool actions[_SDC_ACTION_MAX];
        char *target;            /* the real systemd, once our mount is gone */
        unsigned root_major;
        bool debug;
        bool fault[_FAULT_MAX];
        struct stat self;        /* to never exec ourselves again */
        char *mounts[8];         /* where this program is mounted, from the mount table */
        unsigned n_mounts;
        SdcPid1Argv args;
        bool args_ok;
        char **release_controllers; /* cgroup-convert left these bound to v1 */
        char *cmdline_text;      /* the kernel command line as read */
        bool cmdline_has_legacy_force;
        bool state_lost;         /* a failed in-place write could not be undone */
        /* The state as read and parsed. Never freed on the way to an exec, which drops the whole
         * address space at once: unmapping their 14 MiB of huge pages first (a 10,000-unit
         * stream) took 0.5-0.9 ms in bench/shim. */
        SdcStateInput in;
        SdcState st;
        char **exec_argv;        /* what the stateful exec passes */
        Step steps[STEPS_MAX];
        unsigned n_steps;
        unsigned n_steps_overwritten; /* steps recorded over the last slot once it was full */
} Shim;

/* Records a step and returns its error, as systemd's log helpers do: "return step_add(s, name, r, ...);".
 * The record is fixed-size on purpose (recording never allocates, so it cannot fail on the way to
 * an exec), but it is never cut silently: a detail that does not fit ends in " [cut]", and once
 * the steps are full the last slot keeps the newest step (the exec that took over) and says how
 * many before it were not kept (the log has every one). */
static int step_add(Shim *s, const char *name, int error, const char *fmt, ...) _printf_(4, 5);
static int step_add(Shim *s, const char *name, int error, const char *fmt, ...) {
        static const char cut[] = " [cut]";
        Step *st;
        va_list ap;
        int k = 0, n;

        if (s->n_steps < STEPS_MAX)
                st = &s->steps[s->n_steps++];
        else {
                st = &s->steps[STEPS_MAX - 1];
                s->n_steps_overwritten++;
                k = snprintf(st->detail, sizeof(st->detail), "[%u steps before this one not kept here] ",
                             s->n_steps_overwritten);
        }
        st->name = name;
        st->error = error;
        va_start(ap, fmt);
        n = vsnprintf(st->detail + k, sizeof(st->detail) - (size_t) k, fmt, ap);
        va_end(ap);
        if (n < 0)
                (void) snprintf(st->detail + k, sizeof(st->detail) - (size_t) k, "(detail not formattable)");
        else if ((size_t) n >= sizeof(st->detail) - (size_t) k)
                memcpy(st->detail + sizeof(st->detail) - sizeof(cut), cut, sizeof(cut));
        if (error < 0)
                log_warning_errno(error, "%s: %s: %m", name, st->detail);
        else
                log_info("%s: %s", name, st->detail);
        return error;
}

/* Written before every exec: after a successful one, nothing runs to say so. The last step of
 * the record is therefore the exec that took over. */
static void write_record(const Shim *s) {
        (void) sdc_shim_record_write(s->run_dir, s->mode, s->target, s->steps, s->n_steps);
}

static void save_state(const Shim *s, const char *name, const char *data, size_t size) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", s->run_dir, name) >= 0 && write_file_atomic_at(AT_FDCWD, path, data, size, 0600) < 0)
                log_warning("Cannot keep %s.", path);
}

static void read_cmdline(Shim *s) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **words = NULL;
        const char *v = NULL;
        size_t dashdash;

        if (s->cmdline)
                text = strdup(s->cmdline);
        else
                (void) read_full_file_at(AT_FDCWD, "/proc/cmdline", 1 << 16, &text, NULL);
        if (!text)
                return;
        s->cmdline_text = strdup(text);
        if (sdc_cmdline_split(text, &words, &dashdash) < 0)
                return;
        s->cmdline_has_legacy_force = sdc_cmdline_get(words, "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE", &v) > 0;
        if (sdc_cmdline_get(words, "rd.sdcompat.debug", &v) > 0 && (!v || sdc_parse_boolean(v) != 0))
                s->debug = true;
        if (sdc_cmdline_get(words, "rd.sdcompat.fault", &v) > 0 && v) {
#if ENABLE_TEST_FAULTS
                _cleanup_free_ char *list = strdup(v);
                char *save = NULL;

                for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
                        for (int i = 0; i < _FAULT_MAX; i++)
                                if (streq(tok, fault_names[i])) {
                                        s->fault[i] = true;
                                        log_warning("rd.sdcompat.fault=%s: the %s step will fail on purpose (test only).", v, tok);
                                }
#else
                log_warning("rd.sdcompat.fault=%s ignored: this build has no test faults (meson -Dtest-faults=true).", v);
#endif
        }
}

/* The plan negotiate wrote (plan-file.h). Nothing of a plan that cannot be read is taken. */
static int read_plan(Shim *s, unsigned *ret_format) {
        SdcPlanFile p;
        SdcVersion v;
        int r;

        r = sdc_plan_file_read(s->run_dir, &p, ret_format, NULL);
        if (r < 0)
                return r;
        s->mode = p.mode;
        if (p.shim_target && p.shim_target[0] == '/')
                s->target = TAKE_PTR(p.shim_target);
        if (p.root_systemd_version && sdc_version_parse(p.root_systemd_version, &v) >= 0)
                s->root_major = v.major;
        memcpy(s->actions, p.actions, sizeof(s->actions));
        s->debug = s->debug || p.debug;
        sdc_plan_file_done(&p);
        return 0;
}

/* Whether path is the file self describes (this program, stat'ed through /proc/self/exe). */
static bool is_file(const struct stat *self, const char *path) {
        struct stat st;

        return stat(path, &st) >= 0 && st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

static bool is_self(const Shim *s, const char *path) {
        return is_file(&s->self, path);
}

/* ---- translate ------------------------------------------------------------------------------ */

static bool drop_untrusted_unit(const char *name, size_t len, void *userdata) {
        const Shim *s = userdata;

        /* v249+ serializers leave mount and automount units out on switch-root (H4): the root
         * must see them from its own fstab. Types the target cannot load fail v233/v234 (H3). */
        if (sdc_unit_is_mount(name, len))
                return true;
        return s->root_major > 0 && !sdc_unit_type_known(name, len, s->root_major);
}

static int clear_passpidfd(Shim *s, const SdcState *st) {
        char buf[16];
        size_t len;
        const char *v = sdc_state_header_value(st, "notify-fd", &len);
        int fd, zero = 0;

        if (!v || len == 0 || len >= sizeof(buf)) {
                step_add(s, "shim-clear-passpidfd", 0, "no notify-fd in the state: nothing to clear");
                return 0;
        }
        memcpy(buf, v, len);
        buf[len] = 0;
        fd = atoi(buf);
        if (fd < 3 || fcntl(fd, F_GETFD) < 0) {
                step_add(s, "shim-clear-passpidfd", 0, "notify-fd=%s is not open: nothing to clear", buf);
                return 0;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &zero, sizeof(zero)) < 0) {
                /* Before Linux 6.5 the option does not exist, and so neither does the leak. */
                if (errno == ENOPROTOOPT) {
                        step_add(s, "shim-clear-passpidfd", 0, "the kernel has no SO_PASSPIDFD: nothing to clear");
                        return 0;
                }
                step_add(s, "shim-clear-passpidfd", -errno, "cannot clear SO_PASSPIDFD on notify-fd=%d", fd);
                return -errno;
        }
        step_add(s, "shim-clear-passpidfd", 0, "SO_PASSPIDFD cleared on notify-fd=%d", fd);
        return 0;
}

/* Why sdc_state_fd_compactable() refused a descriptor, for the record. */
static const char *not_compactable_reason(int r) {
        switch (r) {
        case -ESPIPE:
                return "not a regular file";
        case -EBADF:
                return "not open for reading and writing";
        case -EINVAL:
                return "opened O_APPEND";
        case -EPERM:
                return "sealed against writing or shrinking";
        default:
                return strerror(-r);
        }
}

/* The translated stream goes back into the descriptor it came in, when systemd left it writable
 * (a memfd without write seals, or its unlinked file in /run, O_RDWR: only we hold it now): its
 * pages exist already, where a new memfd takes fresh ones (filling 8 MB of them cost 10-19 ms in
 * the VMs of bench/shim; rewriting them in place 1.3-1.9 ms). Only the bytes from the first
 * dropped line on are rewritten. 0 with *ret_size set; or negative errno, with the original back
 * in the descriptor, or with s->state_lost set when even that failed. */
static int compact_state(Shim *s, const SdcStateInput *in, const SdcState *st, size_t *ret_size) {
        unsigned fault = (s->fault[FAULT_COMPACT] ? SDC_STATE_FAULT_COMPACT : 0) |
                         (s->fault[FAULT_RESTORE] ? SDC_STATE_FAULT_COMPACT | SDC_STATE_FAULT_RESTORE : 0);
        int r = sdc_state_compact_fd(s->args.deserialize_fd, in, st, fault, ret_size, &s->state_lost);

        if (r >= 0)
                return 0;
        if (s->state_lost)
                step_add(s, "transform", r,
                         "cannot compact the state in place in fd %d, nor put the original back: the state is lost%s",
                         s->args.deserialize_fd, fault ? " (rd.sdcompat.fault)" : "");
        else
                step_add(s, "transform", r, "cannot compact the state in place in fd %d; the original is back%s",
                         s->args.deserialize_fd, fault ? " (rd.sdcompat.fault)" : "");
        return r;
}

/* Everything that can still be undone: the new state replaces the old only at the very end,
 * either in a new descriptor (*ret_fd) or in place (*ret_fd stays -1), and a failure in place puts
 * the original back. Returns negative errno on failure. */
static int translate_state(Shim *s, int *ret_fd) {
        SdcStateInput *in = &s->in;
        SdcState *st = &s->st;
        _cleanup_free_ char *out = NULL;
        size_t dropped_units = 0, dropped_lines = 0, out_size = 0, debug_size;
        int fd = s->args.deserialize_fd, why, r;

        *ret_fd = -1;
        if (s->fault[FAULT_TRANSFORM])
                return step_add(s, "transform", -EIO, "rd.sdcompat.fault=transform");
        if (fd < 0)
                return step_add(s, "transform", 0, "no --deserialize in argv: no state to translate");
        if (fcntl(fd, F_GETFD) < 0)
                return step_add(s, "transform", -EBADF, "--deserialize=%d is not open", fd);

        /* Only shim-fold-lines looks at the stream (and shim-argv-reorder at argv): when no line is
         * too long for an old reader, there is nothing to drop, and nothing to copy into fresh
         * memory or parse either (rd.sdcompat.debug wants the copy). */
        if (s->actions[SDC_ACTION_SHIM_FOLD_LINES] && !s->actions[SDC_ACTION_SHIM_DROP_SECTIONS] &&
            !s->actions[SDC_ACTION_SHIM_CLEAR_PASSPIDFD] && !s->debug) {
                size_t size = 0;

                r = sdc_state_fd_has_long_line(fd, SDC_STATE_OLD_READER_LINE_MAX, &size);
                if (r < 0)
                        return step_add(s, "transform", r, "cannot read the state from fd %d", fd);
                if (r == 0) {
                        step_add(s, "shim-fold-lines", 0, "no line longer than %d bytes", SDC_STATE_OLD_READER_LINE_MAX);
                        return step_add(s, "transform", 0, "state of %zu bytes: handed on unchanged", size);
                }
        }

        r = sdc_state_read_fd(fd, in);
        if (r < 0)
                return step_add(s, "transform", r, "cannot read the state from fd %d", fd);
        if (s->debug)
                save_state(s, "state.before", in->data, in->size);
        r = sdc_state_parse_in(in->data, in->size, in->lines, in->n_lines, st);
        if (r < 0)
                return step_add(s, "transform", r, "cannot parse the state (%zu bytes)", in->size);

        if (s->actions[SDC_ACTION_SHIM_CLEAR_PASSPIDFD]) {
                r = clear_passpidfd(s, st);
                if (r < 0)
                        return r;
        }
        if (s->actions[SDC_ACTION_SHIM_DROP_SECTIONS]) {
                dropped_units = sdc_state_drop_units(st, drop_untrusted_unit, s);
                step_add(s, "shim-drop-sections", 0, "%zu of %zu unit sections dropped", dropped_units, st->n_units);
        }
        if (s->actions[SDC_ACTION_SHIM_FOLD_LINES]) {
                dropped_lines = sdc_state_drop_long_lines(st, SDC_STATE_OLD_READER_LINE_MAX);
                step_add(s, "shim-fold-lines", 0, "%zu lines longer than %d bytes dropped", dropped_lines,
                         SDC_STATE_OLD_READER_LINE_MAX);
        }
        if (dropped_units == 0 && dropped_lines == 0) {
                if (s->debug)
                        save_state(s, "state.after", in->data, in->size);
                return step_add(s, "transform", 0, "state of %zu bytes, %zu units: handed on unchanged", in->size, st->n_units);
        }

        /* The result, for rd.sdcompat.debug, while the buffer still holds the original: written
         * before the descriptor changes. */
        if (s->debug && sdc_state_write(st, &out, &debug_size) >= 0)
                save_state(s, "state.after", out, debug_size);

        why = sdc_state_fd_compactable(fd);
        if (why >= 0) {
                r = compact_state(s, in, st, &out_size);
                if (r < 0)
                        return r;
                step_add(s, "transform", 0, "state of %zu bytes translated to %zu bytes, in place in fd %d", in->size,
                         out_size, fd);
                return 0;
        }
        r = sdc_state_new_fd(st, &out_size);
        if (r < 0)
                return step_add(s, "transform", r, "cannot store the translated state");
        *ret_fd = r;
        step_add(s, "transform", 0, "state of %zu bytes translated to %zu bytes, in a new descriptor (fd %d: %s)",
                 in->size, out_size, fd, not_compactable_reason(why));
        return 0;
}

static void convert_cgroups(Shim *s) {
        _cleanup_free_ char *controllers = NULL, *still_bound = NULL, *left = NULL, *held_by = NULL, *zombies = NULL;
        SdcCgroupReport rep;
        int r;

        /* Only PID 1 owns /sys/fs/cgroup: a test run must never take its host's hierarchies away. */
        if (!s->pid1) {
                step_add(s, "cgroup-convert", 0, "not PID 1 (a test run): /sys/fs/cgroup not touched");
                return;
        }
        r = sdc_cgroup_convert("/sys/fs/cgroup", &rep);

        if (r < 0) {
                step_add(s, "cgroup-convert", r, "moved %u processes, removed %u cgroups (%u kept), unmounted %u hierarchies",
                         rep.moved, rep.removed, rep.kept, rep.unmounted);
                sdc_cgroup_report_done(&rep);
                return;
        }
        if (!rep.converted) {
                step_add(s, "cgroup-convert", 0, "cgroup2 is mounted already: nothing to convert");
                sdc_cgroup_report_done(&rep);
                return;
        }
        controllers = strv_join(rep.controllers, " ");
        still_bound = strv_join(rep.still_bound, " ");
        left = strv_join(rep.left, " ");
        held_by = strv_join(rep.held_by, " ");
        zombies = strv_join(rep.zombie_names, " ");
        if (!controllers || !still_bound || !left || !held_by || !zombies)
                step_add(s, "cgroup-convert", -ENOMEM, "cgroup2 mounted; the report could not be made");
        else
                step_add(s, "cgroup-convert", 0,
                         "cgroup2 mounted (%s); moved %u processes, removed %u cgroups (%u kept), unmounted %u hierarchies; "
                         "controllers: %s; still bound to v1: %s%s%s%s%s%s; %u exited processes not yet reaped%s%s",
                         !isempty(rep.options) ? rep.options : "no options", rep.moved, rep.removed, rep.kept, rep.unmounted,
                         controllers[0] ? controllers : "none", still_bound[0] ? still_bound : "none",
                         left[0] ? " (cgroups left, dying ones included: " : "", left, left[0] ? ")" : "",
                         held_by[0] ? ", held by exited initramfs processes awaiting the root's PID 1: " : "", held_by,
                         rep.zombies, zombies[0] ? ": " : "", zombies);
        s->release_controllers = TAKE_PTR(rep.still_bound);
        sdc_cgroup_report_done(&rep);
}

/* cgroup-revert (H2d): a root PID 1 older than systemd 230 sets up cgroup v1 itself and freezes on
 * a cgroup2 /sys/fs/cgroup. Whatever fails, the root's systemd is exec'd: it would freeze anyway. */
static void revert_cgroups(Shim *s) {
        _cleanup_(sdc_cgroup_revert_done) SdcCgroupRevert rep = {};
        _cleanup_free_ char *disabled = NULL, *not_disabled = NULL;
        int r;

        if (!s->pid1) {
                step_add(s, "cgroup-revert", 0, "not PID 1 (a test run): /sys/fs/cgroup not touched");
                return;
        }
        r = sdc_cgroup_revert("/sys/fs/cgroup", &rep);
        disabled = strv_join(rep.disabled, " ");
        not_disabled = strv_join(rep.not_disabled, ", ");
        if (!disabled || !not_disabled) {
                step_add(s, "cgroup-revert", r < 0 ? r : -ENOMEM, "cgroup2 %s; the report could not be made",
                         rep.reverted ? "unmounted" : "still mounted");
                return;
        }
        if (r >= 0 && !rep.reverted) {
                step_add(s, "cgroup-revert", 0, "/sys/fs/cgroup is not cgroup2: nothing to revert");
                return;
        }
        step_add(s, "cgroup-revert", r,
                 "%s; moved %u processes to the cgroup2 root, removed %u cgroups (%u kept); controllers released: %s%s%s; "
                 "%u removed cgroups not yet freed by the kernel (a controller they reference cannot be mounted on v1 until then)",
                 rep.reverted ? "cgroup2 unmounted from /sys/fs/cgroup: the root's systemd mounts its v1 hierarchies"
                              : "cgroup2 still mounted: the root's systemd finds it as without sdcompat",
                 rep.moved, rep.removed, rep.kept, disabled[0] ? disabled : "none",
                 not_disabled[0] ? "; refused: " : "", not_disabled, rep.left);
}

/* shim-legacy-force (H2c): systemd 256 and 257 read SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 from the
 * kernel command line, and without it they refuse (256) or, seeing systemd.unified_cgroup_hierarchy=0,
 * stall 30 s (257) before going on with the v1 hierarchy the initramfs mounted, whatever is mounted.
 * systemd takes its command line from $SYSTEMD_PROC_CMDLINE when set (docs/ENVIRONMENT.md); the
 * root's PID 1 gets the kernel's command line with the option added, and so keeps v1 as the command
 * line asked, without the wait. The variable stays in PID 1's environment (re-executions keep
 * it); services do not see it: the system manager starts them with a clean environment. */
static void legacy_force(Shim *s) {
        _cleanup_free_ char *value = NULL;
        SdcCgroupMode mode;
        size_t n;

        if (s->mode == SDC_MODE_NATIVE || !s->actions[SDC_ACTION_SHIM_LEGACY_FORCE])
                return;
        if (sdc_cgroup_mode_mounted("/sys/fs/cgroup", &mode) >= 0 && mode == SDC_CGROUP_UNIFIED) {
                step_add(s, "shim-legacy-force", 0, "cgroup2 is mounted: nothing to force");
                return;
        }
        if (s->cmdline_has_legacy_force) {
                step_add(s, "shim-legacy-force", 0, "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE is on the command line already: left as it is");
                return;
        }
        if (!s->cmdline_text) {
                step_add(s, "shim-legacy-force", -ENODATA, "the command line could not be read");
                return;
        }
        n = strlen(s->cmdline_text);
        while (n > 0 && strchr(" \t\n", s->cmdline_text[n - 1]))
                n--;
        if (asprintf(&value, "%.*s%sSYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1", (int) n, s->cmdline_text, n > 0 ? " " : "") < 0 ||
            setenv("SYSTEMD_PROC_CMDLINE", value, 1) < 0) {
                step_add(s, "shim-legacy-force", -ENOMEM, "cannot set SYSTEMD_PROC_CMDLINE");
                return;
        }
        step_add(s, "shim-legacy-force", 0, "SYSTEMD_PROC_CMDLINE is the command line with SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 added");
}

/* ---- freeing the rest later ----------------------------------------------------------------- */

#define RELEASE_UNIT "sdcompat-cgroup-release.service"
#define RELEASE_TIMEOUT_MS 5000

/* The controllers exited initramfs processes hold come free only after the root's PID 1 has reaped
 * them. A unit in /run (this boot only; nothing on the root file system changes) runs a copy of this
 * program then: see release_cgroups(). The copy is needed because the initramfs, where this file
 * lives, is gone by then.
 *
 * When: once the boot's target is reached (multi-user.target or graphical.target, whichever the
 * boot has), because the release ends in a re-execution of PID 1, and a re-execution in the middle
 * of the boot races it (coldplug, fsck, mounts: upstream saw device units go from plugged to dead
 * and queued services not start). Once the target is reached these are done, and a re-execution
 * then is what every package upgrade of systemd does. The cost: until then the released
 * controllers are unused (no TasksMax= of the pids controller for the units of the boot). A boot to
 * rescue or emergency never reaches it and keeps them unused. */
static void install_release_unit(Shim *s, const char *unit_dir) {
        static const char unit_head[] =
                "# Written by sdcompat-shim at this boot, in /run: gone at the next. See sdcompat-shim(8).\n"
                "[Unit]\n"
                "Description=Free the cgroup controllers the initramfs's cgroup v1 hierarchies kept\n"
                "Documentation=man:sdcompat-shim(8)\n"
                "DefaultDependencies=no\n"
                "Conflicts=shutdown.target\n"
                "Before=shutdown.target\n"
                "After=multi-user.target graphical.target\n"
                "ConditionFileIsExecutable=/run/sdcompat/sdcompat-shim\n"
                "\n"
                "[Service]\n"
                "Type=oneshot\n";
        _cleanup_free_ char *copy = NULL, *path = NULL, *wants = NULL, *link = NULL, *unit = NULL, *controllers = NULL;
        _cleanup_close_ int self = -1;
        int r;

        if (!s->release_controllers)
                return;
        if (!s->pid1) {
                step_add(s, "cgroup-release", 0, "not PID 1 (a test run): no unit installed");
                return;
        }
        /* Exactly the controllers the conversion left: the release touches no other hierarchy. */
        controllers = strv_join(s->release_controllers, " ");
        if (!controllers ||
            asprintf(&unit, "%sExecStart=/run/sdcompat/sdcompat-shim --release-cgroups %s\n", unit_head, controllers) < 0 ||
            asprintf(&copy, "%s/sdcompat-shim", s->run_dir) < 0 || asprintf(&path, "%s/" RELEASE_UNIT, unit_dir) < 0 ||
            asprintf(&wants, "%s/multi-user.target.wants", unit_dir) < 0 || asprintf(&link, "%s/" RELEASE_UNIT, wants) < 0) {
                step_add(s, "cgroup-release", -ENOMEM, "no unit installed");
                return;
        }
        if (access(copy, X_OK) < 0) {
                self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
                r = self < 0 ? -errno : copy_file_atomic_at(self, AT_FDCWD, copy, 0755);
                if (r < 0) {
                        step_add(s, "cgroup-release", r, "cannot copy this program to %s: no unit installed", copy);
                        return;
                }
        }
        r = mkdir_p(wants, 0755);
        if (r >= 0)
                r = write_file_atomic_at(AT_FDCWD, path, unit, strlen(unit), 0644);
        if (r >= 0 && symlink("../" RELEASE_UNIT, link) < 0 && errno != EEXIST)
                r = -errno;
        if (r < 0) {
                step_add(s, "cgroup-release", r, "cannot install %s", path);
                return;
        }
        /* Called again after a failed exec moved /run/systemd aside (fresh): then written anew. */
        step_add(s, "cgroup-release", 0, "%s will free the rest once the root's PID 1 has reaped the holders", path);
}

typedef struct ReleaseRecord {
        int error;
        const SdcCgroupRelease *rep;
        bool reexec;
} ReleaseRecord;

static int fill_release_record(FILE *f, const void *userdata) {
        const ReleaseRecord *rec = userdata;

        return sdc_cgroup_release_record_write(f, rec->error, rec->rep, rec->reexec);
}

static void write_release_record(const char *run_dir, int error, const SdcCgroupRelease *rep, bool reexec) {
        (void) sdc_run_file_write(run_dir, SDC_CGROUP_RELEASE_RECORD, 0644, fill_release_record,
                                  &(ReleaseRecord) { .error = error, .rep = rep, .reexec = reexec });
}

/* The copy the shim made of itself in /run has served once it ran: give its memory back (a tmpfs).
 * Only when it is this very program, so a test run removes nothing of its build. */
static void drop_copy(const char *run_dir) {
        _cleanup_free_ char *copy = NULL;
        struct stat self;

        if (asprintf(&copy, "%s/sdcompat-shim", run_dir) < 0)
                return;
        if (stat("/proc/self/exe", &self) < 0 || !is_file(&self, copy))
                return;
        if (unlink(copy) < 0)
                log_debug("Cannot remove %s: %m", copy);
}

static bool pid1_is_systemd(void) {
        _cleanup_free_ char *comm = NULL;

        return read_full_file_at(AT_FDCWD, "/proc/1/comm", 64, &comm, NULL) >= 0 && streq(comm, "systemd\n");
}

/* The release mounts v1 hierarchies, removes cgroups and signals PID 1: only for the machine it was
 * installed for, in the boot whose handoff converted the cgroups. Refused in any other PID
 * namespace (a container's PID 1 is not the machine's) and without this boot's handoff marker. */
static int release_allowed(const char *run_dir) {
        _cleanup_free_ char *marker = NULL;

        if (pidns_is_initial("/proc") <= 0)
                return log_error_errno(EPERM, "--release-cgroups acts on the machine's cgroups and PID 1: refused "
                                              "outside the initial PID namespace (a container, unshare -p).");
        if (asprintf(&marker, "%s/handoff-ran", run_dir) < 0)
                return log_oom();
        if (access(marker, F_OK) < 0)
                return log_error_errno(errno, "--release-cgroups: %s: %m: no sdcompat-shim handoff at this boot, "
                                              "nothing of it to release; refused.", marker);
        return 0;
}

/* sdcompat-shim --release-cgroups CONTROLLER..., run by the unit above (not PID 1). systemd reads the controllers
 * cgroup2 offers once, when it starts; to use the ones that came free it re-executes itself, which
 * SIGTERM asks of the system manager (systemd(1): "serializes its state, reexecutes itself and
 * deserializes the saved state again"), keeping every unit and job. */
static int release_cgroups(const char *run_dir, char **controllers) {
        _cleanup_free_ char *released = NULL, *still_bound = NULL, *in_use = NULL, *busy = NULL, *failed = NULL,
                            *cgroup2 = NULL;
        _cleanup_(sdc_cgroup_release_done) SdcCgroupRelease rep = {};
        bool reexec = false;
        int r;

        if (strv_length(controllers) == 0) {
                log_error("--release-cgroups wants the controllers to release (those cgroup-convert left bound).");
                return 2;
        }
        r = release_allowed(run_dir);
        if (r < 0)
                return EXIT_FAILURE;
        r = sdc_cgroup_release("/sys/fs/cgroup", controllers, run_dir, RELEASE_TIMEOUT_MS, &rep);
        if (r == -EMEDIUMTYPE) {
                log_info("/sys/fs/cgroup is not cgroup2: this system keeps its v1 hierarchies, nothing to release.");
                write_release_record(run_dir, 0, &rep, false);
                return EXIT_SUCCESS;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot release the v1 hierarchies: %m");
                write_release_record(run_dir, r, &rep, false);
                return EXIT_FAILURE;
        }
        released = strv_join(rep.released, " ");
        still_bound = strv_join(rep.still_bound, " ");
        in_use = strv_join(rep.in_use, " ");
        busy = strv_join(rep.busy, " ");
        failed = strv_join(rep.failed, " ");
        cgroup2 = strv_join(rep.controllers, " ");
        if (!released || !still_bound || !in_use || !busy || !failed || !cgroup2) {
                log_oom();
                write_release_record(run_dir, -ENOMEM, &rep, false);
                return EXIT_FAILURE;
        }
        if (rep.released && pid1_is_systemd()) {
                reexec = kill(1, SIGTERM) >= 0;
                if (!reexec)
                        log_warning("Cannot ask PID 1 to re-execute (%m): it uses the released controllers after the next boot only.");
        }
        log_info("Removed %u cgroups left in v1 hierarchies (%u processes moved); released to cgroup2: %s; "
                 "still bound to v1: %s%s%s%s%s%s%s; cgroup2 controllers: %s%s",
                 rep.removed, rep.moved, released[0] ? released : "none", still_bound[0] ? still_bound : "none",
                 in_use[0] ? "; in use (mounted), left alone: " : "", in_use,
                 busy[0] ? "; cgroups still counted after the wait: " : "", busy,
                 failed[0] ? "; failed: " : "", failed, cgroup2[0] ? cgroup2 : "none",
                 reexec ? "; PID 1 asked to re-execute to use them" : "");
        if (rep.memory_tmpfs_held || rep.memory_cache_held)
                log_warning("memory stays bound to v1 until the next boot: removed memory cgroups of the initramfs still "
                            "have %llu bytes of tmpfs pages and %llu bytes of page cache charged, which this kernel does "
                            "not move to their parent; rd.sdcompat.debug logs which cgroups. An initramfs that mounts "
                            "cgroup2 (rebuilt, or booted without systemd.unified_cgroup_hierarchy=0) avoids it.",
                            rep.memory_tmpfs_held, rep.memory_cache_held);
        write_release_record(run_dir, 0, &rep, reexec);
        drop_copy(run_dir);
        /* A hierarchy kept by pages charged to removed cgroups is a limit of the kernel, said
         * above, and the same at every boot with this initramfs: not a failed unit each time. A
         * mount or unmount that failed is. */
        return rep.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- the chain ------------------------------------------------------------------------------ */

/* Every mount point of this program, from the mount table: a file the kernel shows at that path
 * with our device and inode. (The plan names the target too, but the plan may be missing — the
 * deadline of negotiate fired between mount and write, /run was full — and argv[0] may be a
 * symlink such as /sbin/init, which umount2(UMOUNT_NOFOLLOW) does not follow.) */
static int own_mount(dev_t dev, const char *mount_point, void *userdata) {
        Shim *s = userdata;

        if (dev != s->self.st_dev || s->n_mounts >= ELEMENTSOF(s->mounts) || !is_self(s, mount_point))
                return 0;
        for (unsigned i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i], mount_point))
                        return 0; /* stacked: one entry per mount, detach_self() removes them all */
        s->mounts[s->n_mounts] = strdup(mount_point);
        if (s->mounts[s->n_mounts])
                s->n_mounts++;
        return 0;
}

static void find_own_mounts(Shim *s) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &text, NULL);

        if (r >= 0)
                r = mountinfo_foreach(text, own_mount, s);
        if (r < 0)
                step_add(s, "mounts", r, "cannot read /proc/self/mountinfo: the plan or argv[0] names the target");
}

/* The real binary: where this program is mounted. The plan's SHIM_TARGET when the mount table
 * agrees (or when nothing is mounted: a test run), else the mount table's, else argv[0]. */
static void choose_target(Shim *s) {
        bool planned = false;

        for (unsigned i = 0; s->target && i < s->n_mounts; i++)
                planned = planned || streq(s->target, s->mounts[i]);
        if (!planned && s->n_mounts > 0) {
                if (s->target)
                        step_add(s, "target", 0, "the plan names %s, the mount table %s: %s", s->target, s->mounts[0], s->mounts[0]);
                free(s->target);
                s->target = strdup(s->mounts[0]);
        }
        if (!s->target && s->argv[0] && s->argv[0][0] == '/')
                s->target = strdup(s->argv[0]);
        if (!s->target)
                s->target = strdup("/usr/lib/systemd/systemd");
}

/* Removes every mount of this program: on the target and wherever else the mount table shows it,
 * each as often as it is stacked (negotiate run twice in one boot mounts it twice, and one
 * unmount leaves the lower copy: ELOOP for every exec after). Whoever runs it: only mounts of this
 * very file are touched, and try_exec() checks the result by device and inode again. */
static void detach_self(Shim *s) {
        unsigned removed = 0;
        int error = 0;

        for (unsigned m = 0; m <= s->n_mounts; m++) {
                const char *p = m == 0 ? s->target : s->mounts[m - 1];

                for (unsigned i = 0; p && i < 16 && is_self(s, p); i++) {
                        if (umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
                                error = -errno;
                                step_add(s, "detach", error, "cannot unmount the shim from %s", p);
                                break;
                        }
                        removed++;
                }
        }
        if (error == 0 && removed == 0)
                step_add(s, "detach", 0, "no mount of this program on %s (a test run)", s->target);
        else if (error == 0)
                step_add(s, "detach", 0, "%u mount%s of this program removed; %s is the real binary again", removed,
                         removed == 1 ? "" : "s", s->target);
}

static void try_exec(Shim *s, const char *name, Fault fault, const char *path, char **argv) {
        if (!path || !argv) {
                step_add(s, name, -ENOMEM, "no path or arguments");
                return;
        }
        if (is_self(s, path)) {
                step_add(s, name, -ELOOP, "%s is still this shim", path);
                return;
        }
        if (s->fault[fault]) {
                step_add(s, name, -ENOEXEC, "rd.sdcompat.fault=%s", fault_names[fault]);
                return;
        }
        step_add(s, name, 0, "exec %s", path);
        write_record(s);
        execve(path, argv, environ);
        step_add(s, name, -errno, "exec %s failed", path);
}

/* systemd's own no-state path closes the state and every descriptor it passed, and (v257+) moves
 * /run/systemd aside so the new PID 1 finds no stale runtime state. */
static void close_inherited_fds(void) {
        DIR *d;
        struct dirent *de;

        if (syscall(SYS_close_range, 3U, ~0U, 0U) >= 0)
                return;
        /* Before Linux 5.9: walk /proc/self/fd, then close what it listed. */
        d = opendir("/proc/self/fd");
        if (!d) {
                for (int fd = 3; fd < 65536; fd++)
                        (void) close(fd);
                return;
        }
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);

                if (fd >= 3 && fd != dirfd(d))
                        (void) close(fd);
        }
        closedir(d);
}

static void prepare_fresh(Shim *s) {
        struct stat st;
        sigset_t none;

        log_close();
        close_inherited_fds();
        /* no state crosses from here on */
        sdc_state_done(&s->st);
        sdc_state_input_done(&s->in);
        /* The old PID 1 blocked the signals it reads from a signalfd, and a blocked set survives
         * exec; a fresh init must not start with them blocked. (The mask only: no disposition
         * changes, so nothing gets reaped.) */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        /* Only PID 1 owns /run/systemd: a test run must never move its host's. */
        if (!s->pid1)
                step_add(s, "fresh", 0, "state and inherited descriptors closed (not PID 1: /run/systemd not moved)");
        else if (stat("/run/systemd.pre-switch-root", &st) < 0 && errno == ENOENT &&
                 rename("/run/systemd", "/run/systemd.pre-switch-root") >= 0)
                step_add(s, "fresh", 0, "state and inherited descriptors closed; /run/systemd moved to /run/systemd.pre-switch-root");
        else
                step_add(s, "fresh", 0, "state and inherited descriptors closed; /run/systemd left in place");
}

_noreturn_ static void last_resort(Shim *s) {
        step_add(s, "last-resort", -ENOENT, "no init could be started; PID 1 stays alive");
        write_record(s);
        if (!s->pid1)
                exit(EXIT_FAILURE); /* a test run: nothing to keep alive */
        /* Only here may PID 1 reap: nothing else will ever run. */
        for (;;) {
                struct timespec ts = { .tv_sec = 5 };

                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                log_error("sdcompat-shim: no init could be started (see %s/shim.json); the system cannot continue.",
                          s->run_dir);
                (void) nanosleep(&ts, NULL);
        }
}

_noreturn_ static void run_chain(Shim *s) {
        _cleanup_free_ char **fresh_argv = NULL, **init_argv = NULL;
        int new_fd = -1, r;

        if (s->mode == SDC_MODE_TRANSLATE && s->args_ok) {
                r = translate_state(s, &new_fd);
                if (r >= 0) {
                        /* Past here nothing is undone: the new state replaces the old under the
                         * same descriptor number (dup2 clears O_CLOEXEC, as PID 1 needs). */
                        if (new_fd >= 0) {
                                if (dup2(new_fd, s->args.deserialize_fd) < 0)
                                        step_add(s, "transform", -errno, "cannot replace the state descriptor");
                                (void) close(new_fd);
                        }
                        if (s->actions[SDC_ACTION_SHIM_ARGV_REORDER]) {
                                s->exec_argv = sdc_pid1_argv_build_stateful(s->target, &s->args);
                                step_add(s, "shim-argv-reorder", s->exec_argv ? 0 : -ENOMEM,
                                         "--switched-root --system --deserialize=%d first, %u other arguments after",
                                         s->args.deserialize_fd, s->args.n_rest);
                        }
                } else if (!s->state_lost)
                        step_add(s, "transform", 0, "handing on the original state and arguments");
        }
        /* Not a change to the state, and needed whether it is kept or not: a v258+ root refuses a
         * v1 hierarchy with or without state. */
        if (s->mode != SDC_MODE_NATIVE && s->actions[SDC_ACTION_CGROUP_CONVERT])
                convert_cgroups(s);
        if (s->mode != SDC_MODE_NATIVE && s->actions[SDC_ACTION_CGROUP_REVERT])
                revert_cgroups(s);
        legacy_force(s);
        /* A lost state is not handed on: half of a stream is worse than none. */
        if (s->state_lost)
                step_add(s, "exec", -EIO, "the original state is lost: not exec'ing %s with it; fresh instead", s->target);
        else if (s->mode != SDC_MODE_FRESH) {
                install_release_unit(s, "/run/systemd/system");
                try_exec(s, "exec", FAULT_EXEC, s->target, s->exec_argv ?: (char **) s->argv);
        }

        prepare_fresh(s);
        /* After the move of /run/systemd: the fresh PID 1 reads its units from a new one. */
        install_release_unit(s, "/run/systemd/system");
        fresh_argv = s->args_ok ? sdc_pid1_argv_build_fresh(s->target, &s->args) : NULL;
        if (!fresh_argv && s->args_ok)
                step_add(s, "fresh", -ENOMEM, "cannot build the arguments");
        try_exec(s, "exec-fresh", FAULT_FRESH, s->target, fresh_argv ?: (char *[]) { s->target, NULL });

        init_argv = s->args_ok ? sdc_pid1_argv_build_fresh(s->init, &s->args) : NULL;
        try_exec(s, "exec-init", FAULT_INIT, s->init, init_argv ?: (char *[]) { (char *) s->init, NULL });
        last_resort(s);
}

/* Whether this exec is the switch-root handoff the plan was made for: the initramfs's PID 1 passes
 * --switched-root (v219 on, whatever the order), and only the first such exec of this boot is it
 * (the marker in the run directory is created then; /run is new at every boot). An init= wrapper
 * that execs systemd later without it, a daemon-reexec through a mount left behind, a container:
 * each is handed on untouched. */
static bool is_handoff(Shim *s) {
        _cleanup_free_ char *marker = NULL;
        bool switched = false;
        int fd;

        for (char *const *a = s->argv[0] ? s->argv + 1 : s->argv; *a; a++) /* argc may be 0 */
                switched = switched || streq(*a, "--switched-root");
        if (!switched) {
                step_add(s, "handoff", 0, "no --switched-root in the arguments: not a switch-root handoff, nothing to translate");
                return false;
        }
        if (asprintf(&marker, "%s/handoff-ran", s->run_dir) < 0)
                return true;
        fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
                step_add(s, "handoff", 0, "%s exists: the handoff ran at this boot already, nothing to translate", marker);
                return false;
        }
        if (fd >= 0)
                (void) close(fd);
        step_add(s, "handoff", 0, "a switch-root handoff, the first at this boot");
        return true;
}

/* Not a handoff: the real binary with exactly these arguments, as without sdcompat. */
_noreturn_ static void pass_through(Shim *s) {
        try_exec(s, "exec", FAULT_EXEC, s->target, (char **) s->argv);
        try_exec(s, "exec-init", FAULT_INIT, s->init, (char *[]) { (char *) s->init, NULL });
        last_resort(s);
}

/* sdcompat-shim --self-test=PLAN, not PID 1 (shim-self-test.h): the plan file reader and the action
 * table, nothing of PID 1's path. The first two lines are one string of this binary, which
 * negotiate finds before it runs it. */
static int self_test(const char *plan_path) {
        static const char head[] = SDC_SHIM_SELF_TEST_HEAD PACKAGE_VERSION "\n";
        _cleanup_free_ char *data = NULL, *known = NULL;
        bool all[_SDC_ACTION_MAX];
        const char *refused = NULL;
        char why[256];
        unsigned format = 0;
        SdcPlanFile p;
        size_t size;
        int r;

        fputs(head, stdout);
        printf("PLAN_VERSIONS=1-%u\n", SDC_PLAN_FILE_VERSION);
        for (int a = 0; a < _SDC_ACTION_MAX; a++)
                all[a] = true;
        if (sdc_actions_format(all, &known) < 0) {
                log_oom();
                return SDC_SHIM_SELF_TEST_REFUSED;
        }
        sdc_envfile_put(stdout, "ACTIONS", known);
        r = read_full_file_at(AT_FDCWD, plan_path, SDC_RUN_FILE_MAX, &data, &size);
        if (r >= 0)
                r = sdc_plan_file_parse(data, size, &p, &format);
        if (r == -EPROTONOSUPPORT)
                refused = (snprintf(why, sizeof(why), "plan format version %u, this shim reads 1 to %u", format,
                                    SDC_PLAN_FILE_VERSION), why);
        else if (r < 0)
                refused = (snprintf(why, sizeof(why), "cannot read %s: %s", plan_path, strerror(-r)), why);
        else {
                if (p.unknown_actions > 0)
                        refused = (snprintf(why, sizeof(why), "the plan names %u action(s) this shim does not know",
                                            p.unknown_actions), why);
                sdc_plan_file_done(&p);
        }
        printf("PLAN=%s\n", refused ? "refused" : "understood");
        if (refused)
                sdc_envfile_put(stdout, "REASON", refused);
        if (fflush(stdout) != 0 || ferror(stdout))
                return SDC_SHIM_SELF_TEST_REFUSED;
        return refused ? SDC_SHIM_SELF_TEST_REFUSED : SDC_SHIM_SELF_TEST_UNDERSTOOD;
}

int main(int argc, char *argv[]) {
        Shim s = { .argv = argv, .mode = SDC_MODE_NATIVE, .run_dir = "/run/sdcompat", .init = "/sbin/init" };
        const char *env;
        bool is_pid1 = getpid() == 1;
        unsigned plan_format;
        int r;

        /* PID 1 of a container or of `unshare -p` sees its host's /run and cgroups: it acts as a
         * test run does (nothing outside its run directory), see pidns.h. */
        s.pid1 = is_pid1 && pidns_is_initial("/proc") > 0;
        /* Someone exploring the installed files: say what this is instead of exec'ing systemd. As
         * PID 1 the arguments are systemd's and are never read as ours. */
        if (!is_pid1 && argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "--version"))) {
                if (streq(argv[1], "--version"))
                        printf("sdcompat-shim %s%s\n", PACKAGE_VERSION, ENABLE_TEST_FAULTS ? " +test-faults" : "");
                else
                        printf("sdcompat-shim: PID 1 between the initramfs's systemd and the root's; never started by\n"
                               "hand. sdcompat negotiate mounts it over the root's systemd binary. Its copy in /run also\n"
                               "runs as 'sdcompat-shim --release-cgroups CONTROLLER...' from the unit it installs when a\n"
                               "cgroup v1 conversion left controllers bound. 'sdcompat-shim --self-test=PLAN' says whether\n"
                               "it understands a plan (negotiate asks a root's newer shim so). See sdcompat-shim(8).\n");
                return 0;
        }
        log_set_prefix("sdcompat-shim");
        if (!is_pid1 && argc == 2 && strncmp(argv[1], SDC_SHIM_SELF_TEST_OPTION, strlen(SDC_SHIM_SELF_TEST_OPTION)) == 0)
                return self_test(argv[1] + strlen(SDC_SHIM_SELF_TEST_OPTION));
        if (!is_pid1 && argc >= 2 && streq(argv[1], "--release-cgroups"))
                return release_cgroups((env = getenv("SDCOMPAT_SHIM_RUN_DIR")) ? env : s.run_dir, argv + 2);
        if (s.pid1)
                log_set_target(LOG_TARGET_KMSG);
        /* Tests run the shim as an ordinary process with their own run directory, command line and
         * init. PID 1 ignores these: nothing in its environment is trusted to redirect it. */
        if (!s.pid1) {
                if ((env = getenv("SDCOMPAT_SHIM_RUN_DIR")))
                        s.run_dir = env;
                if ((env = getenv("SDCOMPAT_SHIM_CMDLINE")))
                        s.cmdline = env;
                if ((env = getenv("SDCOMPAT_SHIM_INIT")))
                        s.init = env;
        }
        if (is_pid1 && !s.pid1)
                log_warning("PID 1 of a PID namespace other than the initial one: /run, /run/systemd and the cgroups are "
                            "left alone.");
        if (stat("/proc/self/exe", &s.self) < 0)
                log_warning("Cannot stat /proc/self/exe: %m");

        read_cmdline(&s);
        if (s.debug)
                log_set_max_level(LOG_DEBUG);
        r = read_plan(&s, &plan_format);
        if (r == -EPROTONOSUPPORT)
                step_add(&s, "plan", r, "cannot read %s/%s: format version %u, this shim reads 1 to %u: handing over as stock systemd does",
                         s.run_dir, SDC_PLAN_FILE_NAME, plan_format, SDC_PLAN_FILE_VERSION);
        else if (r < 0)
                step_add(&s, "plan", r, "cannot read %s/%s: handing over as stock systemd does", s.run_dir, SDC_PLAN_FILE_NAME);
        else
                step_add(&s, "plan", 0, "mode %s for a root systemd %u", sdc_mode_to_string(s.mode), s.root_major);
        find_own_mounts(&s);
        choose_target(&s);

        r = sdc_pid1_argv_parse(argv, &s.args);
        s.args_ok = r >= 0;
        if (r < 0)
                step_add(&s, "arguments", r, "cannot parse the arguments: handing them on unchanged");

        s.handoff = is_handoff(&s);
        detach_self(&s);
        if (!s.handoff)
                pass_through(&s);
        run_chain(&s);
}
