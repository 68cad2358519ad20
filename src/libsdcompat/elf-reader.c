/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "elf-reader.h"
#include "macro.h"
#include "strv.h"

#define NOTE_TYPE_PACKAGE 0xcafe1a7eU /* https://systemd.io/ELF_PACKAGE_METADATA/ */
#define MAX_PHDRS         4096
#define MAX_DYN           65536

typedef struct Reader {
        const uint8_t *data;
        size_t size;
        bool is_64, le;
} Reader;

static bool in_bounds(const Reader *r, uint64_t off, uint64_t len) {
        return off <= r->size && len <= r->size - off;
}

static uint64_t get(const Reader *r, uint64_t off, unsigned width) {
        uint64_t v = 0;

        for (unsigned i = 0; i < width; i++) {
                unsigned shift = r->le ? 8 * i : 8 * (width - 1 - i);
                v |= (uint64_t) r->data[off + i] << shift;
        }
        return v;
}

typedef struct Phdr {
        uint32_t type;
        uint64_t offset, vaddr, filesz, align;
} Phdr;

static int read_phdr(const Reader *r, uint64_t off, Phdr *p) {
        if (r->is_64) {
                if (!in_bounds(r, off, 56))
                        return -EBADMSG;
                *p = (Phdr) { .type = (uint32_t) get(r, off, 4), .offset = get(r, off + 8, 8),
                              .vaddr = get(r, off + 16, 8), .filesz = get(r, off + 32, 8),
                              .align = get(r, off + 48, 8) };
        } else {
                if (!in_bounds(r, off, 32))
                        return -EBADMSG;
                *p = (Phdr) { .type = (uint32_t) get(r, off, 4), .offset = get(r, off + 4, 4),
                              .vaddr = get(r, off + 8, 4), .filesz = get(r, off + 16, 4),
                              .align = get(r, off + 28, 4) };
        }
        return 0;
}

/* Maps a virtual address to a file offset through the PT_LOAD segments. */
static int vaddr_to_offset(const Phdr *ph, size_t n, uint64_t vaddr, uint64_t *ret) {
        for (size_t i = 0; i < n; i++)
                if (ph[i].type == PT_LOAD && vaddr >= ph[i].vaddr && vaddr - ph[i].vaddr < ph[i].filesz) {
                        *ret = ph[i].offset + (vaddr - ph[i].vaddr);
                        return 0;
                }
        return -EBADMSG;
}

static int string_at(const Reader *r, uint64_t strtab, uint64_t strsz, uint64_t idx, char **ret) {
        const char *s, *end;

        if (idx >= strsz || !in_bounds(r, strtab, strsz))
                return -EBADMSG;
        s = (const char *) r->data + strtab + idx;
        end = memchr(s, 0, strsz - idx);
        if (!end)
                return -EBADMSG;
        *ret = strndup(s, (size_t) (end - s));
        return *ret ? 0 : -ENOMEM;
}

static int parse_dynamic(const Reader *r, const Phdr *ph, size_t n, const Phdr *dyn, SdcElfInfo *info) {
        unsigned w = r->is_64 ? 8 : 4;
        uint64_t strtab_vaddr = 0, strsz = 0, strtab, runpath = UINT64_MAX, rpath = UINT64_MAX;
        uint64_t needed[256];
        size_t n_needed = 0;
        int k;

        if (!in_bounds(r, dyn->offset, dyn->filesz))
                return -EBADMSG;
        for (uint64_t i = 0; i < MAX_DYN && (i + 1) * 2 * w <= dyn->filesz; i++) {
                uint64_t off = dyn->offset + i * 2 * w;
                uint64_t tag = get(r, off, w), val = get(r, off + w, w);

                if (tag == DT_NULL)
                        break;
                switch (tag) {
                case DT_STRTAB: strtab_vaddr = val; break;
                case DT_STRSZ: strsz = val; break;
                case DT_RUNPATH: runpath = val; break;
                case DT_RPATH: rpath = val; break;
                case DT_NEEDED:
                        if (n_needed < ELEMENTSOF(needed))
                                needed[n_needed++] = val;
                        break;
                default: break;
                }
        }
        if (strtab_vaddr == 0 || strsz == 0)
                return 0; /* no string table: nothing to report */
        k = vaddr_to_offset(ph, n, strtab_vaddr, &strtab);
        if (k < 0)
                return k;
        if (!in_bounds(r, strtab, strsz))
                strsz = r->size - MIN(strtab, (uint64_t) r->size);

        for (size_t i = 0; i < n_needed; i++) {
                char *s;
                k = string_at(r, strtab, strsz, needed[i], &s);
                if (k < 0)
                        return k;
                k = strv_consume(&info->needed, s);
                if (k < 0)
                        return k;
        }
        if (runpath != UINT64_MAX || rpath != UINT64_MAX) {
                k = string_at(r, strtab, strsz, runpath != UINT64_MAX ? runpath : rpath, &info->runpath);
                if (k < 0)
                        return k;
        }
        return 0;
}

