/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "alloc.h"
#include "macro.h"
#include "state.h"
#include "strv.h"

/* systemd strips " \t\n\r" from both ends of every line it reads (strstrip(), read_stripped_line()),
 * so a line of blanks is an end marker to it and must be one to us. */
static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *strip(const char *p, size_t len, size_t *ret_len) {
        while (len > 0 && is_blank(*p))
                p++, len--;
        while (len > 0 && is_blank(p[len - 1]))
                len--;
        *ret_len = len;
        return p;
}

/* The newlines of the stream, in order. Lines average 25-35 bytes, and one memchr() call per line
 * (290,000 for a 10,000-unit stream) spent more on starting than on searching: with SSE2 (every
 * x86-64), the newlines of 64 bytes at a time become the bits of one mask, and each line takes a
 * count of trailing zeros. Elsewhere memchr() per line. Never reads past data + size. */
typedef struct NewlineScan {
        const char *data;
        size_t size;
        size_t block, end; /* mask describes data[block, end), at most 64 bytes */
        uint64_t mask;     /* bit i: data[block + i] is a newline */
} NewlineScan;

#if defined(__SSE2__)
static uint64_t newline_mask(const char *p, size_t n) {
        uint64_t m = 0;

        if (n >= 64) {
                const __m128i nl = _mm_set1_epi8('\n');

                for (unsigned i = 0; i < 4; i++) {
                        __m128i v = _mm_loadu_si128((const __m128i *) (const void *) (p + 16 * i));

                        m |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) << (16 * i);
                }
                return m;
        }
        for (size_t i = 0; i < n; i++)
                if (p[i] == '\n')
                        m |= UINT64_C(1) << i;
        return m;
}
#endif

/* The first newline at or after data + from (from never decreases from call to call), or NULL. */
static const char *next_newline(NewlineScan *sc, size_t from) {
#if defined(__SSE2__)
        for (;;) {
                if (from < sc->end) {
                        unsigned shift = (unsigned) (from - sc->block); /* below 64 */
                        uint64_t m = sc->mask >> shift << shift;

                        if (m)
                                return sc->data + sc->block + (size_t) __builtin_ctzll(m);
                        from = sc->end;
                }
                if (from >= sc->size)
                        return NULL;
                /* the next 64 bytes from here, wherever that is: unaligned loads */
                sc->block = from;
                sc->end = from + MIN((size_t) 64, sc->size - from);
                sc->mask = newline_mask(sc->data + from, sc->end - from);
        }
#else
        return from < sc->size ? memchr(sc->data + from, '\n', sc->size - from) : NULL;
#endif
}

/* The line records of a large stream (a 10,000-unit one has 290,000 lines, 3.5 MiB of records) are
 * fresh memory that the shim, as PID 1, would otherwise fault in one page at a time. */
static SdcStateLine *alloc_lines(size_t n) {
        if (n > SIZE_MAX / sizeof(SdcStateLine))
                return NULL;
        return malloc_large(n * sizeof(SdcStateLine));
}

size_t sdc_state_lines_estimate(size_t size) {
        /* Real streams average 25-35 bytes a line: sized for that, the array is rarely grown, and
         * the stream is read once (counting its lines first would read it twice). */
        return size / 24 + 16;
}

int sdc_state_parse(const char *data, size_t size, SdcState *ret) {
        return sdc_state_parse_in(data, size, NULL, 0, ret);
}

