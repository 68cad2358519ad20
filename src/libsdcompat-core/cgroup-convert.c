/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-convert.h"
#include "cgroup-mode.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

#define MAX_DEPTH     64
#define MOVE_PASSES   3
#define SETTLE_POLLS      100
#define SETTLE_POLL_MS    10                  /* 100 x 10 ms: at most a second */
#define RELEASE_POLL_MS   20
#define SETTLE_STILL_POLLS 10                 /* 100 ms without a cgroup freed: the rest is held */

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

void sdc_cgroup_report_done(SdcCgroupReport *r) {
        strv_free(r->v1_controllers);
        strv_free(r->controllers);
        strv_free(r->still_bound);
        strv_free(r->held_by);
        strv_free(r->left);
        strv_free(r->zombie_names);
        *r = (SdcCgroupReport) {};
}

void sdc_cgroup_release_done(SdcCgroupRelease *r) {
        strv_free(r->bound);
        strv_free(r->released);
        strv_free(r->in_use);
        strv_free(r->busy);
        strv_free(r->failed);
        strv_free(r->still_bound);
        strv_free(r->controllers);
        *r = (SdcCgroupRelease) {};
}

/* The words of cgroup.controllers under root (cgroup2's controllers), into *ret. */
static int read_cgroup2_controllers(const char *root, char ***ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;

        if (asprintf(&path, "%s/cgroup.controllers", root) < 0)
                return -ENOMEM;
        if (read_full_file_at(AT_FDCWD, path, 4096, &text, NULL) < 0)
                return 0; /* none to report */
        text[strcspn(text, "\n")] = 0;
        return strv_split_extend(ret, text, " ");
}

static bool has_word(const char *list, const char *word) {
        size_t k = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += k)
                if ((p == list || p[-1] == ' ' || p[-1] == ',') && (p[k] == 0 || p[k] == ' ' || p[k] == ',' || p[k] == '\n'))
                        return true;
        return false;
}

/* /proc/self/mountinfo escapes blanks and backslashes as \ooo. */
static void unescape(char *s) {
        char *w = s;

        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = 0;
}

/* The cgroup and cgroup2 mounts below root, deepest first. Read from mountinfo, not libmount:
 * this runs in the static shim, and Debian ships no static libmount. */
static int list_hierarchies(const char *root, char ***ret) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_strv_free_ char **l = NULL;
        char line[4096];
        size_t k = strlen(root);

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char mnt[PATH_MAX], type[64];
                const char *sep = strstr(line, " - ");

                if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || sscanf(sep + 3, "%63s", type) != 1)
                        continue;
                unescape(mnt);
                if (!streq(type, "cgroup") && !streq(type, "cgroup2"))
                        continue;
                if (strncmp(mnt, root, k) != 0 || mnt[k] != '/')
                        continue;
                if (strv_extend(&l, mnt) < 0)
                        return -ENOMEM;
        }
        /* Deeper paths are longer: unmount them first (cpu,cpuacct before a parent, unified/). */
        for (size_t i = 0; l && l[i]; i++)
                for (size_t j = i + 1; l[j]; j++)
                        if (strlen(l[j]) > strlen(l[i])) {
                                char *t = l[i];
                                l[i] = l[j], l[j] = t;
                        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int write_string_at(int dfd, const char *name, const char *s) {
        _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, s, strlen(s));
        if (n < 0)
                return -errno;
        return n == (ssize_t) strlen(s) ? 0 : -EIO;
}

static bool cgroup_has_procs(int dfd) {
        _cleanup_close_ int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        char c;

        return fd >= 0 && read(fd, &c, 1) == 1;
}

static bool children_have_procs(int dfd, unsigned depth) {
        _cleanup_close_ int dup_fd = depth <= MAX_DEPTH ? fcntl(dfd, F_DUPFD_CLOEXEC, 3) : -1;
        bool found = false;
        struct dirent *de;
        DIR *d;

        /* Too deep to look: say yes, so that nothing is touched. */
        if (dup_fd < 0)
                return true;
        d = fdopendir(TAKE_FD(dup_fd));
        if (!d)
                return true;
        while (!found && (de = readdir(d))) {
                _cleanup_close_ int child = -1;

                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                child = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                found = child < 0 || cgroup_has_procs(child) || children_have_procs(child, depth + 1);
        }
        closedir(d);
        return found;
}

