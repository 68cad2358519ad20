/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which sdcompat-shim `sdcompat negotiate` mounts: the image's, or the root's when the root's
 * sdcompat package is newer than the image (sdcompat(8), "The newer shim"). An image lives for
 * years; the root's package moves on, and with it the shim's knowledge of how to hand over.
 *
 * Trust: the root's shim (SDCOMPAT_SHIM_PATH inside the root) is as trusted as the root's systemd,
 * which the initramfs's PID 1 executes anyway, so using it opens no new trust boundary; the checks
 * are there so that a broken, truncated, foreign or half-installed file cannot become PID 1. The
 * file's version is read first, only to stop early (an equal or older shim, or a file without the
 * self-test, is never copied nor run); a newer one is copied into the run directory, and every check
 * after that is made on the copy, which is what is mounted: what is checked is what runs, and nothing
 * on the root changes. In order, and each failure ends in the image's shim with the reason in one
 * sentence:
 *   1. rd.sdcompat.shim=image on the kernel command line: the root's is not looked at;
 *   2. resolved inside the root (tree.h: a symlink cannot leave it); none there: the image's;
 *   3. a regular file owned by root, not writable by group or others, of at most SDC_SHIM_SIZE_MAX;
 *   4. the self-test head in the file (shim-self-test.h) names a version strictly newer than the
 *      image's, in dpkg's order (the ordinary root, with the image's own version, is done here);
 *   5. copied to RUN_DIR/sdcompat/root-shim (SDC_SHIM_ROOT_COPY); the copy names the same version;
 *   6. the copy is a static ELF program (no program interpreter, sdc_shim_not_static()) of this
 *      machine's ELF class, byte order and machine (those of the running program);
 *   7. `COPY --self-test=PLAN` runs as an ordinary process (no environment, its own process group,
 *      killed after the timeout): it exits 0, says the same version, PLAN=understood, and declares
 *      every action the plan names. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf-reader.h"
#include "plan-file.h"
#include "tree.h"

#define SDC_SHIM_SIZE_MAX               ((uint64_t) 16 << 20)
#define SDC_SHIM_ROOT_COPY              "root-shim"      /* in RUN_DIR/sdcompat */
#define SDC_SHIM_SELF_TEST_PLAN         "plan.self-test" /* in RUN_DIR/sdcompat, while the self-test runs */
#define SDC_SHIM_SELF_TEST_TIMEOUT_USEC ((uint64_t) 2000000)
#define SDC_SHIM_SELF_TEST_OUTPUT_MAX   4096

typedef struct SdcShimChoice {
        bool from_root;    /* the root's shim (its copy); else the image's */
        bool root_refused; /* the root has a shim and it failed a check: a warning, not a notice */
        char *path;        /* the file to mount */
        char *version;     /* its version */
        char *reason;      /* which shim and why, one sentence for the log and the record */
} SdcShimChoice;

typedef struct SdcShimSelect {
        SdcTree *root;             /* the root, a directory tree */
        const char *root_path;     /* its path, for messages ("/sysroot") */
        const char *shim_path;     /* where a shim is installed: SDCOMPAT_SHIM_PATH, in either tree */
        const char *image_version; /* the image's shim's: PACKAGE_VERSION, the same build as negotiate */
        const char *run_dir;       /* RUN_DIR/sdcompat: the copy and the self-test's plan go there */
        const SdcPlanFile *plan;   /* the plan as negotiate will write it: the self-test reads it */
        char *const *cmdline;      /* the kernel command line's words (rd.sdcompat.shim=) */
        uint64_t timeout_usec;     /* 0: SDC_SHIM_SELF_TEST_TIMEOUT_USEC */
} SdcShimSelect;

/* Fills *ret: the root's copy when it passed every check, else the image's shim (shim_path). Returns
 * 0, or -ENOMEM (*ret is then the image's, with as much of a reason as there was memory for). */
int sdc_shim_select(const SdcShimSelect *in, SdcShimChoice *ret);
void sdc_shim_choice_done(SdcShimChoice *c);

/* Kills a running self-test and its process group: async-signal-safe, for negotiate's deadline. */
void sdc_shim_self_test_abort(void);

/* Why the program at path cannot be PID 1 here (in buf); NULL if nothing says so. It cannot be read,
 * is no ELF program, or has a program interpreter: the loader runs after a successful execve(), as
 * PID 1, and its failure panics the kernel past every fallback. With want: also an ELF class, byte
 * order or machine other than want's. Only a static shim is ever mounted, the image's or the root's. */
const char *sdc_shim_not_static(const char *path, const SdcElfInfo *want, char *buf, size_t buf_size);

/* The version a shim's binary names after SDC_SHIM_SELF_TEST_HEAD (up to the newline): a new string
 * in *ret; -ENOENT when the bytes hold none (no self-test: an older shim, or another program). */
int sdc_shim_self_test_version(const uint8_t *data, size_t size, char **ret);

/* Whether a self-test's standard output (shim-self-test.h) says that the shim of that version
 * understands a plan naming actions: NULL if it does, else why not (a static string, or one written
 * into buf). */
const char *sdc_shim_self_test_verdict(const char *out, size_t size, const char *version,
                                       const bool actions[_SDC_ACTION_MAX], char *buf, size_t buf_size);
