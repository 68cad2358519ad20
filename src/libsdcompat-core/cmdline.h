/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel command line as systemd reads it, so that sdcompat sees the options the initrd's and
 * the root's systemd will see.
 *
 * Splitting matches systemd's proc_cmdline_strv() (src/basic/proc-cmdline.c), which splits
 * /proc/cmdline with extract_first_word(EXTRACT_UNQUOTE|EXTRACT_RELAX|EXTRACT_RETAIN_ESCAPE):
 *   - words are separated by runs of space, tab, newline, carriage return;
 *   - double AND single quotes group, anywhere in a word, and are removed: foo="a b" is the one
 *     word `foo=a b`, 'x y' is `x y` (the kernel itself knows only double quotes);
 *   - an unterminated quote runs to the end of the line (RELAX);
 *   - backslashes are ordinary characters (RETAIN_ESCAPE): no escapes at all, as in the kernel.
 *     This is systemd v249 and later (systemd PR #19232). Older systemd took a backslash as an
 *     escape ("a\x20b" read as "ax20b"; bullseye's v247 does, test-cmdline.c shows it), and
 *     much older ones (v219's FOREACH_WORD_QUOTED) grouped quotes only at the start of a word:
 *     a command line with backslashes or mid-word quotes can read differently to an initrd's
 *     systemd and the root's. This function gives the v249+ reading.
 *
 * "--": the kernel stops parsing its own parameters at the first "--" word and hands the rest to
 * init as argv. systemd, however, reads /proc/cmdline, not its argv, and does NOT stop at "--":
 * proc_cmdline_strv() returns every word, and proc_cmdline_filter_pid1_args() (which does know
 * "--") is applied only inside containers, to PID 1's argv. systemd 252 on Debian 12 acts on
 * `-- systemd.mask=x.service` (tests/unit/test-cmdline.c checks this with systemd-debug-generator).
 * So sdc_cmdline_get() looks at every word, as systemd does, and sdc_cmdline_split() reports
 * where "--" was, for callers that need the kernel's view (which words the kernel parsed itself,
 * which it passed to init). */

#include <stddef.h>

/* Refuse anything longer: the kernel's COMMAND_LINE_SIZE is at most a few KiB, bootconfig adds
 * at most 32 KiB; anything longer is not a command line. */
#define SDC_CMDLINE_MAX (64u * 1024u)

/* Splits s into a NULL-terminated list of words (free with strv_free()). *ret_dashdash (may be
 * NULL) is the index of the first word after the first word that is exactly "--" (after quote
 * removal, as the kernel also strips quotes from `"--"`), which equals the number of words when
 * "--" is the last word; SIZE_MAX if there is no "--". -E2BIG if s is longer than
 * SDC_CMDLINE_MAX, -ENOMEM. */
int sdc_cmdline_split(const char *s, char ***ret_words, size_t *ret_dashdash /* SIZE_MAX if none */);

/* Looks key up in words. Keys compare like systemd's proc_cmdline_key_streq(): '-' and '_' are
 * the same character, so "systemd.unified-cgroup-hierarchy" finds "systemd.unified_cgroup_hierarchy".
 * Returns 1 if found, with *ret_value (may be NULL) pointing into words: the text after the first
 * '=' of the last occurrence, or NULL if the last occurrence is the bare word (`rd.sdcompat.debug`).
 * "Last occurrence wins" is proc_cmdline_parse()'s order, which most of PID 1's options follow;
 * systemd's proc_cmdline_get_key() differs in one corner: there a bare word after `key=value`
 * keeps the value. Returns 0 if not found (*ret_value = NULL), -EINVAL for an empty key.
 * Every word counts, including those after "--" (see above). The "rd." prefix is not special:
 * the caller asks for "rd.sdcompat.debug" or "sdcompat.debug" as it means. */
int sdc_cmdline_get(char *const *words, const char *key, const char **ret_value);

/* systemd's parse_boolean(): "1", "yes", "y", "true", "t", "on" → 1; "0", "no", "n", "false",
 * "f", "off" → 0 (case-insensitive, whole word); anything else, NULL included, → -EINVAL. A bare
 * option word means true; that is the caller's reading of a NULL value, not this function's. */
int sdc_parse_boolean(const char *v);