/* Whether any cgroup below the hierarchy's root at path has a process. */
static bool tree_has_procs(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 || children_have_procs(fd, 0);
}

/* Moves what cgroup.procs of dfd lists to the hierarchy root's cgroup.procs. Returns how many. */
static unsigned move_procs(int dfd, int root_fd) {
        _cleanup_close_ int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        _cleanup_fclose_ FILE *f = NULL;
        char pid[32];
        unsigned moved = 0;

        if (fd < 0)
                return 0;
        f = fdopen(TAKE_FD(fd), "r");
        if (!f)
                return 0;
        while (fgets(pid, sizeof(pid), f)) {
                pid[strcspn(pid, "\n")] = 0;
                /* A process that is exiting cannot move (the kernel skips it); it is then a
                 * zombie and the report says so. */
                if (*pid && write_string_at(root_fd, "cgroup.procs", pid) >= 0)
                        moved++;
        }
        return moved;
}

/* The value of "key N" in a memory.stat text; 0 when absent. */
static unsigned long long stat_value(const char *text, const char *key) {
        size_t k = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, k) == 0 && p[k] == ' ')
                        return strtoull(p + k + 1, NULL, 10);
        return 0;
}

/* With rd.sdcompat.debug: what a memory cgroup still has charged after force_empty, which keeps it
 * (and its hierarchy) alive once removed. tmpfs pages cannot be reclaimed without swap. */
static void log_charges_debug(int dfd, const char *name) {
        _cleanup_free_ char *text = NULL;
        unsigned long long cache, shmem, rss;

        if (read_full_file_at(dfd, "memory.stat", 1 << 16, &text, NULL) < 0)
                return;
        cache = stat_value(text, "cache");
        shmem = stat_value(text, "shmem");
        rss = stat_value(text, "rss");
        if (cache || shmem || rss)
                log_debug("Memory cgroup %s keeps, after force_empty: %llu bytes of tmpfs, %llu of other page cache, %llu anonymous.",
                          name, shmem, cache > shmem ? cache - shmem : 0, rss);
}

/* Post-order over the child cgroups of dfd: drain, empty, remove. */
static void drain_children(int dfd, int root_fd, unsigned depth, bool move, SdcCgroupReport *r) {
        _cleanup_close_ int dup_fd = -1;
        DIR *d;
        struct dirent *de;

        if (depth > MAX_DEPTH)
                return;
        dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return;
        d = fdopendir(TAKE_FD(dup_fd));
        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_close_ int child = -1;

                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                child = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (child < 0)
                        continue;
                drain_children(child, root_fd, depth + 1, move, r);
                if (!move && cgroup_has_procs(child)) {
                        r->kept++; /* appeared meanwhile: left alone */
                        continue;
                }
                for (unsigned pass = 0; move && pass < MOVE_PASSES; pass++) {
                        unsigned m = move_procs(child, root_fd);

                        r->moved += m;
                        if (m == 0)
                                break;
                }
                /* memory (v1): reclaim the page cache charged here, else the dead cgroup lingers
                 * and keeps the hierarchy (and so the controller) alive after unmounting. */
                (void) write_string_at(child, "memory.force_empty", "0");
                if (log_get_max_level() >= LOG_DEBUG)
                        log_charges_debug(child, de->d_name);
                if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) >= 0)
                        r->removed++;
                else {
                        r->kept++;
                        log_debug("Cannot remove cgroup %s: %m", de->d_name);
                }
        }
        closedir(d);
}

/* move: the conversion (PID 1, the initramfs's processes) moves what it finds to the root; the
 * release later only removes empty cgroups, and a cgroup with processes shows that someone uses
 * the hierarchy. */
