/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one type of a fact that may be unknown: yes, no, or not known (the file was not there, the
 * binary could not be read). A value that is optional rather than unknowable ("has a version")
 * keeps a has_ flag beside it. */

#include <stdbool.h>

typedef enum SdcTri {
        SDC_TRI_UNKNOWN = -1,
        SDC_TRI_NO = 0,
        SDC_TRI_YES = 1,
} SdcTri;

static inline SdcTri tri_from_bool(bool b) {
        return b ? SDC_TRI_YES : SDC_TRI_NO;
}
