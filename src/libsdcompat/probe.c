/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "elf-reader.h"
#include "envfile.h"
#include "json.h"
#include "log.h"
#include "probe.h"
#include "strv.h"

/* Generous bounds for files the probe reads whole; larger ones are not what they claim to be. */
#define MAX_BINARY_SIZE  (UINT64_C(256) << 20)
#define MAX_TEXT_SIZE    (UINT64_C(1) << 20)

/* Where systemd's manager binary lives: merged or split /usr, in this order. */
static const char *const binary_candidates[] = {
        "/usr/lib/systemd/systemd",
        "/lib/systemd/systemd",
};

static int add_note(SdcTreeFacts *f, const char *fmt, ...) _printf_(2, 3);
static int add_note(SdcTreeFacts *f, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strv_extendv(&f->notes, fmt, ap);
        va_end(ap);
        return r;
}

static bool is_digit(uint8_t c) {
        return c >= '0' && c <= '9';
}

int sdc_probe_scan_version_major(const uint8_t *data, size_t size, unsigned major, SdcVersion *ret) {
        char needle[32];
        const uint8_t *p = data, *end = data + size;
        size_t nl;

        /* With the major known (libsystemd-shared-NNN.so), "systemd NNN" is a needle that hits
         * almost only the version strings; without, every "systemd " is a candidate. */
        nl = major > 0 ? (size_t) snprintf(needle, sizeof(needle), "systemd %u", major) :
                         (size_t) snprintf(needle, sizeof(needle), "systemd ");
        for (const uint8_t *hit; p < end && (hit = memmem(p, (size_t) (end - p), needle, nl)); p = hit + 1) {
                const uint8_t *digits = hit + STRLEN("systemd "), *q = digits;
                char buf[128];
                size_t n;

                while (q < end && is_digit(*q) && q - digits < 6)
                        q++;
                if (q == digits || (q < end && is_digit(*q)))
                        continue;
                n = (size_t) (q - digits);
                memcpy(buf, digits, n);
                buf[n] = 0;

                /* "%s" is where systemd puts the ANSI highlight (v250 and later). */
                if (end - q >= 2 && q[0] == '%' && q[1] == 's')
                        q += 2;
                if (end - q >= 2 && q[0] == ' ' && q[1] == '(') {
                        const uint8_t *v = q + 2, *close = memchr(v, ')', (size_t) MIN(end - v, 100));

                        /* The parenthesised version is the full one when it starts with the
                         * same major: "(252.39-1~deb12u2)"; git builds put other things there. */
                        if (close && close - v > (ptrdiff_t) n && memcmp(v, buf, n) == 0 &&
                            (v[n] == '.' || v[n] == '-' || v[n] == '~' || v[n] == ')')) {
                                char full[128];
                                size_t fl = (size_t) (close - v);

                                memcpy(full, v, fl);
                                full[fl] = 0;
                                if (sdc_version_parse(full, ret) >= 0)
                                        return 1;
                        }
                } else if (q < end && (*q == '.' || *q == '-' || *q == '~')) {
                        /* "systemd 262.1-1 running in %ssystem mode": the full version, then a space;
                         * the form PID 1's start-up message takes in builds without the
                         * parenthesised string (Debian's 262). */
                        const uint8_t *v = digits, *sp = memchr(q, ' ', (size_t) MIN(end - q, 100));
                        char full[128];

                        if (sp && sp - v < (ptrdiff_t) sizeof(full) && (size_t) (end - sp) > STRLEN(" running in") &&
                            memcmp(sp, " running in", STRLEN(" running in")) == 0) {
                                memcpy(full, v, (size_t) (sp - v));
                                full[sp - v] = 0;
                                if (sdc_version_parse(full, ret) >= 0)
                                        return 1;
                        }
                        continue;
                } else if (!(q < end && (*q == 0 || *q == '\n')))
                        continue; /* "systemd 219" must end its string (v219: "systemd 219\n+PAM") */

                if (sdc_version_parse(buf, ret) >= 0 && ret->major >= 180)
                        return 1;
        }
        return 0;
}

int sdc_probe_scan_version(const uint8_t *data, size_t size, SdcVersion *ret) {
        return sdc_probe_scan_version_major(data, size, 0, ret);
}

int sdc_probe_scan_features(const uint8_t *data, size_t size, char **ret) {
        /* "+PAM +AUDIT ..." or "-PAM -AUDIT ...": one search for the rare "PAM " and a look at
         * its neighbours, rather than four passes over the data. */
        for (const uint8_t *p = data; (p = memmem(p, (size_t) (data + size - p), "PAM ", 4)); p++) {
                const uint8_t *start = p - 1, *e;

                if (p == data || (*start != '+' && *start != '-') || (size_t) (data + size - p) < 10 ||
                    (p[4] != '+' && p[4] != '-') || memcmp(p + 5, "AUDIT", 5) != 0)
                        continue;
                e = memchr(start, 0, (size_t) (data + size - start));
                if (!e)
                        continue;
                /* Inside "running in system mode (+PAM ... )" the list ends at the parenthesis. */
                e = start + strcspn((const char *) start, ")\n");
                *ret = strndup((const char *) start, (size_t) (e - start));
                return *ret ? 1 : -ENOMEM;
        }
        return 0;
}

/* NUL-delimited exact string: "/lib/systemd/systemd" must not match inside
 * "/usr/lib/systemd/systemd". */
static bool contains_cstring(const uint8_t *data, size_t size, const char *s) {
        size_t l = strlen(s);

        for (const uint8_t *p = data; (p = memmem(p, (size_t) (data + size - p), s, l + 1)); p++)
                if (p == data || p[-1] == 0)
                        return true;
        return false;
}

