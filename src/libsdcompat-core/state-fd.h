/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The state stream on the descriptor systemd passes with --deserialize=FD: read without moving the
 * descriptor's offset, and handed on either compacted in place in that same descriptor or in a new
 * memfd. sdcompat-shim's I/O around the pure parser of state.h, in a library so that the unit tests
 * run it on real descriptors. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "state.h"

/* The stream as read: data[0] is at file position start, where systemd left the offset. */
typedef struct SdcStateInput {
        char *data;  /* size bytes and a NUL; owned */
        size_t size;
        off_t start;
        /* Room for n_lines line records in the same allocation, for sdc_state_parse_in(); NULL
         * and 0 when the size was not known beforehand. */
        SdcStateLine *lines;
        size_t n_lines;
} SdcStateInput;

/* Reads fd from its offset to EOF, without moving the offset: after a failure the descriptor can
 * be handed on as it came. -EFBIG beyond SDC_STATE_SIZE_MAX; -ESPIPE for a pipe (it cannot be
 * read without being consumed). */
int sdc_state_read_fd(int fd, SdcStateInput *ret);
void sdc_state_input_done(SdcStateInput *in);

/* Whether a line of the stream in fd, from its offset on, is longer than max bytes (without its
 * newline), read in small pieces without moving the offset: 1 (stops at the first), 0 if none, or
 * negative errno. *ret_size is how much was read. Lets the shim hand a stream on without copying
 * it into fresh memory when the only transform asked for is shim-fold-lines and it would drop
 * nothing. */
int sdc_state_fd_has_long_line(int fd, size_t max, size_t *ret_size);

/* A new descriptor (a memfd; an unlinked file in /run before Linux 3.17) holding the stream
 * without its dropped lines, at offset 0, close-on-exec. Returns it, or negative errno. */
int sdc_state_new_fd(const SdcState *st, size_t *ret_size);

/* 0 when fd may be compacted in place, else why not, as the write would fail: -ESPIPE not a
 * regular file, -EBADF not opened for reading and writing, -EINVAL opened O_APPEND (pwrite()
 * would append), -EPERM sealed against writing or shrinking (F_GET_SEALS). */
int sdc_state_fd_compactable(int fd);

/* Test-only failures of sdc_state_compact_fd() (rd.sdcompat.fault=compact and =restore). */
typedef enum SdcStateFault {
        SDC_STATE_FAULT_NONE = 0,
        SDC_STATE_FAULT_COMPACT = 1 << 0, /* fails once every run is written, before the truncate */
        SDC_STATE_FAULT_RESTORE = 1 << 1, /* the restore after a failed write fails too */
} SdcStateFault;

/* Writes st's kept lines over the stream in fd, which in holds as read by sdc_state_read_fd() and
 * st was parsed from (st->data == in->data): only from the first dropped line on, then truncates
 * after them. The offset stays where it was. The output is never longer than the input, so no
 * byte is written before it was read. Checks sdc_state_fd_compactable() first and returns its
 * error with the descriptor untouched.
 *
 * On a failure after the first write, the original bytes are written back from in (and the size
 * restored): the descriptor holds the original stream again, and the error is returned with
 * *ret_lost = false. If even that fails, *ret_lost = true: the descriptor holds neither stream
 * and must not be handed on. */
int sdc_state_compact_fd(int fd, const SdcStateInput *in, const SdcState *st, unsigned fault, size_t *ret_size,
                         bool *ret_lost);
