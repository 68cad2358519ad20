#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Images built by dracut's squash modules (dracut-bookworm-squash: 059's 99squash,
# dracut-sid-squashfs and dracut-sid-erofs: 112's squash-squashfs and squash-erofs; see
# tests/fixtures/README.md): the archive holds a loader script as /init and the initramfs's root,
# systemd included, in a file system image that the script mounts and switches into. A squashfs
# one is read (libsquashfs, tree-squashfs.c): check judges the systemd inside it, exactly as the
# same suite's image without the squash module. An erofs one (no reader), a squashfs one in a build
# without libsquashfs, and a damaged squashfs are blocked with the reason: never "no systemd" or
# safe. inject.bats: inject refuses them all; dracut-module.bats: --add sdcompat with the squash
# module.

load helpers

setup() {
        require_fixtures
}

# other_suite_tree NAME: a root of another systemd than the fixture's (a version skew).
other_suite_tree() {
        if [ "$(fixture "$1" suite)" = sid ]; then fixture_path tree-bookworm; else fixture_path tree-sid; fi
}

# squashfs_readable: whether this build reads squashfs (meson -Dsquashfs, libsquashfs found).
squashfs_readable() {
        grep -q '^#define HAVE_SQUASHFS 1' "$build/config.h"
}

# plain_of NAME: the same suite's dracut image without the squash module.
plain_of() {
        systemd_dracut_fixture "$(fixture "$1" suite)"
}

@test "squashfs root images are read: the verdict, reason and hazards of the suite's plain image (erofs: blocked)" {
        local n=0 read=0 file type plain
        for name in $(squash_fixtures); do
                file=$(root_image_of "$name")
                [ -n "$file" ] || { echo "$name: no *-root.img in the archive"; return 1; }
                case $file in erofs-*) type=erofs ;; *) type=squashfs ;; esac
                for root in "$(other_suite_tree "$name")" "$(fixture_path "tree-$(fixture "$name" suite)")" \
                        "$(fixture_path tree-bullseye)"; do
                        run check --image "$(fixture_path "$name")" --root "$root" --json
                        local squash=$output squash_status=$status
                        [ "$(json '.entries[0].error')" = null ]
                        [ "$(json '.entries[0].initrd.root_image.path')" = "/$file" ]
                        [ "$(json '.entries[0].initrd.root_image.type')" = "$type" ]
                        [ "$(json '.entries[0].initrd.root_image.sdcompat_module')" = false ]
                        reason=$(json '.entries[0].reason')
                        [[ $reason != *"no systemd"* ]] || { echo "$name: $reason"; return 1; }
                        if [ "$type" = squashfs ] && squashfs_readable; then
                                [ "$(json '.entries[0].initrd.root_image.read')" = true ] || { echo "$output"; return 1; }
                                [ "$(json '.entries[0].initrd.root_image.error')" = null ]
                                # the root inside: systemd as its init, the index's version
                                [ "$(json '.entries[0].initrd.runs_systemd')" = true ]
                                [ "$(json '.entries[0].initrd.systemd.version')" = "$(fixture "$name" systemd_version)" ]
                                plain=$(plain_of "$name")
                                [ -n "$plain" ]
                                run check --image "$(fixture_path "$plain")" --root "$root" --json
                                [ "$squash_status" -eq "$status" ] || { echo "$name vs $plain on $root: $squash_status, $status"; return 1; }
                                for key in .exit_status .entries[0].verdict .entries[0].reason .entries[0].cgroup \
                                        '[.entries[0].hazards[] | [.id, .match, .handled]]' .entries[0].initrd.systemd; do
                                        [ "$(jq -c "$key" <<<"$squash")" = "$(jq -c "$key" <<<"$output")" ] ||
                                                { echo "$name vs $plain on $root: $key: $(jq -c "$key" <<<"$squash") vs $(jq -c "$key" <<<"$output")"; return 1; }
                                done
                                read=$((read + 1))
                        else
                                [ "$squash_status" -eq 2 ] || { echo "$name on $root: exit $squash_status: $squash"; return 1; }
                                [ "$(json '.entries[0].verdict')" = blocked ]
                                [ "$(json '.exit_status')" = 2 ]
                                [ "$(json '.entries[0].initrd.root_image.read')" = false ]
                                error=$(json '.entries[0].initrd.root_image.error')
                                [ "$error" != null ]
                                [[ $reason == *"/$file"*"($error)"* ]] || { echo "$name: $reason"; return 1; }
                                [[ $reason == *'`dracut --add sdcompat`'* ]]
                                [[ $reason != *harmless* ]]
                                # the archive itself: a script as /init, no systemd
                                [ "$(json '.entries[0].initrd.runs_systemd')" = false ]
                                [ "$(json '.entries[0].initrd.systemd.found')" = false ]
                        fi
                done
                n=$((n + 1))
        done
        [ "$n" -ge 3 ] # 059 squash, 112 squashfs, 112 erofs
        if squashfs_readable; then [ "$read" -ge 6 ]; fi
}

