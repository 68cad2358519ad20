#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# sdcompat record / negotiate / status on real initramfs trees (unpacked from the dracut fixtures)
# and real root trees: what the dracut module and the initramfs unit run, without booting.

load helpers

setup() {
        require_fixtures
}

# initrd_tree SUITE: an unpacked copy of that suite's systemd-based dracut image.
initrd_tree() {
        local name
        name=$(systemd_dracut_fixture "$1")
        [ -n "$name" ] || return 1
        unpack_image "$(fixture_path "$name")" "$BATS_TEST_TMPDIR/initrd-$1" >&2 || return 1
        echo "$BATS_TEST_TMPDIR/initrd-$1"
}

negotiate() {
        "$sdcompat_bin" negotiate --rules-path "$top/rules.d" --run-dir "$BATS_TEST_TMPDIR/run" "$@"
}

plan() {
        sed -n "s/^$1=//p" "$BATS_TEST_TMPDIR/run/sdcompat/plan" | tr -d '"'
}

@test "--help lists the commands; an unknown command is exit 2" {
        run "$sdcompat_bin" --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"record --root=DIR"* && "$output" == *"negotiate"* && "$output" == *"status"* ]]
        run "$sdcompat_bin" frobnicate
        [ "$status" -eq 2 ]
        [[ "$output" == *"Unknown command 'frobnicate'"* ]]
        run "$sdcompat_bin"
        [ "$status" -eq 2 ]
}

@test "record writes a manifest with the image's exact systemd version" {
        local tree want
        tree=$(initrd_tree bookworm)
        want=$(fixture "$(systemd_dracut_fixture bookworm)" systemd_version)
        [ -n "$want" ]
        run "$sdcompat_bin" record --root "$tree" --kernel 6.1.0-test --dracut-version 059-4
        [ "$status" -eq 0 ]
        m="$tree/usr/lib/sdcompat/manifest"
        grep -qx 'SDCOMPAT_MANIFEST_VERSION=1' "$m"
        grep -qx 'INITRD_RUNS_SYSTEMD=yes' "$m"
        grep -qx "INITRD_SYSTEMD_VERSION=\"$want\"" "$m"
        grep -qx 'INITRD_SYSTEMD_EXEC_PATH="/lib/systemd/systemd"' "$m"
        grep -qx 'INITRD_SWITCH_ROOT_VIA_SYSTEMCTL=yes' "$m"
        grep -qx 'KERNEL_VERSION="6.1.0-test"' "$m"
        grep -qx 'ACTIONS="dropin-sigterm-success shim-argv-reorder shim-clear-passpidfd shim-drop-sections shim-fold-lines cgroup-convert shim-legacy-force fresh cgroup-revert"' "$m"
}

@test "record on an initramfs without systemd says so in the manifest" {
        local name
        name=$(fixtures_where builder dracut | while read -r n; do [ "$(fixture "$n" runs_systemd)" = no ] && echo "$n"; done | head -n1)
        [ -n "$name" ] || skip "no dracut image without systemd in this fixture set"
        unpack_image "$(fixture_path "$name")" "$BATS_TEST_TMPDIR/nosd"
        run "$sdcompat_bin" record --root "$BATS_TEST_TMPDIR/nosd"
        [ "$status" -eq 0 ]
        grep -q '^INITRD_RUNS_SYSTEMD=no$' "$BATS_TEST_TMPDIR/nosd/usr/lib/sdcompat/manifest"
}

@test "record without --root is an error that says what is missing" {
        run "$sdcompat_bin" record
        [ "$status" -eq 1 ]
        [[ "$output" == *"--root=DIR"* ]]
}

