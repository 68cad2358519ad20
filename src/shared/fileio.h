/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdint.h>

/* Reads a whole (small) file relative to dir_fd into a NUL-terminated buffer. -EFBIG if it is
 * larger than max_size. Used for /proc files and configuration, never for images. */
int read_full_file_at(int dir_fd, const char *path, size_t max_size, char **ret, size_t *ret_size);
/* The same from an open descriptor, from its offset to the end. */
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);
/* Opens PATH (relative to dir_fd, symlinks followed) for reading only if it is a regular file:
 * without blocking on a FIFO or a device (O_NONBLOCK, then fstat). A descriptor, -EISDIR for a
 * directory, -EBADFD for anything else that is not a regular file, or -errno. */
int open_regular_at(int dir_fd, const char *path);
/* The same into *buf of *allocated bytes (NULL and 0 at first), grown with realloc() as needed and
 * kept by the caller for the next file: many small files read with one allocation. */
int read_full_fd_into(int fd, size_t max_size, char **buf, size_t *allocated, size_t *ret_size);

/* Calls cb on every entry of the open directory fd from its current position ("." and ".." left
 * out) with its name and d_type (DT_UNKNOWN where the file system does not say), reading with
 * getdents64() into a buffer on the stack: no DIR and no allocation. Stops at the first cb that
 * returns non-zero and returns that; 0 at the end; negative errno (-EBADF for an O_PATH fd). */
typedef int (*DirEntryFunc)(const char *name, unsigned char type, void *userdata);
int dir_foreach(int fd, DirEntryFunc cb, void *userdata);

/* One read() (offset < 0) or pread() at offset, retried on EINTR: the bytes read (0 at the end)
 * or negative errno. */
ssize_t read_retry(int fd, void *buf, size_t n, off_t offset);

/* write() until all of data is written, retrying on EINTR. 0 or negative errno. */
int loop_write(int fd, const void *data, size_t size);

/* Writes data to dir_fd/path atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory. The file is either the old one or the complete new one. Its mode is
 * exactly mode (the umask does not apply). */
int write_file_atomic_at(int dir_fd, const char *path, const void *data, size_t size, unsigned mode);

/* The same for a copy of what src_fd holds from its offset to its end (an executable: mode is
 * applied as given, not through the umask). */
int copy_file_atomic_at(int src_fd, int dir_fd, const char *path, unsigned mode);

/* The same for what fill() prints to f (a stream on the temporary file); fill returns 0 or negative
 * errno, and a write error of the stream fails the whole. */
int write_file_atomic_stream_at(int dir_fd, const char *path, unsigned mode, int (*fill)(FILE *f, const void *userdata),
                                const void *userdata);

/* mkdir -p: creates path and its missing parents; existing directories are fine. */
int mkdir_p(const char *path, unsigned mode);

/* Parses "123", "4K", "1M", "2G" (binary multiples) into bytes. -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t *ret);