static int drain_hierarchy(const char *path, bool move, SdcCgroupReport *r) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        drain_children(fd, fd, 0, move, r);
        return 0;
}

static int unmount_path(const char *path) {
        if (umount2(path, UMOUNT_NOFOLLOW) >= 0)
                return 0;
        if (errno == EBUSY && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) >= 0)
                return 0;
        return -errno;
}

/* systemd mounts cgroup2 with these where the kernel has them; the root's systemd keeps what it
 * finds mounted, so offer what it would have chosen. */
static int mount_cgroup2(const char *root, SdcCgroupReport *r) {
        static const char *const options[] = { "nsdelegate,memory_recursiveprot", "nsdelegate", "" };

        for (size_t i = 0; i < ELEMENTSOF(options); i++)
                if (mount("cgroup2", root, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, options[i]) >= 0) {
                        r->options = options[i];
                        return 0;
                }
        return -errno;
}

static int read_v1_hierarchies(SdcV1Hierarchy *h, size_t max);

/* The controllers bound to v1 hierarchies (grouped by hierarchy), replacing *ret.
 * with_counts: "name:num_cgroups", the cgroups (dying ones included) its hierarchy still has. */
static int v1_controllers_list(char ***ret, bool with_counts) {
        SdcV1Hierarchy h[SDC_V1_HIERARCHIES_MAX];
        int n = read_v1_hierarchies(h, ELEMENTSOF(h));
        _cleanup_strv_free_ char **l = NULL;

        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                char list[sizeof(h[i].controllers)];
                char *save = NULL;

                memcpy(list, h[i].controllers, sizeof(list));
                for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save))
                        if ((with_counts ? strv_extendf(&l, "%s:%u", c, h[i].cgroups) : strv_extend(&l, c)) < 0)
                                return -ENOMEM;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

static int v1_controllers(char ***ret) {
        return v1_controllers_list(ret, false);
}

/* The child cgroups the v1 hierarchies still count, 0 when each holds only its root. /proc/cgroups
 * counts a removed cgroup until the kernel has freed it, which it does asynchronously once nothing
 * references it. (Its callers read the hierarchies with v1_controllers() first, which returns the
 * error of a table that does not fit: here such a table counts nothing.) */
static unsigned hierarchies_left(const char *unused) {
        SdcV1Hierarchy h[SDC_V1_HIERARCHIES_MAX];
        int n = read_v1_hierarchies(h, ELEMENTSOF(h));
        unsigned left = 0;

        for (int i = 0; i < n; i++)
                left += h[i].cgroups > 1 ? h[i].cgroups - 1 : 0;
        return left;
}

static void sleep_ms(unsigned ms) {
        (void) nanosleep(&(struct timespec) { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L }, NULL);
}

/* Polls left(arg), the cgroups still to be freed, every poll_ms for at most max_ms while it falls:
 * the kernel frees removed cgroups asynchronously. Stops at 0, or once it has not fallen for
 * SETTLE_STILL_POLLS polls (what is left is held). Returns the last count. */
static unsigned settle(unsigned (*left)(const char *arg), const char *arg, unsigned poll_ms, unsigned max_ms) {
        unsigned now = left(arg), last = now, still = 0;

        for (unsigned waited = 0; now > 0 && waited < max_ms && still < SETTLE_STILL_POLLS; waited += poll_ms) {
                sleep_ms(poll_ms);
                now = left(arg);
                still = now < last ? 0 : still + 1;
                last = now;
        }
        return now;
}

/* With rd.sdcompat.debug: what the kernel says of an exited process's cgroups, one log line. */
static void held_all_debug_zombie(const char *pid) {
        _cleanup_free_ char *path = NULL, *text = NULL, *all = NULL;
        _cleanup_strv_free_ char **lines = NULL;

        if (log_get_max_level() < LOG_DEBUG)
                return;
        if (asprintf(&path, "/proc/%s/cgroup", pid) < 0)
                return (void) log_oom();
        if (read_full_file_at(AT_FDCWD, path, 1 << 16, &text, NULL) >= 0 && strv_split_extend(&lines, text, "\n") < 0)
                return (void) log_oom();
        all = strv_join(lines, " ");
        if (!all)
                return (void) log_oom();
        log_debug("Exited, not reaped: pid %s, %s: %s", pid, path, all[0] ? all : "(empty)");
}