@test "negotiate, bullseye initramfs to a sid root: H4 found, the shim is not mounted outside an initramfs, native, a record" {
        local tree
        tree=$(initrd_tree bullseye) || skip "no bullseye dracut fixture"
        run negotiate --initrd-root "$tree" --sysroot "$(fixture_path tree-sid)" --cmdline "root=LABEL=root"
        [ "$status" -eq 0 ]
        [ "$(plan MODE)" = native ]
        [[ "$(plan HAZARDS)" == *SDC-H4* ]]
        [ -z "$(plan UNAVAILABLE)" ]
        [ -z "$(plan ACTIONS)" ]
        [ -z "$(plan SHIM_TARGET)" ]
        [[ "$(plan SHIM_NOTE)" == *"not in the initramfs"* ]]
        jq -e '.initrd.systemd.upstream == 247 and .root.systemd.upstream == 262' "$BATS_TEST_TMPDIR/run/sdcompat/handoff.json"
        [ "$(jq -r .verdict "$BATS_TEST_TMPDIR/run/sdcompat/handoff.json")" = "$(plan VERDICT)" ]
        [ -n "$(plan VERDICT)" ]
        [ ! -e "$BATS_TEST_TMPDIR/run/systemd" ]
}

@test "negotiate, switch-root from a shell (the old-initrd race): translate, the SIGTERM drop-in is written" {
        local tree
        tree=$(initrd_tree bookworm)
        mkdir -p "$tree/etc/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "systemctl --no-block switch-root /sysroot; sleep 60"\n' \
                >"$tree/etc/systemd/system/initrd-switch-root.service.d/race.conf"
        run negotiate --initrd-root "$tree" --sysroot "$(fixture_path tree-trixie)" --cmdline "root=LABEL=root"
        [ "$status" -eq 0 ]
        [ "$(plan MODE)" = translate ]
        [ "$(plan VERDICT)" = protected ]
        [ "$(plan ACTIONS)" = dropin-sigterm-success ]
        dropin="$BATS_TEST_TMPDIR/run/systemd/system/initrd-switch-root.service.d/50-sdcompat-sigterm.conf"
        grep -qx 'SuccessExitStatus=SIGTERM' "$dropin"
        grep -qx '\[Service\]' "$dropin"
        # handoff.json says the same as the plan (sdcompat status and the Prometheus textfile read it).
        jq -e '.mode == "translate" and .verdict == "protected" and .actions_applied == ["dropin-sigterm-success"]' \
                "$BATS_TEST_TMPDIR/run/sdcompat/handoff.json"
        [[ "$output" == *"translate, hazards SDC-H1-UNIT, applied dropin-sigterm-success"* ]]
}

@test "rd.sdcompat=0 disables everything and says so" {
        local tree
        tree=$(initrd_tree bookworm)
        run negotiate --initrd-root "$tree" --sysroot "$(fixture_path tree-trixie)" --cmdline "quiet rd.sdcompat=0"
        [ "$status" -eq 0 ]
        [ "$(plan DISABLED)" = yes ]
        [ "$(plan MODE)" = native ]
        [[ "$(plan NOTE)" == *"rd.sdcompat=0"* ]]
        [ ! -e "$BATS_TEST_TMPDIR/run/systemd" ]
}

@test "rd.sdcompat.mode=native overrides the plan: the hazard is recorded, nothing is applied" {
        local tree
        tree=$(initrd_tree bookworm)
        mkdir -p "$tree/etc/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "systemctl --no-block switch-root /sysroot"\n' \
                >"$tree/etc/systemd/system/initrd-switch-root.service.d/race.conf"
        run negotiate --initrd-root "$tree" --sysroot "$(fixture_path tree-trixie)" --cmdline "rd.sdcompat.mode=native"
        [ "$status" -eq 0 ]
        [ "$(plan FORCED)" = yes ]
        [ "$(plan MODE)" = native ]
        [[ "$(plan HAZARDS)" == *SDC-H1-UNIT* ]]
        [ ! -e "$BATS_TEST_TMPDIR/run/systemd" ]
}

