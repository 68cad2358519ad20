#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# sdcompat-inject on real images: a dracut image's archive in every compression the kernel boots
# (recompressed with the commands dracut itself runs), with an early microcode archive in front,
# real dracut and initramfs-tools images; what it refuses; --remove; a newer root's rules.

load helpers

setup_file() {
        export SDC_INJECT_DESTDIR
        SDC_INJECT_DESTDIR=$(inject_destdir)
        write_inject "$SDC_INJECT_DESTDIR" "$BATS_FILE_TMPDIR/sdcompat-inject"
}

setup() {
        require_fixtures
        d=$SDC_INJECT_DESTDIR
}

inject() {
        "$BATS_FILE_TMPDIR/sdcompat-inject" "$@"
}

# image_with COMPRESSION OUT: dracut-bookworm's archive (what bookworm's dracut 059 packed),
# compressed as dracut compresses: its --gzip/--xz/--lzma/--zstd/--lz4/--bzip2/--no-compress
# commands. "ucode" puts an early microcode archive in front of the zstd one, as dracut does.
image_with() {
        local c=$1 out=$2 cpio=$BATS_FILE_TMPDIR/dracut-bookworm.cpio
        [ -s "$cpio" ] || zcat "$(fixture_path dracut-bookworm)" >"$cpio"
        case $c in
        none) cp "$cpio" "$out" ;;
        gzip) gzip -n -9 <"$cpio" >"$out" ;;
        xz) xz --check=crc32 --lzma2=dict=1MiB -T1 <"$cpio" >"$out" ;;
        lzma) xz --format=lzma --lzma1=dict=1MiB <"$cpio" >"$out" ;;
        zstd) zstd -q -15 <"$cpio" >"$out" ;;
        lz4) lz4 -q -l -9 <"$cpio" >"$out" ;;
        bzip2) bzip2 -9 <"$cpio" >"$out" ;;
        ucode)
                local early=$BATS_TEST_TMPDIR/early
                mkdir -p "$early/kernel/x86/microcode"
                printf '1\n' >"$early/early_cpio"
                head -c 3001 /dev/urandom >"$early/kernel/x86/microcode/GenuineIntel.bin"
                (cd "$early" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out"
                zstd -q -15 <"$cpio" >>"$out"
                ;;
        esac
}

# The appended archive, listed by the system's cpio: it starts at the first 4-aligned offset after
# the original's size plus 4 zero bytes.
appended_list() {
        local img=$1 orig=$2 start
        start=$(((orig + 4 + 3) / 4 * 4))
        tail -c +$((start + 1)) "$img" | cpio -t --quiet
}

check_injected() { # IMG ORIGINAL-COPY
        local img=$1 orig=$2 size
        size=$(stat -c %s "$orig")
        # The original's bytes are untouched.
        cmp -n "$size" "$img" "$orig"
        run appended_list "$img" "$size"
        [ "$status" -eq 0 ]
        for f in usr/bin/sdcompat usr/libexec/sdcompat/sdcompat-shim usr/lib/sdcompat/manifest \
                usr/lib/sdcompat/inject usr/lib/systemd/system/sdcompat-negotiate.service \
                usr/lib/systemd/system/initrd.target.wants/sdcompat-negotiate.service \
                usr/lib/sdcompat/rules.d/catalogue usr/lib/sdcompat/rules.d/10-sdc-h1-old-systemctl.rules; do
                grep -qx "$f" <<<"$output" || { echo "missing in the appended archive: $f"; echo "$output"; return 1; }
        done
        # Read as the kernel would: one more segment, uncompressed, with the manifest of an injection.
        run check --image "$img" --root "$(fixture_path tree-trixie)" --json
        [ "$(json '.entries[0].error')" = null ]
        [ "$(json '.entries[0].sdcompat.injected')" = true ]
        [ "$(json '.entries[0].sdcompat.version')" = "$("$d/usr/bin/sdcompat" --version | cut -d' ' -f2)" ]
        [ "$(json '.entries[0].image_info.segments[-1].compression')" = none ]
        [ "$(json '.entries[0].initrd.systemd.version')" = 252.39-1~deb12u2 ]
}

