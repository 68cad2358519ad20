/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "cgroup-convert.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

#define CGROUP2_MAGIC 0x63677270
#define TMPFS_MAGIC_  0x01021994
#define MAX_DEPTH     64
#define MOVE_PASSES   3
#define SETTLE_POLLS      100
#define SETTLE_POLL_NSEC  (10 * 1000 * 1000) /* 100 x 10 ms: at most a second */

static void append_word(char *buf, size_t size, const char *word) {
        size_t n = strlen(buf);

        if (n > 0 && n + 1 < size)
                buf[n++] = ' ', buf[n] = 0;
        if (n + 1 < size) {
                /* cut at the buffer's end: a report line, not data */
                size_t k = strnlen(word, size - n - 1);

                memcpy(buf + n, word, k);
                buf[n + k] = 0;
        }
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

/* Post-order over the child cgroups of dfd: drain, empty, remove. */
static void drain_children(int dfd, int root_fd, unsigned depth, SdcCgroupReport *r) {
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
                drain_children(child, root_fd, depth + 1, r);
                for (unsigned pass = 0; pass < MOVE_PASSES; pass++) {
                        unsigned m = move_procs(child, root_fd);

                        r->moved += m;
                        if (m == 0)
                                break;
                }
                /* memory (v1): reclaim the page cache charged here, else the dead cgroup lingers
                 * and keeps the hierarchy (and so the controller) alive after unmounting. */
                (void) write_string_at(child, "memory.force_empty", "0");
                if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) >= 0)
                        r->removed++;
                else {
                        r->kept++;
                        log_debug("Cannot remove cgroup %s: %m", de->d_name);
                }
        }
        closedir(d);
}

static int drain_hierarchy(const char *path, SdcCgroupReport *r) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        drain_children(fd, fd, 0, r);
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
                        snprintf(r->options, sizeof(r->options), "%s", options[i]);
                        return 0;
                }
        return -errno;
}

/* /proc/cgroups: "name hierarchy num_cgroups enabled"; hierarchy 0 is cgroup2 (or none).
 * with_counts: "name:num_cgroups", the cgroups (dying ones included) its hierarchy still has. */
static void v1_controllers_list(char *buf, size_t size, bool with_counts) {
        _cleanup_fclose_ FILE *f = fopen("/proc/cgroups", "re");
        char line[256];

        buf[0] = 0;
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                char name[64];
                unsigned h, n, en;

                if (line[0] == '#' || sscanf(line, "%63s %u %u %u", name, &h, &n, &en) != 4)
                        continue;
                if (h != 0 && en) {
                        char word[96];

                        snprintf(word, sizeof(word), with_counts ? "%s:%u" : "%s", name, n);
                        append_word(buf, size, word);
                }
        }
}

static void v1_controllers(char *buf, size_t size) {
        v1_controllers_list(buf, size, false);
}

/* True when every v1 hierarchy holds only its root cgroup. /proc/cgroups counts a removed cgroup
 * until the kernel has freed it, which it does asynchronously once nothing references it. */
static bool hierarchies_settled(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/cgroups", "re");
        char line[256];

        if (!f)
                return true;
        while (fgets(line, sizeof(line), f)) {
                char name[64];
                unsigned h, n, en;

                if (line[0] == '#' || sscanf(line, "%63s %u %u %u", name, &h, &n, &en) != 4)
                        continue;
                if (h != 0 && en && n > 1)
                        return false;
        }
        return true;
}

/* With rd.sdcompat.debug: what the kernel says of an exited process's cgroups, one log line. */
static void held_all_debug_zombie(const char *pid) {
        char path[sizeof("/proc//cgroup") + 256], line[512], all[2048] = "";
        _cleanup_fclose_ FILE *f = NULL;

        if (log_get_max_level() < LOG_DEBUG)
                return;
        snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                append_word(all, sizeof(all), line);
        }
        log_debug("Exited, not reaped: pid %s, %s: %s", pid, path, all[0] ? all : "(empty)");
}

/* Which exited processes (state Z) still sit in a v1 cgroup other than a root, per controller:
 * buf gets "comm[pid](controllers)" entries, held the union of those controllers. */
