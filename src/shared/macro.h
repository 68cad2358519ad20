/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small generic helpers in the spirit of systemd's macro.h: cleanup attributes so that every
 * resource has exactly one owner, and a few arithmetic helpers that refuse to overflow. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _unused_         __attribute__((unused))
#define _pure_           __attribute__((pure))
#define _printf_(a, b)   __attribute__((format(printf, a, b)))
#define _noreturn_       __attribute__((noreturn))
#define _warn_unused_    __attribute__((warn_unused_result))
#define _likely_(x)      __builtin_expect(!!(x), 1)
#define _unlikely_(x)    __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x)    (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))
#define ALIGN4(x)        (((x) + 3) & ~(size_t)3)
#define STRLEN(s)        (sizeof(s) - 1)
#define streq(a, b)      (strcmp((a), (b)) == 0)
#define strneq(a, b, n)  (strncmp((a), (b), (n)) == 0)
#define isempty(s)       (!(s) || (s)[0] == '\0')
#define strna(s)         ((s) ? (s) : "n/a")
#define strempty(s)      ((s) ? (s) : "")
#define yes_no(b)        ((b) ? "yes" : "no")

/* Returns the pointer and NULLs the variable: used to hand ownership out of a _cleanup_ scope. */
#define TAKE_PTR(p)                                                                                           \
        ({                                                                                                    \
                __typeof__(p) _p_ = (p);                                                                      \
                (p) = NULL;                                                                                   \
                _p_;                                                                                          \
        })
#define TAKE_FD(fd)                                                                                           \
        ({                                                                                                    \
                int _fd_ = (fd);                                                                              \
                (fd) = -1;                                                                                    \
                _fd_;                                                                                         \
        })

static inline void freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -1;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Overflow-checked size arithmetic: hostile headers carry sizes near SIZE_MAX. */
/* The value of one hex digit, either case; -1 for anything else (cpio headers, SHA-256 strings). */
static inline int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static inline bool size_add_ok(size_t a, size_t b, size_t *ret) {
        return !__builtin_add_overflow(a, b, ret);
}
static inline bool size_mul_ok(size_t a, size_t b, size_t *ret) {
        return !__builtin_mul_overflow(a, b, ret);
}

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                               \
        static inline void func##p(type *p) {                                                                 \
                if (*p)                                                                                       \
                        func(*p);                                                                             \
        }