@test "every compression and microcode in front: injected, read back, unchanged twice, removed byte for byte" {
        local n=0
        for c in none gzip xz lzma zstd lz4 bzip2 ucode; do
                img=$BATS_TEST_TMPDIR/$c.img
                image_with "$c" "$img"
                cp "$img" "$img.orig"
                run inject --json "$img"
                [ "$status" -eq 0 ] || { echo "$c: $output"; return 1; }
                [ "$(json '.images[0].action')" = injected ] || { echo "$c: $output"; return 1; }
                [ "$(json '.images[0].changed')" = true ]
                check_injected "$img" "$img.orig" || { echo "$c: not injected as it should be"; return 1; }
                cp "$img" "$img.injected"
                run inject --json "$img"
                [ "$status" -eq 0 ]
                [ "$(json '.images[0].action')" = unchanged ] || { echo "$c: $output"; return 1; }
                cmp "$img" "$img.injected"
                run inject --remove "$img"
                [ "$status" -eq 0 ]
                [[ "$output" == *": removed: "* ]]
                cmp "$img" "$img.orig" || { echo "$c: --remove did not restore the original"; return 1; }
                n=$((n + 1))
        done
        [ "$n" -eq 8 ]
}

@test "an injected dracut image is protected in the race cell: check names the injected version" {
        img=$BATS_TEST_TMPDIR/race.img
        # The old-initrd race (as tests/vm's scenario): switch-root run by a shell PID 1 kills.
        tree=$BATS_TEST_TMPDIR/tree
        unpack_image "$(fixture_path dracut-bookworm)" "$tree"
        mkdir -p "$tree/etc/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "systemctl --no-block switch-root /sysroot; sleep 60"\n' \
                >"$tree/etc/systemd/system/initrd-switch-root.service.d/race.conf"
        (cd "$tree" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | zstd -q >"$img"
        run check --image "$img" --root "$(fixture_path tree-trixie)"
        [ "$status" -eq 1 ]
        [[ "$output" == *"verdict:        at-risk"* ]]
        run inject "$img"
        [ "$status" -eq 0 ]
        run check --image "$img" --root "$(fixture_path tree-trixie)"
        [ "$status" -eq 0 ]
        [[ "$output" == *"verdict:        protected"* ]]
        [[ "$output" == *"injected "*" by sdcompat-inject"* ]]
}

@test "real dracut images of other suites: injected at their unit directory (split-/usr bullseye: /lib)" {
        for name in dracut-bullseye dracut-sid; do
                img=$BATS_TEST_TMPDIR/$name.img
                cp "$(fixture_path "$name")" "$img"
                run inject "$img"
                [ "$status" -eq 0 ] || { echo "$name: $output"; return 1; }
                [[ "$output" == *": injected: "* ]]
                run appended_list "$img" "$(stat -c %s "$(fixture_path "$name")")"
                [ "$status" -eq 0 ]
                # Never a path through a symlink of the image: the kernel would replace the symlink.
                grep -qx 'usr/bin/sdcompat' <<<"$output"
                if [ "$name" = dracut-bullseye ]; then
                        grep -qx 'lib/systemd/system/sdcompat-negotiate.service' <<<"$output"
                else
                        grep -qx 'usr/lib/systemd/system/sdcompat-negotiate.service' <<<"$output"
                fi
                run ! grep -qx 'bin' <<<"$output"
                run ! grep -qx 'lib' <<<"$output"
                run inject --remove "$img"
                [ "$status" -eq 0 ]
                cmp "$img" "$(fixture_path "$name")"
        done
}

@test "immune: no systemd in the image (initramfs-tools, dracut --omit systemd): exit 0, nothing written" {
        for name in initramfs-tools-bookworm dracut-bookworm-nosystemd; do
                img=$BATS_TEST_TMPDIR/$name.img
                cp "$(fixture_path "$name")" "$img"
                run inject --json "$img"
                [ "$status" -eq 0 ]
                [ "$(json '.images[0].action')" = immune ]
                [ "$(json '.images[0].changed')" = false ]
                cmp "$img" "$(fixture_path "$name")"
        done
}

@test "refused, nothing changed: PE file, not an initramfs, truncated, empty, already built with the module" {
        local pe=$BATS_TEST_TMPDIR/uki.efi
        # A PE file: the kernel's own EFI stub image (MZ header) from the VM cache or this host.
        { printf 'MZ'; head -c 4094 /dev/zero; } >"$pe"
        run inject --json "$pe" "$(fixture_path hostile-text)" "$(fixture_path hostile-truncated)" "$(fixture_path hostile-empty)"
        [ "$status" -eq 1 ]
        [ "$(json '[.images[].action] | unique | join(",")')" = refused ]
        [[ "$(json '.images[0].reason')" == *"re-sign"* || "$(json '.images[0].reason')" == *"sign it again"* ]]
        [[ "$(json '.images[1].reason')" == "not an initramfs"* ]]
        [[ "$(json '.images[2].reason')" == *"truncated"* || "$(json '.images[2].reason')" == *"ends"* ]]
        [[ "$(json '.images[3].reason')" == *"empty"* ]]
        # The fixtures are read-only inputs: still byte-identical to their index's description.
        [ "$(stat -c %s "$(fixture_path hostile-empty)")" -eq 0 ]

        # Built with dracut --add sdcompat: a manifest of sdcompat record in the original.
        tree=$BATS_TEST_TMPDIR/tree
        unpack_image "$(fixture_path dracut-bookworm)" "$tree"
        "$d/usr/bin/sdcompat" record --root "$tree" 2>/dev/null
        img=$BATS_TEST_TMPDIR/built.img
        (cd "$tree" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -n >"$img"
        cp "$img" "$img.orig"
        run inject "$img"
        [ "$status" -eq 1 ]
        [[ "$output" == *"already built with 'dracut --add sdcompat'"* ]]
        cmp "$img" "$img.orig"
        # An image packed by hand without units: nothing to hook the unit into.
        cp "$(fixture_path image-bookworm-zstd)" "$BATS_TEST_TMPDIR/nounits.img"
        run inject "$BATS_TEST_TMPDIR/nounits.img"
        [ "$status" -eq 1 ]
        [[ "$output" == *"no initrd.target"* ]]
}

@test "refused, nothing changed: not enough space (with the numbers), read-only file system" {
        img=$BATS_TEST_TMPDIR/img
        cp "$(fixture_path dracut-bookworm)" "$img"
        size=$(stat -c %s "$img")
        # A private mount namespace: a small tmpfs that holds the image but not a second copy.
        run unshare -m bash -c "
                mount -t tmpfs -o size=$((size / 1024 + 2048))k sdc-inject-full '$BATS_TEST_TMPDIR/small' 2>/dev/null ||
                        { mkdir -p '$BATS_TEST_TMPDIR/small' && mount -t tmpfs -o size=$((size / 1024 + 2048))k sdc-inject-full '$BATS_TEST_TMPDIR/small'; } || exit 99
                cp '$img' '$BATS_TEST_TMPDIR/small/img' || exit 98
                $(declare -f inject); BATS_FILE_TMPDIR='$BATS_FILE_TMPDIR'
                inject '$BATS_TEST_TMPDIR/small/img'; echo rc=\$?
                cmp '$img' '$BATS_TEST_TMPDIR/small/img' && echo same
                ls -A '$BATS_TEST_TMPDIR/small'
                mount -o remount,ro '$BATS_TEST_TMPDIR/small'
                inject '$BATS_TEST_TMPDIR/small/img'; echo rc=\$?"
        [ "$status" -eq 0 ] || { echo "$output"; return 1; }
        [[ "$output" == *"not enough free space in $BATS_TEST_TMPDIR/small: "*"needs "*" bytes"*" are free; nothing changed"* ]]
        [[ "$output" == *"rc=1"*"same"* ]]
        [[ "$(grep -c sdcompat-inject <<<"$output")" -eq 0 ]] || [[ "$output" != *".img.sdcompat-inject."* ]]
        [[ "$output" == *"read-only file system"* ]]
        [ "$(grep -c '^rc=1$' <<<"$output")" -eq 2 ]
}

@test "under /boot (--boot-dir) without --apply: a dry run; --check never writes; --apply writes" {
        boot=$BATS_TEST_TMPDIR/boot
        mkdir -p "$boot"
        cp "$(fixture_path dracut-bookworm)" "$boot/initrd.img-6.1.0-99-amd64"
        ln -s initrd.img-6.1.0-99-amd64 "$boot/initrd.img"
        run inject --boot-dir "$boot" --all --json
        [ "$status" -eq 0 ]
        [ "$(json '.images | length')" -eq 1 ]
        [ "$(json '.images[0].action')" = would-inject ]
        [ "$(json '.images[0].changed')" = false ]
        cmp "$boot/initrd.img-6.1.0-99-amd64" "$(fixture_path dracut-bookworm)"
        run inject --boot-dir "$boot" --all --apply --json
        [ "$status" -eq 0 ]
        [ "$(json '.images[0].action')" = injected ]
        # The symlink stays a symlink: the file it names was replaced.
        [ -L "$boot/initrd.img" ]
        run inject --check "$boot/initrd.img"
        [ "$status" -eq 0 ]
        [[ "$output" == *": unchanged: "* ]]
        run inject --boot-dir "$boot" --all --remove --json
        [ "$status" -eq 0 ]
        [ "$(json '.images[0].action')" = would-remove ]
        run inject --boot-dir "$boot" --all --remove --apply --json
        [ "$status" -eq 0 ]
        [ "$(json '.images[0].action')" = removed ]
        cmp "$boot/initrd.img-6.1.0-99-amd64" "$(fixture_path dracut-bookworm)"
        # Outside /boot, the default is to write; --dry-run still never does.
        img=$BATS_TEST_TMPDIR/img
        cp "$(fixture_path dracut-bookworm)" "$img"
        run inject --dry-run --json "$img"
        [ "$status" -eq 0 ]
        [ "$(json '.images[0].action')" = would-inject ]
        cmp "$img" "$(fixture_path dracut-bookworm)"
}

@test "a newer payload replaces the injected segment; a changed original is refused by --remove" {
        img=$BATS_TEST_TMPDIR/img
        cp "$(fixture_path dracut-bookworm)" "$img"
        run inject "$img"
        [ "$status" -eq 0 ]
        # Other rules (a newer catalogue): the segment is replaced, the original stays the prefix.
        rules=$BATS_TEST_TMPDIR/rules
        cp -a "$top/rules.d" "$rules"
        sed -i 's/^CATALOGUE_VERSION=.*/CATALOGUE_VERSION=99/' "$rules/catalogue"
        run "$d/usr/sbin/sdcompat-inject" --sdcompat "$d/usr/bin/sdcompat" --shim "$d/usr/libexec/sdcompat/sdcompat-shim" \
                --unit "$d/usr/lib/dracut/modules.d/99sdcompat/sdcompat-negotiate.service" --rules-dir "$rules" \
                --admin-rules-dir '' --json "$img"
        [ "$status" -eq 0 ]
        [ "$(json '.images[0].action')" = replaced ]
        cmp -n "$(stat -c %s "$(fixture_path dracut-bookworm)")" "$img" "$(fixture_path dracut-bookworm)"
        run inject --remove "$img"
        [ "$status" -eq 0 ]
        cmp "$img" "$(fixture_path dracut-bookworm)"
        # A byte of the original changed after the injection: --remove and inject refuse.
        run inject "$img"
        [ "$status" -eq 0 ]
        printf 'X' | dd of="$img" bs=1 seek=100 conv=notrunc status=none
        cp "$img" "$img.before"
        run inject --remove "$img"
        [ "$status" -eq 1 ]
        [[ "$output" == *"no longer have the SHA-256"* ]]
        cmp "$img" "$img.before"
}

@test "usage: exit 2; --help and --version" {
        run inject
        [ "$status" -eq 2 ]
        run inject --all "$BATS_TEST_TMPDIR/x"
        [ "$status" -eq 2 ]
        run inject --apply --dry-run x
        [ "$status" -eq 2 ]
        run inject --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"--remove"* && "$output" == *"--all"* ]]
        run inject --version
        [ "$status" -eq 0 ]
        [[ "$output" == "sdcompat-inject "* ]]
}

