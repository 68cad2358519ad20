/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "envfile.h"
#include "macro.h"
#include "plan-file.h"
#include "run-file.h"

/* KEY=word, unquoted as version 1 always wrote its words; a value that is no plain word (one a
 * reader of another version gave us) quoted, so that what is written always reads back. */
static void put_word(FILE *f, const char *key, const char *value) {
        if (strspn(strempty(value), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+:-") ==
            strlen(strempty(value)))
                fprintf(f, "%s=%s\n", key, strempty(value));
        else
                sdc_envfile_put(f, key, value);
}

int sdc_plan_file_format(const SdcPlanFile *p, FILE *f) {
        _cleanup_free_ char *actions = NULL, *unavailable = NULL;

        if (sdc_actions_format(p->actions, &actions) < 0 || sdc_actions_format(p->unavailable, &unavailable) < 0)
                return -ENOMEM;
        /* Words (a mode, yes/no, a verdict, a number) unquoted, everything else quoted by the
         * envfile writer: the reader takes both. */
        fprintf(f, "# The handoff sdcompat negotiate prepared at this boot; see sdcompat(8).\n");
        fprintf(f, "SDCOMPAT_PLAN_VERSION=%u\n", SDC_PLAN_FILE_VERSION);
        put_word(f, "SDCOMPAT_VERSION", p->sdcompat_version);
        fprintf(f, "MODE=%s\nDISABLED=%s\nFORCED=%s\n", sdc_mode_to_string(p->mode), yes_no(p->disabled), yes_no(p->forced));
        put_word(f, "VERDICT", p->verdict);
        sdc_envfile_put(f, "INITRD_SYSTEMD_VERSION", strempty(p->initrd_systemd_version));
        sdc_envfile_put(f, "ROOT_SYSTEMD_VERSION", strempty(p->root_systemd_version));
        sdc_envfile_put(f, "HAZARDS", strempty(p->hazards));
        sdc_envfile_put(f, "ACTIONS", actions);
        sdc_envfile_put(f, "UNAVAILABLE", unavailable);
        fprintf(f, "DURATION_USEC=%" PRIu64 "\n", p->duration_usec);
        fprintf(f, "CATALOGUE=%s\nCATALOGUE_VERSION=%u\n", p->catalogue_from_root ? "root" : "initramfs",
                p->catalogue_version);
        fprintf(f, "ROOT_SYSTEMD_FUTURE=%s\n", p->root_systemd_future ? "yes" : "");
        sdc_envfile_put(f, "SHIM_TARGET", strempty(p->shim_target));
        sdc_envfile_put(f, "SHIM_NOTE", strempty(p->shim_note));
        put_word(f, "SHIM_FROM", p->shim_from);
        put_word(f, "SHIM_VERSION", p->shim_version);
        sdc_envfile_put(f, "SHIM_CHOICE", strempty(p->shim_choice));
        fprintf(f, "DEBUG=%s\n", yes_no(p->debug));
        sdc_envfile_put(f, "NOTE", strempty(p->note));
        sdc_envfile_put(f, "ERRORS", strempty(p->errors));
        return 0;
}

static int fill(FILE *f, const void *userdata) {
        return sdc_plan_file_format(userdata, f);
}

int sdc_plan_file_write(const char *dir, const SdcPlanFile *p) {
        return sdc_run_file_write(dir, SDC_PLAN_FILE_NAME, 0644, fill, p);
}

typedef struct ParseCtx {
        SdcPlanFile *p;
        bool have_format, have_mode;
        int error; /* the first value this reader cannot take: -EBADMSG, or -ENOMEM */
} ParseCtx;

/* An empty value is no value: the writer writes "" for what it does not have. */
static int take(char **dst, const char *value) {
        free(*dst);
        *dst = NULL;
        if (isempty(value))
                return 0;
        *dst = strdup(value);
        return *dst ? 0 : -ENOMEM;
}

static int take_bool(bool *dst, const char *value) {
        int b = isempty(value) ? 0 : sdc_parse_boolean(value);

        if (b < 0)
                return -EBADMSG;
        *dst = b;
        return 0;
}

static int take_uint(uint64_t *dst, uint64_t max, const char *value) {
        unsigned long long v;
        char *end;

        if (isempty(value)) {
                *dst = 0;
                return 0;
        }
        if (!strchr("0123456789", value[0]))
                return -EBADMSG;
        errno = 0;
        v = strtoull(value, &end, 10);
        if (errno != 0 || *end || v > max)
                return -EBADMSG;
        *dst = v;
        return 0;
}

static int on_assignment(const char *key, const char *value, unsigned line, void *userdata) {
        ParseCtx *c = userdata;
        SdcPlanFile *p = c->p;
        uint64_t u = 0;
        int r = 0;

        (void) line;
        if (streq(key, "SDCOMPAT_PLAN_VERSION")) {
                r = isempty(value) ? -EBADMSG : take_uint(&u, UINT32_MAX, value);
                p->format = (unsigned) u;
                c->have_format = r >= 0;
        } else if (streq(key, "SDCOMPAT_VERSION"))
                r = take(&p->sdcompat_version, value);
        else if (streq(key, "MODE")) {
                p->mode = sdc_mode_from_string(value);
                c->have_mode = p->mode >= 0;
                r = c->have_mode ? 0 : -EBADMSG;
        } else if (streq(key, "DISABLED"))
                r = take_bool(&p->disabled, value);
        else if (streq(key, "FORCED"))
                r = take_bool(&p->forced, value);
        else if (streq(key, "DEBUG"))
                r = take_bool(&p->debug, value);
        else if (streq(key, "VERDICT"))
                r = take(&p->verdict, value);
        else if (streq(key, "INITRD_SYSTEMD_VERSION"))
                r = take(&p->initrd_systemd_version, value);
        else if (streq(key, "ROOT_SYSTEMD_VERSION"))
                r = take(&p->root_systemd_version, value);
        else if (streq(key, "HAZARDS"))
                r = take(&p->hazards, value);
        else if (streq(key, "ACTIONS")) {
                r = sdc_actions_parse(value, p->actions);
                if (r > 0) {
                        p->unknown_actions += (unsigned) r;
                        r = 0;
                }
        }
        else if (streq(key, "UNAVAILABLE"))
                r = sdc_actions_parse(value, p->unavailable);
        else if (streq(key, "DURATION_USEC"))
                r = take_uint(&p->duration_usec, UINT64_MAX, value);
        else if (streq(key, "CATALOGUE")) {
                if (streq(value, "root") || streq(value, "initramfs"))
                        p->catalogue_from_root = streq(value, "root");
                else
                        r = -EBADMSG;
        } else if (streq(key, "CATALOGUE_VERSION")) {
                r = take_uint(&u, UINT32_MAX, value);
                p->catalogue_version = (unsigned) u;
        } else if (streq(key, "ROOT_SYSTEMD_FUTURE"))
                r = take_bool(&p->root_systemd_future, value);
        else if (streq(key, "SHIM_TARGET"))
                r = take(&p->shim_target, value);
        else if (streq(key, "SHIM_NOTE"))
                r = take(&p->shim_note, value);
        else if (streq(key, "SHIM_FROM")) {
                if (isempty(value) || streq(value, "root") || streq(value, "initramfs"))
                        r = take(&p->shim_from, value);
                else
                        r = -EBADMSG;
        } else if (streq(key, "SHIM_VERSION"))
                r = take(&p->shim_version, value);
        else if (streq(key, "SHIM_CHOICE"))
                r = take(&p->shim_choice, value);
        else if (streq(key, "NOTE"))
                r = take(&p->note, value);
        else if (streq(key, "ERRORS"))
                r = take(&p->errors, value);
        /* Other keys: a newer writer's, ignored (sdcompat.run(5)). */
        if (r == -ENOMEM)
                return r;
        if (r < 0 && c->error == 0)
                c->error = r;
        return 0;
}

int sdc_plan_file_parse(const char *data, size_t size, SdcPlanFile *ret, unsigned *ret_format) {
        SdcPlanFile p = { .mode = SDC_MODE_NATIVE };
        ParseCtx c = { .p = &p };
        int r;

        r = sdc_envfile_parse(data, size, on_assignment, &c, NULL);
        if (ret_format)
                *ret_format = c.have_format ? p.format : 0;
        /* The version first: a newer writer's values may mean what this reader cannot know. */
        if (r != -ENOMEM && c.have_format && (p.format < 1 || p.format > SDC_PLAN_FILE_VERSION))
                r = -EPROTONOSUPPORT;
        else if (r >= 0 && c.error < 0)
                r = c.error;
        else if (r >= 0 && (!c.have_format || !c.have_mode))
                r = -EBADMSG;
        if (r < 0) {
                sdc_plan_file_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

int sdc_plan_file_read(const char *dir, SdcPlanFile *ret, unsigned *ret_format, char **ret_path) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        if (ret_format)
                *ret_format = 0;
        r = sdc_run_file_read(dir, SDC_PLAN_FILE_NAME, ret_path, &data, &size);
        if (r < 0)
                return r;
        return sdc_plan_file_parse(data, size, ret, ret_format);
}

void sdc_plan_file_done(SdcPlanFile *p) {
        free(p->sdcompat_version);
        free(p->verdict);
        free(p->initrd_systemd_version);
        free(p->root_systemd_version);
        free(p->hazards);
        free(p->shim_target);
        free(p->shim_note);
        free(p->shim_from);
        free(p->shim_version);
        free(p->shim_choice);
        free(p->note);
        free(p->errors);
        *p = (SdcPlanFile) { .mode = SDC_MODE_NATIVE };
}
