/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sdcompat-inject: protects an existing initramfs image without rebuilding it, see
 * sdcompat-inject(8). It appends one uncompressed cpio segment (the kernel unpacks concatenated
 * segments, a later one only adds files) holding what `dracut --add sdcompat` would have put in
 * the image, at the same paths, and a record of the original's size and SHA-256 so that --remove
 * can give the original back byte for byte. The image's existing bytes are never rewritten: a new
 * file is written beside it, synced, checked, and renamed over it. */

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "assess.h"
#include "bootentry.h"
#include "clock.h"
#include "elf-reader.h"
#include "fileio.h"
#include "inject.h"
#include "json.h"
#include "log.h"
#include "manifest.h"
#include "probe.h"
#include "rules.h"
#include "strv.h"
#include "tree-image.h"
#include "tree.h"

/* Documented in sdcompat-inject(8). */
enum {
        EXIT_DONE = 0, /* every image done, or nothing to do (immune images included) */
        EXIT_REFUSED = 1, /* at least one image refused or failed */
        EXIT_USAGE = 2,
};

/* Room the new file needs beyond its size (file system metadata), in the free-space check. */
#define SPACE_MARGIN (UINT64_C(1) << 20)

static bool arg_apply = false;
static bool arg_dry_run = false;
static bool arg_remove = false;
static bool arg_json = false;
static bool arg_all = false;
static const char *arg_boot_dir = "/boot";
static const char *arg_sdcompat = SDCOMPAT_PROGRAM_PATH;
static const char *arg_shim = SDCOMPAT_SHIM_PATH;
static const char *arg_unit = SDCOMPAT_NEGOTIATE_UNIT_PATH;
static const char *arg_rules_dir = SDCOMPAT_RULESDIR;
static const char *arg_admin_rules_dir = "/etc/sdcompat/rules.d";
static SdcImageLimits arg_limits = {
        .max_unpacked = SDC_IMAGE_DEFAULT_MAX_UNPACKED,
        .max_entries = SDC_IMAGE_DEFAULT_MAX_ENTRIES,
};

typedef enum Action {
        ACTION_INJECTED,
        ACTION_REPLACED,
        ACTION_REMOVED,
        ACTION_UNCHANGED,
        ACTION_WOULD_INJECT,
        ACTION_WOULD_REPLACE,
        ACTION_WOULD_REMOVE,
        ACTION_IMMUNE,
        ACTION_REFUSED,
        _ACTION_MAX,
} Action;

static const char *const action_names[_ACTION_MAX] = {
        [ACTION_INJECTED] = "injected",         [ACTION_REPLACED] = "replaced",
        [ACTION_REMOVED] = "removed",           [ACTION_UNCHANGED] = "unchanged",
        [ACTION_WOULD_INJECT] = "would-inject", [ACTION_WOULD_REPLACE] = "would-replace",
        [ACTION_WOULD_REMOVE] = "would-remove", [ACTION_IMMUNE] = "immune",
        [ACTION_REFUSED] = "refused",
};

typedef struct Result {
        char *image; /* as given */
        Action action;
        char *reason;
        char *version; /* the sdcompat version in the image afterwards (or that would be); NULL if none */
} Result;

