#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hostile initramfs images, hand-made (no tool writes these on purpose): the images of issue #10
# that made the image reader slow or fat. Used by test-tree and, in small versions, as fuzz seeds.
#
#   mkhostile.sh OUTDIR [ENTRIES]
#
# OUTDIR/chains-alternating.cpio.zst  two loops of 40 symlinks with 4 KiB targets ("./././..."),
#                                     then ENTRIES entries whose parents alternate between the two
#                                     loops: every parent lookup walks a loop to ELOOP
# OUTDIR/chains-one-parent.cpio.zst   the same loops, ENTRIES entries all under the first one
# OUTDIR/zeros-unread.cpio.zst        512 MiB of zeros in a file the probe never reads (a few KiB)
# OUTDIR/zeros-systemd.cpio.zst       the same zeros as usr/lib/systemd/systemd (the probe reads it)
# OUTDIR/many-names.cpio.zst          ENTRIES empty files with names of 200 bytes, in one directory
#
# ENTRIES defaults to 3000.
set -eu

out=${1:?usage: mkhostile.sh OUTDIR [ENTRIES]}
entries=${2:-3000}
command -v zstd >/dev/null 2>&1 || {
        echo "mkhostile.sh: required tool 'zstd' not found (apt-get install zstd)" >&2
        exit 1
}
mkdir -p "$out"

# Zero bytes up to the next multiple of 4 after n bytes: pad4 N (builtins only: thousands of
# entries must not cost thousands of processes).
pad4() {
        case $(($1 % 4)) in
        1) printf '\0\0\0' ;;
        2) printf '\0\0' ;;
        3) printf '\0' ;;
        esac
}
# One newc header and name, padded to 4 bytes: newc NAME MODE SIZE (the body and its padding are the
# caller's).
newc() {
        printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%s\0' \
                1 "$2" 0 0 1 0 "$3" 0 0 0 0 $((${#1} + 1)) 0 "$1"
        pad4 $((110 + ${#1} + 1))
}
# symlink NAME TARGET
symlink() {
        newc "$1" 41471 ${#2} # 0120777
        printf '%s' "$2"
        pad4 ${#2}
}
# file NAME CONTENT
file() {
        newc "$1" 33188 ${#2} # 0100644
        printf '%s' "$2"
        pad4 ${#2}
}
dir() {
        newc "$1" 16877 0 # 040755
}
trailer() {
        newc TRAILER!!! 0 0
}

# "./" repeated: 4000 bytes of a target that walks 2000 components and ends where it started.
dots=$(head -c 2000 /dev/zero | tr '\0' '.' | sed 's/\./.\//g')

# Two loops: X0 -> ./././.../X1 -> ... -> X39 -> ./././.../X0.
loops() {
        for l in a b; do
                i=0
                while [ $i -lt 40 ]; do
                        symlink "$l$i" "$dots$l$(((i + 1) % 40))"
                        i=$((i + 1))
                done
        done
}

{
        loops
        i=0
        while [ $i -lt "$entries" ]; do
                if [ $((i % 2)) = 0 ]; then file "a0/x$i" x; else file "b0/x$i" x; fi
                i=$((i + 1))
        done
        trailer
} | zstd -q -c >"$out/chains-alternating.cpio.zst"

{
        loops
        i=0
        while [ $i -lt "$entries" ]; do
                file "a0/x$i" x
                i=$((i + 1))
        done
        trailer
} | zstd -q -c >"$out/chains-one-parent.cpio.zst"

zeros() {
        dir usr
        dir usr/lib
        dir usr/lib/systemd
        newc "$1" 33261 $((512 << 20)) # 0100755
        head -c $((512 << 20)) /dev/zero
        trailer
}
long=$(printf '%0200d' 0)
{
        dir d
        i=0
        while [ $i -lt "$entries" ]; do
                file "d/$i$long" ""
                i=$((i + 1))
        done
        trailer
} | zstd -q -c >"$out/many-names.cpio.zst"

zeros usr/lib/firmware.bin | zstd -q -c >"$out/zeros-unread.cpio.zst"
zeros usr/lib/systemd/systemd | zstd -q -c >"$out/zeros-systemd.cpio.zst"