static void find_holders(const char *still_bound, char *buf, size_t size, char *held_all, size_t held_size,
                         SdcCgroupReport *r, bool log_zombies) {
        DIR *d = opendir("/proc");
        struct dirent *de;

        buf[0] = 0;
        held_all[0] = 0;
        r->zombies = 0;
        r->zombie_names[0] = 0;
        if (!d)
                return;
        while ((de = readdir(d))) {
                char path[sizeof("/proc//cgroup") + sizeof(de->d_name)], stat[512], comm[64] = "?", held[256] = "", line[1024];
                _cleanup_fclose_ FILE *f = NULL;
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
                {
                        char name[sizeof(comm) + sizeof(de->d_name) + 4];

                        snprintf(name, sizeof(name), "%s[%s]", comm, de->d_name);
                        append_word(r->zombie_names, sizeof(r->zombie_names), name);
                }
                snprintf(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
                f = fopen(path, "re");
                while (f && fgets(line, sizeof(line), f)) {
                        /* "ID:controller,list:/path" */
                        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

                        if (!c2 || streq(c2 + 1, "/\n") || c2 == c1 + 1)
                                continue;
                        *c2 = 0;
                        for (char *tok = strtok(c1 + 1, ","); tok; tok = strtok(NULL, ","))
                                if (has_word(still_bound, tok) && !has_word(held, tok)) {
                                        append_word(held, sizeof(held), tok);
                                        if (!has_word(held_all, tok))
                                                append_word(held_all, held_size, tok);
                                }
                }
                if (held[0]) {
                        char entry[384];

                        snprintf(entry, sizeof(entry), "%s[%s](%s)", comm, de->d_name, held);
                        append_word(buf, size, entry);
                }
        }
        closedir(d);
}

int sdc_cgroup_convert(const char *root, SdcCgroupReport *ret) {
        _cleanup_strv_free_ char **hierarchies = NULL;
        SdcCgroupReport *r = ret;
        struct statfs sfs;
        char path[PATH_MAX], buf[256] = "";
        int k;

        *r = (SdcCgroupReport) {};
        if (statfs(root, &sfs) < 0)
                return -errno;
        if ((unsigned) sfs.f_type == CGROUP2_MAGIC)
                return 0;
        if ((unsigned) sfs.f_type != TMPFS_MAGIC_)
                return -EMEDIUMTYPE;

        v1_controllers(r->v1_controllers, sizeof(r->v1_controllers));
        k = list_hierarchies(root, &hierarchies);
        if (k < 0)
                return k;
        STRV_FOREACH(h, hierarchies)
                (void) drain_hierarchy(*h, r);
        /* The kernel destroys a hierarchy at unmount only if no cgroup of it is left, dying ones
         * included; else the hierarchy lingers, unmounted, and keeps its controllers from cgroup2
         * for good. So let the removed cgroups be freed first (bounded: a cgroup an exited process
         * still references is freed only when the root's PID 1 reaps it). */
        for (unsigned i = 0; i < SETTLE_POLLS && !hierarchies_settled(); i++)
                (void) nanosleep(&(struct timespec) { .tv_nsec = SETTLE_POLL_NSEC }, NULL);
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
                char held[256];
                bool all_held = true;

                v1_controllers(r->still_bound, sizeof(r->still_bound));
                if (!r->still_bound[0]) {
                        r->held_by[0] = 0;
                        break;
                }
                find_holders(r->still_bound, r->held_by, sizeof(r->held_by), held, sizeof(held), r, i == 0);
                v1_controllers_list(r->left, sizeof(r->left), true);
                {
                        _cleanup_free_ char *copy = strdup(r->still_bound);
                        char *save = NULL;

                        for (char *tok = copy ? strtok_r(copy, " ", &save) : NULL; tok; tok = strtok_r(NULL, " ", &save))
                                all_held = all_held && has_word(held, tok);
                }
                if (all_held)
                        break;
                (void) nanosleep(&(struct timespec) { .tv_nsec = SETTLE_POLL_NSEC }, NULL);
        }
        snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
        {
                _cleanup_fclose_ FILE *f = fopen(path, "re");

                if (f && fgets(buf, sizeof(buf), f))
                        buf[strcspn(buf, "\n")] = 0;
        }
        snprintf(r->controllers, sizeof(r->controllers), "%s", buf);
        return 0;
}