static int read_os_release(SdcTree *t, SdcTreeFacts *f) {
        static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release" };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                SdcBlob b = {};
                int r;

                r = sdc_tree_read(t, paths[i], MAX_TEXT_SIZE, &b);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r < 0) {
                        (void) add_note(f, "%s: cannot read: %s", paths[i], strerror(-r));
                        continue;
                }
                (void) sdc_tree_resolve(t, paths[i], 0, &f->os_release_path, NULL);
                (void) sdc_envfile_get((const char *) b.data, b.size, "ID", &f->os_id);
                (void) sdc_envfile_get((const char *) b.data, b.size, "VERSION_ID", &f->os_version_id);
                (void) sdc_envfile_get((const char *) b.data, b.size, "PRETTY_NAME", &f->os_pretty_name);
                (void)sdc_envfile_get((const char *)b.data, b.size, "ID_LIKE", &f->os_id_like);
                (void)sdc_envfile_get((const char *)b.data, b.size, "VERSION", &f->os_version);
                sdc_blob_done(&b);
                return 0;
        }
        return 0;
}

/* dracut writes initrd-release with DRACUT_VERSION= (and VERSION="... dracut-NNN" in older
 * releases). */
static void read_initrd_release(SdcTree *t, SdcTreeFacts *f) {
        SdcBlob b = {};
        _cleanup_free_ char *version = NULL;
        const char *d = NULL;

        if (sdc_tree_read(t, "/etc/initrd-release", MAX_TEXT_SIZE, &b) < 0)
                return;
        f->is_initrd = true;
        if (sdc_envfile_get((const char *) b.data, b.size, "VERSION", &version) >= 0 && (d = strstr(version, "dracut-")))
                f->built_by_dracut = true;
        if (sdc_envfile_get((const char *) b.data, b.size, "DRACUT_VERSION", &f->dracut_version) >= 0)
                f->built_by_dracut = true;
        else if (d)
                f->dracut_version = strndup(d + STRLEN("dracut-"), strcspn(d + STRLEN("dracut-"), " \t"));
        /* dracut 106 writes a minimal file of its own: NAME=dracut, ID=dracut, VERSION_ID=106-6. */
        if (!f->dracut_version) {
                _cleanup_free_ char *id = NULL;

                if (sdc_envfile_get((const char *) b.data, b.size, "ID", &id) >= 0 && streq(id, "dracut")) {
                        f->built_by_dracut = true;
                        (void) sdc_envfile_get((const char *) b.data, b.size, "VERSION_ID", &f->dracut_version);
                }
        }
        /* Debian's dracut 051 writes DRACUT_VERSION="": built by dracut, version not recorded. */
        if (f->dracut_version && f->dracut_version[0] == 0) {
                free(f->dracut_version);
                f->dracut_version = NULL;
        }
        sdc_blob_done(&b);
}

static void read_kernel_versions(SdcTree *t, SdcTreeFacts *f) {
        if (sdc_tree_list(t, "/usr/lib/modules", &f->kernel_versions) < 0 &&
            sdc_tree_list(t, "/lib/modules", &f->kernel_versions) < 0)
                f->kernel_versions = NULL;
}

/* Finds libsystemd-shared-NNN.so the way the dynamic loader would: the binary's RUNPATH
 * ($ORIGIN expanded) first, then the places distributions use. */
static int find_shared_library(SdcTree *t, const SdcElfInfo *elf, SdcSystemdFacts *s, char **ret_path) {
        _cleanup_strv_free_ char **dirs = NULL;
        const char *soname = NULL;
        _cleanup_free_ char *origin = NULL;
        char *slash;
        int r;

        STRV_FOREACH(n, elf->needed)
                if (strneq(*n, "libsystemd-shared-", STRLEN("libsystemd-shared-"))) {
                        soname = *n;
                        s->shared_major = (unsigned) strtoul(*n + STRLEN("libsystemd-shared-"), NULL, 10);
                        break;
                }
        if (!soname)
                return 0;

        origin = strdup(s->binary);
        if (!origin)
                return -ENOMEM;
        slash = strrchr(origin, '/');
        if (slash)
                *slash = 0;
        if (elf->runpath) {
                _cleanup_free_ char *copy = strdup(elf->runpath);
                char *save = NULL;

                if (!copy)
                        return -ENOMEM;
                for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                        if (strneq(d, "$ORIGIN", 7)) {
                                char *x;
                                if (asprintf(&x, "%s%s", origin, d + 7) < 0)
                                        return -ENOMEM;
                                r = strv_consume(&dirs, x);
                        } else
                                r = strv_extend(&dirs, d);
                        if (r < 0)
                                return r;
                }
        }
        {
                static const char *const fallback[] = {
                        "/usr/lib/systemd", "/lib/systemd", "/usr/lib64/systemd", "/usr/lib/x86_64-linux-gnu/systemd",
                        "/usr/lib/aarch64-linux-gnu/systemd",
                };
                for (size_t i = 0; i < ELEMENTSOF(fallback); i++) {
                        r = strv_extend(&dirs, fallback[i]);
                        if (r < 0)
                                return r;
                }
        }
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", *d, soname) < 0)
                        return -ENOMEM;
                r = sdc_tree_resolve(t, p, 0, ret_path, NULL);
                if (r >= 0)
                        return 1;
        }
        return 0;
}

static void set_version(SdcSystemdFacts *s, const SdcVersion *v, const char *what, const char *where) {
        /* Keep the most precise: one with a distribution revision beats a bare major. */
        if (s->has_version && (s->version.revision[0] || !v->revision[0]))
                return;
        s->version = *v;
        s->has_version = true;
        free(s->version_source);
        if (asprintf(&s->version_source, "%s %s", what, where) < 0)
                s->version_source = NULL;
}