@test "negotiate never fails: a missing /sysroot ends in native, exit 0, the error recorded" {
        local tree
        tree=$(initrd_tree bookworm)
        run negotiate --initrd-root "$tree" --sysroot "$BATS_TEST_TMPDIR/no-sysroot" --cmdline ""
        [ "$status" -eq 0 ]
        [ "$(plan MODE)" = native ]
        [[ "$(plan ERRORS)" == *"cannot probe the root at $BATS_TEST_TMPDIR/no-sysroot"* ]]
        [[ "$output" == *"handing over as stock systemd does"* ]]
}

@test "negotiate never fails: no rules, an unwritable run directory" {
        local tree
        tree=$(initrd_tree bookworm)
        run "$sdcompat_bin" negotiate --rules-path "$BATS_TEST_TMPDIR/none" --run-dir /proc/sdcompat-nope \
                --initrd-root "$tree" --sysroot "$(fixture_path tree-trixie)" --cmdline ""
        [ "$status" -eq 0 ]
        [[ "$output" == *"no record of this handoff"* ]]
}

@test "status: the last handoff in words and as JSON; without a record, exit 3" {
        local tree
        tree=$(initrd_tree bookworm)
        negotiate --initrd-root "$tree" --sysroot "$(fixture_path tree-trixie)" --cmdline "root=LABEL=root" 2>/dev/null
        run "$sdcompat_bin" status --run-dir "$BATS_TEST_TMPDIR/run"
        [ "$status" -eq 0 ]
        [[ "$output" == *"Handoff: native"* ]]
        [[ "$output" == *"Root systemd: 257.13"* ]]
        run "$sdcompat_bin" status --run-dir "$BATS_TEST_TMPDIR/run" --json
        [ "$status" -eq 0 ]
        [ "$(json .mode)" = native ]
        run "$sdcompat_bin" status --run-dir "$BATS_TEST_TMPDIR/empty"
        [ "$status" -eq 3 ]
        [[ "$output" == *"booted without sdcompat"* ]]
}

@test "status: a plan negotiate could not write is said from handoff.json; a plan of another version is named, exit 1" {
        local tree
        tree=$(initrd_tree bookworm)
        negotiate --initrd-root "$tree" --sysroot "$(fixture_path tree-trixie)" \
                --cmdline "root=LABEL=root rd.sdcompat.mode=translate rd.sdcompat.fault=plan" 2>/dev/null
        if [ -e "$BATS_TEST_TMPDIR/run/sdcompat/plan" ]; then
                skip "this build has no test faults (-Dtest-faults=true)"
        fi
        run -0 "$sdcompat_bin" status --run-dir "$BATS_TEST_TMPDIR/run"
        [[ "$output" == *"Plan: not written (no $BATS_TEST_TMPDIR/run/sdcompat/plan)"* ]]
        [[ "$output" == *"Errors: cannot write the plan: No space left on device"* ]]
        [[ "$output" != *"booted without sdcompat"* ]]
        # a plan from a newer sdcompat: named with its version, not misread
        printf 'SDCOMPAT_PLAN_VERSION=2\nMODE=translate\n' > "$BATS_TEST_TMPDIR/run/sdcompat/plan"
        run -1 "$sdcompat_bin" status --run-dir "$BATS_TEST_TMPDIR/run"
        [[ "$output" == *"/run/sdcompat/plan: plan format version 2; this sdcompat reads 1 to 1"* ]]
        [[ "$output" != *"Handoff:"* ]]
        # a malformed one: named, exit 1
        printf 'SDCOMPAT_PLAN_VERSION=1\nMODE=translate\nACTIONS=a b\n' > "$BATS_TEST_TMPDIR/run/sdcompat/plan"
        run -1 "$sdcompat_bin" status --run-dir "$BATS_TEST_TMPDIR/run"
        [[ "$output" == *"/run/sdcompat/plan: not a plan this sdcompat can read"* ]]
}