int sdc_state_parse_in(const char *data, size_t size, SdcStateLine *lines, size_t room, SdcState *ret) {
        SdcState s = { .data = data, .size = size, .lines = lines, .lines_borrowed = true };
        enum { IN_HEADER, WANT_UNIT, IN_UNIT, IN_JOB } where = IN_HEADER;
        size_t allocated = room;

        _Static_assert(SDC_STATE_SIZE_MAX < UINT32_MAX, "line offsets are 32 bits");
        if (size > SDC_STATE_SIZE_MAX)
                return -EFBIG;
        if (!lines || room == 0) {
                allocated = sdc_state_lines_estimate(size);
                s.lines = alloc_lines(allocated);
                if (!s.lines)
                        return -ENOMEM;
                s.lines_borrowed = false;
        }

        NewlineScan scan = { .data = data, .size = size };

        for (size_t off = 0; off < size;) {
                const char *nl = next_newline(&scan, off), *stripped;
                SdcStateLine *l;
                size_t n;
                bool end;

                if (s.n_lines == allocated) {
                        /* never beyond one line per byte (and one without a newline): hostile
                         * input gets no more memory than an exact count would give it; a line
                         * takes a byte at least, so this always grows */
                        size_t more = MIN(allocated * 2, size + 1);
                        SdcStateLine *p = s.lines_borrowed ? malloc(more * sizeof(SdcStateLine))
                                                           : realloc(s.lines, more * sizeof(SdcStateLine));

                        if (!p) {
                                if (!s.lines_borrowed)
                                        free(s.lines);
                                return -ENOMEM;
                        }
                        if (s.lines_borrowed)
                                memcpy(p, s.lines, s.n_lines * sizeof(SdcStateLine));
                        s.lines = p;
                        s.lines_borrowed = false;
                        allocated = more;
                }
                l = &s.lines[s.n_lines++];

                /* every field set: the array is not cleared beforehand */
                *l = (SdcStateLine) {
                        .offset = (uint32_t) off,
                        .length = (uint32_t) (nl ? (size_t) (nl - (data + off)) : size - off),
                        .newline = nl != NULL,
                };
                off += l->length + (nl ? 1 : 0);
                s.longest = MAX(s.longest, (size_t) l->length);
                /* stripped once: "end" and "job" are what is left of it */
                stripped = strip(data + l->offset, l->length, &n);
                end = n == 0;

                switch (where) {
                case IN_HEADER:
                        if (end) {
                                l->kind = SDC_STATE_HEADER_END;
                                s.header_complete = true;
                                where = WANT_UNIT;
                        } else
                                l->kind = SDC_STATE_HEADER_ITEM;
                        break;
                case WANT_UNIT:
                        /* An empty name is what the reader does too: it fails to load "" and skips
                         * to the next end marker, i.e. this line is a section of its own. */
                        l->kind = SDC_STATE_UNIT_NAME;
                        s.n_units++;
                        where = end ? WANT_UNIT : IN_UNIT;
                        break;
                case IN_UNIT:
                        if (end) {
                                l->kind = SDC_STATE_UNIT_END;
                                where = WANT_UNIT;
                        } else if (n == STRLEN("job") && memcmp(stripped, "job", n) == 0) {
                                l->kind = SDC_STATE_JOB_BEGIN;
                                where = IN_JOB;
                        } else
                                l->kind = SDC_STATE_UNIT_ITEM;
                        break;
                case IN_JOB:
                        if (end) {
                                l->kind = SDC_STATE_JOB_END;
                                where = IN_UNIT;
                        } else
                                l->kind = SDC_STATE_JOB_ITEM;
                        break;
                }
        }
        *ret = s;
        return 0;
}

void sdc_state_done(SdcState *s) {
        if (!s->lines_borrowed)
                free(s->lines);
        *s = (SdcState) {};
}

int sdc_state_write_runs(const SdcState *s, int (*emit)(const char *p, size_t n, void *userdata), void *userdata) {
        size_t start = 0, end = 0; /* the run being collected: data[start, end) */

        /* Lines are contiguous in the buffer, so consecutive kept lines are one run. */
        for (size_t i = 0; i < s->n_lines; i++) {
                const SdcStateLine *l = &s->lines[i];
                int r;

                if (l->dropped)
                        continue;
                if (l->offset != end) {
                        if (end > start && (r = emit(s->data + start, end - start, userdata)) < 0)
                                return r;
                        start = l->offset;
                }
                end = (size_t) l->offset + l->length + (l->newline ? 1 : 0);
        }
        if (end > start) {
                int r = emit(s->data + start, end - start, userdata);

                if (r < 0)
                        return r;
        }
        return 0;
}

typedef struct Buffer {
        char *p;
        size_t n;
} Buffer;

static int append(const char *p, size_t n, void *userdata) {
        Buffer *b = userdata;

        memcpy(b->p + b->n, p, n);
        b->n += n;
        return 0;
}

int sdc_state_write(const SdcState *s, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = malloc(s->size + 1);
        Buffer b = { .p = buf };

        if (!buf)
                return -ENOMEM;
        (void) sdc_state_write_runs(s, append, &b);
        buf[b.n] = 0;
        *ret_size = b.n;
        *ret = TAKE_PTR(buf);
        return 0;
}

