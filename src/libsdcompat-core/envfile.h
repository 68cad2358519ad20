/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* KEY=value files: os-release(5) and sdcompat's own manifest.
 *
 * The format is the subset of shell assignments that os-release(5) allows, read literally:
 *   - one assignment per line; blank lines and lines whose first non-blank character is '#' are
 *     skipped; leading blanks are ignored; "\r\n" line ends are accepted;
 *   - KEY is [A-Za-z_][A-Za-z0-9_]*, followed directly by '=' (no blanks around '=');
 *   - the value is one of: empty; an unquoted word, taken literally up to the first blank (it
 *     may not contain quotes or backslashes); a 'single-quoted' string, taken literally; a
 *     "double-quoted" string in which \" \\ \$ \` stand for the second character and any other
 *     backslash stays as written (the shell's rule);
 *   - after the value only blanks, optionally followed by a '#' comment;
 *   - nothing is expanded: "$HOME" is the five characters $HOME (os-release(5) asks writers to
 *     escape $ and `, so a real file means them literally).
 * Lines that need the shell's word splitting, quote concatenation or unquoted escapes are
 * malformed rather than guessed at (FOO=a b runs b; FOO="a"b and FOO=a\ b would need the shell's
 * rules; FOO = x runs FOO). So are a line longer than SDC_ENVFILE_LINE_MAX, a NUL byte in a line,
 * and an unterminated quote: a value never spans lines. */

#include <stddef.h>
#include <stdio.h>

#define SDC_ENVFILE_LINE_MAX (64u * 1024u)

/* Called for each assignment in file order; line is 1-based. A negative return stops parsing and
 * is returned by sdc_envfile_parse(). */
typedef int (*SdcEnvfileFn)(const char *key, const char *value, unsigned line, void *userdata);

/* Parses size bytes at data (need not be NUL-terminated; the last line need not end in '\n').
 * Malformed lines never stop parsing: fn is called for every valid line of the whole file, and
 * then the function returns -EBADMSG with the 1-based number of the FIRST malformed line in
 * *ret_bad_line (may be NULL). So a reader that tolerates bad lines (the manifest: warn and go on)
 * treats -EBADMSG as a warning and keeps what fn collected; a strict reader discards it.
 * Returns 0 if every line was valid (*ret_bad_line = 0), fn's negative return, or -ENOMEM. */
int sdc_envfile_parse(const char *data, size_t size, SdcEnvfileFn fn, void *userdata, unsigned *ret_bad_line);

/* The value of the last valid assignment to key, as a new string in *ret. Malformed lines are
 * skipped as above. -ENOENT if key is not assigned, -ENOMEM. */
int sdc_envfile_get(const char *data, size_t size, const char *key, char **ret);

/* Writes KEY="value" and a newline, escaping what os-release(5) escapes inside double quotes
 * (\" \\ \$ \`); a newline in value becomes a space, so one assignment stays one line. Nothing
 * is written for a NULL value. The reader above reads back exactly value. */
void sdc_envfile_put(FILE *f, const char *key, const char *value);
