#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Images built by dracut's squash modules (dracut-bookworm-squash: 059's 99squash,
# dracut-sid-squashfs and dracut-sid-erofs: 112's squash-squashfs and squash-erofs; see
# tests/fixtures/README.md): the archive holds a loader script as /init and the initramfs's root,
# systemd included, in a file system image that the script mounts and switches into. sdcompat
# cannot read that file system: check must never call such an image safe ("no systemd") and
# inject must refuse it (an appended segment would stay outside the root the script switches to).

load helpers

setup_file() {
        export SDC_INJECT_DESTDIR
        SDC_INJECT_DESTDIR=$(inject_destdir)
        write_inject "$SDC_INJECT_DESTDIR" "$BATS_FILE_TMPDIR/sdcompat-inject"
}

setup() {
        require_fixtures
}

inject() {
        "$BATS_FILE_TMPDIR/sdcompat-inject" "$@"
}

# The squash fixtures (runs_systemd "nested" in the index).
squash_fixtures() {
        fixtures_where runs_systemd nested
}

# root_image_of NAME: the *-root.img the archive of fixture NAME holds, as cpio lists it.
root_image_of() {
        local img
        img=$(fixture_path "$1")
        case "$(fixture "$1" compression)" in
        none) cpio -t --quiet <"$img" ;;
        zstd) zstdcat "$img" | cpio -t --quiet ;;
        *) echo "root_image_of: $1: unexpected compression" >&2 ;;
        esac | grep -E '^(erofs|squashfs|squash)-root\.img$'
}

# other_suite_tree NAME: a root of another systemd than the fixture's (a version skew).
other_suite_tree() {
        if [ "$(fixture "$1" suite)" = sid ]; then fixture_path tree-bookworm; else fixture_path tree-sid; fi
}

@test "squash images: blocked with the root image and the remedy, never 'no systemd' or safe (exit 2)" {
        local n=0 file type
        for name in $(squash_fixtures); do
                file=$(root_image_of "$name")
                [ -n "$file" ] || { echo "$name: no *-root.img in the archive"; return 1; }
                case $file in erofs-*) type=erofs ;; *) type=squashfs ;; esac
                for root in "$(other_suite_tree "$name")" "$(fixture_path "tree-$(fixture "$name" suite)")"; do
                        run check --image "$(fixture_path "$name")" --root "$root" --json
                        [ "$status" -eq 2 ] || { echo "$name on $root: exit $status: $output"; return 1; }
                        [ "$(json '.entries[0].error')" = null ]
                        [ "$(json '.entries[0].verdict')" = blocked ] || { echo "$name: $(json '.entries[0].verdict')"; return 1; }
                        [ "$(json '.exit_status')" = 2 ]
                        [ "$(json '.entries[0].initrd.root_image.path')" = "/$file" ]
                        [ "$(json '.entries[0].initrd.root_image.type')" = "$type" ]
                        [ "$(json '.entries[0].initrd.root_image.sdcompat_module')" = false ]
                        # the archive itself: a script as /init, no systemd
                        [ "$(json '.entries[0].initrd.runs_systemd')" = false ]
                        [ "$(json '.entries[0].initrd.systemd.found')" = false ]
                        reason=$(json '.entries[0].reason')
                        [[ $reason == *"/$file"* ]] || { echo "$name: $reason"; return 1; }
                        [[ $reason == *'`dracut --add sdcompat`'* ]]
                        [[ $reason != *"no systemd"* ]]
                        [[ $reason != *harmless* ]]
                done
                n=$((n + 1))
        done
        [ "$n" -ge 3 ] # 059 squash, 112 squashfs, 112 erofs
}

@test "squash images: the text report and sdcompat-probe say where the root is" {
        local n=0 file
        for name in $(squash_fixtures); do
                file=$(root_image_of "$name")
                run check --image "$(fixture_path "$name")" --root "$(other_suite_tree "$name")"
                [ "$status" -eq 2 ]
                [[ $output == *"inside the root file system image that /init mounts"* ]] || { echo "$output"; return 1; }
                [[ $output == *"note: /$file: /init mounts this file system image"* ]]
                [[ $output != *"no systemd in this initramfs"* ]]
                run "$probe" --image "$(fixture_path "$name")"
                [ "$status" -eq 0 ]
                [ "$(json .root_image.path)" = "/$file" ]
                n=$((n + 1))
        done
        [ "$n" -ge 3 ]
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

@test "the loader script without its root image is no squash root: no systemd, safe" {
        local name=dracut-sid-squashfs dir=$BATS_TEST_TMPDIR/unpacked
        fixture "$name" name >/dev/null || { echo "no $name fixture"; return 1; }
        mkdir -p "$dir"
        (cd "$dir" && cpio -idm --quiet <"$(fixture_path "$name")")
        grep -q squashfs-root.img "$dir/init"
        rm "$dir/squashfs-root.img"
        (cd "$dir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$BATS_TEST_TMPDIR/noimg.img"
        run check --image "$BATS_TEST_TMPDIR/noimg.img" --root "$(fixture_path tree-bookworm)" --json
        [ "$status" -eq 0 ]
        [ "$(json '.entries[0].initrd.root_image')" = null ]
        [ "$(json '.entries[0].verdict')" = safe ]
}

@test "dracut 112 --add sdcompat --add squash-squashfs: the module is inside squashfs-root.img, and check and inject say so" {
        local root=$BATS_TEST_TMPDIR/root img
        [ "$(id -u)" -eq 0 ] || skip "needs root for chroot"
        [ -d "$fixtures/chroots/sid-squash" ] || skip "no sid-squash chroot in $fixtures (tests/fixtures/build --only dracut-sid-squashfs)"
        cp -a "$fixtures/chroots/sid-squash" "$root"
        cp -a "$SDC_INJECT_DESTDIR/." "$root/"
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
        run check --image "$img" --root "$(fixture_path tree-bookworm)" --json
        [ "$status" -eq 2 ]
        [ "$(json '.entries[0].verdict')" = blocked ]
        [ "$(json '.entries[0].initrd.root_image.sdcompat_module')" = true ]
        [[ "$(json '.entries[0].reason')" == *"modules.txt in the image lists sdcompat"* ]]
        run inject --dry-run "$img"
        [ "$status" -eq 1 ]
        [[ $output == *"refused: cannot protect it by appending: "*"it was built with \`dracut --add sdcompat\`"* ]] ||
                { echo "$output"; return 1; }
}
