/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "envfile.h"
#include "clock.h"
#include "manifest.h"

/* v254 passes --deserialize first; v250–v253 put the kernel's words first (H5) unless the build
 * carries the fix (Debian from 252.39, as the rules say); older ones pass only their own. */
static const char *argv_style(const SdcVersion *v) {
        if (v->major >= 254)
                return "deserialize-first";
        if (v->major >= 250) {
                if (v->family == SDC_DISTRO_DEBIAN && v->major == 252 && v->point >= 39)
                        return "deserialize-first";
                return "kernel-args-first";
        }
        return "switched-root-first";
}

int sdc_manifest_from_facts(const SdcTreeFacts *f, const char *kernel, const char *dracut_version, SdcManifest *ret) {
        SdcManifest m = { .format = SDC_MANIFEST_VERSION, .switch_root_via_systemctl = SDC_TRI_UNKNOWN };
        char now[32];

        (void) format_rfc3339(build_clock(), now);

        if (strdup_to(&m.sdcompat_version, PACKAGE_VERSION) < 0 || strdup_to(&m.build_time, now) < 0 ||
            strdup_to(&m.dracut_version, dracut_version ?: f->dracut_version) < 0 ||
            strdup_to(&m.kernel_version, kernel) < 0)
                goto oom;
        if (f->runs_systemd) {
                if ((f->systemd.has_version && strdup_to(&m.systemd_version, f->systemd.version.text) < 0) ||
                    strdup_to(&m.systemd_binary, f->systemd.binary) < 0 ||
                    strdup_to(&m.systemd_exec_path, f->systemd.compiled_binary_path) < 0 ||
                    strdup_to(&m.default_hierarchy, f->systemd.default_hierarchy) < 0 ||
                    (f->systemd.has_version && strdup_to(&m.switch_root_argv, argv_style(&f->systemd.version)) < 0))
                        goto oom;
                m.switch_root_via_systemctl = f->switch_root_via_systemctl;
        }
        sdc_manifest_set_implemented_actions(&m);
        *ret = m;
        return 0;
oom:
        sdc_manifest_done(&m);
        return -ENOMEM;
}

void sdc_manifest_set_implemented_actions(SdcManifest *m) {
        /* Every action of the catalogue: negotiate applies the drop-in itself, sdcompat-shim the
         * rest (negotiate falls back to the stock handoff where the shim cannot run). */
        for (int a = 0; a < _SDC_ACTION_MAX; a++)
                m->actions[a] = true;
}