static void set_default_hierarchy(SdcSystemdFacts *s) {
        const char *h = strstr(s->features, "default-hierarchy=");

        if (h)
                s->default_hierarchy = strndup(h + STRLEN("default-hierarchy="),
                                               strcspn(h + STRLEN("default-hierarchy="), " \n"));
}

/* Scans a binary's strings for the version and the feature list, where they are not known yet. */
static void scan_blob(SdcSystemdFacts *s, const SdcBlob *b, const char *path) {
        SdcElfInfo elf = {};
        const uint8_t *data = b->data;
        size_t size = b->size;
        SdcVersion v;

        if (s->has_version && s->version.revision[0] && s->features)
                return; /* nothing more to learn */
        if (sdc_elf_parse(b->data, b->size, &elf) >= 0 && elf.rodata_size > 0) {
                data = b->data + elf.rodata_offset;
                size = (size_t) elf.rodata_size;
        }
        sdc_elf_info_done(&elf);

        if (!(s->has_version && s->version.revision[0]) &&
            sdc_probe_scan_version_major(data, size, s->shared_major, &v) > 0)
                set_version(s, &v, "version string in", path);
        if (!s->features && sdc_probe_scan_features(data, size, &s->features) > 0)
                set_default_hierarchy(s);
}

/* scan_blob() for a file read piece by piece (sdc_tree_scan()): as in one blob, the first version
 * string and the first feature list in the file count, and the scan stops once both are known. */
typedef struct PieceScan {
        SdcSystemdFacts *s;
        const char *path;
        bool version_done, features_done;
} PieceScan;

static int scan_piece(const uint8_t *data, size_t size, void *userdata) {
        PieceScan *p = userdata;
        SdcVersion v;

        if (!p->version_done && sdc_probe_scan_version_major(data, size, p->s->shared_major, &v) > 0) {
                set_version(p->s, &v, "version string in", p->path);
                p->version_done = true;
        }
        if (!p->features_done && sdc_probe_scan_features(data, size, &p->s->features) > 0) {
                set_default_hierarchy(p->s);
                p->features_done = true;
        }
        return p->version_done && p->features_done;
}

static int library_read_at(uint64_t offset, void *buf, size_t size, void *userdata) {
        return sdc_tree_file_read_at(userdata, offset, buf, size);
}

/* The library is a few MiB, of which only .rodata holds strings: its ELF headers and .rodata are
 * read with pread() in small pieces, never mapped. Mapping it cost more than everything else
 * negotiate does: on VMs with shadow page tables, each page fault and the unmapping of a fresh
 * process's mapping take hundreds of microseconds. It is resolved once for all those reads. */
static void scan_library(SdcTree *t, SdcSystemdFacts *s, const char *path) {
        PieceScan p = {
                .s = s,
                .path = path,
                .version_done = s->has_version && s->version.revision[0],
                .features_done = !!s->features,
        };
        _cleanup_(sdc_tree_file_closep) SdcTreeFile *f = NULL;
        uint64_t offset = 0, length = 0, size;

        if (p.version_done && p.features_done)
                return; /* nothing more to learn */
        if (sdc_tree_file_open(t, path, &f) < 0)
                return;
        size = sdc_tree_file_stat(f)->size;
        if (size > MAX_BINARY_SIZE)
                return;
        /* Not an ELF file or no .rodata: all of it, as for a binary. */
        if (sdc_elf_find_rodata(library_read_at, f, size, &offset, &length) < 0 || length == 0) {
                offset = 0;
                length = UINT64_MAX;
        }
        (void) sdc_tree_file_scan(f, offset, length, scan_piece, &p);
}


/* The resolved path of the first of PATHS that is a regular file in the tree (links followed
 * inside it), or NULL: where a distribution may have put a binary. */
static char *first_regular_file(SdcTree *t, const char *const *paths, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char *resolved = NULL;
                SdcStat st;

                if (sdc_tree_resolve(t, paths[i], 0, &resolved, &st) >= 0 && st.type == SDC_NODE_REGULAR)
                        return resolved;
                free(resolved);
        }
        return NULL;
}
static int probe_systemd(SdcTree *t, SdcTreeFacts *f) {
        SdcSystemdFacts *s = &f->systemd;
        SdcElfInfo elf = {};
        SdcBlob bin = {};
        _cleanup_free_ char *libpath = NULL;
        int r;

        s->binary = first_regular_file(t, binary_candidates, ELEMENTSOF(binary_candidates));
        if (!s->binary)
                return 0;

        r = sdc_tree_read(t, s->binary, MAX_BINARY_SIZE, &bin);
        if (r < 0) {
                (void) add_note(f, "%s: cannot read: %s", s->binary, strerror(-r));
                return 0;
        }
        if (sdc_elf_parse(bin.data, bin.size, &elf) < 0) {
                (void) add_note(f, "%s: not an ELF binary", s->binary);
                sdc_blob_done(&bin);
                return 0;
        }
        s->found = true;

        /* The distribution's own record first: the package note names the exact build. */
        if (elf.package_note) {
                _cleanup_free_ char *name = NULL, *version = NULL;
                SdcVersion v;

                if (sdc_elf_note_field(elf.package_note, "name", &name) >= 0 && strstr(name, "systemd") &&
                    sdc_elf_note_field(elf.package_note, "version", &version) >= 0 &&
                    sdc_version_parse(version, &v) >= 0)
                        set_version(s, &v, "package note of", s->binary);
        }

        r = find_shared_library(t, &elf, s, &libpath); /* first: its name gives the major */
        scan_blob(s, &bin, s->binary);
        {
                const uint8_t *ro = bin.data;
                size_t rs = bin.size;

                if (elf.rodata_size > 0) {
                        ro = bin.data + elf.rodata_offset;
                        rs = (size_t) elf.rodata_size;
                }
                if (contains_cstring(ro, rs, "/usr/lib/systemd/systemd"))
                        s->compiled_binary_path = strdup("/usr/lib/systemd/systemd");
                else if (contains_cstring(ro, rs, "/lib/systemd/systemd"))
                        s->compiled_binary_path = strdup("/lib/systemd/systemd");
                /* RHEL's special case names the unit (SPECIAL_INITRD_SWITCH_ROOT_SERVICE); upstream's
                 * manager has no use for the string. */
                f->spares_switch_root = contains_cstring(ro, rs, "initrd-switch-root.service");
        }

        if (r > 0) {
                s->shared_library = strdup(libpath);
                scan_library(t, s, libpath);
        } else if (s->shared_major > 0)
                (void) add_note(f, "libsystemd-shared-%u.so, which %s needs, was not found", s->shared_major,
                                s->binary);

        if (!s->has_version && s->shared_major > 0) {
                char buf[16];
                SdcVersion v;

                (void) snprintf(buf, sizeof(buf), "%u", s->shared_major);
                if (sdc_version_parse(buf, &v) >= 0)
                        set_version(s, &v, "library name", libpath ?: "libsystemd-shared");
        }
        if (!s->has_version)
                (void) add_note(f, "%s: no systemd version found in the binary or its library", s->binary);

        sdc_elf_info_done(&elf);
        sdc_blob_done(&bin);
        return 0;
}