/* Which exited processes (state Z) still sit in a v1 cgroup other than a root, per controller:
 * r->held_by gets "comm[pid](controllers)" entries, held_all the union of those controllers. */
static int find_holders(char *const *still_bound, char ***held_all, SdcCgroupReport *r, bool log_zombies) {
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        struct dirent *de;

        r->held_by = strv_free(r->held_by);
        *held_all = strv_free(*held_all);
        r->zombies = 0;
        r->zombie_names = strv_free(r->zombie_names);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char path[sizeof("/proc//cgroup") + sizeof(de->d_name)], stat[512], comm[64] = "?", line[1024];
                _cleanup_strv_free_ char **held = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                _cleanup_free_ char *words = NULL;
                char *lp, *rp;

                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                f = fopen(path, "re");
                if (!f || !fgets(stat, sizeof(stat), f))
                        continue;
                fclose(TAKE_PTR(f));
                lp = strchr(stat, '(');
                rp = strrchr(stat, ')');
                if (!lp || !rp || rp < lp || rp[1] != ' ' || rp[2] != 'Z')
                        continue;
                r->zombies++;
                if (log_zombies)
                        held_all_debug_zombie(de->d_name);
                snprintf(comm, sizeof(comm), "%.*s", (int) MIN((size_t) (rp - lp - 1), sizeof(comm) - 1), lp + 1);
                if (strv_extendf(&r->zombie_names, "%s[%s]", comm, de->d_name) < 0)
                        return -ENOMEM;
                snprintf(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
                f = fopen(path, "re");
                while (f && fgets(line, sizeof(line), f)) {
                        /* "ID:controller,list:/path" */
                        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                        char *save = NULL;

                        if (!c2 || streq(c2 + 1, "/\n") || c2 == c1 + 1)
                                continue;
                        *c2 = 0;
                        for (char *tok = strtok_r(c1 + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                                if (strv_contains(still_bound, tok) && !strv_contains(held, tok)) {
                                        if (strv_extend(&held, tok) < 0)
                                                return -ENOMEM;
                                        if (!strv_contains(*held_all, tok) && strv_extend(held_all, tok) < 0)
                                                return -ENOMEM;
                                }
                }
                if (!held)
                        continue;
                words = strv_join(held, " ");
                if (!words || strv_extendf(&r->held_by, "%s[%s](%s)", comm, de->d_name, words) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Which hierarchy is mounted at root, for the conversion and its reverse. Both move every process
 * and take a hierarchy away: only ever PID 1's to do, in the moment between the initramfs and the
 * root (a test once ran the conversion on its host), so anything else is -EPERM. */
static int pid1_cgroup_mode(const char *root, SdcCgroupMode *ret) {
        if (getpid() != 1)
                return -EPERM;
        return sdc_cgroup_mode_mounted(root, ret);
}

int sdc_cgroup_convert(const char *root, SdcCgroupReport *ret) {
        _cleanup_strv_free_ char **hierarchies = NULL;
        SdcCgroupReport *r = ret;
        SdcCgroupMode mode;
        int k;

        *r = (SdcCgroupReport) {};
        k = pid1_cgroup_mode(root, &mode);
        if (k < 0)
                return k;
        if (mode == SDC_CGROUP_UNIFIED)
                return 0;
        if (mode == SDC_CGROUP_UNKNOWN) /* neither cgroup2 nor the tmpfs of v1 */
                return -EMEDIUMTYPE;

        k = v1_controllers(&r->v1_controllers);
        if (k < 0)
                return k;
        k = list_hierarchies(root, &hierarchies);
        if (k < 0)
                return k;
        STRV_FOREACH(h, hierarchies)
                (void) drain_hierarchy(*h, true, r);
        /* The kernel destroys a hierarchy at unmount only if no cgroup of it is left, dying ones
         * included; else the hierarchy lingers, unmounted, and keeps its controllers from cgroup2
         * for good. So let the removed cgroups be freed first (bounded: a cgroup an exited process
         * still references is freed only when the root's PID 1 reaps it). */
        /* Counts that stop falling are held by exited processes: waiting longer frees nothing
         * (sdc_cgroup_release() does, later). */
        (void) settle(hierarchies_left, NULL, SETTLE_POLL_MS, SETTLE_POLLS * SETTLE_POLL_MS);
        STRV_FOREACH(h, hierarchies) {
                k = unmount_path(*h);
                if (k < 0)
                        log_warning_errno(k, "Cannot unmount %s: %m", *h);
                else
                        r->unmounted++;
        }
        k = unmount_path(root);
        if (k < 0)
                return log_error_errno(k, "Cannot unmount the cgroup v1 tmpfs on %s: %m", root);
        k = mount_cgroup2(root, r);
        if (k < 0)
                return log_error_errno(k, "Cannot mount cgroup2 on %s: %m", root);
        r->converted = true;

        /* The kernel destroys an unmounted hierarchy asynchronously (after an RCU grace period, from
         * a workqueue), and only then are its controllers cgroup2's. Wait for that, but not for the
         * controllers exited processes hold: those stay bound until the root's PID 1 reaps them.
         * Sleeping is fine here; waiting for children is not. */
        for (unsigned i = 0; i < SETTLE_POLLS; i++) {
                _cleanup_strv_free_ char **held = NULL;
                bool all_held = true;

                k = v1_controllers(&r->still_bound);
                if (k < 0)
                        return k;
                if (!r->still_bound) {
                        r->held_by = strv_free(r->held_by);
                        break;
                }
                k = find_holders(r->still_bound, &held, r, i == 0);
                if (k >= 0)
                        k = v1_controllers_list(&r->left, true);
                if (k < 0)
                        return k;
                STRV_FOREACH(c, r->still_bound)
                        all_held = all_held && strv_contains(held, *c);
                if (all_held)
                        break;
                sleep_ms(SETTLE_POLL_MS);
        }
        return read_cgroup2_controllers(root, &r->controllers);
}

/* ---- later, once the root's PID 1 has reaped them ---------------------------------------------- */

int sdc_cgroup_v1_hierarchies(const char *proc_cgroups, SdcV1Hierarchy *h, size_t max) {
        size_t n = 0;

        for (const char *p = proc_cgroups; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                char line[256], name[64];
                unsigned id, count, enabled;
                size_t i;

                snprintf(line, sizeof(line), "%.*s", (int) MIN((size_t) (eol - p), sizeof(line) - 1), p);
                p = *eol ? eol + 1 : eol;
                if (line[0] == '#' || sscanf(line, "%63s %u %u %u", name, &id, &count, &enabled) != 4)
                        continue;
                if (id == 0 || !enabled)
                        continue;
                for (i = 0; i < n && h[i].id != id; i++)
                        ;
                if (i == n) {
                        if (n == max || n == INT_MAX)
                                return -E2BIG;
                        h[n++] = (SdcV1Hierarchy) { .id = id, .cgroups = count };
                }
                if (strlen(h[i].controllers) + strlen(name) + 2 > sizeof(h[i].controllers))
                        return -E2BIG;
                if (h[i].controllers[0])
                        strcat(h[i].controllers, ",");
                strcat(h[i].controllers, name);
        }
        return (int) n;
}

bool sdc_cgroup_v1_mounted(const char *mountinfo, const char *controllers) {
        for (const char *p = mountinfo; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                char line[4096], type[64], source[256], options[1024];
                const char *sep;

                snprintf(line, sizeof(line), "%.*s", (int) MIN((size_t) (eol - p), sizeof(line) - 1), p);
                p = *eol ? eol + 1 : eol;
                /* "... - cgroup SOURCE SUPER-OPTIONS": the controllers are among the super options. */
                sep = strstr(line, " - ");
                if (!sep || sscanf(sep + 3, "%63s %255s %1023s", type, source, options) != 3 || !streq(type, "cgroup"))
                        continue;
                {
                        char list[128];
                        char *save = NULL;

                        snprintf(list, sizeof(list), "%s", controllers);
                        for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save))
                                if (has_word(options, c))
                                        return true;
                }
        }
        return false;
}

/* The hierarchies /proc/cgroups lists (none when it cannot be read), or -E2BIG. */
static int read_v1_hierarchies(SdcV1Hierarchy *h, size_t max) {
        _cleanup_free_ char *text = NULL;

        if (read_full_file_at(AT_FDCWD, "/proc/cgroups", 1 << 16, &text, NULL) < 0)
                return 0;
        return sdc_cgroup_v1_hierarchies(text, h, max);
}

/* How many cgroups the hierarchy that controllers name counts now; 0 when it is gone. (Only asked
 * for a hierarchy read from a table that fit: see hierarchies_left().) */
static unsigned hierarchy_cgroups(const char *controllers) {
        SdcV1Hierarchy h[SDC_V1_HIERARCHIES_MAX];
        int n = read_v1_hierarchies(h, ELEMENTSOF(h));

        for (int i = 0; i < n; i++)
                if (streq(h[i].controllers, controllers))
                        return h[i].cgroups;
        return 0;
}


/* A removed memory cgroup lives on while pages are charged to it, and on kernels that do not
 * move an offline cgroup's pages to its parent nothing moves them: files that a service of the
 * initramfs wrote to a tmpfs (/run) and that are still there, page cache it read. v1's hierarchical
 * counters (total_*) include those cgroups, the root's own counters do not: the difference is what
 * keeps them. Reported, so that the record says exactly why the controller stayed bound. */
static void memory_held(const char *dir, SdcCgroupRelease *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        unsigned long long shmem, total_shmem, cache, total_cache;

        if (asprintf(&path, "%s/memory.stat", dir) < 0 || read_full_file_at(AT_FDCWD, path, 1 << 16, &text, NULL) < 0)
                return;
        shmem = stat_value(text, "shmem");
        total_shmem = stat_value(text, "total_shmem");
        cache = stat_value(text, "cache");
        total_cache = stat_value(text, "total_cache");
        ret->memory_tmpfs_held = total_shmem > shmem ? total_shmem - shmem : 0;
        ret->memory_cache_held = total_cache > cache + ret->memory_tmpfs_held ? total_cache - cache - ret->memory_tmpfs_held : 0;
}

/* The child cgroups the hierarchy that controllers name still counts (0 too when it is gone). */
static unsigned hierarchy_left(const char *controllers) {
        unsigned count = hierarchy_cgroups(controllers);

        return count > 1 ? count - 1 : 0;
}

/* Mounting the same controllers finds the lingering hierarchy (the kernel matches it by its
 * controllers) with what is left in it: the cgroups the conversion could not remove while exited
 * processes were in them. Those go now, as in the conversion; then, once the kernel has freed
 * them, unmounting the hierarchy with only its root left destroys it. Returns the cgroups it
 * still counts when unmounted (1: destroyed), 0 when it is in use and was left alone, or negative
 * errno. */
static int remount_and_destroy(const char *scratch, const SdcV1Hierarchy *h, unsigned timeout_ms, SdcCgroupReport *drained,
                               SdcCgroupRelease *ret) {
        char dir[PATH_MAX];
        unsigned count;

        if (snprintf(dir, sizeof(dir), "%s/cgroup-v1.XXXXXX", scratch) >= (int) sizeof(dir))
                return -ENAMETOOLONG;
        if (!mkdtemp(dir))
                return -errno;
        if (mount("sdcompat", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, h->controllers) < 0) {
                int r = -errno;

                (void) rmdir(dir);
                return r;
        }
        /* Processes in a child cgroup: not a leftover of the initramfs but a hierarchy someone
         * uses (mounted in another mount namespace, say). Leave it exactly as it is. */
        if (tree_has_procs(dir)) {
                (void) umount2(dir, UMOUNT_NOFOLLOW);
                (void) rmdir(dir);
                return 0;
        }
        (void) drain_hierarchy(dir, false, drained);
        count = 1 + settle(hierarchy_left, h->controllers, RELEASE_POLL_MS, timeout_ms);
        if (count > 1 && has_word(h->controllers, "memory"))
                memory_held(dir, ret);
        if (umount2(dir, UMOUNT_NOFOLLOW) < 0) {
                int r = -errno;

                /* Never leave it mounted: that would keep the hierarchy alive for good. */
                (void) umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW);
                (void) rmdir(dir);
                return r;
        }
        (void) rmdir(dir);
        return (int) count;
}

/* Whether every controller of the comma-separated list is in only. */
static bool all_listed(const char *controllers, char *const *only) {
        char list[128];
        char *save = NULL;

        snprintf(list, sizeof(list), "%s", controllers);
        for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save))
                if (!strv_contains(only, c))
                        return false;
        return true;
}

