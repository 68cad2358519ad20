/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "bootentry.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

static void entry_done(SdcBootEntry *e) {
        free(e->id);
        free(e->kernel);
        free(e->image);
        free(e->cmdline);
        free(e->cmdline_source);
        *e = (SdcBootEntry) {};
}

typedef struct List {
        SdcBootEntry *e;
        size_t n;
} List;

static int list_add(List *l, SdcBootEntry *e) {
        SdcBootEntry *n = realloc(l->e, (l->n + 1) * sizeof(SdcBootEntry));

        if (!n)
                return -ENOMEM;
        l->e = n;
        l->e[l->n++] = *e;
        return 0;
}

static bool list_has_image(const List *l, const char *image) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->e[i].image, image))
                        return true;
        return false;
}

/* BLS paths are relative to the partition the entry lives on: /boot as its own partition makes
 * "/initramfs-6.1.img" mean /boot/initramfs-6.1.img; on a /boot directory of the root they carry
 * the /boot prefix themselves. */
static char *bls_path(const char *boot_dir, const char *p) {
        char *s;
        struct stat st;

        if (asprintf(&s, "%s%s%s", boot_dir, p[0] == '/' ? "" : "/", p) < 0)
                return NULL;
        if (stat(s, &st) >= 0 || p[0] != '/')
                return s;
        free(s);
        return strdup(p);
}

static int parse_bls(const char *boot_dir, const char *dir, const char *file, List *l) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        SdcBootEntry e = {};
        char *save = NULL;
        int r;

        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, 1 << 20, &data, NULL);
        if (r < 0)
                return log_warning_errno(r, "%s: cannot read boot entry: %m", path);

        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *key = line + strspn(line, " \t"), *value;

                if (*key == '#' || *key == 0)
                        continue;
                value = key + strcspn(key, " \t");
                if (*value)
                        *value++ = 0;
                value += strspn(value, " \t");
                if (streq(key, "version") && !e.kernel)
                        e.kernel = strdup(value);
                else if (streq(key, "options")) {
                        /* Several options lines are joined, as the specification says. */
                        char *c;
                        if (asprintf(&c, "%s%s%s", e.cmdline ?: "", e.cmdline ? " " : "", value) < 0)
                                goto oom;
                        free(e.cmdline);
                        e.cmdline = c;
                } else if (streq(key, "initrd")) {
                        /* The last initrd line is the main image; earlier ones are usually
                         * microcode, which the bootloader puts in front of it. */
                        free(e.image);
                        e.image = bls_path(boot_dir, value);
                }
        }
        if (!e.image) {
                log_debug("%s: no initrd line, skipping", path);
                free(e.kernel);
                free(e.cmdline);
                return 0;
        }
        e.id = strndup(file, strlen(file) - STRLEN(".conf"));
        e.cmdline_source = TAKE_PTR(path);
        if (!e.id || !e.cmdline_source)
                goto oom;
        r = list_add(l, &e);
        if (r < 0)
                goto oom;
        return 0;
oom:
        entry_done(&e);
        return -ENOMEM;
}

static int find_bls(const char *boot_dir, List *l) {
        _cleanup_free_ char *dir = NULL;
        struct dirent **names = NULL;
        int n, r = 0;

        if (asprintf(&dir, "%s/loader/entries", boot_dir) < 0)
                return -ENOMEM;
        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : log_warning_errno(errno, "%s: cannot list: %m", dir);
        for (int i = 0; i < n; i++) {
                if (r >= 0 && endswith(names[i]->d_name, ".conf"))
                        r = parse_bls(boot_dir, dir, names[i]->d_name, l);
                free(names[i]);
        }
        free(names);
        return r == -ENOMEM ? r : 0;
}

/* Kernel version from an image file name, NULL if the name is not one of the known patterns. */
static char *image_kernel(const char *name) {
        static const struct {
                const char *prefix, *suffix;
        } patterns[] = {
                { "initrd.img-", "" },  /* Debian, Ubuntu */
                { "initramfs-", ".img" }, /* Fedora, RHEL, Arch */
                { "initrd-", "" },      /* SUSE */
        };

        if (strstr(name, "kdump") || endswith(name, ".old-dkms") || endswith(name, ".bak") ||
            endswith(name, "~"))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(patterns); i++) {
                size_t pl = strlen(patterns[i].prefix), sl = strlen(patterns[i].suffix), nl = strlen(name);

                if (nl > pl + sl && strneq(name, patterns[i].prefix, pl) && endswith(name, patterns[i].suffix))
                        return strndup(name + pl, nl - pl - sl);
        }
        return NULL;
}

static int find_images(const char *boot_dir, List *l) {
        struct dirent **names = NULL;
        int n, r = 0;

        n = scandir(boot_dir, &names, NULL, alphasort);
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *kernel = NULL, *path = NULL;
                SdcBootEntry e = {};
                struct stat st;

                if (r < 0 || !(kernel = image_kernel(names[i]->d_name)))
                        goto next;
                if (asprintf(&path, "%s/%s", boot_dir, names[i]->d_name) < 0) {
                        r = -ENOMEM;
                        goto next;
                }
                /* Dangling links and directories are not images; a link to one is. */
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || list_has_image(l, path))
                        goto next;
                e.id = strdup(names[i]->d_name);
                e.kernel = TAKE_PTR(kernel);
                e.image = TAKE_PTR(path);
                if (!e.id || list_add(l, &e) < 0) {
                        entry_done(&e);
                        r = -ENOMEM;
                }
        next:
                free(names[i]);
        }
        free(names);
        return r;
}

int sdc_boot_entries_find(const char *boot_dir, SdcBootEntry **ret) {
        List l = {};
        int r;

        if (access(boot_dir, R_OK | X_OK) < 0)
                return -errno;
        r = find_bls(boot_dir, &l);
        if (r >= 0)
                r = find_images(boot_dir, &l);
        if (r < 0) {
                sdc_boot_entries_free(l.e, l.n);
                return r;
        }
        *ret = l.e;
        return (int) l.n;
}

void sdc_boot_entries_free(SdcBootEntry *entries, size_t n) {
        for (size_t i = 0; i < n; i++)
                entry_done(&entries[i]);
        free(entries);
}
