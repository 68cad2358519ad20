# Shared by the bats files: where the built programs and the fixtures are.
# SDCOMPAT_BUILD: a meson build directory (default: build-tests/gcc, as scripts/run-tests makes).
# SDCOMPAT_FIXTURES: what tests/fixtures/build made (default: /var/tmp/sdcompat-fixtures).

top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
build=${SDCOMPAT_BUILD:-$top/build-tests/gcc}
fixtures=${SDCOMPAT_FIXTURES:-/var/tmp/sdcompat-fixtures}
probe="$build/sdcompat-probe"

# sdcompat-check with the rules of this source tree (an uninstalled build finds none otherwise).
check() {
        "$build/sdcompat-check" --rules-path "${SDCOMPAT_TEST_RULES:-$top/rules.d}" "$@"
}

require_fixtures() {
        [ -f "$fixtures/index.tsv" ] || {
                echo "no fixtures in $fixtures: run tests/fixtures/build first" >&2
                return 1
        }
}

# fixture NAME COLUMN: one field of index.tsv, by the column's header name.
fixture() {
        awk -F'\t' -v name="$1" -v col="$2" '
                NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
                $idx["name"] == name { print $idx[col]; found = 1; exit }
                END { if (!found) exit 1 }' "$fixtures/index.tsv"
}

# fixtures_where COLUMN VALUE: the names of the fixtures whose COLUMN equals VALUE.
fixtures_where() {
        awk -F'\t' -v col="$1" -v val="$2" '
                NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
                $idx[col] == val { print $idx["name"] }' "$fixtures/index.tsv"
}

fixture_path() {
        local p
        p=$(fixture "$1" path) || { echo "fixture $1 is not in $fixtures/index.tsv" >&2; return 1; }
        case "$p" in /*) echo "$p" ;; *) echo "$fixtures/$p" ;; esac
}

# json EXPR: evaluates a jq expression on $output.
json() {
        jq -r "$1" <<<"$output"
}

sdcompat_bin="$build/sdcompat"

# unpack_image IMG DIR: unpacks a single-segment initramfs with the system's tools (the tests'
# independent view of the image; sdcompat itself never unpacks to disk).
unpack_image() {
        local img=$1 dir=$2 cat
        case "$(file -b "$img")" in
        gzip*) cat=zcat ;;
        Zstandard*) cat=zstdcat ;;
        XZ*) cat=xzcat ;;
        *) cat=cat ;;
        esac
        mkdir -p "$dir"
        $cat "$img" | (cd "$dir" && cpio -idm --quiet --no-absolute-filenames 2>/dev/null)
        [ -e "$dir/etc/initrd-release" ] || { echo "unpack_image: $img did not unpack to an initramfs" >&2; return 1; }
}

# static_libc: SDCOMPAT_BUILD's -Dstatic-libc, for the builds the bats files make of their own
# (default when the build predates the option).
static_libc() {
        local v
        v=$(meson introspect "$build" --buildoptions 2>/dev/null | jq -r '.[] | select(.name == "static-libc") | .value')
        echo "${v:-default}"
}

# inject_destdir: a static build of this tree (-Dstatic-programs=true, prefix /usr, SDCOMPAT_BUILD's
# -Dstatic-libc) installed into a directory, as sdcompat-inject's payload needs it;
# SDC_INJECT_DESTDIR names one made elsewhere. Kept beside SDCOMPAT_BUILD and rebuilt
# incrementally, so the bats files that need it share it.
inject_destdir() {
        local b=${build%/}-inject-static
        if [ -n "${SDC_INJECT_DESTDIR:-}" ]; then
                echo "$SDC_INJECT_DESTDIR"
                return
        fi
        [ -e "$b/build.ninja" ] ||
                meson setup "$b" "$top" --prefix=/usr -Dstatic-programs=true -Dtests=false -Dbuildtype=release \
                        -Dstatic-libc="$(static_libc)" >/dev/null
        meson compile -C "$b" >/dev/null
        rm -rf "$b/destdir"
        meson install -C "$b" --no-rebuild --destdir "$b/destdir" >/dev/null
        echo "$b/destdir"
}

# write_inject DESTDIR FILE: writes FILE, a program that runs DESTDIR's sdcompat-inject with the
# payload of that install and the rules of this tree (no admin rules), passing its arguments on.
write_inject() {
        cat >"$2" <<EOF
#!/bin/sh
exec "$1/usr/sbin/sdcompat-inject" --sdcompat "$1/usr/bin/sdcompat" --shim "$1/usr/libexec/sdcompat/sdcompat-shim" \\
        --unit "$1/usr/lib/dracut/modules.d/99sdcompat/sdcompat-negotiate.service" \\
        --rules-dir "$top/rules.d" --admin-rules-dir '' "\$@"
EOF
        chmod +x "$2"
}

# systemd_dracut_fixture SUITE: the name of that suite's dracut-built fixture image whose initramfs
# runs systemd (empty if the fixture set has none).
systemd_dracut_fixture() {
        fixtures_where builder dracut | while read -r n; do
                [ "$(fixture "$n" suite)" = "$1" ] && [ "$(fixture "$n" runs_systemd)" = yes ] && echo "$n"
        done | head -n1
}

# dracut's squash images (tests/fixtures/README.md): runs_systemd "nested" in the index.
squash_fixtures() {
        fixtures_where runs_systemd nested
}

# root_image_of NAME: the *-root.img the archive of squash fixture NAME holds, as cpio lists it.
root_image_of() {
        local img
        img=$(fixture_path "$1")
        case "$(fixture "$1" compression)" in
        none) cpio -t --quiet <"$img" ;;
        zstd) zstdcat "$img" | cpio -t --quiet ;;
        *) echo "root_image_of: $1: unexpected compression" >&2 ;;
        esac | grep -E '^(erofs|squashfs|squash)-root\.img$'
}

# shim_build LABEL VERSION: a real build of this tree's sdcompat-shim that says VERSION
# (-Dpackage-version; only the shim target), kept beside SDCOMPAT_BUILD and rebuilt incrementally, as
# a root's newer (or older) sdcompat package carries it; prints its path.
shim_build() {
        local b=${build%/}-rootshim-$1
        if [ ! -e "$b/build.ninja" ]; then
                meson setup "$b" "$top" -Dpackage-version="$2" -Dtests=false -Dbuildtype=release >/dev/null
        elif [ "$(meson introspect --buildoptions "$b" | jq -r '.[] | select(.name == "package-version") | .value')" != "$2" ]; then
                meson configure "$b" -Dpackage-version="$2" >/dev/null
        fi
        meson compile -C "$b" sdcompat-shim >/dev/null
        echo "$b/sdcompat-shim"
}
