/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "version.h"

/* Anything longer is not a version string but something else read by mistake (a whole binary
 * section, a file): refusing it keeps every buffer below fixed-size. */
#define VERSION_INPUT_MAX 255
/* systemd numbers its releases in the hundreds; anything this large is junk, and the bound keeps
 * the arithmetic far from overflow. */
#define VERSION_NUMBER_MAX 99999u

/* Locale-independent character classes: versions are ASCII, and isalpha() would follow the
 * process's locale. */
static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);

        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A run of decimal digits at *p, advanced past it. At least one digit, at most VERSION_NUMBER_MAX. */
static int parse_number(const char **p, unsigned *ret) {
        const char *s = *p;
        unsigned v = 0;

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                v = v * 10 + (unsigned) (*s - '0');
                if (v > VERSION_NUMBER_MAX)
                        return -EINVAL;
        }
        *p = s;
        *ret = v;
        return 0;
}

/* Distribution revisions are Debian revisions ("1~deb12u2", "0ubuntu3.24"), RPM releases
 * ("78.el7_9.9", "1.fc41") or build suffixes ("1-arch"): letters, digits and a little punctuation. */
static bool revision_valid(const char *s) {
        if (*s == '\0')
                return false;
        for (; *s; s++)
                if (!is_digit(*s) && !is_alpha(*s) && !strchr(".+~_-", *s))
                        return false;
        return true;
}

/* The RHEL dist tag in an RPM release: ".el" digits, optionally "_" digits (".el7", ".el7_9",
 * ".el8_10"). Returns its start and stores its length, or NULL. */
static const char *find_rhel_tag(const char *s, size_t *ret_len) {
        for (const char *t = strstr(s, ".el"); t; t = strstr(t + 1, ".el")) {
                const char *e = t + 3;

                if (!is_digit(*e))
                        continue;
                while (is_digit(*e))
                        e++;
                if (e[0] == '_' && is_digit(e[1])) {
                        e++;
                        while (is_digit(*e))
                                e++;
                }
                *ret_len = (size_t) (e - t);
                return t;
        }
        return NULL;
}

/* "~deb12u2", "+deb11u5", "~bpo12+1": Debian's stable-update and backport markers. */
static bool has_debian_marker(const char *s) {
        static const char *const markers[] = { "~deb", "+deb", "~bpo", "+bpo" };

        if (strstr(s, "ubuntu"))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(markers); i++)
                for (const char *t = strstr(s, markers[i]); t; t = strstr(t + 1, markers[i]))
                        if (is_digit(t[4]))
                                return true;
        return false;
}

/* A revision of digits, dots, '+' and '~' only ("1", "2.1", "1+b1" excepted) is what Debian's
 * packaging writes for a first upload; no other family we know writes that bare. */
static bool is_plain_debian_revision(const char *s) {
        if (!is_digit(*s))
                return false;
        for (; *s; s++) {
                if (s[0] == '+' && s[1] == 'b' && is_digit(s[2])) { /* binNMU: "1+b1" */
                        s++;
                        continue;
                }
                if (!is_digit(*s) && !strchr(".+~", *s))
                        return false;
        }
        return true;
}

/* Digits and dots only: a revision written without any distribution marker ("70", "78.2"), as
 * rules write RHEL's boundaries. Such a revision is comparable with any family's. */
static bool is_bare_numeric(const char *s) {
        if (!is_digit(*s))
                return false;
        for (; *s; s++)
                if (!is_digit(*s) && *s != '.')
                        return false;
        return true;
}

static void classify_revision(SdcVersion *v) {
        const char *tag;
        size_t tag_len;

        if (v->revision[0] == '\0') {
                v->family = SDC_DISTRO_NONE;
                return;
        }

        /* The dist tag names the build target, not an ordering step: 219-78.el7_9.2 and a rule's
         * "219-78.2" must compare equal, so the tag is cut out ("78.el7_9.9" → "78.9"). */
        tag = find_rhel_tag(v->revision, &tag_len);
        if (tag) {
                size_t head = (size_t) (tag - v->revision);

                memcpy(v->release, v->revision, head);
                strcpy(v->release + head, tag + tag_len);
                v->family = SDC_DISTRO_RHEL;
                return;
        }

        strcpy(v->release, v->revision);
        if (has_debian_marker(v->revision) || is_plain_debian_revision(v->revision))
                v->family = SDC_DISTRO_DEBIAN;
        else
                v->family = SDC_DISTRO_OTHER;
}

/* The version proper, s without surrounding whitespace:
 *   ["v"] MAJOR [ "." POINT | ("~"|"-") "rc" N | "~devel" ] [ "-" REVISION ]
 * A point release never carries an rc: systemd tags rcs of majors only. */
