#!/usr/bin/env bats
# sdcompat-check and sdcompat-probe on trees and images built from real Debian packages
# (tests/fixtures/build): the versions found must be exactly the packages' versions.

load helpers

setup() {
        require_fixtures
}

@test "every tree fixture: the probe finds the packaged systemd version" {
        local n=0
        for name in $(fixtures_where kind tree); do
                want=$(fixture "$name" systemd_version)
                run "$probe" "$(fixture_path "$name")"
                [ "$status" -eq 0 ] || { echo "$name: exit $status: $output"; return 1; }
                got=$(json .systemd.version)
                [ "$got" = "$want" ] || { echo "$name: found '$got', package says '$want'"; return 1; }
                [ "$(json .systemd.binary)" != null ]
                n=$((n + 1))
        done
        [ "$n" -ge 5 ] # bullseye, bookworm, bookworm-backports, trixie, sid
}

@test "every image fixture: systemd or its absence, as packed" {
        local root n=0
        root=$(fixture_path "$(fixtures_where kind tree | head -n1)")
        for name in $(fixtures_where kind image); do
                case "$name" in hostile-*) continue ;; esac
                want=$(fixture "$name" systemd_version)
                runs=$(fixture "$name" runs_systemd)
                run check --image "$(fixture_path "$name")" --root "$root" --json
                [ "$status" -le 2 ] || { echo "$name: exit $status"; return 1; }
                # Images packed by hand carry no initrd-switch-root.service, so a rule about it can
                # stay undecided (exit 2): the image itself must still have been read.
                [ "$(json '.entries[0].error')" = null ] || { echo "$name: $output"; return 1; }
                if [ "$runs" = yes ]; then
                        [ "$(json '.entries[0].initrd.runs_systemd')" = true ] || { echo "$name: runs_systemd"; return 1; }
                        got=$(json '.entries[0].initrd.systemd.version')
                        [ "$got" = "$want" ] || { echo "$name: found '$got', package says '$want'"; return 1; }
                elif [ "$runs" = nested ]; then
                        # dracut's squash: systemd is in the file system image that /init mounts, read
                        # where it can be (squashfs), blocked where not (erofs; squash.bats)
                        [ "$(json '.entries[0].initrd.root_image.path')" != null ] || { echo "$name: root_image"; return 1; }
                        if [ "$(json '.entries[0].initrd.root_image.read')" = true ]; then
                                [ "$(json '.entries[0].initrd.runs_systemd')" = true ] || { echo "$name: runs_systemd"; return 1; }
                                got=$(json '.entries[0].initrd.systemd.version')
                                [ "$got" = "$want" ] || { echo "$name: found '$got', package says '$want'"; return 1; }
                        else
                                [ "$(json '.entries[0].initrd.root_image.error')" != null ] || { echo "$name: error"; return 1; }
                                [ "$(json '.entries[0].verdict')" = blocked ] || { echo "$name: verdict"; return 1; }
                        fi
                else
                        [ "$(json '.entries[0].initrd.runs_systemd')" = false ] || { echo "$name: runs_systemd"; return 1; }
                        [ "$(json '.entries[0].verdict')" = safe ]
                fi
                n=$((n + 1))
        done
        [ "$n" -ge 8 ]
}

@test "images in every compression give the same facts" {
        local ref="" n=0
        for name in $(fixtures_where suite bookworm); do
                [ "$(fixture "$name" builder)" = cpio ] || continue
                run check --image "$(fixture_path "$name")" --json
                [ "$status" -le 2 ] || { echo "$name: exit $status"; return 1; }
                [ "$(json '.entries[0].error')" = null ] || { echo "$name: $output"; return 1; }
                facts=$(json '.entries[0].initrd.systemd | {version, binary, default_hierarchy, compiled_binary_path}')
                [ -z "$ref" ] && ref=$facts
                [ "$facts" = "$ref" ] || { echo "$name differs: $facts vs $ref"; return 1; }
                n=$((n + 1))
        done
        [ "$n" -ge 6 ] # none, gzip, xz, lzma, zstd, lz4, bzip2
}