int sdc_cgroup_release(const char *root, char *const *only, const char *scratch, unsigned timeout_ms, SdcCgroupRelease *ret) {
        SdcV1Hierarchy all[SDC_V1_HIERARCHIES_MAX], h[SDC_V1_HIERARCHIES_MAX];
        bool destroyed[SDC_V1_HIERARCHIES_MAX] = {};
        _cleanup_free_ char *mountinfo = NULL;
        _cleanup_strv_free_ char **now = NULL;
        SdcCgroupMode mode;
        size_t n = 0;
        int k, n_all;

        *ret = (SdcCgroupRelease) {};
        k = sdc_cgroup_mode_mounted(root, &mode);
        if (k < 0)
                return k;
        if (mode != SDC_CGROUP_UNIFIED)
                return -EMEDIUMTYPE;
        n_all = read_v1_hierarchies(all, ELEMENTSOF(all));
        if (n_all < 0)
                return n_all;
        for (int i = 0; i < n_all; i++)
                if (all_listed(all[i].controllers, only)) {
                        h[n++] = all[i];
                        if (strv_split_extend(&ret->bound, all[i].controllers, ",") < 0)
                                return -ENOMEM;
                }
        if (n > 0 && read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &mountinfo, NULL) < 0)
                return -errno;

        for (size_t i = 0; i < n; i++) {
                SdcCgroupReport drained = {};
                int r;

                if (sdc_cgroup_v1_mounted(mountinfo, h[i].controllers)) {
                        if (strv_extend(&ret->in_use, h[i].controllers) < 0)
                                return -ENOMEM;
                        continue;
                }
                r = remount_and_destroy(scratch, &h[i], timeout_ms, &drained, ret);
                ret->removed += drained.removed;
                ret->moved += drained.moved;
                if (r < 0) {
                        log_warning_errno(r, "Cannot remount and unmount the v1 hierarchy of %s: %m", h[i].controllers);
                        if (strv_extendf(&ret->failed, "%s: %s", h[i].controllers, strerror(-r)) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (r == 0) {
                        if (strv_extend(&ret->in_use, h[i].controllers) < 0)
                                return -ENOMEM;
                        continue;
                }
                destroyed[i] = r == 1;
                if (r > 1 && strv_extendf(&ret->busy, "%s:%d", h[i].controllers, r) < 0)
                        return -ENOMEM;
        }
        /* The kernel destroys the hierarchy asynchronously; then the controllers are cgroup2's. */
        for (unsigned i = 0; i < SETTLE_POLLS; i++) {
                bool pending = false;

                for (size_t j = 0; j < n; j++)
                        pending = pending || (destroyed[j] && hierarchy_cgroups(h[j].controllers) > 0);
                if (!pending)
                        break;
                sleep_ms(SETTLE_POLL_MS);
        }
        k = v1_controllers(&now);
        if (k < 0)
                return k;
        STRV_FOREACH(c, ret->bound)
                if (strv_extend(strv_contains(now, *c) ? &ret->still_bound : &ret->released, *c) < 0)
                        return -ENOMEM;
        return read_cgroup2_controllers(root, &ret->controllers);
}

/* ---- the other direction: cgroup2 for a root PID 1 that knows only v1 (H2d) ---------------------- */

void sdc_cgroup_revert_done(SdcCgroupRevert *r) {
        strv_free(r->disabled);
        strv_free(r->not_disabled);
        *r = (SdcCgroupRevert) {};
}

/* The cgroups besides its root that cgroup2 counts, dying ones included: /proc/cgroups gives each
 * controller on cgroup2 (hierarchy id 0) the hierarchy's count. 0 when it cannot be read. */
static unsigned dfl_cgroups_left(const char *unused) {
        _cleanup_free_ char *text = NULL;

        if (read_full_file_at(AT_FDCWD, "/proc/cgroups", 1 << 16, &text, NULL) < 0)
                return 0; /* nothing known to wait for */
        for (const char *p = text; p && *p;) {
                const char *eol = strchrnul(p, '\n');
                char line[256], name[64];
                unsigned id, count, enabled;

                snprintf(line, sizeof(line), "%.*s", (int) MIN((size_t) (eol - p), sizeof(line) - 1), p);
                p = *eol ? eol + 1 : eol;
                if (line[0] != '#' && sscanf(line, "%63s %u %u %u", name, &id, &count, &enabled) == 4 && id == 0 && enabled)
                        return count > 1 ? count - 1 : 0;
        }
        return 0;
}

int sdc_cgroup_revert(const char *root, SdcCgroupRevert *ret) {
        _cleanup_strv_free_ char **enabled = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_close_ int fd = -1;
        SdcCgroupReport drained = {};
        SdcCgroupMode mode;
        int k;

        *ret = (SdcCgroupRevert) {};
        k = pid1_cgroup_mode(root, &mode);
        if (k < 0)
                return k;
        if (mode != SDC_CGROUP_UNIFIED)
                return 0;

        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Post-order: the processes of a cgroup go to the root, then the cgroup goes. (cgroup2 has
         * no memory.force_empty: that write fails and is ignored.) */
        drain_children(fd, fd, 0, true, &drained);
        ret->moved = drained.moved;
        ret->removed = drained.removed;
        ret->kept = drained.kept;

        /* One controller per write: one the kernel refuses leaves the others released. */
        if (asprintf(&path, "%s/cgroup.subtree_control", root) < 0)
                return -ENOMEM;
        if (read_full_file_at(AT_FDCWD, path, 4096, &text, NULL) >= 0) {
                text[strcspn(text, "\n")] = 0;
                if (strv_split_extend(&enabled, text, " ") < 0)
                        return -ENOMEM;
        }
        STRV_FOREACH(c, enabled) {
                _cleanup_free_ char *word = NULL;

                if (asprintf(&word, "-%s", *c) < 0)
                        return -ENOMEM;
                k = write_string_at(fd, "cgroup.subtree_control", word);
                if ((k < 0 ? strv_extendf(&ret->not_disabled, "%s: %s", *c, strerror(-k)) : strv_extend(&ret->disabled, *c)) < 0)
                        return -ENOMEM;
        }

        /* The kernel frees removed cgroups asynchronously, and a controller binds to a v1 hierarchy
         * only once no cgroup2 cgroup but the root references it. Wait (at most a second, less once
         * the count stops falling: an exited process not yet reaped holds what is left). */
        ret->left = settle(dfl_cgroups_left, NULL, SETTLE_POLL_MS, SETTLE_POLLS * SETTLE_POLL_MS);

        fd = safe_close(fd);
        k = unmount_path(root);
        if (k < 0)
                return log_error_errno(k, "Cannot unmount cgroup2 from %s: %m", root);
        ret->reverted = true;
        return 0;
}