static int parse_plain(const char *s, SdcVersion *ret) {
        SdcVersion v = {};
        const char *p, *q;
        int r;

        if (*s == 'v')
                s++;
        p = s;

        r = parse_number(&p, &v.major);
        if (r < 0)
                return r;
        if (v.major == 0)
                return -EINVAL;

        if (*p == '.') {
                p++;
                r = parse_number(&p, &v.point);
                if (r < 0)
                        return r;
                v.has_point = true;
        } else if ((*p == '~' || *p == '-') && (q = startswith(p + 1, "rc"))) {
                /* "258-rc" without a number would otherwise read as release 258 with revision
                 * "rc": a pre-release mistaken for the release is the worse error. */
                p = q;
                r = parse_number(&p, &v.rc);
                if (r < 0)
                        return r;
                if (v.rc == 0)
                        return -EINVAL;
                v.prerelease = true;
        } else if (*p == '~' && (q = startswith(p + 1, "devel"))) {
                p = q;
                v.prerelease = true; /* rc stays 0: development snapshots precede rc1 */
        }

        if (*p == '-') {
                p++;
                if (!revision_valid(p) || strlen(p) >= sizeof(v.revision))
                        return -EINVAL;
                strcpy(v.revision, p);
        } else if (*p != '\0')
                return -EINVAL;

        if (strlen(s) >= sizeof(v.text))
                return -EINVAL;
        strcpy(v.text, s);
        classify_revision(&v);

        *ret = v;
        return 0;
}

/* "systemd 252 (252.39-1~deb12u2)" or "systemd 219": the first line of `systemd --version` and the
 * string compiled into the binary. The parenthesised part is the full version (with the
 * distribution's revision) on most builds, but a git describe string or a vendor's free text on
 * others: it is used only when it parses and names the same major, else the major alone stands. */
static int parse_banner(const char *s, SdcVersion *ret) {
        const char *p = s, *digits;
        unsigned major;
        size_t n;
        char buf[VERSION_INPUT_MAX + 1];
        int r;

        while (is_space(*p))
                p++;
        n = strspn(p, "0123456789");
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, p, n);
        buf[n] = '\0';
        p += n;

        digits = buf;
        r = parse_number(&digits, &major);
        if (r < 0)
                return r;

        while (is_space(*p))
                p++;
        if (*p == '\0')
                return parse_plain(buf, ret);
        if (*p != '(')
                return -EINVAL;
        p++;

        n = strlen(p);
        if (n == 0 || p[n - 1] != ')')
                return -EINVAL;

        SdcVersion full;
        memcpy(buf, p, n - 1);
        buf[n - 1] = '\0';
        if (parse_plain(buf, &full) >= 0 && full.major == major) {
                *ret = full;
                return 0;
        }

        (void) snprintf(buf, sizeof(buf), "%u", major);
        return parse_plain(buf, ret);
}

int sdc_version_parse(const char *s, SdcVersion *ret) {
        char buf[VERSION_INPUT_MAX + 1];
        const char *p;
        size_t n;

        if (!s || !ret)
                return -EINVAL;

        n = strnlen(s, VERSION_INPUT_MAX + 1);
        if (n > VERSION_INPUT_MAX)
                return -EINVAL;

        /* Trim surrounding whitespace: the banner comes with its newline. */
        while (n > 0 && is_space(*s))
                s++, n--;
        while (n > 0 && is_space(s[n - 1]))
                n--;
        if (n == 0)
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';

        p = startswith(buf, "systemd");
        if (p && is_space(*p))
                return parse_banner(p, ret);
        return parse_plain(buf, ret);
}

static int cmp_unsigned(unsigned a, unsigned b) {
        return (a > b) - (a < b);
}

int sdc_version_compare(const SdcVersion *a, const SdcVersion *b) {
        bool ra, rb;
        int c;

        c = cmp_unsigned(a->major, b->major);
        if (c != 0)
                return c;

        /* 258~rc2 < 258: every pre-release of a major precedes its release and its point releases. */
        if (a->prerelease != b->prerelease)
                return a->prerelease ? -1 : 1;
        if (a->prerelease) {
                c = cmp_unsigned(a->rc, b->rc);
                if (c != 0)
                        return c;
        }

        c = cmp_unsigned(a->point, b->point);
        if (c != 0)
                return c;

        ra = a->revision[0] != '\0';
        rb = b->revision[0] != '\0';
        if (!ra || !rb)
                return (int) ra - (int) rb;

        /* Debian's "1~deb12u2" and RHEL's "78.el7_9.9" count in different currencies; only a
         * revision written bare ("70", as rules write boundaries) is meaningful against either. */
        if (a->family != b->family && !is_bare_numeric(a->revision) && !is_bare_numeric(b->revision))
                return 0;

        return sdc_verrevcmp(a->release, b->release);
}

/* The weight of one non-digit character in dpkg's ordering: '~' below the end of the string,
 * the end below letters, letters below every other character. */
static int char_order(char c) {
        if (c == '\0' || is_digit(c))
                return 0;
        if (c == '~')
                return -1;
        if (is_alpha(c))
                return (unsigned char) c;
        return (unsigned char) c + 256;
}