/* A separate /usr in the root's fstab: systemd ≥ 257 refuses to start on an empty /usr, so an
 * initramfs that does not mount it matters (H8). Read by hand, not with libmount: the probe runs in
 * the static initramfs programs, and Debian ships no static libmount. */
static void read_fstab(SdcTree *t, SdcTreeFacts *f) {
        SdcBlob b = {};
        const char *p, *end;

        f->usr_separate = SDC_TRI_UNKNOWN;
        if (sdc_tree_read(t, "/etc/fstab", MAX_TEXT_SIZE, &b) < 0)
                return;
        f->usr_separate = SDC_TRI_NO;
        for (p = (const char *) b.data, end = p + b.size; p < end;) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end;
                char line[1024], spec[512], dir[512];
                size_t l = MIN((size_t) (eol - p), sizeof(line) - 1);

                memcpy(line, p, l);
                line[l] = 0;
                p = eol + 1;
                if (sscanf(line, " %511s %511s", spec, dir) == 2 && spec[0] != '#' &&
                    (streq(dir, "/usr") || streq(dir, "/usr/"))) {
                        f->usr_separate = SDC_TRI_YES;
                        break;
                }
        }
        sdc_blob_done(&b);
}

static const char *skip_blanks(const char *p, const char *end) {
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

/* Applies one unit file's ExecStart= lines: an empty assignment resets the list. The file's bytes
 * are not NUL-terminated (a unit file may end without a newline): every look stays before eol. */
static void apply_exec_start(SdcTree *t, const char *path, char **exec) {
        SdcBlob b = {};
        const char *p, *end;

        if (sdc_tree_read(t, path, MAX_TEXT_SIZE, &b) < 0)
                return;
        for (p = (const char *) b.data, end = p + b.size; p < end;) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end, *v;

                v = skip_blanks(p, eol);
                if ((size_t) (eol - v) >= STRLEN("ExecStart") && memcmp(v, "ExecStart", STRLEN("ExecStart")) == 0) {
                        v = skip_blanks(v + STRLEN("ExecStart"), eol);
                        if (v < eol && *v == '=') {
                                v = skip_blanks(v + 1, eol);
                                free(*exec);
                                *exec = v < eol ? strndup(v, (size_t) (eol - v)) : NULL;
                        }
                }
                p = eol + 1;
        }
        sdc_blob_done(&b);
}

/* How initrd-switch-root.service runs switch-root, with drop-ins applied in systemd's order
 * (/usr/lib, then /run, then /etc; a unit file in /etc or /run replaces the vendor one). */
static void probe_switch_root_unit(SdcTree *t, SdcTreeFacts *f) {
        static const char *const dirs[] = { "/usr/lib/systemd/system", "/lib/systemd/system",
                                             "/run/systemd/system", "/etc/systemd/system" };
        char *exec = NULL, *argv0;
        const char *cmd;
        size_t n;

        f->switch_root_via_systemctl = SDC_TRI_UNKNOWN;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char path[256];
                char **dropins = NULL;

                (void) snprintf(path, sizeof(path), "%s/initrd-switch-root.service", dirs[i]);
                if (sdc_tree_exists(t, path) > 0) {
                        free(exec);
                        exec = NULL;
                        apply_exec_start(t, path, &exec);
                }
                (void) snprintf(path, sizeof(path), "%s/initrd-switch-root.service.d", dirs[i]);
                if (sdc_tree_list(t, path, &dropins) < 0)
                        continue;
                STRV_FOREACH(d, dropins) {
                        char dp[512];
                        if (!endswith(*d, ".conf"))
                                continue;
                        (void) snprintf(dp, sizeof(dp), "%s/%s", path, *d);
                        apply_exec_start(t, dp, &exec);
                }
                strv_free(dropins);
        }
        if (!exec)
                return;
        f->switch_root_exec = exec;

        /* "-@+!:" prefixes; with '@' the second word is argv[0], the first is what runs. */
        cmd = exec + strspn(exec, "-@+!:");
        n = strcspn(cmd, " \t");
        argv0 = strndup(cmd, n);
        if (!argv0)
                return;
        f->switch_root_via_systemctl = streq(argv0, "systemctl") || endswith(argv0, "/systemctl");
        free(argv0);
}

