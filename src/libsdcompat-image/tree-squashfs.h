/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A squashfs file system held in memory as a tree (tree.h), read with libsquashfs: the root image
 * of dracut's squash modules. Compiled only where libsquashfs is (HAVE_SQUASHFS). */

#include <stddef.h>
#include <stdint.h>

#include "tree.h"

/* data (size bytes) stays the caller's and must outlive the tree; description names it in
 * messages. A file system that cannot be opened (truncated, no superblock, an unknown compression,
 * a damaged root) is -EBADMSG, -ENOMEM aside, with message (message_size bytes) saying why. */
int sdc_tree_open_squashfs(const uint8_t *data, size_t size, const char *description, SdcTree **ret, char *message,
                           size_t message_size);
