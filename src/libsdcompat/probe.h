/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a tree holds of systemd, found the same way in an initramfs image, a staging directory
 * and a mounted /sysroot: the one probe that record, negotiate, check and inject share. */

#include <stdbool.h>

#include "json.h"
#include "tree.h"
#include "tri.h"
#include "version.h"

typedef enum SdcTreeRole {
        SDC_ROLE_ROOT,   /* a root file system: its init is /sbin/init */
        SDC_ROLE_INITRD, /* an initramfs: the kernel runs /init */
} SdcTreeRole;

typedef struct SdcSystemdFacts {
        bool found;                 /* a systemd manager binary exists */
        char *binary;               /* canonical path in the tree: "/usr/lib/systemd/systemd" */
        char *shared_library;       /* canonical path of libsystemd-shared-NNN.so, if found */
        unsigned shared_major;      /* NNN of libsystemd-shared-NNN.so (0 if unknown) */
        bool has_version;
        SdcVersion version;         /* the most precise version found */
        char *version_source;       /* where the version came from, for the operator */
        char *features;             /* "+PAM +AUDIT ... default-hierarchy=unified" */
        char *default_hierarchy;    /* "unified", "hybrid", "legacy"; NULL if not in the features */
        char *compiled_binary_path; /* SYSTEMD_BINARY_PATH compiled into the binary: what PID 1
                                     * execs after switch-root ("/lib/systemd/systemd" on split-usr
                                     * builds); NULL if not found */
} SdcSystemdFacts;

typedef struct SdcTreeFacts {
        SdcTreeRole role;
        SdcSystemdFacts systemd;
        char *os_release_path;      /* canonical path of the os-release file read */
        char *os_id, *os_version_id, *os_pretty_name;
        char *os_id_like, *os_version; /* ID_LIKE= and VERSION= of that file */
        char *redhat_release; /* the first line of /etc/redhat-release, if there is one */
        /* The distribution as the tree's own files say it (SdcDistroFacts in version.h): "rhel"
         * for RHEL and its rebuilds (ID or ID_LIKE rhel, a redhat-release, or, in an initramfs,
         * the PRETTY_NAME RHEL's dracut writes), "debian" for Debian and its derivatives; its
         * release ("7.8") when a file names it. */
        SdcDistroFacts distro;
        char *package_db; /* "dpkg" when /var/lib/dpkg/status exists, "rpm" when only
                           * an RPM database exists (not readable here: Berkeley DB) */
        char *package_version; /* systemd's version in the dpkg database, if installed */
        bool is_initrd;             /* /etc/initrd-release exists */
        char *init;                 /* what /init (initrd) or /sbin/init (root) resolves to */
        bool init_is_script;
        bool runs_systemd;          /* the tree's init is the systemd manager */
        bool built_by_dracut;       /* the initrd-release says dracut made this image */
        char *dracut_version;       /* from that initrd-release; NULL if not recorded */
        char **kernel_versions;     /* directories in /usr/lib/modules */
        SdcTri usr_separate;        /* root: /etc/fstab mounts /usr (yes), does not (no), no fstab (unknown) */
        char *switch_root_exec;     /* initrd: the first ExecStart= of initrd-switch-root.service,
                                     * drop-ins applied; NULL if the unit is not there */
        SdcTri switch_root_via_systemctl; /* yes: that command is systemctl itself (which protects
                                     * itself from PID 1's SIGTERM spree since v233); no: another
                                     * program (a shell) runs it */
        char *systemctl; /* initrd: canonical path of systemctl, if found */
        SdcTri systemctl_ignores_sigterm; /* initrd: yes: systemctl carries the code that protects
                                        * switch-root from PID 1's SIGTERM spree (upstream v233,
                                        * RHEL 219-70: its message "Failed to change disposition of
                                        * SIGTERM to ignore" is in the binary); no: the binary was
                                        * read and has none; unknown: no systemctl or not readable */
        SdcTri sigterm_success; /* root: yes: initrd-switch-root.service, with its drop-ins as
                              * systemd loads them (/etc, /run, /usr/lib, /lib), has
                              * SuccessExitStatus=SIGTERM; no: it has not */
        char *sigterm_success_source; /* the file that says so */
        SdcTri spares_switch_root; /* root: yes: the manager carries RHEL's special case that counts
                                 * SIGTERM of initrd-switch-root.service as success (219-78.2,
                                 * backported to 7.7's z-stream): the unit's name is in its
                                 * strings, which upstream's manager never has; no: read, not
                                 * there */
        /* initrd: the file system image that /init mounts and switches into, which holds the
         * initramfs's real root, its systemd included (dracut's squash modules); NULL if none.
         * When it was read (root_image_read), every other fact is that root's, probed through the
         * same tree interface (sdc_tree_open_filesystem()); when not, the systemd facts above are
         * those of the archive only (none) and root_image_error says why. */
        char *root_image; /* "/squashfs-root.img" */
        const char *root_image_type; /* static: "squashfs", "erofs" */
        bool root_image_read;
        char *root_image_error; /* "no reader for erofs", "superblock: no squashfs magic" */
        SdcTri root_image_sdcompat; /* yes: dracut's modules.txt, which the squash module copies out
                                     * of the root image, lists sdcompat (dracut --add sdcompat put
                                     * it inside); no: it does not; unknown: no modules.txt */
        char **notes;               /* non-fatal findings worth showing ("libsystemd-shared not found") */
} SdcTreeFacts;

/* Probes t. Only errors that make the tree unreadable are returned; everything else that is
 * missing is a fact (found=false, NULL fields) or a note. */
int sdc_probe_tree(SdcTree *t, SdcTreeRole role, SdcTreeFacts *ret);
void sdc_tree_facts_done(SdcTreeFacts *f);

/* Writes facts as a JSON object named key (see sdcompat-check(8) for the schema). */
void sdc_tree_facts_to_json(JsonWriter *w, const char *key, const SdcTreeFacts *f);

/* Scans a binary's bytes for the version string systemd prints with --version, in the forms
 * used from v219 to today: "systemd 219\n+PAM ...", "systemd 247 (247.3-7+deb11u5)",
 * "%ssystemd 254%s (254.26-1~bpo12+1)". Returns 1 and fills *ret if found, 0 if not. */
int sdc_probe_scan_version(const uint8_t *data, size_t size, SdcVersion *ret);
/* The same, looking only for major (if > 0): much faster on a large library. */
int sdc_probe_scan_version_major(const uint8_t *data, size_t size, unsigned major, SdcVersion *ret);
/* Scans for the compile-time feature string ("+PAM +AUDIT ..."). 1 if found, 0 if not. */
int sdc_probe_scan_features(const uint8_t *data, size_t size, char **ret);