/* RHEL and its rebuilds: "Red Hat Enterprise Linux Server release 7.8 (Maipo)". */
static void read_redhat_release(SdcTree *t, SdcTreeFacts *f) {
        SdcBlob b = {};

        if (sdc_tree_read(t, "/etc/redhat-release", MAX_TEXT_SIZE, &b) < 0)
                return;
        f->redhat_release = strndup((const char *)b.data, strcspn((const char *)b.data, "\n"));
        sdc_blob_done(&b);
}

/* dpkg's status file can be several MiB on a full system. */
#define MAX_DPKG_STATUS_SIZE (UINT64_C(64) << 20)

/* The version dpkg's database records for the installed package "systemd": the distribution's
 * own record, where the binary prints only the upstream major. RPM's database (Berkeley DB on
 * RHEL 7, SQLite later) is not read: on those trees the release comes from os-release and
 * redhat-release alone, and the probe says so. */
static void read_package_db(SdcTree *t, SdcTreeFacts *f) {
        SdcBlob b = {};
        const char *p, *end;

        if (sdc_tree_read(t, "/var/lib/dpkg/status", MAX_DPKG_STATUS_SIZE, &b) < 0) {
                if (sdc_tree_exists(t, "/var/lib/rpm") > 0 ||
                    sdc_tree_exists(t, "/usr/lib/sysimage/rpm") > 0) {
                        f->package_db = strdup("rpm");
                        (void)add_note(
                                f,
                                "the RPM database is not read (no librpm in a static program): the "
                                "distribution's release comes from os-release and redhat-release only");
                }
                return;
        }
        f->package_db = strdup("dpkg");
        /* Stanzas are separated by blank lines; the one with "Package: systemd" and an installed
         * status carries the version. */
        for (p = (const char *)b.data, end = p + b.size; p < end;) {
                const char *next = memmem(p, (size_t)(end - p), "\n\n", 2);
                const char *stop = next ? next + 1 : end;
                bool pkg = false, installed = false;
                const char *version = NULL;
                size_t vlen = 0;

                for (const char *l = p; l < stop;) {
                        const char *eol = memchr(l, '\n', (size_t)(stop - l)) ?: stop;
                        size_t n = (size_t)(eol - l);

                        if (n == STRLEN("Package: systemd") && memcmp(l, "Package: systemd", n) == 0)
                                pkg = true;
                        else if (n > STRLEN("Status: ") && memcmp(l, "Status: ", STRLEN("Status: ")) == 0)
                                installed = memmem(l, n, " installed", STRLEN(" installed")) &&
                                        (size_t)(eol - l) >= STRLEN(" installed") &&
                                        memcmp(eol - STRLEN(" installed"), " installed",
                                               STRLEN(" installed")) == 0;
                        else if (
                                n > STRLEN("Version: ") &&
                                memcmp(l, "Version: ", STRLEN("Version: ")) == 0) {
                                version = l + STRLEN("Version: ");
                                vlen = n - STRLEN("Version: ");
                        }
                        l = eol + 1;
                }
                if (pkg && installed && version) {
                        f->package_version = strndup(version, vlen);
                        break;
                }
                p = next ? next + 2 : end;
        }
        sdc_blob_done(&b);
}

/* A bare "219" in the binary, a full version in the package database: the database's, if it names
 * the same upstream version (a stale database says nothing about the binary that is there). */
static void version_from_package(SdcTreeFacts *f) {
        SdcSystemdFacts *s = &f->systemd;
        SdcVersion v;

        if (!f->package_version || !s->found || sdc_version_parse(f->package_version, &v) < 0)
                return;
        if (s->has_version && v.major != s->version.major) {
                (void)add_note(
                        f, "dpkg's database says systemd %s, the binary says %s: the binary's is used",
                        f->package_version, s->version.text);
                return;
        }
        set_version(s, &v, "dpkg status of", "systemd");
}

#define SYSTEMCTL_SIGTERM_IGNORE "Failed to change disposition of SIGTERM to ignore"

/* Whether the initramfs's systemctl protects switch-root from PID 1's final SIGTERM: the code that
 * ignores SIGTERM (upstream 8a7a9ceab204, v233; RHEL 928f72e207, 219-70) came together with the
 * '@' in argv[0] (acc28e2e3037; 5e68640c5b) and logs this message when it fails. */
static void probe_systemctl(SdcTree *t, SdcTreeFacts *f) {
        static const char *const candidates[] = { "/usr/bin/systemctl", "/bin/systemctl" };
        SdcElfInfo elf = {};
        SdcBlob b = {};
        const uint8_t *data;
        size_t size;

        f->systemctl_ignores_sigterm = SDC_TRI_UNKNOWN;
        f->systemctl = first_regular_file(t, candidates, ELEMENTSOF(candidates));
        if (!f->systemctl)
                return;
        if (sdc_tree_read(t, f->systemctl, MAX_BINARY_SIZE, &b) < 0 ||
            sdc_elf_parse(b.data, b.size, &elf) < 0) {
                (void)add_note(f, "%s: not a readable ELF binary", f->systemctl);
                sdc_blob_done(&b);
                return;
        }
        data = b.data;
        size = b.size;
        if (elf.rodata_size > 0) {
                data = b.data + elf.rodata_offset;
                size = (size_t)elf.rodata_size;
        }
        f->systemctl_ignores_sigterm =
                !!memmem(data, size, SYSTEMCTL_SIGTERM_IGNORE, STRLEN(SYSTEMCTL_SIGTERM_IGNORE));
        sdc_elf_info_done(&elf);
        sdc_blob_done(&b);
}

/* Whether SuccessExitStatus= in one unit file or drop-in, read in order, leaves SIGTERM among the
 * clean signals: an empty assignment resets the list. Only the [Service] section counts. */
