#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Images built by dracut's squash modules (dracut-bookworm-squash: 059's 99squash,
# dracut-sid-squashfs and dracut-sid-erofs: 112's squash-squashfs and squash-erofs; see
# tests/fixtures/README.md): the archive holds a loader script as /init and the initramfs's root,
# systemd included, in a file system image that the script mounts and switches into. sdcompat
# cannot read that file system: check must never call such an image safe ("no systemd").
# inject.bats: inject refuses them; dracut-module.bats: --add sdcompat with the squash module.

load helpers

setup() {
        require_fixtures
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
