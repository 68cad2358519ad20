/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The unit tests' whole framework: each test is a function; a failed check prints file:line and
 * the expression and aborts the program (meson reports the test as failed). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT_TRUE(expr)                                                                                     \
        do {                                                                                                  \
                if (!(expr)) {                                                                                \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr);          \
                        abort();                                                                              \
                }                                                                                             \
        } while (0)

#define ASSERT_EQ(a, b)                                                                                       \
        do {                                                                                                  \
                long long _a = (long long) (a), _b = (long long) (b);                                         \
                if (_a != _b) {                                                                               \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, \
                                _a, _b);                                                                      \
                        abort();                                                                              \
                }                                                                                             \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                                    \
        do {                                                                                                  \
                const char *_a = (a), *_b = (b);                                                              \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                                      \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, \
                                #b, _a ? _a : "(null)", _b ? _b : "(null)");                                  \
                        abort();                                                                              \
                }                                                                                             \
        } while (0)

/* Runs one test function and prints its name, so a failing test is easy to find in the log. */
#define TEST(fn)                                                                                              \
        do {                                                                                                  \
                fprintf(stderr, "== %s\n", #fn);                                                              \
                fn();                                                                                         \
        } while (0)