static void apply_success_status(SdcTree *t, const char *path, SdcTri *sigterm, char **source) {
        SdcBlob b = {};
        const char *p, *end;
        bool service = false;

        if (sdc_tree_read(t, path, MAX_TEXT_SIZE, &b) < 0)
                return;
        for (p = (const char *)b.data, end = p + b.size; p < end;) {
                const char *eol = memchr(p, '\n', (size_t)(end - p)) ?: end;
                char line[1024], *v, *save = NULL;
                size_t l = MIN((size_t)(eol - p), sizeof(line) - 1);
                bool has = false;

                memcpy(line, p, l);
                line[l] = 0;
                p = eol + 1;
                v = line + strspn(line, " \t");
                if (*v == '[') {
                        service = strneq(v, "[Service]", STRLEN("[Service]"));
                        continue;
                }
                if (!service || !strneq(v, "SuccessExitStatus", STRLEN("SuccessExitStatus")))
                        continue;
                v += STRLEN("SuccessExitStatus");
                v += strspn(v, " \t");
                if (*v != '=')
                        continue;
                v++;
                for (char *w = strtok_r(v, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save))
                        if (streq(w, "SIGTERM") || streq(w, "TERM"))
                                has = true;
                if (has) {
                        *sigterm = SDC_TRI_YES;
                        free(*source);
                        *source = strdup(path);
                } else if (v[strspn(v, " \t\r")] == 0) { /* "SuccessExitStatus=": reset */
                        *sigterm = SDC_TRI_NO;
                        free(*source);
                        *source = NULL;
                }
        }
        sdc_blob_done(&b);
}

/* The root's initrd-switch-root.service as the root's PID 1 loads it when it deserializes the
 * unit: the unit file from the first directory that has it, then every drop-in name once, from the
 * first directory that has it (/etc over /run over /usr/lib over /lib), in name order. A root
 * that ships SuccessExitStatus=SIGTERM there (sdcompat's package does, see sdcompat(8)) judges the
 * switch-root command's SIGTERM a success: H1 is handled on the root, whatever the initramfs. */
static void probe_root_switch_root_unit(SdcTree *t, SdcTreeFacts *f) {
        static const char *const dirs[] = { "/etc/systemd/system", "/run/systemd/system",
                                            "/usr/lib/systemd/system", "/lib/systemd/system" };
        _cleanup_strv_free_ char **names = NULL, **paths = NULL;
        char path[512];
        SdcTri sigterm = SDC_TRI_NO;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                (void)snprintf(path, sizeof(path), "%s/initrd-switch-root.service", dirs[i]);
                if (sdc_tree_exists(t, path) > 0) {
                        apply_success_status(t, path, &sigterm, &f->sigterm_success_source);
                        break;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char **list = NULL;

                (void)snprintf(path, sizeof(path), "%s/initrd-switch-root.service.d", dirs[i]);
                if (sdc_tree_list(t, path, &list) < 0)
                        continue;
                STRV_FOREACH (d, list) {
                        char *full;

                        if (!endswith(*d, ".conf") || strv_contains(names, *d))
                                continue;
                        if (asprintf(&full, "%s/%s", path, *d) < 0 || strv_consume(&paths, full) < 0 ||
                            strv_extend(&names, *d) < 0) {
                                strv_free(list);
                                return; /* out of memory: stays unknown */
                        }
                }
                strv_free(list);
        }
        /* Drop-ins apply in the order of their names, wherever they live. */
        for (size_t n = strv_length(names), i = 0; i < n; i++) {
                size_t best = SIZE_MAX;

                for (size_t j = 0; j < n; j++)
                        if (names[j] && (best == SIZE_MAX || strcmp(names[j], names[best]) < 0))
                                best = j;
                apply_success_status(t, paths[best], &sigterm, &f->sigterm_success_source);
                free(names[best]);
                names[best] = NULL;
        }
        f->sigterm_success = sigterm;
}

/* The file system images in which dracut's squash modules keep an initramfs's root, systemd
 * included, and whose /init (a shell script) mounts one of them on a loop device under an overlay
 * and switch_root's into it: dracut 10x's 88squash-lib/init-squash.sh tries /erofs-root.img
 * (74squash-erofs, mkfs.erofs), then /squashfs-root.img (74squash-squashfs, mksquashfs); dracut
 * 059's 99squash/init-squash.sh mounts /squash-root.img (dracut.sh: squash_img=
 * "$initdir/squash-root.img", mksquashfs). The archive itself then holds only that script,
 * busybox (or the few programs it runs) and kernel modules. The type is what the module that
 * makes the file names it; the tree reads it where it can (probe_root_image_tree()). */
static const struct {
        const char *path;
        const char *type;
} root_images[] = {
        { "/erofs-root.img", "erofs" },
        { "/squashfs-root.img", "squashfs" },
        { "/squash-root.img", "squashfs" },
};

/* Whether dracut's list of the modules it built the image with, /usr/lib/dracut/modules.txt (one
 * name a line), names module; dracut's squash modules copy it out of the root image ("so dracut
 * rebuild and lsinitrd can work"). Unknown when the list is missing or unreadable. */
static SdcTri dracut_lists_module(SdcTree *t, const char *module) {
        _cleanup_(sdc_blob_done) SdcBlob b = {};
        size_t len = strlen(module);

        if (sdc_tree_read(t, "/usr/lib/dracut/modules.txt", MAX_TEXT_SIZE, &b) < 0)
                return SDC_TRI_UNKNOWN;
        for (const uint8_t *p = b.data, *end = b.data + b.size; p < end;) {
                const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = (size_t)((nl ?: end) - p);

                if (n == len && memcmp(p, module, len) == 0)
                        return SDC_TRI_YES;
                p += n + 1;
        }
        return SDC_TRI_NO;
}

