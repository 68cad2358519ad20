/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 (FIPS 180-4), small and dependency-free: sdcompat-inject records the original image's
 * digest in the segment it appends and checks it before --remove truncates. */

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE    (SHA256_DIGEST_SIZE * 2 + 1)

typedef struct Sha256 {
        uint32_t h[8];
        uint64_t length; /* bytes hashed so far */
        uint8_t block[64];
        size_t fill;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t size);
void sha256_final(Sha256 *s, uint8_t digest[SHA256_DIGEST_SIZE]);
/* One call for a whole buffer. */
void sha256(const void *data, size_t size, uint8_t digest[SHA256_DIGEST_SIZE]);
/* Lower-case hex, NUL-terminated. */
void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char hex[SHA256_HEX_SIZE]);
/* 0 and the digest, or -EINVAL if hex is not 64 hex digits. */
int sha256_from_hex(const char *hex, uint8_t digest[SHA256_DIGEST_SIZE]);
