#!/bin/sh
# include-boundary.sh SRCDIR BUILDDIR CC... — proves the layering meson.build sets: a file of
# src/libsdcompat (the engine, all that the static sdcompat links) cannot include a header of
# src/libsdcompat-image (the image reader and its decompressors), a file of src/libsdcompat-core
# (what the static shim links) cannot include an engine header, and src/shared cannot include a
# core one. Each layer's headers compile with its own include path;
# a deliberate violation must fail with "No such file" (gcc) or "file not found" (clang), not for
# another reason.
set -u
src=$1 build=$2
shift 2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

# cc_compile FLAGS HEADER CC...: 0 if a file including only HEADER compiles with those flags.
cc_compile() { flags=$1 header=$2; printf '#include "%s"\n' "$header" > "$tmp/t.c"; shift 2
        # shellcheck disable=SC2086
        "$@" -fsyntax-only -H -include "$build/config.h" $flags "$tmp/t.c" > "$tmp/out" 2>&1; }

shared="-I$build -I$src -I$src/src/shared"
core="$shared -I$src/src/libsdcompat-core"
engine="$core -I$src/src/libsdcompat"

must() {
        what=$1 flags=$2 header=$3
        shift 3
        if ! cc_compile "$flags" "$header" "$@"; then
                echo "FAIL: $what: $header does not compile with its layer's include path:"; cat "$tmp/out"; fail=1
        fi
}
must_not() {
        what=$1 flags=$2 header=$3
        shift 3
        if cc_compile "$flags" "$header" "$@"; then
                # A system header of the same name (/usr/include/cpio.h) is not the layer's.
                if grep -q "^\. $src/src/libsdcompat[-a-z]*/" "$tmp/out"; then
                        echo "FAIL: $what: $header compiles, the boundary is open"; fail=1
                else
                        echo "ok: $what: $header resolves to a system header, not the layer's"
                fi
        elif ! grep -qE "No such file|file not found" "$tmp/out"; then
                echo "FAIL: $what: $header fails for another reason than the boundary:"; cat "$tmp/out"; fail=1
        else
                echo "ok: $what: $header is out of reach"
        fi
}

n=0 m=0 i=0
for h in "$src"/src/libsdcompat/*.h; do must engine "$engine" "${h##*/}" "$@"; m=$((m + 1)); done
for h in "$src"/src/libsdcompat-core/*.h; do must core "$core" "${h##*/}" "$@"; n=$((n + 1)); done
for h in "$src"/src/shared/*.h; do must shared "$shared" "${h##*/}" "$@"; done
[ "$n" -gt 0 ] || { echo "FAIL: no core headers under $src/src/libsdcompat-core"; fail=1; }
[ "$m" -gt 0 ] || { echo "FAIL: no engine headers under $src/src/libsdcompat"; fail=1; }
for h in "$src"/src/libsdcompat-image/*.h; do must_not "engine -> image" "$engine" "${h##*/}" "$@"; i=$((i + 1)); done
[ "$i" -gt 0 ] || { echo "FAIL: no image headers under $src/src/libsdcompat-image"; fail=1; }
for h in "$src"/src/libsdcompat/*.h; do must_not "core -> engine" "$core" "${h##*/}" "$@"; done
for h in "$src"/src/libsdcompat-core/*.h; do must_not "shared -> core" "$shared" "${h##*/}" "$@"; done
exit $fail