/* An initrd whose /init script mounts one of root_images that the archive holds as a regular file:
 * whatever runs after that switch, systemd included, is inside the image, not in this tree. */
static int probe_root_image(SdcTree *t, SdcTreeFacts *f, const SdcBlob *script) {
        for (size_t i = 0; i < ELEMENTSOF(root_images); i++) {
                const char *path = root_images[i].path;
                SdcStat st;

                if (!memmem(script->data, script->size, path + 1, strlen(path + 1)))
                        continue;
                if (sdc_tree_resolve(t, path, 0, NULL, &st) < 0 || st.type != SDC_NODE_REGULAR)
                        continue;
                f->root_image = strdup(path);
                if (!f->root_image)
                        return -ENOMEM;
                f->root_image_type = root_images[i].type;
                f->root_image_sdcompat = dracut_lists_module(t, "sdcompat");
                return 0;
        }
        return 0;
}

/* The facts of the root in f->root_image, probed as an initramfs through the same tree interface,
 * replace the archive's; the archive keeps what only it says (the image, dracut's modules.txt)
 * and its notes come first. A file system that cannot be opened, or that turns out damaged while
 * it is probed (sdc_tree_error(): a directory or a binary that does not decode reads as missing,
 * which must never make "no systemd"), leaves the archive's facts, with the reason. */
static int probe_root_image_tree(SdcTree *t, SdcTreeFacts *f) {
        _cleanup_(sdc_tree_freep) SdcTree *nested = NULL;
        _cleanup_free_ char *message = NULL;
        SdcTreeFacts inner;
        int r;

        r = sdc_tree_open_filesystem(t, f->root_image, f->root_image_type, &nested, &message);
        if (r == -ENOMEM || (r < 0 && !message))
                return -ENOMEM;
        if (r < 0) {
                f->root_image_error = TAKE_PTR(message);
                return add_note(f,
                                "%s: %s mounts this file system image (%s) and switches into it (dracut's squash "
                                "module): the initramfs's root, its systemd included, is in there, and not read: %s",
                                f->root_image, f->init, f->root_image_type, f->root_image_error);
        }
        r = sdc_probe_tree(nested, SDC_ROLE_INITRD, &inner);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || sdc_tree_error(nested) || inner.root_image) {
                int k;

                if (r < 0)
                        k = asprintf(&f->root_image_error, "%s", sdc_tree_error(nested) ?: strerror(-r));
                else {
                        if (sdc_tree_error(nested))
                                k = asprintf(&f->root_image_error, "damaged: %s", sdc_tree_error(nested));
                        else
                                k = asprintf(&f->root_image_error, "its /init mounts another root image (%s) in turn",
                                             inner.root_image);
                        sdc_tree_facts_done(&inner);
                }
                if (k < 0) {
                        f->root_image_error = NULL;
                        return -ENOMEM;
                }
                return add_note(f, "%s: %s mounts this file system image (%s), which could not be read: %s",
                                f->root_image, f->init, f->root_image_type, f->root_image_error);
        }

        r = add_note(f,
                     "%s: %s mounts this file system image (%s) and switches into it (dracut's squash module): "
                     "the facts are those of the root in there",
                     f->root_image, f->init, f->root_image_type);
        STRV_FOREACH (n, inner.notes)
                if (r >= 0)
                        r = strv_extend(&f->notes, *n);
        if (r < 0) {
                sdc_tree_facts_done(&inner);
                return r;
        }
        strv_free(inner.notes);
        inner.notes = TAKE_PTR(f->notes);
        inner.root_image = TAKE_PTR(f->root_image);
        inner.root_image_type = f->root_image_type;
        inner.root_image_sdcompat = f->root_image_sdcompat;
        inner.root_image_read = true;
        sdc_tree_facts_done(f);
        *f = inner;
        return 0;
}

static void probe_init(SdcTree *t, SdcTreeFacts *f) {
        const char *init = f->role == SDC_ROLE_INITRD ? "/init" : "/sbin/init";
        SdcBlob b = {};
        SdcStat st;
        int r;

        r = sdc_tree_resolve(t, init, 0, &f->init, &st);
        if (r < 0) {
                if (f->role == SDC_ROLE_INITRD)
                        (void) add_note(f, "%s: %s: the kernel will not run an init from this image", init,
                                        strerror(-r));
                return;
        }
        if (st.type != SDC_NODE_REGULAR)
                return;
        if (f->systemd.binary && streq(f->init, f->systemd.binary)) {
                f->runs_systemd = true;
                return;
        }
        if (sdc_tree_read(t, f->init, MAX_BINARY_SIZE, &b) >= 0) {
                f->init_is_script = b.size >= 2 && b.data[0] == '#' && b.data[1] == '!';
                if (f->init_is_script && f->role == SDC_ROLE_INITRD)
                        (void)probe_root_image(t, f, &b);
                sdc_blob_done(&b);
        }
}

