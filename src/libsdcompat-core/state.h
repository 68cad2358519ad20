/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The state stream systemd's PID 1 hands to the next PID 1 at switch-root (--deserialize=FD):
 *
 *   key=value            manager header, one item per line
 *   ...
 *                        empty line: end of the header
 *   unit-name            then, per unit: its name,
 *   key=value            its items,
 *   job                  (a "job" line opens a subsection, never written on switch-root)
 *   key=value
 *                        empty line: end of the job
 *                        empty line: end of the unit
 *
 * The parser keeps every byte: a stream parsed and written without changes comes out identical,
 * whatever it holds (the shim must never damage what it does not understand). It classifies
 * lines the way every systemd reader since v219 walks them, so a transform can drop whole unit
 * sections or single items. Pure: no I/O. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Larger streams are refused (10,000 units take about 6 MiB; v240+ readers accept 1 MiB lines). */
#define SDC_STATE_SIZE_MAX ((size_t) 256 << 20)

/* fgets(line, LINE_MAX) in the readers of v219..v239: a line (with its newline) must fit in
 * 2047 bytes, else the reader splits it (hazard H10). */
#define SDC_STATE_OLD_READER_LINE_MAX 2046

typedef enum SdcStateLineKind {
        SDC_STATE_HEADER_ITEM,
        SDC_STATE_HEADER_END,
        SDC_STATE_UNIT_NAME,
        SDC_STATE_UNIT_ITEM,
        SDC_STATE_JOB_BEGIN,
        SDC_STATE_JOB_ITEM,
        SDC_STATE_JOB_END,
        SDC_STATE_UNIT_END,
} SdcStateLineKind;

/* 12 bytes: a 10,000-unit stream has some 290,000 lines, and every byte here is memory the shim
 * must fault in as PID 1 (32-bit offsets suffice: SDC_STATE_SIZE_MAX is below 4 GiB). A line's
 * unit section is the one named by the last UNIT_NAME line before it. */
typedef struct SdcStateLine {
        uint32_t offset;      /* into the buffer given to sdc_state_parse() */
        uint32_t length;      /* without the newline */
        SdcStateLineKind kind : 8;
        bool newline : 1;     /* false only for a last line without one */
        bool dropped : 1;
} SdcStateLine;

typedef struct SdcState {
        const char *data;     /* not owned */
        size_t size;
        SdcStateLine *lines;
        size_t n_lines;
        size_t n_units;
        size_t longest;       /* the length of the longest line, without its newline */
        bool header_complete; /* the header's empty line was seen */
        bool lines_borrowed;  /* lines is the caller's (sdc_state_parse_in()) */
} SdcState;

/* data must outlive the SdcState. -EFBIG beyond SDC_STATE_SIZE_MAX, -ENOMEM. Never fails on
 * content: a stream is a sequence of lines, and any sequence has a classification. */
int sdc_state_parse(const char *data, size_t size, SdcState *ret);
void sdc_state_done(SdcState *s);

/* How many line records sdc_state_parse() allocates first for a stream of size bytes. */
size_t sdc_state_lines_estimate(size_t size);

/* sdc_state_parse() with the line records in the caller's lines[0, room), which sdc_state_done()
 * leaves alone; a stream with more lines moves them to an allocation of its own. Lets the shim
 * put them in the huge pages its read buffer takes anyway (fresh memory is what its time goes
 * to, bench/README.md). lines NULL or room 0: sdc_state_parse(). */
int sdc_state_parse_in(const char *data, size_t size, SdcStateLine *lines, size_t room, SdcState *ret);

/* The stream without the dropped lines, in a new buffer (*ret_size bytes, NUL-terminated). */
int sdc_state_write(const SdcState *s, char **ret, size_t *ret_size);

/* The same stream as runs of the parsed buffer, in order: emit() gets each run of consecutive kept
 * lines, and their concatenation is what sdc_state_write() returns. Lets the caller write the
 * result where it goes without a second copy in memory. Stops at the first negative return of
 * emit() and returns it; 0 otherwise. */
int sdc_state_write_runs(const SdcState *s, int (*emit)(const char *p, size_t n, void *userdata), void *userdata);

/* The value of the first header item "key=", without the key; NULL if absent. *ret_len is set. */
const char *sdc_state_header_value(const SdcState *s, const char *key, size_t *ret_len);

/* The unit name of a UNIT_NAME line, stripped as systemd strips it; *ret_len is set. */
const char *sdc_state_unit_name(const SdcState *s, size_t line, size_t *ret_len);

/* Drops every section (name to end) whose unit name makes drop() return true. Returns how many. */
size_t sdc_state_drop_units(SdcState *s, bool (*drop)(const char *name, size_t len, void *userdata), void *userdata);

/* Drops every item line longer than max bytes; a unit name line that long drops its unit. Returns
 * how many lines went. The header and section structure stay intact: no empty line is created. */
size_t sdc_state_drop_long_lines(SdcState *s, size_t max);

/* A mount or automount unit's name (v249+ serializers leave these out on switch-root, H4). */
bool sdc_unit_is_mount(const char *name, size_t len);

/* Unit types a PID 1 of the given major version can load; the others make v233/v234 fail the
 * whole deserialization (H3): snapshot units went in v228, busname units in v235. */
bool sdc_unit_type_known(const char *name, size_t len, unsigned target_major);