static void help(void) {
        printf("%s [OPTIONS...] IMAGE...\n"
               "%s [OPTIONS...] --all\n\n"
               "Protect existing initramfs images with sdcompat without rebuilding them: append one\n"
               "segment with what 'dracut --add sdcompat' would install, or take it away again.\n\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --all              Every boot entry's initramfs (as sdcompat-check finds them)\n"
               "     --apply            Write images under /boot (without it, those are a dry run)\n"
               "  -n --dry-run --check  Say what would be done, write nothing\n"
               "     --remove           Restore the original image byte for byte\n"
               "     --json             One JSON object on stdout\n"
               "     --boot-dir=DIR     Where --all looks (default: /boot)\n"
               "     --sdcompat=PATH    The static sdcompat to inject (default: " SDCOMPAT_PROGRAM_PATH ")\n"
               "     --shim=PATH        The static sdcompat-shim (default: " SDCOMPAT_SHIM_PATH ")\n"
               "     --unit=PATH        sdcompat-negotiate.service (default: " SDCOMPAT_NEGOTIATE_UNIT_PATH
               ")\n"
               "     --rules-dir=DIR    The rules to inject as " SDCOMPAT_RULESDIR "\n"
               "                        (default: that directory on this host)\n"
               "     --admin-rules-dir=DIR  The admin's rules to inject as /etc/sdcompat/rules.d\n"
               "                        (default: that directory on this host; '' for none)\n\n"
               "Exit status: 0 every image done or nothing to do, 1 an image refused or failed, 2 usage.\n",
               program_invocation_short_name, program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_APPLY,
                ARG_REMOVE,
                ARG_JSON,
                ARG_ALL,
                ARG_BOOT_DIR,
                ARG_SDCOMPAT,
                ARG_SHIM,
                ARG_UNIT,
                ARG_RULES_DIR,
                ARG_ADMIN_RULES_DIR,
        };
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "version", no_argument, NULL, ARG_VERSION },
                                                 { "apply", no_argument, NULL, ARG_APPLY },
                                                 { "dry-run", no_argument, NULL, 'n' },
                                                 { "check", no_argument, NULL, 'n' },
                                                 { "remove", no_argument, NULL, ARG_REMOVE },
                                                 { "json", no_argument, NULL, ARG_JSON },
                                                 { "all", no_argument, NULL, ARG_ALL },
                                                 { "boot-dir", required_argument, NULL, ARG_BOOT_DIR },
                                                 { "sdcompat", required_argument, NULL, ARG_SDCOMPAT },
                                                 { "shim", required_argument, NULL, ARG_SHIM },
                                                 { "unit", required_argument, NULL, ARG_UNIT },
                                                 { "rules-dir", required_argument, NULL, ARG_RULES_DIR },
                                                 { "admin-rules-dir", required_argument, NULL,
                                                   ARG_ADMIN_RULES_DIR },
                                                 {} };
        int c;

        while ((c = getopt_long(argc, argv, "hn", options, NULL)) >= 0)
                switch (c) {
                case 'h': help(); return 0;
                case ARG_VERSION: printf("sdcompat-inject %s\n", PACKAGE_VERSION); return 0;
                case ARG_APPLY: arg_apply = true; break;
                case 'n': arg_dry_run = true; break;
                case ARG_REMOVE: arg_remove = true; break;
                case ARG_JSON: arg_json = true; break;
                case ARG_ALL: arg_all = true; break;
                case ARG_BOOT_DIR: arg_boot_dir = optarg; break;
                case ARG_SDCOMPAT: arg_sdcompat = optarg; break;
                case ARG_SHIM: arg_shim = optarg; break;
                case ARG_UNIT: arg_unit = optarg; break;
                case ARG_RULES_DIR: arg_rules_dir = optarg; break;
                case ARG_ADMIN_RULES_DIR: arg_admin_rules_dir = optarg; break;
                case '?': return -EINVAL;
                default: abort();
                }
        if (arg_apply && arg_dry_run)
                return log_error_errno(EINVAL, "--apply and --dry-run/--check contradict each other.");
        if (arg_all && optind < argc)
                return log_error_errno(EINVAL, "--all takes no IMAGE arguments.");
        if (!arg_all && optind >= argc)
                return log_error_errno(EINVAL, "No image given: IMAGE... or --all (see --help).");
        return 1;
}

static void set_reasonv(Result *res, Action action, const char *fmt, va_list ap) _printf_(3, 0);
/* Keeps errno as it found it (vasprintf() and free() may change it), as systemd's log helpers do. */
static void set_reasonv(Result *res, Action action, const char *fmt, va_list ap) {
        int saved_errno = errno;
        char *s;

        res->action = action;
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        free(res->reason);
        res->reason = s;
        errno = saved_errno;
}

static void set_reason(Result *res, Action action, const char *fmt, ...) _printf_(3, 4);
static void set_reason(Result *res, Action action, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        set_reasonv(res, action, fmt, ap);
        va_end(ap);
}

/* Refuses with a reason and returns error, as systemd's log helpers do: "return refuse(res, -errno,
 * ...);" (error is read before anything here can change errno). */
static int refuse(Result *res, int error, const char *fmt, ...) _printf_(3, 4);
static int refuse(Result *res, int error, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        set_reasonv(res, ACTION_REFUSED, fmt, ap);
        va_end(ap);
        return error;
}

static const char *now_rfc3339(char buf[static 32]) {
        return format_rfc3339(build_clock(), buf);
}

/* ---- the payload: what dracut's sdcompat module installs ------------------------------------- */

typedef struct Payload {
        char *sdcompat, *shim, *unit; /* contents */
        size_t sdcompat_size, shim_size, unit_size;
        char **rule_paths; /* absolute paths, as in the image */
        char **rule_data;
        size_t *rule_sizes;
        size_t n_rules;
        bool broken; /* could not be loaded: nothing to inject */
} Payload;

static void payload_done(Payload *p) {
        free(p->sdcompat);
        free(p->shim);
        free(p->unit);
        strv_free(p->rule_paths);
        for (size_t i = 0; i < p->n_rules; i++)
                free(p->rule_data[i]);
        free(p->rule_data);
        free(p->rule_sizes);
}

