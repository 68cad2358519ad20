/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* One newc/crc cpio header at a time, parsed in place: the entry's name and body point into the
 * caller's buffer. The rules are the kernel's (init/initramfs.c), made strict where the kernel is
 * lenient only by accident of its state machine: a header must be 13 fields of 8 hex digits, a name
 * must fit and end in NUL, and everything must lie inside the buffer. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"
#include "macro.h"

#define CPIO_MAGIC_LEN 6
#define CPIO_FIELDS    13
#define ALIGN4_U64(x)  (((x) + 3) & ~UINT64_C(3))

_printf_(4, 5) static int fail(int error, char *reason, size_t reason_size, const char *fmt, ...) {
        va_list ap;

        if (reason && reason_size > 0) {
                va_start(ap, fmt);
                (void) vsnprintf(reason, reason_size, fmt, ap);
                va_end(ap);
        }
        return error;
}

/* Eight hex digits, nothing else: the kernel's hex2bin() refuses what strtoul() would have let pass
 * (spaces, signs, "0x"), and so do we. */
static bool parse_hex8(const uint8_t *p, uint32_t *ret) {
        uint32_t v = 0;

        for (size_t i = 0; i < 8; i++) {
                int d = unhexchar((char) p[i]);
                if (d < 0)
                        return false;
                v = v << 4 | (uint32_t) d;
        }
        *ret = v;
        return true;
}

int sdc_cpio_parse_header_reason(
        const uint8_t *buf, size_t len, SdcCpioEntry *e, size_t *ret_next, char *reason, size_t reason_size) {

        static const char *const field_names[CPIO_FIELDS] = {
                "ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
                "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
        };
        uint32_t f[CPIO_FIELDS];
        size_t n = MIN(len, (size_t) CPIO_MAGIC_LEN);
        uint64_t body_offset, body_end, next;
        bool crc;

        /* Judge the magic on what there is, so that garbage is -EBADMSG even when it is short. */
        if (memcmp(buf, "070701", n) == 0 || memcmp(buf, "070702", n) == 0) {
                if (len < SDC_CPIO_HEADER_SIZE)
                        return fail(-ENODATA, reason, reason_size, "header cut short after %zu of %d bytes", len,
                                    SDC_CPIO_HEADER_SIZE);
        } else if (memcmp(buf, "070707", n) == 0)
                return fail(-EBADMSG, reason, reason_size,
                            "old portable (odc) cpio header: the kernel reads only newc and crc (cpio -H newc)");
        else
                return fail(-EBADMSG, reason, reason_size, "no cpio magic (070701 or 070702)");
        crc = buf[5] == '2';

        for (size_t i = 0; i < CPIO_FIELDS; i++)
                if (!parse_hex8(buf + CPIO_MAGIC_LEN + 8 * i, &f[i]))
                        return fail(-EBADMSG, reason, reason_size, "header field %s is not 8 hex digits",
                                    field_names[i]);

        *e = (SdcCpioEntry) {
                .ino = f[0],
                .mode = f[1],
                .uid = f[2],
                .gid = f[3],
                .nlink = f[4],
                .mtime = f[5],
                .size = f[6],
                .devmajor = f[7],
                .devminor = f[8],
                .rdevmajor = f[9],
                .rdevminor = f[10],
                .check = f[12],
        };
        /* f[11], namesize, counts the NUL. The kernel silently skips entries whose name it cannot hold;
         * for a reader that reports, that is a broken archive. */
        if (f[11] == 0)
                return fail(-EBADMSG, reason, reason_size, "name length 0");
        if (f[11] > SDC_CPIO_NAME_MAX)
                return fail(-EBADMSG, reason, reason_size, "name length %" PRIu32 " exceeds %d", f[11],
                            SDC_CPIO_NAME_MAX);
        if (SDC_CPIO_HEADER_SIZE + (size_t) f[11] > len)
                return fail(-ENODATA, reason, reason_size, "name of %" PRIu32 " bytes cut short", f[11]);
        e->name = (const char *) buf + SDC_CPIO_HEADER_SIZE;
        if (e->name[f[11] - 1] != '\0')
                return fail(-EBADMSG, reason, reason_size, "name is not NUL-terminated");
        /* The kernel uses the name as a C string: an embedded NUL ends it. */
        e->name_len = strlen(e->name);

        /* 64-bit arithmetic: with filesize up to 2^32-1 nothing here can wrap, even where size_t has
         * 32 bits. */
        body_offset = ALIGN4_U64((uint64_t) SDC_CPIO_HEADER_SIZE + f[11]);
        body_end = body_offset + e->size;
        next = ALIGN4_U64(body_end);
        if (next > len)
                return fail(-ENODATA, reason, reason_size,
                            "body of %zu bytes (with padding, up to byte %" PRIu64 ") cut short after %zu bytes",
                            e->size, next, len);
        e->data = buf + body_offset;
        e->crc = crc;
        *ret_next = (size_t) next;
        return strcmp(e->name, "TRAILER!!!") == 0;
}

/* The crc format's "checksum": the sum of the body's bytes, modulo 2^32, as the kernel computes it
 * while writing the file out. */
uint32_t sdc_cpio_checksum(uint32_t sum, const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                sum += p[i];
        return sum;
}

int sdc_cpio_checksum_reason(const SdcCpioEntry *e, uint32_t sum, char *reason, size_t reason_size) {
        if (sum != e->check)
                return fail(-EBADMSG, reason, reason_size,
                            "checksum 0x%08" PRIx32 " in the header does not match the body's 0x%08" PRIx32,
                            e->check, sum);
        return 0;
}

int sdc_cpio_parse_entry_reason(
        const uint8_t *buf, size_t len, SdcCpioEntry *e, size_t *ret_next, char *reason, size_t reason_size) {
        size_t next;
        int r;

        r = sdc_cpio_parse_header_reason(buf, len, e, &next, reason, reason_size);
        if (r < 0)
                return r;
        if (r == 0 && e->crc && S_ISREG(e->mode)) {
                r = sdc_cpio_checksum_reason(e, sdc_cpio_checksum(0, e->data, e->size), reason, reason_size);
                if (r < 0)
                        return r;
        }
        *ret_next = next;
        return r;
}

int sdc_cpio_parse_entry(const uint8_t *buf, size_t len, SdcCpioEntry *e, size_t *ret_next) {
        return sdc_cpio_parse_entry_reason(buf, len, e, ret_next, NULL, 0);
}
