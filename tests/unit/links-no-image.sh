#!/bin/sh
# links-no-image.sh NM IMAGE-LIBRARY PROGRAM... — proves that each PROGRAM (the static sdcompat
# and sdcompat-shim: they run in every initramfs and as PID 1, and need libc alone, which is what
# lets them link against musl) contains and references no symbol of the image library
# (libsdcompat-image.a: the image reader, the image as a tree, the injected segment) and none of
# the compression libraries (zlib, liblzma, libzstd, liblz4, libbz2).
set -u
nm=$1 lib=$2
shift 2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

"$nm" --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBR]$/ { print $3 }' | sort -u > "$tmp/image"
[ -s "$tmp/image" ] || { echo "FAIL: no symbols defined in $lib"; exit 1; }
for p in "$@"; do
        # Dynamic programs list what they take from shared libraries as undefined symbols; static
        # ones carry everything they link.
        if ! "$nm" "$p" > "$tmp/nm" 2>"$tmp/err"; then
                echo "FAIL: $nm $p:"; cat "$tmp/err"; fail=1; continue
        fi
        awk '{ print $NF }' "$tmp/nm" | sort -u > "$tmp/syms"
        [ -s "$tmp/syms" ] || { echo "FAIL: $p has no symbols (stripped?): nothing to prove"; fail=1; continue; }
        comm -12 "$tmp/image" "$tmp/syms" > "$tmp/found"
        grep -E '^(inflate|lzma_|ZSTD_|LZ4|BZ2_)' "$tmp/syms" >> "$tmp/found"
        if [ -s "$tmp/found" ]; then
                echo "FAIL: $p links the image reader or a decompressor:"; head -20 "$tmp/found"; fail=1
        else
                echo "ok: $p: none of the $(wc -l < "$tmp/image") symbols of ${lib##*/}, no decompressor"
        fi
done
exit $fail
