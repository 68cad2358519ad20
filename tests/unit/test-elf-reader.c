/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ELF reader on real binaries of this host, and on broken ones. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf-reader.h"
#include "macro.h"
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

typedef struct Mem {
        const uint8_t *data;
        size_t size;
} Mem;

static int mem_read_at(uint64_t offset, void *buf, size_t size, void *userdata) {
        const Mem *m = userdata;

        if (offset > m->size || size > m->size - offset)
                return -ENODATA;
        memcpy(buf, m->data + offset, size);
        return 0;
}

/* sdc_elf_find_rodata() finds what sdc_elf_parse() finds, on real binaries and on copies with
 * every byte of the ELF header and of the section header table's first entries flipped. */
static void test_find_rodata(void) {
        static const char *const paths[] = { "/bin/ls", "/usr/lib/systemd/systemd" };
        uint64_t off, size;

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                SdcElfInfo info = {};
                size_t n;
                uint8_t *orig = map_file(paths[i], &n), *p;
                Mem m;

                if (!orig)
                        continue;
                m = (Mem) { orig, n };
                ASSERT_EQ(sdc_elf_parse(orig, n, &info), 0);
                ASSERT_TRUE(info.rodata_size > 0);
                ASSERT_EQ(sdc_elf_find_rodata(mem_read_at, &m, n, &off, &size), 0);
                ASSERT_EQ(off, info.rodata_offset);
                ASSERT_EQ(size, info.rodata_size);
                sdc_elf_info_done(&info);

                p = malloc(n);
                ASSERT_TRUE(p);
                m.data = p;
                for (size_t k = 0; k < 64 + 4 * 64; k++) {
                        uint64_t shoff;

                        memcpy(p, orig, n);
                        p[k] ^= 0xa5;
                        if (k >= 64) { /* the section header table's first entries instead */
                                memcpy(&shoff, orig + 40, 8);
                                if (shoff + (k - 64) >= n)
                                        continue;
                                p[k] ^= 0xa5;
                                p[shoff + (k - 64)] ^= 0xa5;
                        }
                        if (sdc_elf_parse(p, n, &info) == 0) {
                                ASSERT_EQ(sdc_elf_find_rodata(mem_read_at, &m, n, &off, &size), 0);
                                ASSERT_EQ(off, info.rodata_offset);
                                ASSERT_EQ(size, info.rodata_size);
                                sdc_elf_info_done(&info);
                        } else if (k < 64 && sdc_elf_find_rodata(mem_read_at, &m, n, &off, &size) == 0)
                                ASSERT_TRUE(off <= n && size <= n - off);
                }
                free(p);
                munmap(orig, n);
        }
        ASSERT_EQ(sdc_elf_find_rodata(mem_read_at, &(Mem) { (const uint8_t *) "#!/bin/sh\n", 10 }, 10, &off, &size),
                  -EBADMSG);
}

int main(void) {
        TEST(test_host_program);
        TEST(test_host_systemd);
        TEST(test_malformed);
        TEST(test_find_rodata);
        return 0;
}