static int read_static_program(const char *path, char **ret, size_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        SdcElfInfo info = {};
        size_t size;
        int r;

        r = read_full_file_at(AT_FDCWD, path, 64u << 20, &data, &size);
        if (r < 0)
                return log_error_errno(r, "%s: cannot read: %m", path);
        r = sdc_elf_parse((const uint8_t *)data, size, &info);
        if (r < 0)
                return log_error_errno(r, "%s: not an ELF program.", path);
        if (info.has_interp) {
                sdc_elf_info_done(&info);
                return log_error_errno(
                        ENOEXEC,
                        "%s is dynamically linked: an initramfs needs the static build "
                        "(meson setup -Dstatic-programs=true).",
                        path);
        }
        sdc_elf_info_done(&info);
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

static void closedirp(DIR **d) {
        if (*d)
                (void)closedir(*d);
}

static int grow_rules(Payload *p) {
        char **data = realloc(p->rule_data, (p->n_rules + 1) * sizeof(char *));
        size_t *sizes;

        if (!data)
                return -ENOMEM;
        p->rule_data = data;
        sizes = realloc(p->rule_sizes, (p->n_rules + 1) * sizeof(size_t));
        if (!sizes)
                return -ENOMEM;
        p->rule_sizes = sizes;
        return 0;
}

/* The rule files (*.rules, and the catalogue's version file) of one directory on this host, to be
 * installed under image_dir in the image, as dracut's module copies them. A missing directory
 * holds none. */
static int load_rules_dir(Payload *p, const char *dir, const char *image_dir) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (isempty(dir))
                return 0;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : log_error_errno(errno, "%s: cannot read: %m", dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *target = NULL, *data = NULL;
                size_t size;
                int r;

                if (de->d_name[0] == '.' ||
                    (!endswith(de->d_name, ".rules") && !streq(de->d_name, SDC_CATALOGUE_FILE)))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 ||
                    asprintf(&target, "%s/%s", image_dir, de->d_name) < 0)
                        return log_oom();
                r = read_full_file_at(AT_FDCWD, path, 1u << 20, &data, &size);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot read: %m", path);
                if (grow_rules(p) < 0 || strv_extend(&p->rule_paths, target) < 0)
                        return log_oom();
                p->rule_data[p->n_rules] = TAKE_PTR(data);
                p->rule_sizes[p->n_rules] = size;
                p->n_rules++;
        }
        return 0;
}

static int load_rules(Payload *p) {
        size_t vendor;
        int r;

        r = load_rules_dir(p, arg_rules_dir, SDCOMPAT_RULESDIR);
        if (r < 0)
                return r;
        vendor = p->n_rules;
        if (vendor == 0)
                return log_error_errno(
                        ENOENT,
                        "No rules found in %s: the injected sdcompat would have nothing to judge by.",
                        arg_rules_dir);
        return load_rules_dir(p, arg_admin_rules_dir, "/etc/sdcompat/rules.d");
}

static int payload_load(Payload *p) {
        int r;

        r = read_static_program(arg_sdcompat, &p->sdcompat, &p->sdcompat_size);
        if (r < 0)
                return r;
        r = read_static_program(arg_shim, &p->shim, &p->shim_size);
        if (r < 0)
                return r;
        r = read_full_file_at(AT_FDCWD, arg_unit, 1u << 20, &p->unit, &p->unit_size);
        if (r < 0)
                return log_error_errno(r, "%s: cannot read: %m", arg_unit);
        return load_rules(p);
}

/* ---- building the segment --------------------------------------------------------------------- */

typedef struct Builder {
        SdcTree *tree; /* the original image */
        SdcCpioWriter w;
        char **dirs_added;
} Builder;

/* The canonical (symlink-free) form of directory path inside the image, adding a directory entry
 * for each component the image lacks. Entries are only ever added under a canonical path: the
 * kernel replaces a symlink by a directory of the same name (clean_path()), so "lib/x" in a
 * merged-/usr image must be written as "usr/lib/x". */
