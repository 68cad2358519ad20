/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot entries of a host (bootentry.c) on /boot layouts as the distributions write them: BLS
 * entries (Fedora, RHEL 8+: loader/entries/NAME.conf, with microcode first and several options
 * lines), Debian's initrd.img-VERSION, Fedora's initramfs-VERSION.img, SUSE's initrd-VERSION;
 * and what is not a boot entry (kdump images, backups, dangling links). bootentry.c reads names
 * and entries only, never an image's bytes, so the images here are placeholders under real names. */

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootentry.h"
#include "tests.h"

static char boot[] = "/tmp/test-bootentry-XXXXXX";

static void put(const char *name, const char *content) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", boot, name);
        f = fopen(path, "we");
        ASSERT_TRUE(f);
        ASSERT_EQ(fputs(content, f) >= 0, 1);
        ASSERT_EQ(fclose(f), 0);
}

static void clean(void) {
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", boot);
        ASSERT_EQ(system(cmd), 0);
}

static const SdcBootEntry *by_id(const SdcBootEntry *e, int n, const char *id) {
        for (int i = 0; i < n; i++)
                if (strcmp(e[i].id, id) == 0)
                        return &e[i];
        return NULL;
}

/* Debian: images only, each with the running command line; kdump and backups are not entries. */
static void test_debian(void) {
        SdcBootEntry *e = NULL;
        char path[PATH_MAX];
        int n;

        ASSERT_TRUE(mkdtemp(boot));
        put("initrd.img-6.1.0-13-amd64", "image");
        put("initrd.img-6.1.0-12-amd64", "image");
        put("initrd.img-6.1.0-12-amd64.bak", "old");
        put("initrd.img-6.1.0-11-amd64.old-dkms", "old");
        put("initrd.img-6.1.0-13-amd64kdump", "kdump");
        put("initrd.img-6.1.0-10-amd64~", "editor");
        put("vmlinuz-6.1.0-13-amd64", "kernel");
        snprintf(path, sizeof(path), "%s/initrd.img", boot);
        ASSERT_EQ(symlink("initrd.img-6.1.0-13-amd64", path), 0); /* not a pattern: no entry */
        snprintf(path, sizeof(path), "%s/initrd.img-6.1.0-9-amd64", boot);
        ASSERT_EQ(symlink("initrd.img-gone", path), 0); /* dangling: no entry */

        n = sdc_boot_entries_find(boot, &e);
        ASSERT_EQ(n, 2);
        /* Sorted by name. */
        ASSERT_STREQ(e[0].id, "initrd.img-6.1.0-12-amd64");
        ASSERT_STREQ(e[0].kernel, "6.1.0-12-amd64");
        ASSERT_STREQ(e[1].kernel, "6.1.0-13-amd64");
        snprintf(path, sizeof(path), "%s/initrd.img-6.1.0-13-amd64", boot);
        ASSERT_STREQ(e[1].image, path);
        ASSERT_TRUE(e[1].cmdline == NULL);
        ASSERT_TRUE(e[1].cmdline_source == NULL);
        sdc_boot_entries_free(e, n);
        clean();
}

/* BLS: the entry's image (the last initrd line: microcode goes first) and its options lines,
 * joined; an image an entry names is not listed again on its own; entries without initrd are not
 * entries. Fedora's and SUSE's image names. */
static void test_bls(void) {
        SdcBootEntry *e = NULL;
        const SdcBootEntry *x;
        char path[PATH_MAX];
        int n;

        strcpy(boot, "/tmp/test-bootentry-XXXXXX");
        ASSERT_TRUE(mkdtemp(boot));
        snprintf(path, sizeof(path), "%s/loader", boot);
        ASSERT_EQ(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/loader/entries", boot);
        ASSERT_EQ(mkdir(path, 0755), 0);
        put("loader/entries/abc-6.5.6-300.fc39.x86_64.conf",
            "title Fedora Linux (6.5.6-300.fc39.x86_64) 39\n"
            "version 6.5.6-300.fc39.x86_64\n"
            "linux /vmlinuz-6.5.6-300.fc39.x86_64\n"
            "initrd /intel-ucode.img\n"
            "initrd /initramfs-6.5.6-300.fc39.x86_64.img\n"
            "options root=UUID=1234 ro\n"
            "options rhgb quiet\n"
            "# a comment\n");
        put("loader/entries/memtest.conf", "title Memtest86+\nlinux /memtest.bin\n");
        put("loader/entries/notes.txt", "initrd /initramfs-x.img\n");
        put("initramfs-6.5.6-300.fc39.x86_64.img", "image");
        put("initramfs-6.5.6-300.fc39.x86_64kdump.img", "kdump");
        put("initramfs-6.4.0-1.fc39.x86_64.img", "image");
        put("initrd-5.14.21-150500.55.28-default", "image");

        n = sdc_boot_entries_find(boot, &e);
        ASSERT_EQ(n, 3);
        /* BLS entries first. */
        ASSERT_STREQ(e[0].id, "abc-6.5.6-300.fc39.x86_64");
        ASSERT_STREQ(e[0].kernel, "6.5.6-300.fc39.x86_64");
        snprintf(path, sizeof(path), "%s/initramfs-6.5.6-300.fc39.x86_64.img", boot);
        ASSERT_STREQ(e[0].image, path);
        ASSERT_STREQ(e[0].cmdline, "root=UUID=1234 ro rhgb quiet");
        snprintf(path, sizeof(path), "%s/loader/entries/abc-6.5.6-300.fc39.x86_64.conf", boot);
        ASSERT_STREQ(e[0].cmdline_source, path);
        x = by_id(e, n, "initramfs-6.4.0-1.fc39.x86_64.img");
        ASSERT_TRUE(x);
        ASSERT_STREQ(x->kernel, "6.4.0-1.fc39.x86_64");
        ASSERT_TRUE(x->cmdline == NULL);
        x = by_id(e, n, "initrd-5.14.21-150500.55.28-default");
        ASSERT_TRUE(x);
        ASSERT_STREQ(x->kernel, "5.14.21-150500.55.28-default");
        ASSERT_TRUE(!by_id(e, n, "memtest"));
        sdc_boot_entries_free(e, n);
        clean();
}

/* No /boot: -ENOENT; an empty one: no entries. */
static void test_missing_and_empty(void) {
        SdcBootEntry *e = NULL;

        ASSERT_EQ(sdc_boot_entries_find("/nonexistent/boot", &e), -ENOENT);
        strcpy(boot, "/tmp/test-bootentry-XXXXXX");
        ASSERT_TRUE(mkdtemp(boot));
        ASSERT_EQ(sdc_boot_entries_find(boot, &e), 0);
        sdc_boot_entries_free(e, 0);
        clean();
}

int main(void) {
        TEST(test_debian);
        TEST(test_bls);
        TEST(test_missing_and_empty);
        return 0;
}