@test "dracut images of each suite: the exact systemd version and binary, dracut's version, systemd as /init" {
        local n=0
        for name in $(fixtures_where builder dracut); do
                [ "$(fixture "$name" runs_systemd)" = yes ] || continue
                run check --image "$(fixture_path "$name")" --json
                [ "$status" -le 2 ] || { echo "$name: exit $status"; return 1; }
                [ "$(json '.entries[0].error')" = null ] || { echo "$name: $output"; return 1; }
                [ "$(json '.entries[0].initrd.systemd.version')" = "$(fixture "$name" systemd_version)" ] ||
                        { echo "$name: version $(json '.entries[0].initrd.systemd.version')"; return 1; }
                [ "$(json '.entries[0].initrd.systemd.binary')" = "$(fixture "$name" systemd_path)" ] ||
                        { echo "$name: binary $(json '.entries[0].initrd.systemd.binary')"; return 1; }
                [ "$(json '.entries[0].initrd.runs_systemd')" = true ]
                [ "$(json '.entries[0].initrd.is_initrd')" = true ]
                [ "$(json '.entries[0].initrd.built_by_dracut')" = true ]
                # dracut 051 (bullseye) writes DRACUT_VERSION="": the image does not know.
                if [ "$(fixture "$name" suite)" = bullseye ]; then
                        [ "$(json '.entries[0].initrd.dracut_version')" = null ]
                else
                        [ "$(json '.entries[0].initrd.dracut_version')" = "$(fixture "$name" builder_version)" ] ||
                                { echo "$name: dracut $(json '.entries[0].initrd.dracut_version')"; return 1; }
                fi
                n=$((n + 1))
        done
        [ "$n" -ge 2 ]
}

@test "an initramfs-tools image has no systemd, and is safe against any root" {
        local name
        name=$(fixtures_where builder initramfs-tools | head -n1)
        [ -n "$name" ]
        run check --image "$(fixture_path "$name")"
        [ "$status" -eq 0 ]
        [[ "$output" == *"no systemd in this initramfs"* ]]
        [[ "$output" == *"verdict:"*"safe"* ]]
}

@test "bullseye's initramfs (247) on a sid root: H4 applies, at risk, exit 1" {
        local img
        img=$(systemd_dracut_fixture bullseye)
        [ -n "$img" ] || skip "no bullseye dracut fixture in this fixture set"
        run check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" --cmdline "root=LABEL=root" --json
        [ "$status" -eq 1 ]
        [ "$(json '.entries[0].verdict')" = at-risk ]
        [ "$(json '[.entries[0].hazards[].id] | index("SDC-H4") != null')" = true ]
}

@test "bookworm's initramfs on its own root is safe, exit 0" {
        local img
        img=$(systemd_dracut_fixture bookworm)
        [ -n "$img" ]
        run check --image "$(fixture_path "$img")" --root "$(fixture_path tree-bookworm)" --cmdline "root=LABEL=root quiet"
        [ "$status" -eq 0 ]
        [[ "$output" == *"verdict:"*"safe"* ]]
}

@test "bookworm's initramfs on a sid root: safe by default, H2A with systemd.unified_cgroup_hierarchy=0" {
        local img
        img=$(systemd_dracut_fixture bookworm)
        [ -n "$img" ]
        run check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" --cmdline "root=LABEL=root" --json
        [ "$status" -eq 0 ]
        [ "$(json '.entries[0].cgroup.initrd_mode')" = unified ]
        run check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" \
                --cmdline "root=LABEL=root systemd.unified_cgroup_hierarchy=0" --json
        [ "$status" -eq 1 ]
        [ "$(json '.entries[0].cgroup.initrd_mode')" = legacy ]
        [ "$(json '.entries[0].hazards[] | select(.id == "SDC-H2A") | .severity')" = boot-fails ]
        [ "$(json '.entries[0].hazards[] | select(.id == "SDC-H2A") | .action')" = cgroup-convert ]
}