@test "SOURCE_DATE_EPOCH makes the injected segment reproducible: two runs a second apart, the same bytes" {
        image_with zstd "$BATS_TEST_TMPDIR/a.img"
        cp "$BATS_TEST_TMPDIR/a.img" "$BATS_TEST_TMPDIR/b.img"
        SOURCE_DATE_EPOCH=1700000000 run inject "$BATS_TEST_TMPDIR/a.img"
        [ "$status" -eq 0 ]
        sleep 1.1
        SOURCE_DATE_EPOCH=1700000000 run inject "$BATS_TEST_TMPDIR/b.img"
        [ "$status" -eq 0 ]
        cmp "$BATS_TEST_TMPDIR/a.img" "$BATS_TEST_TMPDIR/b.img"
        # The manifest says when, from the same clock.
        run grep -a -c '2023-11-14T22:13:20Z' "$BATS_TEST_TMPDIR/a.img"
        [ "$status" -eq 0 ]
        [ "$output" -ge 1 ]
}

@test "squash images: sdcompat-inject refuses with the remedy (not immune) and leaves the image as it was" {
        local n=0 file copy
        for name in $(squash_fixtures); do
                file=$(root_image_of "$name")
                copy=$BATS_TEST_TMPDIR/$name.img
                cp "$(fixture_path "$name")" "$copy"
                run inject --dry-run "$copy"
                [ "$status" -eq 1 ] || { echo "$name: exit $status: $output"; return 1; }
                [[ $output == *"refused: cannot protect it by appending: "*"/$file"*'`dracut --add sdcompat`'* ]] ||
                        { echo "$output"; return 1; }
                [[ $output != *immune* ]]
                run inject --dry-run --json "$copy"
                [ "$status" -eq 1 ]
                [ "$(json '.images[0].action')" = refused ] || { echo "$output"; return 1; }
                cmp "$copy" "$(fixture_path "$name")"
                n=$((n + 1))
        done
        [ "$n" -ge 3 ]
}
