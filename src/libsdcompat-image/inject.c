/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"
#include "envfile.h"
#include "inject.h"

#define TRAILER_NAME "TRAILER!!!"
/* The trailer entry: a 110-byte header and "TRAILER!!!\0", padded to 124. */
#define TRAILER_SIZE 124u

static size_t align4(size_t n) {
        return (n + 3) & ~(size_t)3;
}

void sdc_inject_record_done(SdcInjectRecord *r) {
        free(r->sdcompat_version);
        free(r->injected_at);
        *r = (SdcInjectRecord){};
}

/* ---- record text ------------------------------------------------------------------------------ */

int sdc_inject_record_format(const SdcInjectRecord *rec, char **ret) {
        char orig[SHA256_HEX_SIZE], payload[SHA256_HEX_SIZE];
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        sha256_to_hex(rec->original_sha256, orig);
        sha256_to_hex(rec->payload_sha256, payload);
        fprintf(f, "# Written by sdcompat-inject: what --remove restores; see sdcompat-inject(8).\n");
        fprintf(f, "SDCOMPAT_INJECT_VERSION=%u\n", SDC_INJECT_RECORD_VERSION);
        sdc_envfile_put(f, "SDCOMPAT_VERSION", rec->sdcompat_version);
        sdc_envfile_put(f, "INJECTED_AT", rec->injected_at);
        fprintf(f, "ORIGINAL_SIZE=%" PRIu64 "\n", rec->original_size);
        fprintf(f, "ORIGINAL_SHA256=%s\n", orig);
        fprintf(f, "PAYLOAD_SHA256=%s\n", payload);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

typedef struct RecordParse {
        SdcInjectRecord *rec;
        bool have_format, have_size, have_orig, have_payload;
        int r;
} RecordParse;

static int set_string(char **dst, const char *v) {
        free(*dst);
        *dst = strdup(v);
        return *dst ? 0 : -ENOMEM;
}

static int on_record(const char *key, const char *value, unsigned line, void *userdata) {
        RecordParse *p = userdata;
        char *end;

        (void)line;
        if (streq(key, "SDCOMPAT_INJECT_VERSION")) {
                unsigned long v = strtoul(value, &end, 10);
                if (*end || end == value || v == 0 || v > 1000)
                        return 0;
                p->rec->format = (unsigned)v;
                p->have_format = true;
        } else if (streq(key, "ORIGINAL_SIZE")) {
                unsigned long long v;
                if (value[0] < '0' || value[0] > '9')
                        return 0;
                errno = 0;
                v = strtoull(value, &end, 10);
                if (*end || errno != 0)
                        return 0;
                p->rec->original_size = v;
                p->have_size = true;
        } else if (streq(key, "ORIGINAL_SHA256"))
                p->have_orig = sha256_from_hex(value, p->rec->original_sha256) >= 0;
        else if (streq(key, "PAYLOAD_SHA256"))
                p->have_payload = sha256_from_hex(value, p->rec->payload_sha256) >= 0;
        else if (streq(key, "SDCOMPAT_VERSION"))
                p->r = set_string(&p->rec->sdcompat_version, value);
        else if (streq(key, "INJECTED_AT"))
                p->r = set_string(&p->rec->injected_at, value);
        return p->r;
}

int sdc_inject_record_parse(const char *data, size_t size, SdcInjectRecord *ret) {
        SdcInjectRecord rec = {};
        RecordParse p = { .rec = &rec };
        int r;

        r = sdc_envfile_parse(data, size, on_record, &p, NULL);
        if (r == -ENOMEM || p.r < 0) {
                sdc_inject_record_done(&rec);
                return -ENOMEM;
        }
        /* Malformed lines (r == -EBADMSG) are tolerated as in the manifest: what matters is that
         * every key --remove needs is there and well-formed. */
        if (!p.have_format || !p.have_size || !p.have_orig || !p.have_payload) {
                sdc_inject_record_done(&rec);
                return -EBADMSG;
        }
        *ret = rec;
        return 0;
}

/* ---- finding the segment ---------------------------------------------------------------------- */

static int fail(char *reason, size_t reason_size, const char *fmt, ...) _printf_(3, 4);
static int fail(char *reason, size_t reason_size, const char *fmt, ...) {
        va_list ap;

        if (reason && reason_size > 0) {
                va_start(ap, fmt);
                (void)vsnprintf(reason, reason_size, fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

static bool name_is(const SdcCpioEntry *e, const char *name) {
        return e->name_len == strlen(name) && memcmp(e->name, name, e->name_len) == 0;
}

int sdc_inject_find(
        const uint8_t *data, size_t size, SdcInjectRecord *ret, char *reason, size_t reason_size) {
        const char *record_name = SDC_INJECT_RECORD_PATH + 1;
        SdcInjectRecord rec = {};
        SdcCpioEntry e;
        size_t next, trailer_at, record_at = 0, segment, pos;
        uint64_t entries = 0;
        bool found = false;
        int r;

        if (reason && reason_size > 0)
                reason[0] = 0;
        /* The last TRAILER_SIZE bytes: exactly a newc trailer entry, or this is no injected image. */
        if (size < TRAILER_SIZE + SDC_CPIO_HEADER_SIZE || (size & 3))
                return 0;
        trailer_at = size - TRAILER_SIZE;
        if (memcmp(data + trailer_at, "070701", 6) != 0 ||
            sdc_cpio_parse_entry(data + trailer_at, TRAILER_SIZE, &e, &next) != 1 || next != TRAILER_SIZE)
                return 0;

        /* The record entry ends where the trailer starts; it is at most a header, its name and
         * SDC_INJECT_RECORD_MAX bytes long. Try each 4-aligned start from the nearest on. */
        for (size_t back = align4(SDC_CPIO_HEADER_SIZE + strlen(record_name) + 1);
             back <= SDC_CPIO_HEADER_SIZE + 64 + SDC_INJECT_RECORD_MAX && back <= trailer_at; back += 4) {
                size_t at = trailer_at - back;

                if (memcmp(data + at, "070701", 6) != 0)
                        continue;
                if (sdc_cpio_parse_entry(data + at, back, &e, &next) != 0 || next != back ||
                    !name_is(&e, record_name))
                        continue;
                record_at = at;
                found = true;
                break;
        }
        if (!found)
                return 0;
        if (!S_ISREG(e.mode) || e.size == 0 || e.size > SDC_INJECT_RECORD_MAX)
                return fail(
                        reason, reason_size, "the injection record at byte %zu is not a small regular file",
                        record_at);
        r = sdc_inject_record_parse((const char *)e.data, e.size, &rec);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(
                        reason, reason_size,
                        "the injection record at byte %zu lacks a valid original size or digest", record_at);
        if (rec.format != SDC_INJECT_RECORD_VERSION) {
                sdc_inject_record_done(&rec);
                return fail(
                        reason, reason_size,
                        "the injection record at byte %zu has format %u, this sdcompat-inject reads %u",
                        record_at, rec.format, SDC_INJECT_RECORD_VERSION);
        }
        if (rec.original_size == 0 || rec.original_size > record_at) {
                uint64_t o = rec.original_size;
                sdc_inject_record_done(&rec);
                return fail(
                        reason, reason_size,
                        "the injection record claims an original of %" PRIu64
                        " bytes, which does not fit before it (byte %zu)",
                        o, record_at);
        }

        /* From where the original ends: its padding, then entries without a break up to the record. */
        segment = (size_t)rec.original_size + sdc_inject_padding(rec.original_size);
        for (size_t i = (size_t)rec.original_size; i < segment; i++)
                if (data[i] != 0) {
                        sdc_inject_record_done(&rec);
                        return fail(
                                reason, reason_size,
                                "non-zero byte %zu between the original image and the injected archive", i);
                }
        for (pos = segment; pos < record_at; pos += next) {
                char why[128] = "";

                r = sdc_cpio_parse_entry_reason(data + pos, record_at - pos, &e, &next, why, sizeof(why));
                if (r != 0) {
                        sdc_inject_record_done(&rec);
                        return fail(
                                reason, reason_size, "the injected archive is broken at byte %zu: %s", pos,
                                r == 1           ? "a trailer before the record"
                                        : why[0] ? why
                                                 : "not a cpio entry");
                }
                entries++;
        }
        if (pos != record_at) {
                sdc_inject_record_done(&rec);
                return fail(
                        reason, reason_size, "the injected archive's entries overrun the record at byte %zu",
                        record_at);
        }
        rec.segment_offset = segment;
        rec.payload_entries = entries;
        *ret = rec;
        return 1;
}

bool sdc_inject_prefix_matches(const uint8_t *data, size_t size, const SdcInjectRecord *rec) {
        uint8_t digest[SHA256_DIGEST_SIZE];

        if (rec->original_size > size)
                return false;
        sha256(data, (size_t)rec->original_size, digest);
        return memcmp(digest, rec->original_sha256, sizeof(digest)) == 0;
}

/* ---- writing ---------------------------------------------------------------------------------- */

void sdc_cpio_writer_init(SdcCpioWriter *w, uint32_t mtime) {
        *w = (SdcCpioWriter){ .next_ino = 1, .mtime = mtime };
        sha256_init(&w->payload);
}

void sdc_cpio_writer_done(SdcCpioWriter *w) {
        free(w->data);
        *w = (SdcCpioWriter){};
}

static int reserve(SdcCpioWriter *w, size_t more) {
        size_t want;
        uint8_t *p;

        if (w->size + more <= w->allocated)
                return 0;
        want = w->allocated ? w->allocated : 64 * 1024;
        while (want < w->size + more) {
                if (want > SIZE_MAX / 2)
                        return -ENOMEM;
                want *= 2;
        }
        p = realloc(w->data, want);
        if (!p)
                return -ENOMEM;
        w->data = p;
        w->allocated = want;
        return 0;
}

static int put_entry(
        SdcCpioWriter *w, const char *name, uint32_t mode, uint32_t nlink, const void *data, size_t size,
        bool payload) {
        char header[SDC_CPIO_HEADER_SIZE + 1];
        size_t name_size = strlen(name) + 1, start = w->size, total;
        int r;

        if (name_size > SDC_CPIO_NAME_MAX || size > UINT32_MAX)
                return -ENAMETOOLONG;
        total = align4(SDC_CPIO_HEADER_SIZE + name_size) + align4(size);
        r = reserve(w, total);
        if (r < 0)
                return r;
        (void)snprintf(
                header, sizeof(header), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                streq(name, TRAILER_NAME) ? 0 : w->next_ino++, mode, 0u, 0u, nlink,
                streq(name, TRAILER_NAME) ? 0 : w->mtime, (uint32_t)size, 0u, 0u, 0u, 0u,
                (uint32_t)name_size, 0u);
        memset(w->data + start, 0, total);
        memcpy(w->data + start, header, SDC_CPIO_HEADER_SIZE);
        memcpy(w->data + start + SDC_CPIO_HEADER_SIZE, name, name_size);
        if (size > 0)
                memcpy(w->data + start + align4(SDC_CPIO_HEADER_SIZE + name_size), data, size);
        w->size += total;
        if (payload) {
                /* What the payload is, not when it was packed: names, modes and contents. */
                uint32_t meta[2] = { mode, (uint32_t)size };
                sha256_update(&w->payload, name, name_size);
                sha256_update(&w->payload, meta, sizeof(meta));
                if (size > 0)
                        sha256_update(&w->payload, data, size);
        }
        return 0;
}

int sdc_cpio_writer_add(SdcCpioWriter *w, const char *name, uint32_t mode, const void *data, size_t size) {
        if (S_ISDIR(mode))
                return put_entry(w, name, mode, 2, NULL, 0, true);
        return put_entry(w, name, mode, 1, data, size, true);
}

void sdc_cpio_writer_payload_digest(const SdcCpioWriter *w, uint8_t digest[SHA256_DIGEST_SIZE]) {
        Sha256 copy = w->payload;
        sha256_final(&copy, digest);
}

int sdc_cpio_writer_finish(SdcCpioWriter *w, SdcInjectRecord *rec) {
        _cleanup_free_ char *text = NULL;
        int r;

        sdc_cpio_writer_payload_digest(w, rec->payload_sha256);
        r = sdc_inject_record_format(rec, &text);
        if (r < 0)
                return r;
        r = put_entry(w, SDC_INJECT_RECORD_PATH + 1, S_IFREG | 0644, 1, text, strlen(text), false);
        if (r < 0)
                return r;
        return put_entry(w, TRAILER_NAME, 0, 1, NULL, 0, false);
}
