/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "run-file.h"

int sdc_run_file_write(const char *dir, const char *name, unsigned mode, int (*fill)(FILE *f, const void *userdata),
                       const void *userdata) {
        _cleanup_free_ char *path = NULL;
        int r = asprintf(&path, "%s/%s", dir, name) < 0 ? -ENOMEM
                                                         : write_file_atomic_stream_at(AT_FDCWD, path, mode, fill, userdata);

        if (r < 0)
                log_warning_errno(r, "Cannot write %s/%s: %m", dir, name);
        return r;
}

int sdc_run_file_read(const char *dir, const char *name, char **ret_path, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, SDC_RUN_FILE_MAX, ret_data, ret_size);
        if (r < 0)
                return r;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}