/* dpkg's verrevcmp() (lib/dpkg/version.c), written anew: the strings alternate between non-digit
 * runs, compared character by character with char_order(), and digit runs, compared as numbers of
 * any length (leading zeros ignored, then the longer run is larger, then the first difference). */
int sdc_verrevcmp(const char *a, const char *b) {
        if (!a)
                a = "";
        if (!b)
                b = "";

        while (*a || *b) {
                int first_diff = 0;

                while ((*a && !is_digit(*a)) || (*b && !is_digit(*b))) {
                        int ac = char_order(*a), bc = char_order(*b);

                        if (ac != bc)
                                return ac < bc ? -1 : 1;
                        a++;
                        b++;
                }

                while (*a == '0')
                        a++;
                while (*b == '0')
                        b++;
                while (is_digit(*a) && is_digit(*b)) {
                        if (first_diff == 0)
                                first_diff = *a - *b;
                        a++;
                        b++;
                }
                if (is_digit(*a))
                        return 1;
                if (is_digit(*b))
                        return -1;
                if (first_diff != 0)
                        return first_diff < 0 ? -1 : 1;
        }
        return 0;
}

const char *sdc_distro_family_to_string(SdcDistroFamily f) {
        switch (f) {
        case SDC_DISTRO_NONE:
                return "none";
        case SDC_DISTRO_DEBIAN:
                return "debian";
        case SDC_DISTRO_RHEL:
                return "rhel";
        case SDC_DISTRO_OTHER:
                return "other";
        }
        return NULL;
}

/* word among the blank-separated words of list. */
static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; p && *p;) {
                size_t l;

                while (is_space(*p))
                        p++;
                l = strcspn(p, " \t\n");
                if (l == n && strncmp(p, word, n) == 0)
                        return true;
                p += l;
        }
        return false;
}

/* "7.8", "7.8.2003", "7.8 (Maipo)": major.minor into ret. False when s does not start with both. */
static bool major_minor(const char *s, char *ret, size_t size) {
        const char *p = s;
        unsigned a, b;

        if (!s || parse_number(&p, &a) < 0 || *p != '.')
                return false;
        p++;
        if (parse_number(&p, &b) < 0)
                return false;
        (void)snprintf(ret, size, "%u.%u", a, b);
        return true;
}

static bool starts_with_any(const char *s, const char *const *prefixes, size_t n) {
        for (size_t i = 0; s && i < n; i++)
                if (startswith(s, prefixes[i]))
                        return true;
        return false;
}

void sdc_distro_from_os_release(
        const char *id, const char *id_like, const char *version_id, const char *version,
        const char *pretty_name, const char *redhat_release, SdcDistroFacts *ret) {
        /* The distributions whose VERSION_ID is RHEL's own numbering ("7.8"); a rebuild that only
         * names rhel in ID_LIKE numbers its releases its own way (Amazon Linux 2: VERSION_ID="2"). */
        static const char *const rhel_numbered[] = { "rhel", "centos", "ol", "scientific" };
        static const char *const rhel_names[] = { "Red Hat Enterprise Linux", "CentOS", "Oracle Linux",
                                                  "Scientific Linux" };
        SdcDistroFacts d = {};
        bool numbered = false;
        const char *r;

        for (size_t i = 0; id && i < ELEMENTSOF(rhel_numbered); i++)
                if (strcmp(id, rhel_numbered[i]) == 0)
                        numbered = true;

        if (id && strcmp(id, "dracut") == 0 &&
            starts_with_any(pretty_name, rhel_names, ELEMENTSOF(rhel_names))) {
                /* dracut's initrd-release: VERSION is the host's VERSION and " dracut-NNN". */
                strcpy(d.id, "rhel");
                d.source = "initrd-release PRETTY_NAME";
                if (major_minor(version, d.release, sizeof(d.release)))
                        d.source = "initrd-release VERSION";
        } else if (numbered || has_word(id_like, "rhel") || redhat_release) {
                strcpy(d.id, "rhel");
                d.source = numbered      ? "os-release ID"
                        : redhat_release ? "redhat-release"
                                         : "os-release ID_LIKE";
                r = redhat_release ? strstr(redhat_release, " release ") : NULL;
                if (r && major_minor(r + STRLEN(" release "), d.release, sizeof(d.release)))
                        d.source = "redhat-release";
                else if (numbered && major_minor(version_id, d.release, sizeof(d.release)))
                        d.source = "os-release VERSION_ID";
        } else if (
                (id && strcmp(id, "debian") == 0) || has_word(id_like, "debian") ||
                (id && strcmp(id, "dracut") == 0 && pretty_name && startswith(pretty_name, "Debian"))) {
                strcpy(d.id, "debian");
                d.source = "os-release";
                if (version_id && strlen(version_id) < sizeof(d.release) && id && strcmp(id, "debian") == 0)
                        strcpy(d.release, version_id);
        } else if (id && id[0]) {
                (void)snprintf(d.id, sizeof(d.id), "%s", id);
                d.source = "os-release ID";
        }
        *ret = d;
}
