/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The files sdcompat keeps of a boot's handoff in its run directory (/run/sdcompat, see
 * sdcompat.run(5)): how every one of them is written and read. /run crosses switch-root, so what
 * negotiate writes in the initramfs, the shim and `sdcompat status` read in the root. */

#include <stddef.h>
#include <stdio.h>

#define SDC_RUN_FILE_MAX (1u << 20) /* no run file is read past 1 MiB */

/* dir/name, written atomically by fill (a temporary file beside it, fsync, rename: fileio.h), so a
 * reader sees the old file or the complete new one, never half of it. A warning naming the file
 * when it cannot be. 0 or negative errno. */
int sdc_run_file_write(const char *dir, const char *name, unsigned mode, int (*fill)(FILE *f, const void *userdata),
                       const void *userdata);

/* dir/name, whole: its path in *ret_path, its bytes NUL-terminated in *ret_data (and their number
 * in *ret_size, may be NULL). -ENOENT when there is none, -EFBIG past SDC_RUN_FILE_MAX, or the
 * error of open/read. */
int sdc_run_file_read(const char *dir, const char *name, char **ret_path, char **ret_data, size_t *ret_size);
