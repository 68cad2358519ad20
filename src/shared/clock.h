/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The time sdcompat writes into what it builds (a manifest's BUILD_TIME, an injected segment's
 * mtimes and INJECTED_AT): SOURCE_DATE_EPOCH when the environment sets it to a valid number of
 * seconds, as the reproducible-builds convention asks (dracut --reproducible honours it too), so
 * two runs on the same inputs give the same bytes; else the current time. */

#include <stdint.h>
#include <time.h>

time_t build_clock(void);

/* t as "YYYY-MM-DDTHH:MM:SSZ" in buf; "unknown" if it cannot be formatted. Returns buf. */
const char *format_rfc3339(time_t t, char buf[static 32]);

/* CLOCK_MONOTONIC in microseconds: for durations and deadlines within one run. */
uint64_t now_monotonic_usec(void);