static void parse_notes(const Reader *r, const Phdr *p, SdcElfInfo *info) {
        uint64_t align = p->align == 8 ? 8 : 4, off = p->offset, end;

        if (!in_bounds(r, p->offset, p->filesz))
                return;
        end = p->offset + p->filesz;
        while (off + 12 <= end && !info->package_note) {
                uint64_t namesz = get(r, off, 4), descsz = get(r, off + 4, 4), type = get(r, off + 8, 4);
                uint64_t name_off = off + 12, desc_off, next;

                desc_off = name_off + ((namesz + align - 1) & ~(align - 1));
                next = desc_off + ((descsz + align - 1) & ~(align - 1));
                if (desc_off > end || next > end || next <= off)
                        return;
                if (type == NOTE_TYPE_PACKAGE && namesz == 4 &&
                    memcmp(r->data + name_off, "FDO", 4) == 0 && descsz > 0)
                        info->package_note = strndup((const char *) r->data + desc_off, (size_t) descsz);
                off = next;
        }
}

/* Where the section header table is, and which entry names the sections: from the ELF header
 * (r over at least its first 64 bytes). False if there is no usable table. */
typedef struct SectionTable {
        uint64_t offset, entsize, num, names_index;
} SectionTable;

static bool section_table(const Reader *r, SectionTable *ret) {
        *ret = (SectionTable) {
                .offset = r->is_64 ? get(r, 40, 8) : get(r, 32, 4),
                .entsize = get(r, r->is_64 ? 58 : 46, 2),
                .num = get(r, r->is_64 ? 60 : 48, 2),
                .names_index = get(r, r->is_64 ? 62 : 50, 2),
        };
        return ret->offset != 0 && ret->num != 0 && ret->num <= 65535 && ret->names_index < ret->num &&
               ret->entsize >= (r->is_64 ? 64u : 40u);
}

/* Offset and size of section i's contents, from the table (tbl over the whole table). */
static void section_range(const Reader *tbl, const SectionTable *st, uint64_t i, uint64_t *ret_off, uint64_t *ret_size) {
        uint64_t h = i * st->entsize;
        unsigned w = tbl->is_64 ? 8 : 4;

        *ret_off = get(tbl, h + (tbl->is_64 ? 24 : 16), w);
        *ret_size = get(tbl, h + (tbl->is_64 ? 32 : 20), w);
}

/* Finds ".rodata" in the table, its names in names[0..names_size). The range must lie within
 * file_size. */
static void match_rodata(const Reader *tbl, const SectionTable *st, const uint8_t *names, uint64_t names_size,
                         uint64_t file_size, uint64_t *ret_off, uint64_t *ret_size) {
        for (uint64_t i = 0; i < st->num; i++) {
                uint64_t name = get(tbl, i * st->entsize, 4), off, sz;

                if (name + sizeof(".rodata") > names_size || memcmp(names + name, ".rodata", sizeof(".rodata")) != 0)
                        continue;
                section_range(tbl, st, i, &off, &sz);
                if (off <= file_size && sz <= file_size - off) {
                        *ret_off = off;
                        *ret_size = sz;
                }
                return;
        }
}

/* The .rodata section, where a binary's string literals live: scanning it instead of the whole
 * file is what makes probing a root's systemd cheap. Best effort: no section headers, no range. */
static void find_rodata(const Reader *r, SdcElfInfo *info) {
        SectionTable st;
        Reader tbl;
        uint64_t stroff, strsize;

        if (!section_table(r, &st) || !in_bounds(r, st.offset, st.num * st.entsize))
                return;
        tbl = (Reader) { .data = r->data + st.offset, .size = (size_t) (st.num * st.entsize), .is_64 = r->is_64, .le = r->le };
        section_range(&tbl, &st, st.names_index, &stroff, &strsize);
        if (!in_bounds(r, stroff, strsize))
                return;
        match_rodata(&tbl, &st, r->data + stroff, strsize, r->size, &info->rodata_offset, &info->rodata_size);
}

/* Checks the identification bytes and fills in r's class and byte order. */
static int reader_init(Reader *r, const uint8_t *data, size_t size) {
        *r = (Reader) { .data = data, .size = size };
        if (size < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG) != 0)
                return -EBADMSG;
        if (data[EI_CLASS] != ELFCLASS32 && data[EI_CLASS] != ELFCLASS64)
                return -EBADMSG;
        if (data[EI_DATA] != ELFDATA2LSB && data[EI_DATA] != ELFDATA2MSB)
                return -EBADMSG;
        r->is_64 = data[EI_CLASS] == ELFCLASS64;
        r->le = data[EI_DATA] == ELFDATA2LSB;
        if (!in_bounds(r, 0, r->is_64 ? 64 : 52))
                return -EBADMSG;
        return 0;
}