const char *sdc_state_header_value(const SdcState *s, const char *key, size_t *ret_len) {
        size_t k = strlen(key);

        for (size_t i = 0; i < s->n_lines && s->lines[i].kind == SDC_STATE_HEADER_ITEM; i++) {
                const SdcStateLine *l = &s->lines[i];
                size_t len;
                const char *p = strip(s->data + l->offset, l->length, &len);

                if (l->dropped || len <= k || memcmp(p, key, k) != 0 || p[k] != '=')
                        continue;
                *ret_len = len - k - 1;
                return p + k + 1;
        }
        *ret_len = 0;
        return NULL;
}

const char *sdc_state_unit_name(const SdcState *s, size_t line, size_t *ret_len) {
        const SdcStateLine *l = &s->lines[line];

        return strip(s->data + l->offset, l->length, ret_len);
}

/* A section runs from its UNIT_NAME line to the next one: every line after the header is in the
 * section named last. */
static void drop_unit_from(SdcState *s, size_t first) {
        size_t i = first;

        do
                s->lines[i++].dropped = true;
        while (i < s->n_lines && s->lines[i].kind != SDC_STATE_UNIT_NAME);
}

size_t sdc_state_drop_units(SdcState *s, bool (*drop)(const char *name, size_t len, void *userdata), void *userdata) {
        /* The names lie some 800 bytes apart in a buffer the parse went through long before: each
         * would be a cache miss (1 ms of CPU for bench/shim's 10,000 units), unless asked for this
         * many lines (some ten sections) ahead. */
        const size_t ahead = 256;
        size_t dropped = 0;

        for (size_t i = 0; i < s->n_lines; i++) {
                const char *name;
                size_t len;

                if (i + ahead < s->n_lines && s->lines[i + ahead].kind == SDC_STATE_UNIT_NAME)
                        __builtin_prefetch(s->data + s->lines[i + ahead].offset);
                if (s->lines[i].kind != SDC_STATE_UNIT_NAME || s->lines[i].dropped)
                        continue;
                name = sdc_state_unit_name(s, i, &len);
                if (len == 0 || !drop(name, len, userdata))
                        continue;
                drop_unit_from(s, i);
                dropped++;
        }
        return dropped;
}

size_t sdc_state_drop_long_lines(SdcState *s, size_t max) {
        size_t dropped = 0;

        /* the parse measured every line: no walk when none is that long (the usual case) */
        if (s->longest <= max)
                return 0;
        for (size_t i = 0; i < s->n_lines; i++) {
                SdcStateLine *l = &s->lines[i];

                if (l->dropped || l->length <= max)
                        continue;
                if (l->kind == SDC_STATE_UNIT_NAME) {
                        drop_unit_from(s, i);
                        dropped++;
                        continue;
                }
                /* End markers and "job" lines are short once stripped, but not necessarily as
                 * written: the reader splits by bytes, so a long blank line is dropped too. Dropping
                 * an end marker would merge sections, so such a line is replaced by nothing only
                 * when it is an item. */
                if (l->kind == SDC_STATE_HEADER_ITEM || l->kind == SDC_STATE_UNIT_ITEM || l->kind == SDC_STATE_JOB_ITEM) {
                        l->dropped = true;
                        dropped++;
                }
        }
        return dropped;
}

bool sdc_unit_type_known(const char *name, size_t len, unsigned target_major) {
        static const struct {
                const char *suffix;
                size_t len;
                unsigned until; /* first major that no longer has it; 0: still there */
        } types[] = {
#define TYPE(s, until) { s, STRLEN(s), until }
                TYPE(".service", 0), TYPE(".socket", 0), TYPE(".target", 0),     TYPE(".device", 0),
                TYPE(".mount", 0),   TYPE(".automount", 0), TYPE(".swap", 0),    TYPE(".timer", 0),
                TYPE(".path", 0),    TYPE(".slice", 0),  TYPE(".scope", 0),      TYPE(".snapshot", 228),
                TYPE(".busname", 235),
#undef TYPE
        };
        /* The type is what follows the last dot (no suffix has another), and something must come
         * before it: found once per name, not searched for each type (10,000 names in
         * bench/shim's stream). */
        const char *dot = memrchr(name, '.', len);
        size_t n;

        if (!dot || dot == name)
                return false;
        n = len - (size_t) (dot - name);
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (n == types[i].len && memcmp(dot, types[i].suffix, n) == 0)
                        return types[i].until == 0 || target_major < types[i].until;
        return false;
}

bool sdc_unit_is_mount(const char *name, size_t len) {
        /* a bare ".mount" names no unit */
        return (len > STRLEN(".mount") && endswith_n(name, len, ".mount")) ||
               (len > STRLEN(".automount") && endswith_n(name, len, ".automount"));
}