int sdc_manifest_format(const SdcManifest *m, char **ret) {
        _cleanup_free_ char *actions = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        fprintf(f, "# Written by %s; see sdcompat.manifest(5).\n",
                m->injected_at ? "sdcompat-inject into an existing initramfs" : "sdcompat record when this initramfs was built");
        fprintf(f, "SDCOMPAT_MANIFEST_VERSION=%u\n", m->format);
        sdc_envfile_put(f, "SDCOMPAT_VERSION", m->sdcompat_version);
        sdc_envfile_put(f, "BUILD_TIME", m->build_time);
        fprintf(f, "INITRD_RUNS_SYSTEMD=%s\n", m->systemd_binary ? "yes" : "no");
        sdc_envfile_put(f, "INITRD_SYSTEMD_VERSION", m->systemd_version);
        sdc_envfile_put(f, "INITRD_SYSTEMD_BINARY", m->systemd_binary);
        sdc_envfile_put(f, "INITRD_SYSTEMD_EXEC_PATH", m->systemd_exec_path);
        sdc_envfile_put(f, "INITRD_SWITCH_ROOT_ARGV", m->switch_root_argv);
        if (m->switch_root_via_systemctl >= 0)
                fprintf(f, "INITRD_SWITCH_ROOT_VIA_SYSTEMCTL=%s\n", m->switch_root_via_systemctl ? "yes" : "no");
        sdc_envfile_put(f, "INITRD_DEFAULT_HIERARCHY", m->default_hierarchy);
        sdc_envfile_put(f, "DRACUT_VERSION", m->dracut_version);
        sdc_envfile_put(f, "KERNEL_VERSION", m->kernel_version);
        sdc_envfile_put(f, "INJECTED_AT", m->injected_at);
        if (sdc_actions_format(m->actions, &actions) < 0) {
                fclose(f);
                free(buf);
                return -ENOMEM;
        }
        sdc_envfile_put(f, "ACTIONS", actions);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

typedef struct ParseCtx {
        SdcManifest *m;
        int r;
        bool have_format;
} ParseCtx;

static int take(char **dst, const char *value) {
        free(*dst);
        *dst = strdup(value);
        return *dst ? 0 : -ENOMEM;
}

static int on_assignment(const char *key, const char *value, unsigned line, void *userdata) {
        ParseCtx *c = userdata;
        SdcManifest *m = c->m;
        int r = 0;

        if (streq(key, "SDCOMPAT_MANIFEST_VERSION")) {
                char *end;
                unsigned long v = strtoul(value, &end, 10);
                if (*end || end == value || v == 0 || v > 1000)
                        return 0;
                m->format = (unsigned) v;
                c->have_format = true;
        } else if (streq(key, "SDCOMPAT_VERSION"))
                r = take(&m->sdcompat_version, value);
        else if (streq(key, "BUILD_TIME"))
                r = take(&m->build_time, value);
        else if (streq(key, "INITRD_SYSTEMD_VERSION"))
                r = take(&m->systemd_version, value);
        else if (streq(key, "INITRD_SYSTEMD_BINARY"))
                r = take(&m->systemd_binary, value);
        else if (streq(key, "INITRD_SYSTEMD_EXEC_PATH"))
                r = take(&m->systemd_exec_path, value);
        else if (streq(key, "INITRD_SWITCH_ROOT_ARGV"))
                r = take(&m->switch_root_argv, value);
        else if (streq(key, "INITRD_SWITCH_ROOT_VIA_SYSTEMCTL"))
                m->switch_root_via_systemctl = streq(value, "yes") ? SDC_TRI_YES : streq(value, "no") ? SDC_TRI_NO : SDC_TRI_UNKNOWN;
        else if (streq(key, "INITRD_DEFAULT_HIERARCHY"))
                r = take(&m->default_hierarchy, value);
        else if (streq(key, "DRACUT_VERSION"))
                r = take(&m->dracut_version, value);
        else if (streq(key, "KERNEL_VERSION"))
                r = take(&m->kernel_version, value);
        else if (streq(key, "INJECTED_AT"))
                r = take(&m->injected_at, value);
        else if (streq(key, "ACTIONS"))
                r = sdc_actions_parse(value, m->actions) < 0 ? -ENOMEM : 0; /* unknown actions: ignored */
        /* Unknown keys: ignored, so that newer manifests stay readable. */
        (void) line;
        if (r < 0)
                c->r = r;
        return r;
}

int sdc_manifest_parse(const char *data, size_t size, SdcManifest *ret) {
        SdcManifest m = { .switch_root_via_systemctl = SDC_TRI_UNKNOWN };
        ParseCtx c = { .m = &m };
        unsigned bad = 0;
        int r;

        r = sdc_envfile_parse(data, size, on_assignment, &c, &bad);
        if (c.r < 0 || (r < 0 && r != -EBADMSG)) {
                sdc_manifest_done(&m);
                return c.r < 0 ? c.r : r;
        }
        if (!c.have_format) {
                sdc_manifest_done(&m);
                return -EBADMSG;
        }
        *ret = m;
        return 0;
}

void sdc_manifest_done(SdcManifest *m) {
        free(m->sdcompat_version);
        free(m->build_time);
        free(m->systemd_version);
        free(m->systemd_binary);
        free(m->systemd_exec_path);
        free(m->switch_root_argv);
        free(m->default_hierarchy);
        free(m->dracut_version);
        free(m->kernel_version);
        free(m->injected_at);
        *m = (SdcManifest) { .switch_root_via_systemctl = SDC_TRI_UNKNOWN };
}

int sdc_manifest_read(SdcTree *t, SdcManifest *ret) {
        SdcBlob b = {};
        int r;

        r = sdc_tree_read(t, SDC_MANIFEST_PATH, 1 << 20, &b);
        if (r < 0)
                return r == -ENOTDIR ? -ENOENT : r;
        r = sdc_manifest_parse((const char *) b.data, b.size, ret);
        sdc_blob_done(&b);
        return r;
}
