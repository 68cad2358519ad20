/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* systemd versions as they are found in the wild:
 *   "219", "219-78.el7_9.9", "252.39-1~deb12u2", "257.13", "258~rc2", "v261", "258-rc2",
 *   "systemd 252 (252.39-1~deb12u2)" (the first line of `systemd --version`).
 * Ordering: upstream major, then pre-releases before the release, then the stable point
 * release, then the distribution's revision (dpkg's ordering; RHEL dist tags such as ".el7_9"
 * are dropped first so that "78.el7_9.2" compares as "78.2"). */

#include <stdbool.h>
#include <stddef.h>

typedef enum SdcDistroFamily {
        SDC_DISTRO_NONE,   /* no distribution revision */
        SDC_DISTRO_DEBIAN, /* "-1~deb12u2", "-7+deb11u5", "-1~bpo12+1", "-1" */
        SDC_DISTRO_RHEL,   /* "-78.el7_9.9" */
        SDC_DISTRO_OTHER,
} SdcDistroFamily;

typedef struct SdcVersion {
        unsigned major;     /* 252 */
        unsigned point;     /* 39 in 252.39; 0 if none */
        bool has_point;
        unsigned rc;        /* 2 in 258~rc2; 0 for a release */
        bool prerelease;    /* ~rcN, -rcN, ~devel */
        char revision[64];  /* distribution revision as written: "1~deb12u2", "78.el7_9.9"; "" if none */
        char release[64];   /* revision normalised for comparison: "78.9" for "78.el7_9.9" */
        SdcDistroFamily family;
        char text[128];     /* the version as parsed, e.g. "252.39-1~deb12u2" */
} SdcVersion;

/* Parses s into *ret. -EINVAL if s holds no systemd version. Surrounding whitespace is ignored;
 * longer than 255 bytes, or a number above 99999, is junk. In the "systemd N (...)" form the
 * parenthesised version is used when it parses and has major N, else N alone. text is the version
 * without a leading "v" or the "systemd N (...)" wrapping. */
int sdc_version_parse(const char *s, SdcVersion *ret);

/* <0, 0, >0 like strcmp. A missing revision sorts first. Two revisions (their release fields) are
 * compared only when both are of the same family, or when either is written bare numeric ("70",
 * "78.2": a boundary as rules write it); otherwise they compare equal. */
int sdc_version_compare(const SdcVersion *a, const SdcVersion *b);

/* dpkg's version-part comparison (letters < non-letters, '~' before everything, digits numeric).
 * Returns -1, 0 or 1; NULL counts as "". */
int sdc_verrevcmp(const char *a, const char *b);

const char *sdc_distro_family_to_string(SdcDistroFamily f);

/* A distribution as a tree's files name it, and its release. */
typedef struct SdcDistroFacts {
        char id[32]; /* "rhel" (RHEL and rebuilds), "debian" (Debian and derivatives), another
                      * os-release ID as written, or "" when the tree says nothing */
        char release[32]; /* "7.8": major.minor as the distribution numbers it; "" if unknown */
        const char *source; /* static string: which file said it */
} SdcDistroFacts;

/* Fills *ret from the os-release fields and redhat-release's first line (each may be NULL).
 * RHEL and its rebuilds: ID=rhel, or "rhel" among ID_LIKE, or a redhat-release file; the release
 * is redhat-release's "release X.Y", else VERSION_ID when it has a minor ("7.8"; CentOS writes
 * "7"). An initramfs built by dracut has os-release = initrd-release with ID=dracut: there the
 * distribution is the PRETTY_NAME's ("Red Hat Enterprise Linux Server 7.7 (Maipo) dracut-033-...")
 * and the release VERSION's first word. Debian: ID=debian or "debian" among ID_LIKE. */
void sdc_distro_from_os_release(
        const char *id, const char *id_like, const char *version_id, const char *version,
        const char *pretty_name, const char *redhat_release, SdcDistroFacts *ret);