/* Bounds for sdc_elf_find_rodata(), far above what real binaries have (libsystemd-shared: ~40
 * sections, ~400 bytes of names), so that a hostile header cannot make it read much. */
#define MAX_SECTION_TABLE (UINT64_C(1) << 20)
#define MAX_SECTION_NAMES (UINT64_C(1) << 20)

int sdc_elf_find_rodata(SdcElfReadAt read_at, void *userdata, uint64_t file_size, uint64_t *ret_offset,
                        uint64_t *ret_size) {
        _cleanup_free_ uint8_t *table = NULL, *names = NULL;
        uint8_t header[64] = {};
        uint64_t off = 0, size = 0, stroff, strsize;
        SectionTable st;
        Reader r, tbl;
        int k;

        k = read_at(0, header, (size_t) MIN(file_size, (uint64_t) sizeof(header)), userdata);
        if (k < 0)
                return k;
        k = reader_init(&r, header, (size_t) MIN(file_size, (uint64_t) sizeof(header)));
        if (k < 0)
                return k;
        if (!section_table(&r, &st) || st.num * st.entsize > MAX_SECTION_TABLE || st.offset > file_size ||
            st.num * st.entsize > file_size - st.offset)
                goto done;
        table = malloc((size_t) (st.num * st.entsize));
        if (!table)
                return -ENOMEM;
        k = read_at(st.offset, table, (size_t) (st.num * st.entsize), userdata);
        if (k < 0)
                return k;
        tbl = (Reader) { .data = table, .size = (size_t) (st.num * st.entsize), .is_64 = r.is_64, .le = r.le };
        section_range(&tbl, &st, st.names_index, &stroff, &strsize);
        if (strsize > MAX_SECTION_NAMES || stroff > file_size || strsize > file_size - stroff)
                goto done;
        names = malloc((size_t) strsize + 1);
        if (!names)
                return -ENOMEM;
        k = read_at(stroff, names, (size_t) strsize, userdata);
        if (k < 0)
                return k;
        match_rodata(&tbl, &st, names, strsize, file_size, &off, &size);
done:
        *ret_offset = off;
        *ret_size = size;
        return 0;
}

int sdc_elf_parse(const uint8_t *data, size_t size, SdcElfInfo *ret) {
        _cleanup_free_ Phdr *ph = NULL;
        SdcElfInfo info = {};
        Reader r;
        uint64_t phoff, phentsize, phnum;
        int k;

        k = reader_init(&r, data, size);
        if (k < 0)
                return k;

        info.is_64 = r.is_64;
        info.little_endian = r.le;
        info.type = (uint16_t) get(&r, 16, 2);
        info.machine = (uint16_t) get(&r, 18, 2);
        phoff = r.is_64 ? get(&r, 32, 8) : get(&r, 28, 4);
        phentsize = get(&r, r.is_64 ? 54 : 42, 2);
        phnum = get(&r, r.is_64 ? 56 : 44, 2);
        if (phnum > MAX_PHDRS || phentsize < (r.is_64 ? 56u : 32u))
                return -EBADMSG;

        ph = calloc(phnum ? phnum : 1, sizeof(Phdr));
        if (!ph)
                return -ENOMEM;
        for (uint64_t i = 0; i < phnum; i++) {
                k = read_phdr(&r, phoff + i * phentsize, &ph[i]);
                if (k < 0)
                        return k;
        }

        for (uint64_t i = 0; i < phnum; i++) {
                if (ph[i].type == PT_INTERP)
                        info.has_interp = true;
                else if (ph[i].type == PT_NOTE)
                        parse_notes(&r, &ph[i], &info);
                else if (ph[i].type == PT_DYNAMIC && !info.needed && !info.runpath) {
                        k = parse_dynamic(&r, ph, (size_t) phnum, &ph[i], &info);
                        if (k < 0) {
                                sdc_elf_info_done(&info);
                                return k;
                        }
                }
        }
        find_rodata(&r, &info);
        *ret = info;
        return 0;
}

void sdc_elf_info_done(SdcElfInfo *info) {
        strv_free(info->needed);
        free(info->runpath);
        free(info->package_note);
        *info = (SdcElfInfo) {};
}

int sdc_elf_note_field(const char *json, const char *field, char **ret) {
        char key[64];
        const char *p, *v, *end;
        int n;

        n = snprintf(key, sizeof(key), "\"%s\"", field);
        if (n < 0 || (size_t) n >= sizeof(key))
                return -EINVAL;
        for (p = strstr(json, key); p; p = strstr(p + 1, key)) {
                v = p + n;
                v += strspn(v, " \t\n");
                if (*v != ':')
                        continue;
                v++;
                v += strspn(v, " \t\n");
                if (*v != '"')
                        continue;
                v++;
                end = strchr(v, '"');
                if (!end || memchr(v, '\\', (size_t) (end - v)))
                        return -EBADMSG; /* the note never escapes; refuse to guess */
                *ret = strndup(v, (size_t) (end - v));
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}
