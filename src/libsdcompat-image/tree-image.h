/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An initramfs image as a tree (tree.h): the file system the kernel would unpack. */

#include "image.h"
#include "tree.h"

int sdc_tree_open_image(
        int dir_fd, const char *path, const SdcImageLimits *limits, SdcTree **ret, SdcImageError *ret_error);
/* The same over bytes the caller owns and keeps until sdc_tree_free() (an image's prefix);
 * description names it in messages. */
int sdc_tree_open_image_buffer(
        const uint8_t *data, size_t size, const char *description, const SdcImageLimits *limits,
        SdcTree **ret, SdcImageError *ret_error);

/* The image under a tree this file opened; NULL for any other tree (a directory). */
const SdcImage *sdc_tree_image(const SdcTree *t);