@test "the text output names the hazard and points at --explain" {
        local img
        img=$(systemd_dracut_fixture bookworm)
        run check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" \
                --cmdline "systemd.unified_cgroup_hierarchy=0"
        [ "$status" -eq 1 ]
        [[ "$output" == *"SDC-H2A (boot-fails)"* ]]
        [[ "$output" == *"--explain"* ]]
}

@test "boot entries: BLS options line and a Debian-style image, each with its own command line" {
        local boot="$BATS_TEST_TMPDIR/boot" img
        img=$(fixture_path "$(fixtures_where builder dracut | head -n1)")
        mkdir -p "$boot/loader/entries"
        cp "$img" "$boot/initramfs-6.1.0-test.img"
        cp "$img" "$boot/initrd.img-6.1.0-other"
        cp "$img" "$boot/initramfs-6.1.0-testkdump.img"
        printf 'title Test\nversion 6.1.0-test\nlinux /vmlinuz-6.1.0-test\ninitrd /initramfs-6.1.0-test.img\noptions root=LABEL=r quiet\noptions systemd.unified_cgroup_hierarchy=0\n' \
                >"$boot/loader/entries/test.conf"
        run check --boot-dir "$boot" --root "$(fixture_path tree-bookworm)" --json
        [ "$status" -ne 2 ]
        [ "$(json '.entries | length')" = 2 ] # the kdump image is not a boot entry
        [ "$(json '.entries[0].id')" = test ]
        [ "$(json '.entries[0].kernel')" = 6.1.0-test ]
        [ "$(json '.entries[0].cmdline')" = "root=LABEL=r quiet systemd.unified_cgroup_hierarchy=0" ]
        [ "$(json '.entries[0].cmdline_source')" = "$boot/loader/entries/test.conf" ]
        [ "$(json '.entries[1].id')" = initrd.img-6.1.0-other ]
        [ "$(json '.entries[1].kernel')" = 6.1.0-other ]
        [ "$(json '.entries[1].cmdline_source')" = /proc/cmdline ]
}

# The host of a fleet with many kernels: the entries are checked in parallel (-J), and what is
# printed, and the exit status, must not depend on how many at once nor on which finished first.
many_entries() {
        local boot=$1 i=0 name
        mkdir -p "$boot"
        # 8 entries: the dracut images (each suite, with and without systemd), the broken one 4th
        for name in dracut-sid dracut-bookworm dracut-bullseye hostile-truncated initramfs-tools-bookworm \
                dracut-bookworm-nosystemd image-bookworm-xz image-bookworm-zstd; do
                i=$((i + 1))
                ln -s "$(fixture_path "$name")" "$boot/initrd.img-6.1.0-$i"
        done
}

@test "many boot entries: -J1 and -J4 print the same bytes and exit the same, text and JSON" {
        local boot="$BATS_TEST_TMPDIR/boot" d="$BATS_TEST_TMPDIR" s1 s4 mode
        many_entries "$boot"
        for mode in --json=off --json=short; do
                s1=0 s4=0
                check --boot-dir "$boot" --root "$(fixture_path tree-bookworm)" "$mode" -J1 >"$d/out1" 2>"$d/err1" || s1=$?
                check --boot-dir "$boot" --root "$(fixture_path tree-bookworm)" "$mode" --jobs=4 >"$d/out4" 2>"$d/err4" || s4=$?
                [ "$s1" -eq "$s4" ] || { echo "$mode: exit $s1 with -J1, $s4 with -J4"; return 1; }
                [ "$s1" -ne 0 ] # the broken image blocks the host
                run cmp "$d/out1" "$d/out4"
                [ "$status" -eq 0 ] || { echo "$mode: $output"; diff "$d/out1" "$d/out4" | head -n 20; return 1; }
                run cmp "$d/err1" "$d/err4"
                [ "$status" -eq 0 ] || { echo "$mode: stderr differs: $output"; return 1; }
                [ -s "$d/out1" ]
        done
}

