#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the initramfs fixtures of test-cpio and test-image (and the fuzz seed corpus) with the real
# tools, the way dracut does: a small root tree packed by GNU cpio (newc and crc), compressed by
# gzip, xz, xz --format=lzma, zstd, lz4 -l (the kernel's legacy format), lz4 (frame) and bzip2.
#
#   mkimage.sh [--cpio-only] OUTDIR
#
# OUTDIR/{tree,small-tree,early-tree}  the packed trees
# OUTDIR/{tree,small,early}.list       their entries, in archive order
# OUTDIR/{newc,crc}.cpio[.gz|.xz|.lzma|.zst|.lz4l|.lz4|.bz2]  the tree, in both cpio formats
# OUTDIR/small.cpio[.gz|...]           the small tree (newc), in every compression
# OUTDIR/small-crc.cpio                the small tree, crc format
# OUTDIR/early.cpio, early.cpio.gz     an early-microcode-style uncompressed archive, and gzipped
# OUTDIR/{small,newc}.cpio.xzmt        xz in several blocks (xz -T2 --block-size), as dracut writes it
# OUTDIR/junk-inside.cpio.gz       newc.cpio followed by non-cpio bytes, then gzipped
# OUTDIR/cut-inside.cpio.gz        the first half of newc.cpio, gzipped
#
# A missing tool is an error that names it: the tests must fail, not skip, without their fixtures.
set -eu

cpio_only=0
if [ "${1:-}" = "--cpio-only" ]; then
        cpio_only=1
        shift
fi
out=${1:?usage: mkimage.sh [--cpio-only] OUTDIR}

need() {
        for t in "$@"; do
                if ! command -v "$t" >/dev/null 2>&1; then
                        echo "mkimage.sh: required tool '$t' not found (apt-get install cpio gzip xz-utils zstd lz4 bzip2)" >&2
                        exit 1
                fi
        done
}
need cpio find sort
[ $cpio_only = 1 ] || need gzip xz zstd lz4 bzip2

mkdir -p "$out"
tree=$out/tree
early=$out/early-tree
rm -rf "$tree" "$early"

# The main tree: nested directories, a symlink to a file and one to a directory, an empty file, sizes
# that are not multiples of 4, a long name, and one file over 8 MiB so that lz4 -l writes two blocks.
mkdir -p "$tree/etc" "$tree/usr/bin" "$tree/usr/lib/systemd" "$tree/usr/lib/modules/6.1.0/kernel/drivers/net" \
        "$tree/var/empty-dir"
printf 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n' >"$tree/etc/os-release"
printf '0123456789abc' >"$tree/etc/odd-size"
: >"$tree/etc/empty"
printf 'systemd 252 (252.39-1~deb12u2)\n' >"$tree/usr/lib/systemd/systemd"
seq 1 1200000 >"$tree/usr/lib/modules/6.1.0/kernel/drivers/net/big.ko"
head -c 70001 /dev/urandom >"$tree/usr/bin/random.bin"
printf 'x' >"$tree/usr/bin/a-rather-long-file-name-$(printf '%0200d' 0)"
ln -s ../lib/systemd/systemd "$tree/usr/bin/init"
ln -s usr/bin "$tree/bin"
chmod 0755 "$tree/usr/lib/systemd/systemd"
chmod 0600 "$tree/etc/odd-size"

# A small tree, whose compressed images are small enough to be cut and corrupted at every byte.
small=$out/small-tree
rm -rf "$small"
mkdir -p "$small/etc/systemd"
printf 'ID=debian\n' >"$small/etc/os-release"
printf 'abcde' >"$small/etc/systemd/five"
: >"$small/etc/empty"
ln -s ../os-release "$small/etc/systemd/link"

# An early archive as dracut prepends for CPU microcode.
mkdir -p "$early/kernel/x86/microcode"
head -c 5003 /dev/urandom >"$early/kernel/x86/microcode/GenuineIntel.bin"

pack() { # DIR FORMAT LIST OUT
        (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort >"$3" &&
                cpio --quiet -o -H "$2" <"$3" >"$4")
}
pack "$tree" newc "$out/tree.list" "$out/newc.cpio"
pack "$tree" crc "$out/tree.list" "$out/crc.cpio"
pack "$early" newc "$out/early.list" "$out/early.cpio"
pack "$small" newc "$out/small.list" "$out/small.cpio"
pack "$small" crc "$out/small.list" "$out/small-crc.cpio"

[ $cpio_only = 1 ] && exit 0

for f in newc crc small; do
        c=$out/$f.cpio
        # Fast levels: the formats are the same at every level, the test time is not.
        gzip -n <"$c" >"$c.gz"
        xz -1 --check=crc32 <"$c" >"$c.xz"
        xz -1 --format=lzma <"$c" >"$c.lzma"
        zstd -q <"$c" >"$c.zst"
        lz4 -q -l <"$c" >"$c.lz4l"
        lz4 -q <"$c" >"$c.lz4"
        bzip2 <"$c" >"$c.bz2"
done
# xz as dracut calls it (-T0): blocks with their sizes in their headers, which the decoder reads
# with several threads; blocks small enough that even the small tree has several.
xz -1 --check=crc32 -T2 --block-size=256 <"$out/small.cpio" >"$out/small.cpio.xzmt"
xz -1 --check=crc32 -T2 --block-size=256KiB <"$out/newc.cpio" >"$out/newc.cpio.xzmt"
gzip -n <"$out/early.cpio" >"$out/early.cpio.gz"
{ cat "$out/newc.cpio" && printf 'JUNKJUNK'; } | gzip -n >"$out/junk-inside.cpio.gz"
head -c $(($(wc -c <"$out/newc.cpio") / 2)) "$out/newc.cpio" | gzip -n >"$out/cut-inside.cpio.gz"