static int ensure_dir(Builder *b, const char *path, char **ret) {
        _cleanup_free_ char *canonical = NULL, *parent = NULL;
        const char *slash;
        SdcStat st;
        int r;

        if (streq(path, "/"))
                return (*ret = strdup("/")) ? 0 : -ENOMEM;
        r = sdc_tree_resolve(b->tree, path, 0, &canonical, &st);
        if (r >= 0) {
                if (st.type != SDC_NODE_DIRECTORY)
                        return -ENOTDIR;
                *ret = TAKE_PTR(canonical);
                return 0;
        }
        if (r != -ENOENT)
                return r;
        if (strv_contains(b->dirs_added, path))
                return (*ret = strdup(path)) ? 0 : -ENOMEM;
        slash = strrchr(path, '/');
        parent = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        if (!parent)
                return -ENOMEM;
        r = ensure_dir(b, parent, &canonical);
        if (r < 0)
                return r;
        free(parent);
        if (asprintf(&parent, "%s/%s", streq(canonical, "/") ? "" : canonical, slash + 1) < 0)
                return -ENOMEM;
        if (!strv_contains(b->dirs_added, parent)) {
                r = sdc_cpio_writer_add(&b->w, parent + 1, S_IFDIR | 0755, NULL, 0);
                if (r < 0)
                        return r;
                if (strv_extend(&b->dirs_added, parent) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(parent);
        return 0;
}

/* Adds path (absolute, as in the image) after making its parent exist. */
static int add_file(Builder *b, const char *path, uint32_t mode, const void *data, size_t size) {
        _cleanup_free_ char *dir = NULL, *canonical = NULL, *name = NULL;
        const char *slash = strrchr(path, '/');
        int r;

        if (!slash)
                return -EINVAL;
        dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        if (!dir)
                return -ENOMEM;
        r = ensure_dir(b, dir, &canonical);
        if (r < 0)
                return log_error_errno(r, "%s: the image has no place for it: %m", path);
        if (asprintf(&name, "%s/%s", streq(canonical, "/") ? "" : canonical + 1, slash + 1) < 0)
                return -ENOMEM;
        return sdc_cpio_writer_add(&b->w, name, mode, data, size);
}

/* Where the image's systemd keeps its units: where initrd.target is (split-/usr bullseye:
 * /lib/systemd/system). */
static const char *unit_dir(SdcTree *t) {
        if (sdc_tree_exists(t, "/usr/lib/systemd/system/initrd.target") > 0)
                return "/usr/lib/systemd/system";
        if (sdc_tree_exists(t, "/lib/systemd/system/initrd.target") > 0)
                return "/lib/systemd/system";
        return NULL;
}

static int build_segment(
        SdcTree *t, const SdcTreeFacts *facts, const Payload *p, const SdcInjectRecord *base,
        SdcCpioWriter *ret, char **ret_error) {
        _cleanup_free_ char *manifest_text = NULL, *wants = NULL, *unit_path = NULL;
        Builder b = { .tree = t };
        SdcInjectRecord rec = *base;
        SdcManifest m = {};
        const char *units;
        char now[32];
        int r;

        units = unit_dir(t);
        if (!units)
                return (*ret_error = strdup(
                                "the image has no initrd.target in /usr/lib/systemd/system or "
                                "/lib/systemd/system: not a systemd initramfs sdcompat can hook into")),
                       -ENOENT;
        sdc_cpio_writer_init(&b.w, (uint32_t) build_clock());

        /* The same paths as dracut's module: module-setup.sh.in. */
        r = add_file(&b, "/usr/bin/sdcompat", S_IFREG | 0755, p->sdcompat, p->sdcompat_size);
        if (r >= 0)
                r = add_file(&b, SDCOMPAT_SHIM_PATH, S_IFREG | 0755, p->shim, p->shim_size);
        for (size_t i = 0; r >= 0 && i < p->n_rules; i++)
                r = add_file(&b, p->rule_paths[i], S_IFREG | 0644, p->rule_data[i], p->rule_sizes[i]);
        if (r >= 0 &&
            (asprintf(&unit_path, "%s/sdcompat-negotiate.service", units) < 0 ||
             asprintf(&wants, "%s/initrd.target.wants/sdcompat-negotiate.service", units) < 0))
                r = -ENOMEM;
        if (r >= 0)
                r = add_file(&b, unit_path, S_IFREG | 0644, p->unit, p->unit_size);
        if (r >= 0)
                r = add_file(
                        &b, wants, S_IFLNK | 0777, "../sdcompat-negotiate.service",
                        strlen("../sdcompat-negotiate.service"));

        /* The manifest, recorded from the image itself by the probe record uses. */
        if (r >= 0)
                r = sdc_manifest_from_facts(
                        facts, strv_length(facts->kernel_versions) == 1 ? facts->kernel_versions[0] : NULL,
                        NULL, &m);
        if (r >= 0) {
                free(m.injected_at);
                m.injected_at = strdup(rec.injected_at ?: now_rfc3339(now));
                r = m.injected_at ? sdc_manifest_format(&m, &manifest_text) : -ENOMEM;
        }
        sdc_manifest_done(&m);
        if (r >= 0) {
                /* Not part of the payload digest: it carries the time; the payload decides "unchanged". */
                Sha256 saved = b.w.payload;

                r = add_file(&b, SDC_MANIFEST_PATH, S_IFREG | 0644, manifest_text, strlen(manifest_text));
                b.w.payload = saved;
        }
        if (r >= 0)
                r = sdc_cpio_writer_finish(&b.w, &rec);
        strv_free(b.dirs_added);
        if (r < 0) {
                sdc_cpio_writer_done(&b.w);
                if (asprintf(ret_error, "cannot build the segment: %s", strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        *ret = b.w;
        return 0;
}

/* ---- writing ---------------------------------------------------------------------------------- */

static int check_writable(const char *dir, uint64_t need, Result *res) {
        struct statvfs sv;
        uint64_t avail;

        if (statvfs(dir, &sv) < 0)
                return refuse(res, -errno, "cannot examine %s: %s", dir, strerror(errno));
        if (sv.f_flag & ST_RDONLY)
                return refuse(res, -EROFS,
                              "%s is on a read-only file system: nothing changed (remount it read-write, e.g. "
                              "'mount -o remount,rw %s', and run again)",
                              dir, dir);
        if (access(dir, W_OK) < 0)
                return refuse(res, -errno, "cannot write to %s: %s", dir, strerror(errno));
        avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        if (avail < need + SPACE_MARGIN)
                return refuse(res, -ENOSPC,
                              "not enough free space in %s: the new image is written beside the old one and needs "
                              "%" PRIu64 " bytes (+%" PRIu64 " margin), %" PRIu64 " are free; nothing changed",
                              dir, need, SPACE_MARGIN, avail);
        return 0;
}

/* The temporary files of an interrupted run: ".NAME.sdcompat-inject.XXXXXX" beside NAME. */
static void remove_stale_temporaries(const char *dir, const char *name) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_free_ char *prefix = NULL;
        struct dirent *de;

        if (!d || asprintf(&prefix, ".%s.sdcompat-inject.", name) < 0)
                return;
        while ((de = readdir(d)))
                if (strneq(de->d_name, prefix, strlen(prefix)) && strlen(de->d_name) == strlen(prefix) + 6 &&
                    unlinkat(dirfd(d), de->d_name, 0) >= 0)
                        log_info("%s/%s: removed, left by an interrupted run.", dir, de->d_name);
}

/* Writes prefix (+ padding + tail when tail is non-NULL) as a new file beside path, checks it and
 * renames it over path. A crash at any point leaves path as it was or as the complete new file. */
static int replace_atomically(
        const char *path, const struct stat *orig, const uint8_t *prefix, size_t prefix_size,
        const uint8_t *tail, size_t tail_size, Result *res) {
        static const uint8_t zeros[8] = {};
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        const char *slash = strrchr(path, '/');
        size_t pad = tail ? sdc_inject_padding(prefix_size) : 0, total = prefix_size + pad + tail_size;
        uint8_t *map = MAP_FAILED;
        int r;

        dir = slash ? (slash == path ? strdup("/") : strndup(path, (size_t)(slash - path))) : strdup(".");
        if (!dir || asprintf(&tmp, "%s/.%s.sdcompat-inject.XXXXXX", dir, slash ? slash + 1 : path) < 0)
                return -ENOMEM;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return refuse(res, -errno, "cannot open %s: %s", dir, strerror(errno));
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return refuse(res, -errno, "cannot create a file in %s: %s; nothing changed", dir, strerror(errno));
        /* The owner and mode of the original (root: may change the owner; otherwise it is ours). */
        if (fchown(fd, orig->st_uid, orig->st_gid) < 0 && errno != EPERM)
                goto fail;
        if (fchmod(fd, orig->st_mode & 07777) < 0)
                goto fail;
        /* Claim the space first: a full disk is found before a byte is written. */
        r = posix_fallocate(fd, 0, (off_t)total);
        if (r != 0 && r != EOPNOTSUPP && r != EINVAL) {
                errno = r;
                goto fail;
        }
        if ((r = loop_write(fd, prefix, prefix_size)) < 0 || (pad && (r = loop_write(fd, zeros, pad)) < 0) ||
            (tail && (r = loop_write(fd, tail, tail_size)) < 0)) {
                errno = -r;
                goto fail;
        }
        if (ftruncate(fd, (off_t)total) < 0 || fsync(fd) < 0)
                goto fail;
        /* Read back what is on disk before it replaces anything. */
        map = total > 0 ? mmap(NULL, total, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        if (map == MAP_FAILED || memcmp(map, prefix, prefix_size) != 0 ||
            (tail && memcmp(map + prefix_size + pad, tail, tail_size) != 0)) {
                if (map != MAP_FAILED)
                        (void)munmap(map, total);
                errno = EIO;
                goto fail;
        }
        (void)munmap(map, total);
        if (rename(tmp, path) < 0)
                goto fail;
        if (fsync(dfd) < 0)
                /* The new image is complete and in place; only its name's durability is unproven. */
                log_warning_errno(errno, "%s: cannot sync the directory: %m", dir);
        return 0;
fail:
        r = -errno;
        (void)unlink(tmp);
        set_reason(
                res, ACTION_REFUSED, "cannot write the new image beside %s: %s; the image is unchanged",
                path, strerror(-r));
        return r;
}

/* ---- one image -------------------------------------------------------------------------------- */

static bool under_boot(const char *real) {
        char boot[PATH_MAX];

        if (strneq(real, "/boot/", 6))
                return true;
        if (realpath(arg_boot_dir, boot)) {
                size_t n = strlen(boot);
                return strneq(real, boot, n) && real[n] == '/';
        }
        return false;
}

/* The reader's message says where; this says what it means for injecting. */
static const char *image_error_text(int r, const SdcImageError *e, char *buf, size_t size) {
        const char *m = e->message[0] ? e->message : strerror(-r);

        if (r == -ENODATA)
                (void)snprintf(buf, size, "truncated: %s", m);
        else if (e->offset == 0 && strstr(m, "magic"))
                (void)snprintf(buf, size, "not an initramfs: %s", m);
        else if (strstr(m, "truncated"))
                (void)snprintf(buf, size, "unreadable image: %s", m);
        else
                (void)snprintf(buf, size, "not a valid initramfs: %s", m);
        return buf;
}

static void process(const char *image, const Payload *p, Result *res) {
        _cleanup_(sdc_tree_freep) SdcTree *tree = NULL;
        _cleanup_close_ int fd = -EBADF;
        SdcInjectRecord old = {}, rec = {};
        SdcTreeFacts facts = {};
        SdcManifest m = {};
        SdcCpioWriter seg = {};
        SdcImageError err = {};
        char real[PATH_MAX], reason[512], now[32];
        _cleanup_free_ char *build_error = NULL;
        const char *slash;
        uint8_t *data = MAP_FAILED;
        size_t size = 0, prefix;
        bool injected, write;
        struct stat st;
        int r;

        res->image = strdup(image);
        if (!realpath(image, real)) {
                set_reason(res, ACTION_REFUSED, "cannot resolve %s: %s", image, strerror(errno));
                return;
        }
        /* With --apply, or when the image is not under /boot and no dry run is asked for. */
        write = !arg_dry_run && (arg_apply || !under_boot(real));

        fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                set_reason(res, ACTION_REFUSED, "cannot open %s: %s", real, strerror(errno));
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                set_reason(res, ACTION_REFUSED, "%s is not a regular file", real);
                return;
        }
        size = (size_t)st.st_size;
        if (size == 0) {
                set_reason(res, ACTION_REFUSED, "not an initramfs: %s is empty", real);
                return;
        }
        data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (data == MAP_FAILED) {
                set_reason(res, ACTION_REFUSED, "cannot map %s: %s", real, strerror(errno));
                return;
        }
        if (size >= 2 && data[0] == 'M' && data[1] == 'Z') {
                set_reason(
                        res, ACTION_REFUSED,
                        "a PE file (a unified kernel image?): its signature covers the initrd inside, so it cannot "
                        "be changed in place; rebuild the UKI from an initrd built with 'dracut --add sdcompat' "
                        "(dracut --uefi, ukify) and sign it again");
                goto out;
        }

        r = sdc_inject_find(data, size, &old, reason, sizeof(reason));
        if (r < 0) {
                set_reason(
                        res, ACTION_REFUSED,
                        "%s ends in a broken sdcompat-inject segment: %s; not touching it", real,
                        r == -EBADMSG ? reason : strerror(-r));
                goto out;
        }
        injected = r > 0;
        if (injected && !sdc_inject_prefix_matches(data, size, &old)) {
                set_reason(
                        res, ACTION_REFUSED,
                        "the first %" PRIu64
                        " bytes of %s no longer have the SHA-256 sdcompat-inject recorded: the "
                        "image was changed after the injection; not touching it",
                        old.original_size, real);
                goto out;
        }
        prefix = injected ? (size_t)old.original_size : size;
        if (injected)
                res->version = old.sdcompat_version ? strdup(old.sdcompat_version) : NULL;

        if (arg_remove) {
                if (!injected) {
                        set_reason(res, ACTION_UNCHANGED, "no sdcompat-inject segment: nothing to remove");
                        goto out;
                }
                if (!write) {
                        set_reason(
                                res, ACTION_WOULD_REMOVE,
                                "would restore the original %" PRIu64 " bytes (SHA-256 verified)%s",
                                old.original_size, arg_dry_run ? "" : "; under /boot: run with --apply");
                        goto out;
                }
                {
                        _cleanup_free_ char *dir = NULL;

                        slash = strrchr(real, '/');
                        dir = strndup(real, (size_t)(slash - real));
                        if (!dir) {
                                set_reason(res, ACTION_REFUSED, "out of memory");
                                goto out;
                        }
                        if (check_writable(*dir ? dir : "/", old.original_size, res) < 0)
                                goto out;
                        remove_stale_temporaries(*dir ? dir : "/", slash + 1);
                }
                if (replace_atomically(real, &st, data, prefix, NULL, 0, res) < 0)
                        goto out;
                free(res->version);
                res->version = NULL;
                set_reason(
                        res, ACTION_REMOVED, "restored the original %" PRIu64 " bytes (SHA-256 verified)",
                        old.original_size);
                goto out;
        }

        r = sdc_tree_open_image_buffer(data, prefix, real, &arg_limits, &tree, &err);
        if (r < 0) {
                set_reason(res, ACTION_REFUSED, "%s", image_error_text(r, &err, reason, sizeof(reason)));
                goto out;
        }
        r = sdc_probe_tree(tree, SDC_ROLE_INITRD, &facts);
        if (r < 0) {
                set_reason(res, ACTION_REFUSED, "cannot probe the image: %s", strerror(-r));
                goto out;
        }
        /* Its systemd runs from the root file system image that /init switches into: a segment
         * appended here would land beside it, in the archive's root, which the switch leaves. */
        if (facts.root_image) {
                _cleanup_free_ char *why = NULL;

                if (sdc_root_image_text(facts.root_image, facts.root_image_type, facts.root_image_sdcompat,
                                        facts.root_image_read ? NULL : facts.root_image_error ?: "not read", &why) < 0) {
                        set_reason(res, ACTION_REFUSED, "out of memory");
                        goto out;
                }
                set_reason(res, ACTION_REFUSED, "cannot protect it by appending: %s", why);
                goto out;
        }
        if (!facts.runs_systemd) {
                set_reason(
                        res, ACTION_IMMUNE,
                        "no systemd runs in this initramfs (/init is %s): no state crosses switch-root, nothing to protect",
                        facts.init ?: "missing");
                goto out;
        }
        r = sdc_manifest_read(tree, &m);
        if (r >= 0) {
                set_reason(
                        res, ACTION_REFUSED,
                        "already built with 'dracut --add sdcompat' (sdcompat %s, recorded %s): it carries sdcompat; "
                        "rebuild it with dracut to update it",
                        strna(m.sdcompat_version), strna(m.build_time));
                free(res->version);
                res->version = m.sdcompat_version ? strdup(m.sdcompat_version) : NULL;
                goto out;
        }
        if (r != -ENOENT) {
                set_reason(
                        res, ACTION_REFUSED, "the image has an unreadable %s: %s", SDC_MANIFEST_PATH,
                        strerror(-r));
                goto out;
        }

        if (p->broken) {
                set_reason(
                        res, ACTION_REFUSED,
                        "the sdcompat programs, unit or rules to inject cannot be used (see the error above)");
                goto out;
        }
        rec = (SdcInjectRecord){ .format = SDC_INJECT_RECORD_VERSION, .original_size = prefix };
        rec.sdcompat_version = strdup(PACKAGE_VERSION);
        rec.injected_at = strdup(now_rfc3339(now));
        if (!rec.sdcompat_version || !rec.injected_at) {
                set_reason(res, ACTION_REFUSED, "out of memory");
                goto out;
        }
        sha256(data, prefix, rec.original_sha256);
        r = build_segment(tree, &facts, p, &rec, &seg, &build_error);
        if (r < 0) {
                set_reason(res, ACTION_REFUSED, "%s", strna(build_error));
                goto out;
        }
        free(res->version);
        res->version = strdup(PACKAGE_VERSION);
        if (injected) {
                uint8_t digest[SHA256_DIGEST_SIZE];

                /* Same payload (programs, rules, unit) as already injected: nothing to do. The
                 * writer's digest covers them, not the manifest (its time) or the record. */
                sdc_cpio_writer_payload_digest(&seg, digest);
                if (memcmp(digest, old.payload_sha256, SHA256_DIGEST_SIZE) == 0 && old.sdcompat_version &&
                    streq(old.sdcompat_version, PACKAGE_VERSION)) {
                        set_reason(
                                res, ACTION_UNCHANGED,
                                "already injected with this sdcompat %s (same programs, rules and unit)",
                                PACKAGE_VERSION);
                        goto out;
                }
        }
        {
                uint64_t total = (uint64_t)prefix + sdc_inject_padding(prefix) + seg.size;
                _cleanup_free_ char *dir = NULL;

                slash = strrchr(real, '/');
                dir = strndup(real, (size_t)(slash - real));
                if (!dir) {
                        set_reason(res, ACTION_REFUSED, "out of memory");
                        goto out;
                }
                if (check_writable(*dir ? dir : "/", total, res) < 0)
                        goto out;
                if (!write) {
                        set_reason(
                                res, injected ? ACTION_WOULD_REPLACE : ACTION_WOULD_INJECT,
                                "would %s sdcompat %s: %zu bytes appended to the original %zu (initramfs systemd %s)%s",
                                injected ? "replace the injected segment with" : "append", PACKAGE_VERSION,
                                sdc_inject_padding(prefix) + seg.size, prefix,
                                facts.systemd.has_version ? facts.systemd.version.text
                                                          : "of unknown version",
                                arg_dry_run ? "" : "; under /boot: run with --apply");
                        goto out;
                }
                remove_stale_temporaries(*dir ? dir : "/", slash + 1);
                if (replace_atomically(real, &st, data, prefix, seg.data, seg.size, res) < 0)
                        goto out;
                set_reason(
                        res, injected ? ACTION_REPLACED : ACTION_INJECTED,
                        "%s sdcompat %s: %zu bytes appended to the original %zu (initramfs systemd %s)",
                        injected ? "replaced the injected segment with" : "appended", PACKAGE_VERSION,
                        sdc_inject_padding(prefix) + seg.size, prefix,
                        facts.systemd.has_version ? facts.systemd.version.text : "of unknown version");
        }
out:
        sdc_cpio_writer_done(&seg);
        sdc_inject_record_done(&old);
        sdc_inject_record_done(&rec);
        sdc_manifest_done(&m);
        sdc_tree_facts_done(&facts);
        tree = sdc_tree_free(tree);
        if (data != MAP_FAILED)
                (void)munmap(data, size);
}

static bool changed(Action a) {
        return a == ACTION_INJECTED || a == ACTION_REPLACED || a == ACTION_REMOVED;
}

static void print_results(const Result *res, size_t n) {
        if (arg_json) {
                JsonWriter w;

                json_init(&w, stdout, false);
                json_object_begin(&w, NULL);
                json_uint(&w, "schema_version", 1);
                json_array_begin(&w, "images");
                for (size_t i = 0; i < n; i++) {
                        json_object_begin(&w, NULL);
                        json_string(&w, "image", res[i].image);
                        json_string(&w, "action", action_names[res[i].action]);
                        json_bool(&w, "changed", changed(res[i].action));
                        json_string(&w, "reason", res[i].reason);
                        json_string(&w, "sdcompat_version", res[i].version);
                        json_object_end(&w);
                }
                json_array_end(&w);
                json_object_end(&w);
                json_finish(&w);
                return;
        }
        for (size_t i = 0; i < n; i++)
                printf("%s: %s: %s\n", res[i].image, action_names[res[i].action], strna(res[i].reason));
        if (n == 0)
                printf("No initramfs images found in %s: nothing to do.\n", arg_boot_dir);
}

int main(int argc, char *argv[]) {
        _cleanup_strv_free_ char **images = NULL;
        Payload payload = {};
        Result *res = NULL;
        size_t n = 0;
        int r, status = EXIT_DONE;

        log_set_prefix("sdcompat-inject");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_DONE;

        if (arg_all) {
                SdcBootEntry *entries = NULL;
                int k = sdc_boot_entries_find(arg_boot_dir, &entries);

                if (k < 0 && k != -ENOENT) {
                        log_error_errno(k, "%s: cannot read: %m", arg_boot_dir);
                        return EXIT_REFUSED;
                }
                for (int i = 0; i < k; i++) {
                        char real[PATH_MAX];
                        bool dup = false;

                        /* Several entries may boot the same image: it is done once. */
                        for (size_t j = 0; realpath(entries[i].image, real) && images && images[j]; j++) {
                                char other[PATH_MAX];
                                if (realpath(images[j], other) && streq(other, real))
                                        dup = true;
                        }
                        if (!dup && strv_extend(&images, entries[i].image) < 0)
                                return log_oom(), EXIT_REFUSED;
                }
                if (k > 0)
                        sdc_boot_entries_free(entries, (size_t)k);
        } else
                for (int i = optind; i < argc; i++)
                        if (strv_extend(&images, argv[i]) < 0)
                                return log_oom(), EXIT_REFUSED;

        n = strv_length(images);
        res = calloc(n ?: 1, sizeof(Result));
        if (!res)
                return log_oom(), EXIT_REFUSED;
        /* --remove needs no payload. Without one, every image that would be injected is refused
         * (the error above says why); the others (immune, not an initramfs, ...) are still told. */
        if (n > 0 && !arg_remove && payload_load(&payload) < 0)
                payload_done(&payload), payload = (Payload){ .broken = true };
        for (size_t i = 0; i < n; i++)
                process(images[i], &payload, &res[i]);

        print_results(res, n);
        for (size_t i = 0; i < n; i++) {
                if (res[i].action == ACTION_REFUSED) {
                        status = EXIT_REFUSED;
                        if (!arg_json)
                                log_debug("%s: refused", res[i].image);
                }
                free(res[i].image);
                free(res[i].reason);
                free(res[i].version);
        }
        free(res);
        payload_done(&payload);
        return status;
}