@test "many boot entries, in parallel: the broken image keeps its place, its neighbours are checked" {
        local boot="$BATS_TEST_TMPDIR/boot"
        many_entries "$boot"
        run check --boot-dir "$boot" --root "$(fixture_path tree-bookworm)" --json=short -J4
        [ "$status" -ne 0 ]
        [ "$(json .exit_status)" = "$status" ]
        [ "$(json '.entries | length')" = 8 ]
        [ "$(json '[.entries[].id] | join(" ")')" = "$(printf 'initrd.img-6.1.0-%s ' 1 2 3 4 5 6 7 8 | sed 's/ $//')" ]
        [ "$(json '.entries[3].verdict')" = blocked ]
        [[ "$(json '.entries[3].error.message')" == *"initrd.img-6.1.0-4"*"truncated"* ]]
        [ "$(json '[.entries[] | select(.error != null)] | length')" = 1 ]
        [ "$(json '.entries[2].initrd.systemd.upstream')" = 247 ]
        [ "$(json '.entries[4].image_info.segments | length')" -ge 1 ]
        [ "$(json '.entries[0].initrd.systemd.upstream')" = 262 ]
}

@test "--jobs takes a number from 1 up" {
        mkdir -p "$BATS_TEST_TMPDIR/boot"
        for bad in 0 -1 x 3x 100000; do
                run check --boot-dir "$BATS_TEST_TMPDIR/boot" --jobs="$bad"
                [ "$status" -eq 2 ]
                [[ "$output" == *"Invalid --jobs=$bad"* ]]
        done
        run check --boot-dir "$BATS_TEST_TMPDIR/boot" -J 3
        [ "$status" -eq 0 ]
}

@test "JSON output parses and carries the documented fields" {
        run check --image "$(fixture_path "$(fixtures_where builder dracut | head -n1)")" --root "$(fixture_path tree-trixie)" --json
        [ "$status" -ne 2 ]
        [ "$(json .schema_version)" = 1 ]
        for f in id kernel image cmdline cmdline_source image_info initrd verdict reason error; do
                [ "$(json ".entries[0] | has(\"$f\")")" = true ] || { echo "missing $f"; return 1; }
        done
        [ "$(json '.root.facts.systemd.upstream')" = 257 ]
        [ "$(json '.entries[0].image_info.segments[0].compression')" != null ]
}

@test "--prometheus writes a textfile-collector file: one verdict set, hazards, valid lines" {
        local img
        img=$(systemd_dracut_fixture bullseye)
        [ -n "$img" ] || img=$(systemd_dracut_fixture bookworm)
        run check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" --prometheus "$BATS_TEST_TMPDIR/s.prom"
        [ "$status" -le 1 ]
        rc=$status
        [ -s "$BATS_TEST_TMPDIR/s.prom" ]
        # Every sample line: name, optional labels, a number.
        run grep -v -E '^(#.*|[a-z_]+(\{[^}]*\})? -?[0-9.e+]+)$' "$BATS_TEST_TMPDIR/s.prom"
        [ "$status" -eq 1 ] || { echo "malformed: $output"; return 1; }
        [ "$(grep -c '^sdcompat_check_verdict{.*} 1$' "$BATS_TEST_TMPDIR/s.prom")" -eq 1 ]
        grep -qx "sdcompat_check_exit_status $rc" "$BATS_TEST_TMPDIR/s.prom"
        grep -q '^sdcompat_entry_verdict{image=".*",kernel=".*",verdict=".*"} 1$' "$BATS_TEST_TMPDIR/s.prom"
}

@test "--prometheus into a directory that does not exist: exit 2 and the reason" {
        mkdir -p "$BATS_TEST_TMPDIR/boot"
        run check --boot-dir "$BATS_TEST_TMPDIR/boot" --prometheus "$BATS_TEST_TMPDIR/nope/s.prom"
        [ "$status" -eq 2 ]
        [[ "$output" == *"nope/s.prom: cannot write the metrics"* ]]
}
