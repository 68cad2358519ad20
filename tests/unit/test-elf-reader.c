/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ELF reader on real binaries of this host, and on broken ones. */

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf-reader.h"
#include "strv.h"
#include "tests.h"

static uint8_t *map_file(const char *path, size_t *size) {
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        void *p;

        if (fd < 0)
                return NULL;
        ASSERT_EQ(fstat(fd, &st), 0);
        p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        ASSERT_TRUE(p != MAP_FAILED);
        *size = (size_t) st.st_size;
        return p;
}

static char *command_output(const char *cmd) {
        char buf[256];
        FILE *f = popen(cmd, "r");

        ASSERT_TRUE(f);
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = 0;
        pclose(f);
        buf[strcspn(buf, "\n")] = 0;
        return strdup(buf);
}

/* Every dynamically linked program of the host names libc; ls has no RUNPATH. */
static void test_host_program(void) {
        SdcElfInfo info = {};
        size_t size;
        uint8_t *p = map_file("/bin/ls", &size);

        ASSERT_TRUE(p);
        ASSERT_EQ(sdc_elf_parse(p, size, &info), 0);
        ASSERT_TRUE(info.is_64);
        ASSERT_TRUE(info.has_interp);
        ASSERT_TRUE(strv_contains(info.needed, "libc.so.6"));
        ASSERT_TRUE(info.runpath == NULL);
        sdc_elf_info_done(&info);
        munmap(p, size);
}

/* systemd's manager binary, when the host has one: libsystemd-shared-NNN.so, Debian's RUNPATH,
 * and the package note naming the installed version exactly as dpkg does. */
static void test_host_systemd(void) {
        SdcElfInfo info = {};
        char *version, *note_version = NULL, needed[64];
        size_t size;
        uint8_t *p = map_file("/usr/lib/systemd/systemd", &size);

        if (!p) {
                fprintf(stderr, "no /usr/lib/systemd/systemd on this host, not testing it\n");
                return;
        }
        version = command_output("dpkg-query -W -f '${Version}' systemd 2>/dev/null");
        ASSERT_EQ(sdc_elf_parse(p, size, &info), 0);
        snprintf(needed, sizeof(needed), "libsystemd-shared-%d.so", atoi(version));
        ASSERT_TRUE(strv_contains(info.needed, needed));
        ASSERT_STREQ(info.runpath, "/usr/lib/x86_64-linux-gnu/systemd");
        ASSERT_TRUE(info.package_note);
        ASSERT_EQ(sdc_elf_note_field(info.package_note, "version", &note_version), 0);
        ASSERT_STREQ(note_version, version);
        free(note_version);
        ASSERT_EQ(sdc_elf_note_field(info.package_note, "nonexistent", &note_version), -ENOENT);
        sdc_elf_info_done(&info);
        munmap(p, size);
        free(version);
}

/* Broken copies of a real binary: every structure the reader follows, pointed out of bounds. */
static void test_malformed(void) {
        SdcElfInfo info = {};
        size_t size;
        uint8_t *orig = map_file("/bin/ls", &size), *p = malloc(size);

        ASSERT_TRUE(orig && p);
        ASSERT_EQ(sdc_elf_parse((const uint8_t *) "\177ELF", 4, &info), -EBADMSG);
        ASSERT_EQ(sdc_elf_parse((const uint8_t *) "#!/bin/sh\n", 10, &info), -EBADMSG);

        /* Truncations at every 97th byte of the first 8 KiB: errors or partial results, no crash. */
        for (size_t n = 0; n < 8192 && n < size; n += 97) {
                if (sdc_elf_parse(orig, n, &info) == 0)
                        sdc_elf_info_done(&info);
        }

        /* e_phoff far outside, e_phnum huge, e_phentsize too small. */
        memcpy(p, orig, size);
        memset(p + 32, 0xff, 8);
        ASSERT_EQ(sdc_elf_parse(p, size, &info), -EBADMSG);
        memcpy(p, orig, size);
        p[56] = 0xff, p[57] = 0xff;
        ASSERT_EQ(sdc_elf_parse(p, size, &info), -EBADMSG);
        memcpy(p, orig, size);
        p[54] = 8, p[55] = 0;
        ASSERT_EQ(sdc_elf_parse(p, size, &info), -EBADMSG);

        /* Every byte of the program headers flipped in turn. */
        for (size_t i = 64; i < 64 + 56 * 13 && i < size; i++) {
                memcpy(p, orig, size);
                p[i] ^= 0xa5;
                if (sdc_elf_parse(p, size, &info) == 0)
                        sdc_elf_info_done(&info);
        }
        free(p);
        munmap(orig, size);
}

int main(void) {
        TEST(test_host_program);
        TEST(test_host_systemd);
        TEST(test_malformed);
        return 0;
}
