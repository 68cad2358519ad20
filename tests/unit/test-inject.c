/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* SHA-256 against the FIPS 180-4 examples, and the injected segment: written, found again from the
 * end of a file, and every way a damaged one is told apart from a good one. */

#include <sys/stat.h>

#include "inject.h"
#include "macro.h"
#include "sha256.h"
#include "tests.h"

static void hex_of(const void *data, size_t size, char out[SHA256_HEX_SIZE]) {
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256(data, size, d);
        sha256_to_hex(d, out);
}

static void test_sha256(void) {
        char hex[SHA256_HEX_SIZE];
        static char million[1000000];
        Sha256 s;
        uint8_t d[SHA256_DIGEST_SIZE], back[SHA256_DIGEST_SIZE];

        hex_of("", 0, hex);
        ASSERT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        hex_of("abc", 3, hex);
        ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
        ASSERT_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        memset(million, 'a', sizeof(million));
        /* In uneven pieces: the block buffering must not matter. */
        sha256_init(&s);
        for (size_t i = 0, step = 1; i < sizeof(million); i += step, step = step * 3 % 1000 + 1)
                sha256_update(&s, million + i, MIN(step, sizeof(million) - i));
        sha256_final(&s, d);
        sha256_to_hex(d, hex);
        ASSERT_STREQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        ASSERT_EQ(sha256_from_hex(hex, back), 0);
        ASSERT_TRUE(memcmp(back, d, sizeof(d)) == 0);
        ASSERT_EQ(sha256_from_hex("abc", back), -EINVAL);
}

/* An "image" of size n followed by an injected segment; returns the whole. */
static uint8_t *make_injected(size_t n, size_t *ret_size, SdcInjectRecord *ret_rec) {
        SdcCpioWriter w;
        SdcInjectRecord rec = { .format = SDC_INJECT_RECORD_VERSION, .original_size = n };
        uint8_t *buf;
        size_t pad = sdc_inject_padding(n);

        rec.sdcompat_version = strdup("0.1");
        rec.injected_at = strdup("2026-01-01T00:00:00Z");
        buf = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)(i * 7 + 1);
        sha256(buf, n, rec.original_sha256);
        sdc_cpio_writer_init(&w, 1000);
        ASSERT_EQ(sdc_cpio_writer_add(&w, "usr", S_IFDIR | 0755, NULL, 0), 0);
        ASSERT_EQ(sdc_cpio_writer_add(&w, "usr/bin/x", S_IFREG | 0755, "hello", 5), 0);
        ASSERT_EQ(sdc_cpio_writer_add(&w, "usr/bin/l", S_IFLNK | 0777, "x", 1), 0);
        ASSERT_EQ(sdc_cpio_writer_finish(&w, &rec), 0);
        buf = realloc(buf, n + pad + w.size);
        memset(buf + n, 0, pad);
        memcpy(buf + n + pad, w.data, w.size);
        *ret_size = n + pad + w.size;
        sdc_cpio_writer_done(&w);
        *ret_rec = rec;
        return buf;
}

static void test_find(void) {
        for (size_t n = 1; n < 9; n++) {
                SdcInjectRecord rec, found;
                size_t size;
                _cleanup_free_ uint8_t *buf = make_injected(n * 13, &size, &rec);
                char reason[256];

                ASSERT_EQ(sdc_inject_find(buf, size, &found, reason, sizeof(reason)), 1);
                ASSERT_EQ(found.original_size, n * 13);
                ASSERT_EQ(found.segment_offset, n * 13 + sdc_inject_padding(n * 13));
                ASSERT_EQ(found.payload_entries, 3);
                ASSERT_STREQ(found.sdcompat_version, "0.1");
                ASSERT_TRUE(memcmp(found.payload_sha256, rec.payload_sha256, SHA256_DIGEST_SIZE) == 0);
                ASSERT_TRUE(sdc_inject_prefix_matches(buf, size, &found));
                /* The prefix changed: found, but it no longer matches. */
                buf[0] ^= 1;
                ASSERT_TRUE(!sdc_inject_prefix_matches(buf, size, &found));
                buf[0] ^= 1;
                /* Not injected: the original alone, or cut anywhere inside the segment. */
                ASSERT_EQ(sdc_inject_find(buf, n * 13, &found, reason, sizeof(reason)), 0);
                for (size_t cut = n * 13; cut < size; cut++)
                        ASSERT_TRUE(sdc_inject_find(buf, cut, &found, reason, sizeof(reason)) <= 0);
                /* A flipped byte anywhere in the segment is never accepted as consistent with a
                 * different original. */
                for (size_t i = n * 13; i < size; i++) {
                        SdcInjectRecord f2;
                        int r;

                        buf[i] ^= 0x10;
                        r = sdc_inject_find(buf, size, &f2, reason, sizeof(reason));
                        if (r == 1) {
                                /* Only bytes the reader does not depend on: then what it found is
                                 * still the truth about the original. */
                                ASSERT_EQ(f2.original_size, n * 13);
                                ASSERT_TRUE(sdc_inject_prefix_matches(buf, size, &f2));
                                sdc_inject_record_done(&f2);
                        }
                        buf[i] ^= 0x10;
                }
                sdc_inject_record_done(&found);
                sdc_inject_record_done(&rec);
        }
}

static void test_record_parse(void) {
        SdcInjectRecord r;
        static const char good[] =
                "SDCOMPAT_INJECT_VERSION=1\nORIGINAL_SIZE=5\nORIGINAL_SHA256="
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nPAYLOAD_SHA256="
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";
        static const char nosize[] =
                "SDCOMPAT_INJECT_VERSION=1\nORIGINAL_SHA256="
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nPAYLOAD_SHA256="
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";
        static const char negsize[] =
                "SDCOMPAT_INJECT_VERSION=1\nORIGINAL_SIZE=-5\nORIGINAL_SHA256="
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nPAYLOAD_SHA256="
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";

        ASSERT_EQ(sdc_inject_record_parse(good, strlen(good), &r), 0);
        ASSERT_EQ(r.original_size, 5);
        sdc_inject_record_done(&r);
        ASSERT_EQ(sdc_inject_record_parse(nosize, strlen(nosize), &r), -EBADMSG);
        ASSERT_EQ(sdc_inject_record_parse(negsize, strlen(negsize), &r), -EBADMSG);
}

int main(void) {
        TEST(test_sha256);
        TEST(test_record_parse);
        TEST(test_find);
        return 0;
}