int sdc_probe_tree(SdcTree *t, SdcTreeRole role, SdcTreeFacts *ret) {
        SdcTreeFacts f = { .role = role,
                           .usr_separate = SDC_TRI_UNKNOWN,
                           .switch_root_via_systemctl = SDC_TRI_UNKNOWN,
                           .systemctl_ignores_sigterm = SDC_TRI_UNKNOWN,
                           .sigterm_success = SDC_TRI_UNKNOWN,
                           .spares_switch_root = SDC_TRI_UNKNOWN };
        int r;

        r = sdc_tree_exists(t, "/");
        if (r < 0)
                return r;

        (void) read_os_release(t, &f);
        read_initrd_release(t, &f);
        read_redhat_release(t, &f);
        sdc_distro_from_os_release(
                f.os_id, f.os_id_like, f.os_version_id, f.os_version, f.os_pretty_name, f.redhat_release,
                &f.distro);
        read_kernel_versions(t, &f);
        r = probe_systemd(t, &f);
        if (r < 0) {
                sdc_tree_facts_done(&f);
                return r;
        }
        /* Only where the binary names no distribution revision: dpkg's status file is megabytes,
         * and negotiate reads the root at every boot. */
        if (f.systemd.found && !(f.systemd.has_version && f.systemd.version.revision[0])) {
                read_package_db(t, &f);
                version_from_package(&f);
        }
        probe_init(t, &f);
        if (role == SDC_ROLE_ROOT) {
                read_fstab(t, &f);
                if (f.systemd.found)
                        probe_root_switch_root_unit(t, &f);
        } else if (f.runs_systemd) {
                probe_switch_root_unit(t, &f);
                probe_systemctl(t, &f);
        } else if (f.root_image) {
                r = probe_root_image_tree(t, &f);
                if (r < 0) {
                        sdc_tree_facts_done(&f);
                        return r;
                }
        }
        *ret = f;
        return 0;
}

void sdc_tree_facts_done(SdcTreeFacts *f) {
        SdcSystemdFacts *s = &f->systemd;

        free(s->binary);
        free(s->shared_library);
        free(s->version_source);
        free(s->features);
        free(s->default_hierarchy);
        free(s->compiled_binary_path);
        free(f->os_release_path);
        free(f->os_id);
        free(f->os_version_id);
        free(f->os_pretty_name);
        free(f->init);
        free(f->dracut_version);
        free(f->switch_root_exec);
        free(f->os_id_like);
        free(f->os_version);
        free(f->redhat_release);
        free(f->package_db);
        free(f->package_version);
        free(f->systemctl);
        free(f->sigterm_success_source);
        free(f->root_image);
        free(f->root_image_error);
        strv_free(f->kernel_versions);
        strv_free(f->notes);
        *f = (SdcTreeFacts) {};
}

static void strv_to_json(JsonWriter *w, const char *key, char **l) {
        json_array_begin(w, key);
        STRV_FOREACH(s, l)
                json_string(w, NULL, *s);
        json_array_end(w);
}

void sdc_tree_facts_to_json(JsonWriter *w, const char *key, const SdcTreeFacts *f) {
        const SdcSystemdFacts *s = &f->systemd;

        json_object_begin(w, key);
        json_string(w, "role", f->role == SDC_ROLE_INITRD ? "initrd" : "root");
        json_bool(w, "runs_systemd", f->runs_systemd);
        json_string(w, "init", f->init);
        json_bool(w, "is_initrd", f->is_initrd);
        json_object_begin(w, "os_release");
        json_string(w, "path", f->os_release_path);
        json_string(w, "id", f->os_id);
        json_string(w, "version_id", f->os_version_id);
        json_string(w, "pretty_name", f->os_pretty_name);
        json_string(w, "id_like", f->os_id_like);
        json_string(w, "version", f->os_version);
        json_object_end(w);
        json_string(w, "redhat_release", f->redhat_release);
        json_object_begin(w, "distro");
        json_string(w, "id", f->distro.id[0] ? f->distro.id : NULL);
        json_string(w, "release", f->distro.release[0] ? f->distro.release : NULL);
        json_string(w, "source", f->distro.source);
        json_object_end(w);
        json_object_begin(w, "package");
        json_string(w, "db", f->package_db);
        json_string(w, "systemd_version", f->package_version);
        json_object_end(w);
        json_bool(w, "built_by_dracut", f->built_by_dracut);
        json_string(w, "dracut_version", f->dracut_version);
        strv_to_json(w, "kernel_versions", f->kernel_versions);
        if (f->role == SDC_ROLE_ROOT) {
                json_tri(w, "usr_separate", f->usr_separate);
                json_tri(w, "switch_root_sigterm_success", f->sigterm_success);
                json_string(w, "switch_root_sigterm_success_source", f->sigterm_success_source);
                json_tri(w, "spares_switch_root_sigterm", f->spares_switch_root);
        } else {
                json_string(w, "switch_root_exec", f->switch_root_exec);
                json_tri(w, "switch_root_via_systemctl", f->switch_root_via_systemctl);
                json_string(w, "systemctl", f->systemctl);
                json_tri(w, "systemctl_ignores_sigterm", f->systemctl_ignores_sigterm);
                if (f->root_image) {
                        json_object_begin(w, "root_image");
                        json_string(w, "path", f->root_image);
                        json_string(w, "type", f->root_image_type);
                        json_tri(w, "sdcompat_module", f->root_image_sdcompat);
                        json_bool(w, "read", f->root_image_read);
                        json_string(w, "error", f->root_image_error);
                        json_object_end(w);
                } else
                        json_null(w, "root_image");
        }

        json_object_begin(w, "systemd");
        json_bool(w, "found", s->found);
        json_string(w, "binary", s->binary);
        json_string(w, "version", s->has_version ? s->version.text : NULL);
        if (s->has_version) {
                json_uint(w, "upstream", s->version.major);
                if (s->version.has_point)
                        json_uint(w, "point", s->version.point);
                else
                        json_null(w, "point");
                json_string(w, "revision", s->version.revision[0] ? s->version.revision : NULL);
                json_string(w, "distro", sdc_distro_family_to_string(s->version.family));
        }
        json_string(w, "version_source", s->version_source);
        json_string(w, "shared_library", s->shared_library);
        json_string(w, "features", s->features);
        json_string(w, "default_hierarchy", s->default_hierarchy);
        json_string(w, "compiled_binary_path", s->compiled_binary_path);
        json_object_end(w);

        strv_to_json(w, "notes", f->notes);
        json_object_end(w);
}