@test "squash images: the text report and sdcompat-probe say where the root is" {
        local n=0 file
        for name in $(squash_fixtures); do
                file=$(root_image_of "$name")
                run check --image "$(fixture_path "$name")" --root "$(fixture_path "tree-$(fixture "$name" suite)")"
                [[ $output == *"note: /$file: /init mounts this file system image"* ]] || { echo "$output"; return 1; }
                [[ $output != *"no systemd in this initramfs"* ]]
                if [[ $file != erofs-* ]] && squashfs_readable; then
                        [ "$status" -eq 0 ] # the same systemd as the root's
                        [[ $output == *"the facts are those of the root in there"* ]]
                        [[ $output == *"$(fixture "$name" systemd_version)"* ]]
                        [[ $output != *"inside the root file system image that /init mounts"* ]]
                else
                        [ "$status" -eq 2 ]
                        [[ $output == *"inside the root file system image that /init mounts"* ]]
                fi
                run "$probe" --image "$(fixture_path "$name")"
                [ "$status" -eq 0 ]
                [ "$(json .root_image.path)" = "/$file" ]
                n=$((n + 1))
        done
        [ "$n" -ge 3 ]
}

# squash_variant NAME: the squashfs fixture NAME unpacked into $BATS_TEST_TMPDIR/NAME, for a test to
# damage its root image and pack_variant to pack it again; prints the root image's path.
squash_variant() {
        local dir=$BATS_TEST_TMPDIR/$1 file
        fixture "$1" name >/dev/null || { echo "no $1 fixture" >&2; return 1; }
        file=$(root_image_of "$1")
        rm -rf "$dir" && mkdir -p "$dir"
        (cd "$dir" && cpio -idm --quiet <"$(fixture_path "$1")")
        echo "$dir/$file"
}

# pack_variant NAME: the tree squash_variant made, as a newc archive; prints its path.
pack_variant() {
        (cd "$BATS_TEST_TMPDIR/$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) \
                >"$BATS_TEST_TMPDIR/$1.img"
        echo "$BATS_TEST_TMPDIR/$1.img"
}

# blocked_with NAME IMG TEXT: check calls IMG blocked (exit 2), with an error about the root image of
# fixture NAME that contains TEXT, named in the reason; never safe, never "no systemd". $output is
# the JSON report after it.
blocked_with() {
        local file
        file=$(root_image_of "$1")
        run check --image "$2" --root "$(fixture_path tree-bookworm)"
        [ "$status" -eq 2 ]
        [[ $output == *"$2"* ]]
        [[ $output == *"/$file"*"$3"* ]] || { echo "$output"; return 1; }
        run check --image "$2" --root "$(fixture_path tree-bookworm)" --json
        [ "$status" -eq 2 ] || { echo "$2: exit $status: $output"; return 1; }
        [ "$(json '.entries[0].verdict')" = blocked ]
        [ "$(json '.entries[0].error')" = null ]
        [ "$(json '.entries[0].initrd.root_image.read')" = false ]
        [[ $(json '.entries[0].initrd.root_image.error') == *"$3"* ]] || { echo "$output"; return 1; }
        [[ $(json '.entries[0].reason') == *"/$file"*"$3"* ]] || { echo "$output"; return 1; }
        [[ $(json '.entries[0].reason') != *"no systemd"* ]]
}

@test "a damaged squashfs root image: blocked with the image, the file and the reason (truncated, corrupt, not squashfs)" {
        local name=dracut-sid-squashfs img sq
        squashfs_readable || skip "this build has no squashfs reader"
        # truncated: the superblock claims more than the archive holds
        sq=$(squash_variant "$name")
        half=$(($(stat -c %s "$sq") / 2))
        truncate -s "$half" "$sq"
        img=$(pack_variant "$name")
        blocked_with "$name" "$img" "truncated: the superblock says "
        [[ $(json '.entries[0].initrd.root_image.error') == *"bytes, the file has $half" ]]
        # a directory table that does not decompress: every lookup fails; the probe must not call
        # what it could not read missing ("no systemd")
        sq=$(squash_variant "$name")
        python3 - "$sq" <<'PY'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    sb = f.read(96)
    dir_table = struct.unpack_from('<Q', sb, 72)[0]
    f.seek(dir_table + 2)  # behind the metadata block's header: its compressed bytes
    f.write(b'\xa5' * 256)
PY
        img=$(pack_variant "$name")
        blocked_with "$name" "$img" "damaged: a directory's listing"
        # hand-made: squashfs's magic and then nothing sensible; and no squashfs at all
        sq=$(squash_variant "$name")
        { printf 'hsqs'; head -c 200 /dev/zero; } >"$sq"
        img=$(pack_variant "$name")
        blocked_with "$name" "$img" "superblock: "
        head -c 4096 /dev/zero >"$sq"
        img=$(pack_variant "$name")
        blocked_with "$name" "$img" "no squashfs magic"
        : >"$sq"
        img=$(pack_variant "$name")
        # an empty file: the loader script names a file with nothing in it
        blocked_with "$name" "$img" "truncated: 0 bytes"
}

@test "an archive that lists the squashfs root image before /init: read all the same (a second pass)" {
        local name=dracut-sid-squashfs dir img
        squashfs_readable || skip "this build has no squashfs reader"
        squash_variant "$name" >/dev/null
        dir=$BATS_TEST_TMPDIR/$name
        img=$BATS_TEST_TMPDIR/reordered.img
        (cd "$dir" && { echo squashfs-root.img; find . -mindepth 1 ! -name squashfs-root.img | LC_ALL=C sort; } |
                cpio -o -H newc --quiet) >"$img"
        [ "$(cpio -t --quiet <"$img" | head -n1)" = squashfs-root.img ]
        run check --image "$img" --root "$(fixture_path tree-sid)" --json
        [ "$status" -eq 0 ] || { echo "$output"; return 1; }
        [ "$(json '.entries[0].initrd.root_image.read')" = true ]
        [ "$(json '.entries[0].initrd.systemd.version')" = "$(fixture "$name" systemd_version)" ]
        [ "$(json '.entries[0].verdict')" = safe ]
}
