#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# dracut --add sdcompat with each suite's own dracut (051 in bullseye ... 112 in sid), in copies of
# the fixture chroots: the image carries sdcompat, its rules, the unit and a manifest, and
# sdcompat-check reads it as protected where the race hazard applies. Needs root (chroot).

load helpers

setup_file() {
        # A static build installed with prefix /usr, as an image needs it, with SDCOMPAT_BUILD's C library.
        export SDC_STATIC_DESTDIR="$BATS_FILE_TMPDIR/destdir"
        meson setup "$BATS_FILE_TMPDIR/build" "$top" --prefix=/usr -Dstatic-programs=true -Dtests=false \
                -Dstatic-libc="$(static_libc)" >/dev/null
        meson compile -C "$BATS_FILE_TMPDIR/build" >/dev/null
        meson install -C "$BATS_FILE_TMPDIR/build" --no-rebuild --destdir "$SDC_STATIC_DESTDIR" >/dev/null
}

# build_image SUITE: dracut --add sdcompat (and the old-initrd race drop-in) in a copy of the
# fixture chroot of SUITE; prints the image path.
build_image() {
        local suite=$1 root="$BATS_TEST_TMPDIR/root"
        [ -d "$fixtures/chroots/$suite" ] || return 3
        cp -a "$fixtures/chroots/$suite" "$root"
        cp -a "$SDC_STATIC_DESTDIR/." "$root/"
        # a shim the build must never hand over: a dynamically linked one (the chroot's own true)
        [ -z "${DYNAMIC_SHIM:-}" ] || cp "$root/bin/true" "$root/usr/libexec/sdcompat/sdcompat-shim"
        mkdir -p "$root/tmp/race"
        printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "systemctl --no-block switch-root /sysroot; sleep 60"\n' \
                >"$root/tmp/race/race.conf"
        unshare --mount --propagation private -- /bin/sh -euc '
                r=$1
                mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
                chroot "$r" dracut --force --no-kernel --no-hostonly --add sdcompat \
                        --include /tmp/race/race.conf /etc/systemd/system/initrd-switch-root.service.d/race.conf \
                        /tmp/sdcompat.img' sh "$root" >"$BATS_TEST_TMPDIR/dracut.log" 2>&1 ||
                { cat "$BATS_TEST_TMPDIR/dracut.log" >&2; return 1; }
        echo "$root/tmp/sdcompat.img"
}

check_suite() {
        local suite=$1 img rc=0
        require_fixtures
        [ "$(id -u)" -eq 0 ] || skip "needs root for chroot"
        img=$(build_image "$suite") || rc=$?
        [ "$rc" -ne 3 ] || skip "no $suite chroot in $fixtures"
        [ "$rc" -eq 0 ] || { echo "building the $suite image failed ($rc):"; tail -n 20 "$BATS_TEST_TMPDIR/dracut.log"; return 1; }
        # The module ran: its record step says so (dracut 112 no longer lists the modules it includes).
        grep -q 'sdcompat: .*manifest written to' "$BATS_TEST_TMPDIR/dracut.log"
        # Its own suite's root: no version skew, only the race hazard, which sdcompat handles.
        run check --image "$img" --root "$(fixture_path "tree-$suite")" --cmdline "root=LABEL=root" --json
        [ "$(json '.entries[0].sdcompat.actions[0]')" = dropin-sigterm-success ]
        [ "$(json '.entries[0].initrd.systemd.version')" = "$(fixture "tree-$suite" systemd_version)" ]
        [ "$(json '.entries[0].verdict')" = protected ] || { echo "$output"; return 1; }
        [ "$status" -eq 0 ]
}

@test "dracut 051 (bullseye) --add sdcompat: protected image" {
        check_suite bullseye
}

@test "dracut 059 (bookworm) --add sdcompat: protected image" {
        check_suite bookworm
}

@test "dracut 112 (sid) --add sdcompat: protected image" {
        check_suite sid
}

@test "dracut 106 (trixie) --add sdcompat: protected image" {
        check_suite trixie
}

@test "dracut --add sdcompat leaves a dynamically linked shim out (its loader failing as PID 1 panics the kernel)" {
        local img rc=0
        require_fixtures
        [ "$(id -u)" -eq 0 ] || skip "needs root for chroot"
        img=$(DYNAMIC_SHIM=1 build_image bookworm) || rc=$?
        [ "$rc" -ne 3 ] || skip "no bookworm chroot in $fixtures"
        [ "$rc" -eq 0 ]
        grep -q 'sdcompat-shim is dynamically linked (a sanitizer build?); a PID 1 must be static: not installed' \
                "$BATS_TEST_TMPDIR/dracut.log" || { grep -i 'sdcompat\|error' "$BATS_TEST_TMPDIR/dracut.log"; false; }
        # the image has the rest of the module, without the shim (lsinitrd of the suite's dracut)
        chroot "$BATS_TEST_TMPDIR/root" lsinitrd /tmp/sdcompat.img > "$BATS_TEST_TMPDIR/list"
        grep -q ' usr/bin/sdcompat$' "$BATS_TEST_TMPDIR/list"
        run ! grep -q 'sdcompat-shim$' "$BATS_TEST_TMPDIR/list"
}

