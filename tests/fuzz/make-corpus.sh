#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seed corpus for a fuzz target:
#   fuzz-state   the state streams captured in real switch-root boots (tests/data/state)
#   fuzz-inject  the small images, each followed by a segment laid out as sdcompat-inject writes it
#                (sdcompat-inject(8)), packed by GNU cpio with the record sha256sum computed
#   otherwise    (fuzz-image, fuzz-parsers) images built by the real tools (tests/unit/mkimage.sh):
#                the small images in every compression and both cpio formats, and the
#                concatenations dracut and bootloaders make; and the hostile images of issue #10
#                (tests/unit/mkhostile.sh, with few entries): symlink loops under many entries,
#                512 MiB of zeros in a few KiB; an archive shaped as dracut's squash module leaves it
#                (with the start of a real squashfs root image when the fixtures are built)
#
#   make-corpus.sh CORPUSDIR [FUZZER]
set -eu

corpus=${1:?usage: make-corpus.sh CORPUSDIR [FUZZER]}
fuzzer=${2:-fuzz-image}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$fuzzer" = fuzz-state ]; then
        mkdir -p "$corpus"
        cp "$here"/../data/state/*.state "$corpus"/
        echo "$(ls "$corpus" | wc -l) seeds in $corpus"
        exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sh "$here/../unit/mkimage.sh" "$work"
mkdir -p "$corpus"

for f in "$work"/small.cpio* "$work"/small-crc.cpio "$work"/early.cpio "$work"/early.cpio.gz; do
        cp "$f" "$corpus/$(basename "$f")"
done
for c in gz xz lzma zst lz4l lz4 bz2; do
        # early microcode + compressed main archive
        cat "$work/early.cpio" "$work/small.cpio.$c" >"$corpus/early+small.$c"
        # compressed, zero padding up to a multiple of 4 and 512 more, uncompressed
        size=$(wc -c <"$work/small.cpio.$c")
        { cat "$work/small.cpio.$c" && head -c $(((4 - size % 4) % 4 + 512)) /dev/zero &&
                cat "$work/small-crc.cpio"; } >"$corpus/small.$c+pad+crc"
done
# two gzip members back to back
cat "$work/early.cpio.gz" "$work/small.cpio.gz" >"$corpus/early.gz+small.gz"
# shaped as dracut's squash module leaves an archive (tests/fixtures/README.md): a loader script as
# /init naming its root image, that file (only squashfs's magic here) and dracut's modules.txt
sq=$work/squash
mkdir -p "$sq/usr/lib/dracut"
printf '#!/bin/sh\nmount -t squashfs -o ro,loop /squashfs-root.img /squash/root\nexec switch_root /newroot /init\n' >"$sq/init"
printf 'hsqs' >"$sq/squashfs-root.img"
printf 'systemd\nsquash-lib\nsdcompat\n' >"$sq/usr/lib/dracut/modules.txt"
(cd "$sq" && printf 'init\nsquashfs-root.img\nusr\nusr/lib\nusr/lib/dracut\nusr/lib/dracut/modules.txt\n' |
        cpio -o -H newc --quiet -R 0:0) >"$corpus/squash-root.cpio"
# the same with the first 64 KiB of a real squashfs root image (dracut 112's, from the fixtures, if
# they are built): its superblock and first metadata, for the fuzzer to reach libsquashfs's readers
fixture=${SDCOMPAT_FIXTURES:-/var/tmp/sdcompat-fixtures}/images/dracut-sid-squashfs.img
if [ -f "$fixture" ]; then
        (cd "$work" && cpio -i --quiet squashfs-root.img <"$fixture")
        head -c 65536 "$work/squashfs-root.img" >"$sq/squashfs-root.img"
        (cd "$sq" && printf 'init\nsquashfs-root.img\nusr\nusr/lib\nusr/lib/dracut\nusr/lib/dracut/modules.txt\n' |
                cpio -o -H newc --quiet -R 0:0) >"$corpus/squash-root-64k.cpio"
fi

if [ "$fuzzer" = fuzz-inject ]; then
        # orig + 4..7 zero bytes to a multiple of 4 + a newc archive whose last entry before the
        # trailer is usr/lib/sdcompat/inject, and nothing after the trailer (cpio's block padding cut).
        for f in "$work"/small.cpio.gz "$work"/small.cpio.lz4l "$work"/early.cpio "$work"/small.cpio.zst; do
                size=$(wc -c <"$f")
                seg=$work/seg
                rm -rf "$seg" && mkdir -p "$seg/usr/bin" "$seg/usr/lib/sdcompat"
                printf 'payload\n' >"$seg/usr/bin/x"
                {
                        echo "SDCOMPAT_INJECT_VERSION=1"
                        echo "ORIGINAL_SIZE=$size"
                        echo "ORIGINAL_SHA256=$(sha256sum <"$f" | cut -d' ' -f1)"
                        echo "PAYLOAD_SHA256=$(printf x | sha256sum | cut -d' ' -f1)"
                } >"$seg/usr/lib/sdcompat/inject"
                (cd "$seg" && printf 'usr\nusr/bin\nusr/bin/x\nusr/lib\nusr/lib/sdcompat\nusr/lib/sdcompat/inject\n' |
                        cpio -o -H newc --quiet -R 0:0) >"$work/seg.cpio"
                trailer=$(grep -abo 'TRAILER!!!' "$work/seg.cpio" | tail -n1 | cut -d: -f1)
                out=$corpus/injected.$(basename "$f")
                { cat "$f" && head -c $((4 + (4 - size % 4) % 4)) /dev/zero &&
                        head -c $((trailer - 110 + 124)) "$work/seg.cpio"; } >"$out"
        done
fi
sh "$here/../unit/mkhostile.sh" "$work/hostile" 64
for f in "$work"/hostile/*; do
        cp "$f" "$corpus/hostile-$(basename "$f")"
done
echo "$(ls "$corpus" | wc -l) seeds in $corpus"