@test "dracut 112 --add sdcompat --add squash-squashfs: the module is inside squashfs-root.img, check reads it there, inject refuses" {
        local root=$BATS_TEST_TMPDIR/root img
        require_fixtures
        [ "$(id -u)" -eq 0 ] || skip "needs root for chroot"
        [ -d "$fixtures/chroots/sid-squash" ] || skip "no sid-squash chroot in $fixtures (tests/fixtures/build --only dracut-sid-squashfs)"
        cp -a "$fixtures/chroots/sid-squash" "$root"
        cp -a "$SDC_STATIC_DESTDIR/." "$root/"
        unshare --mount --propagation private -- /bin/sh -euc '
                r=$1
                mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
                chroot "$r" dracut --force --no-kernel --no-hostonly --add sdcompat --add squash-squashfs /tmp/sdcompat.img
                cd "$r/tmp" && cpio -i --quiet squashfs-root.img <sdcompat.img
                chroot "$r" unsquashfs -l /tmp/squashfs-root.img' sh "$root" >"$BATS_TEST_TMPDIR/dracut.log" 2>&1 ||
                { tail -n 20 "$BATS_TEST_TMPDIR/dracut.log"; return 1; }
        # sdcompat's files went into the squashed root, beside the systemd that runs there
        for f in usr/bin/sdcompat usr/lib/sdcompat/manifest usr/libexec/sdcompat/sdcompat-shim \
                usr/lib/systemd/system/initrd.target.wants/sdcompat-negotiate.service usr/lib/systemd/systemd; do
                grep -qx "squashfs-root/$f" "$BATS_TEST_TMPDIR/dracut.log" || { echo "not in the squashed root: $f"; return 1; }
        done
        img=$root/tmp/sdcompat.img
        run check --image "$(fixture_path dracut-sid)" --root "$(fixture_path tree-bookworm)" --json
        plain_hazards=$(jq -c '[.entries[0].hazards[] | [.id, .match]]' <<<"$output")
        run check --image "$img" --root "$(fixture_path tree-bookworm)" --json
        [ "$(json '.entries[0].initrd.root_image.sdcompat_module')" = true ]
        if grep -q '^#define HAVE_SQUASHFS 1' "$build/config.h"; then
                # read: the root inside, its sdcompat manifest included, judged as without squash
                [ "$(json '.entries[0].initrd.root_image.read')" = true ] || { echo "$output"; return 1; }
                [ "$(json '.entries[0].sdcompat.version')" != null ]
                [ "$(jq -c '[.entries[0].hazards[] | [.id, .match]]' <<<"$output")" = "$plain_hazards" ]
                [[ "$(json '.entries[0].reason')" != *"could not read"* ]]
        else
                [ "$status" -eq 2 ]
                [ "$(json '.entries[0].verdict')" = blocked ]
                [[ "$(json '.entries[0].reason')" == *"modules.txt in the image lists sdcompat"* ]]
        fi
        write_inject "$SDC_STATIC_DESTDIR" "$BATS_TEST_TMPDIR/sdcompat-inject"
        run "$BATS_TEST_TMPDIR/sdcompat-inject" --dry-run "$img"
        [ "$status" -eq 1 ]
        [[ $output == *"refused: cannot protect it by appending: "*"it was built with \`dracut --add sdcompat\`"* ]] ||
                { echo "$output"; return 1; }
}

@test "the module reads ldd's whole output: a dynamic program stays dynamic when grep would leave early (dracut runs with pipefail)" {
        # ldd as the loader prints it, one write per line; the last line comes late, as under load.
        # Piped into "grep -q", that line met a closed pipe (SIGPIPE) and, with pipefail, the
        # program passed for static: the dynamic-shim test above failed so under load.
        mkdir -p "$BATS_TEST_TMPDIR/bin"
        printf '#!/bin/sh\nprintf "\\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x0)\\n"\nsleep 1\nprintf "\\t/lib64/ld-linux-x86-64.so.2 (0x0)\\n"\n' \
                >"$BATS_TEST_TMPDIR/bin/ldd"
        chmod +x "$BATS_TEST_TMPDIR/bin/ldd"
        # shellcheck disable=SC2016 # expanded by the inner shell
        run bash -c 'set -o pipefail; . "$1"; PATH=$2:$PATH sdcompat_is_dynamic /bin/true' sh \
                "$top/dracut-module/99sdcompat/module-setup.sh.in" "$BATS_TEST_TMPDIR/bin"
        [ "$status" -eq 0 ]
        # the real ldd: the static build's sdcompat is static, the host's true is not
        # shellcheck disable=SC2016
        run bash -c 'set -o pipefail; . "$1"; sdcompat_is_dynamic "$2"' sh \
                "$top/dracut-module/99sdcompat/module-setup.sh.in" "$SDC_STATIC_DESTDIR/usr/bin/sdcompat"
        [ "$status" -eq 1 ]
        # shellcheck disable=SC2016
        run bash -c 'set -o pipefail; . "$1"; sdcompat_is_dynamic /bin/true' sh "$top/dracut-module/99sdcompat/module-setup.sh.in"
        [ "$status" -eq 0 ]
}
