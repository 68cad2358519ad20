#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# H1 decided from facts (issue 15): RHEL 7 trees whose binaries all print a bare "219", made from
# the systemd builds of tests/vm (source suites rhel-7.7, rhel-7.8, rhel-7.9, built from the
# checksummed RHEL trees), and the root-side SuccessExitStatus=SIGTERM drop-in on real Debian roots.

load helpers

vm_cache=${SDCOMPAT_VM_CACHE:-/var/tmp/sdcompat-vm}

# rhel_install TREE: the install directory tests/vm made for rhel-7.X, or skip.
rhel_install() {
        local d
        for d in "$vm_cache"/src/systemd-"$1"-*; do
                [ -e "$d.done" ] && { echo "$d"; return 0; }
        done
        return 1
}

# os_files DIR RELEASE|rebranded: the release files a RHEL 7 root carries (tests/vm/source-suites.sh
# writes the same into the VM trees).
os_files() {
        mkdir -p "$1/etc"
        if [ "$2" = rebranded ]; then
                printf 'NAME="Example Cloud OS"\nID="examplecloud"\nVERSION_ID="2"\nPRETTY_NAME="Example Cloud OS 2"\n' \
                        >"$1/etc/os-release"
                return 0
        fi
        printf 'NAME="Red Hat Enterprise Linux Server"\nVERSION="%s (Maipo)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="%s"\nPRETTY_NAME="Red Hat Enterprise Linux Server %s (Maipo)"\n' \
                "$2" "$2" "$2" >"$1/etc/os-release"
        echo "Red Hat Enterprise Linux Server release $2 (Maipo)" >"$1/etc/redhat-release"
}

# rhel_root TREE RELEASE DIR: a root with the build's manager and its initrd-switch-root.service.
rhel_root() {
        local src
        src=$(rhel_install "$1") || skip "no $1 build in $vm_cache/src (tests/vm/prepare $1)"
        mkdir -p "$3/usr/lib/systemd/system" "$3/sbin"
        cp "$src/usr/lib/systemd/systemd" "$3/usr/lib/systemd/"
        cp "$src/usr/lib/systemd/system/initrd-switch-root.service" "$3/usr/lib/systemd/system/"
        ln -s ../usr/lib/systemd/systemd "$3/sbin/init"
        os_files "$3" "$2"
}

# rhel_image TREE RELEASE IMG: a dracut-style image of the build (systemd as /init, systemctl, the
# unit) with the initrd-release RHEL 7's dracut writes; RELEASE "rebranded" names no distribution.
rhel_image() {
        local src d=$BATS_TEST_TMPDIR/img-$1-$2
        src=$(rhel_install "$1") || skip "no $1 build in $vm_cache/src (tests/vm/prepare $1)"
        mkdir -p "$d/usr/lib/systemd/system" "$d/usr/bin" "$d/etc"
        cp "$src/usr/lib/systemd/systemd" "$d/usr/lib/systemd/"
        cp "$src/usr/bin/systemctl" "$d/usr/bin/"
        cp "$src/usr/lib/systemd/system/initrd-switch-root.service" "$d/usr/lib/systemd/system/"
        ln -s usr/lib/systemd/systemd "$d/init"
        if [ "$2" = rebranded ]; then
                printf 'NAME="Example Cloud OS"\nID=examplecloud\nVERSION="2 dracut-051"\nPRETTY_NAME="Example Cloud OS 2 dracut-051 (Initramfs)"\nDRACUT_VERSION=""\n' \
                        >"$d/etc/initrd-release"
        else
                printf 'NAME="dracut"\nVERSION="%s (Maipo) dracut-033-568.el7"\nID=dracut\nVERSION_ID=033-568.el7\nPRETTY_NAME="Red Hat Enterprise Linux Server %s (Maipo) dracut-033-568.el7 (Initramfs)"\n' \
                        "$2" "$2" >"$d/etc/initrd-release"
        fi
        ln -s initrd-release "$d/etc/os-release"
        (cd "$d" && find . | cpio -o -H newc --quiet) >"$3"
}

# race_image FIXTURE: that image unpacked to $BATS_TEST_TMPDIR/initrd with the old-initrd race
# (switch-root from a shell) added, repacked as $BATS_TEST_TMPDIR/race.img.
race_image() {
        unpack_image "$(fixture_path "$1")" "$BATS_TEST_TMPDIR/initrd"
        mkdir -p "$BATS_TEST_TMPDIR/initrd/etc/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "systemctl --no-block switch-root /sysroot; sleep 60"\n' \
                >"$BATS_TEST_TMPDIR/initrd/etc/systemd/system/initrd-switch-root.service.d/race.conf"
        (cd "$BATS_TEST_TMPDIR/initrd" && find . | cpio -o -H newc --quiet) >"$BATS_TEST_TMPDIR/race.img"
}

@test "RHEL 7.7 image -> 7.8 root: at risk, SDC-H1 from the facts (systemctl, os-release), never safe" {
        rhel_image rhel-7.7 7.7 "$BATS_TEST_TMPDIR/i.img"
        rhel_root rhel-7.8 7.8 "$BATS_TEST_TMPDIR/root"
        run check --image "$BATS_TEST_TMPDIR/i.img" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 1 ]
        [ "$(json '.entries[0].verdict')" = at-risk ]
        [ "$(json '.entries[0].hazards | map(select(.match == "yes")) | map(.id) | join(",")')" = SDC-H1 ]
        [ "$(json '.entries[0].initrd.systemd.version')" = 219 ]
        [ "$(json '.entries[0].initrd.systemctl_ignores_sigterm')" = false ]
        [ "$(json '.entries[0].initrd.distro.release')" = 7.7 ]
        [ "$(json '.root.facts.distro.id')" = rhel ]
        [ "$(json '.root.facts.distro.release')" = 7.8 ]
        [ "$(json '.root.facts.spares_switch_root_sigterm')" = false ]
}

@test "RHEL 7.8 image -> 7.8 root and 7.7 -> 7.7: safe, because the binaries say so" {
        rhel_image rhel-7.8 7.8 "$BATS_TEST_TMPDIR/i.img"
        rhel_root rhel-7.8 7.8 "$BATS_TEST_TMPDIR/root"
        run check --image "$BATS_TEST_TMPDIR/i.img" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 0 ]
        [ "$(json '.entries[0].initrd.systemctl_ignores_sigterm')" = true ]
        [ "$(json '.entries[0].hazards | map(select(.hazard == "H1")) | length')" = 0 ]
        rhel_image rhel-7.7 7.7 "$BATS_TEST_TMPDIR/i77.img"
        rhel_root rhel-7.7 7.7 "$BATS_TEST_TMPDIR/root77"
        run check --image "$BATS_TEST_TMPDIR/i77.img" --root "$BATS_TEST_TMPDIR/root77" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 0 ]
        [ "$(json '.entries[0].hazards | map(select(.hazard == "H1")) | length')" = 0 ]
}

@test "RHEL 7.7 image -> 7.9 root: RHEL's special case is seen in the root's manager" {
        rhel_image rhel-7.7 7.7 "$BATS_TEST_TMPDIR/i.img"
        rhel_root rhel-7.9 7.9 "$BATS_TEST_TMPDIR/root"
        run check --image "$BATS_TEST_TMPDIR/i.img" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 0 ]
        [ "$(json '.root.facts.spares_switch_root_sigterm')" = true ]
        [ "$(json '.entries[0].hazards | map(select(.hazard == "H1")) | length')" = 0 ]
}

@test "rebranded 7.8 root (no RHEL facts): undecided, not safe; the harmless drop-in is taken by negotiate" {
        rhel_image rhel-7.7 7.7 "$BATS_TEST_TMPDIR/i.img"
        rhel_root rhel-7.8 rebranded "$BATS_TEST_TMPDIR/root"
        run check --image "$BATS_TEST_TMPDIR/i.img" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 2 ]
        [ "$(json '.entries[0].verdict')" = blocked ]
        [ "$(json '.entries[0].hazards | map(select(.id == "SDC-H1")) | .[0].match')" = unknown ]
        [ "$(json '.entries[0].hazards | map(select(.id == "SDC-H1")) | .[0].apply_when_unknown')" = true ]
        [ "$(json '.root.facts.distro.id')" = examplecloud ]
        # negotiate, on the same trees unpacked: the drop-in is written although H1 is undecided.
        mkdir -p "$BATS_TEST_TMPDIR/initrd"
        (cd "$BATS_TEST_TMPDIR/initrd" && cpio -idm --quiet <"$BATS_TEST_TMPDIR/i.img")
        run "$sdcompat_bin" negotiate --rules-path "$top/rules.d" --run-dir "$BATS_TEST_TMPDIR/run" \
                --initrd-root "$BATS_TEST_TMPDIR/initrd" --sysroot "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda"
        [ "$status" -eq 0 ]
        grep -qx 'SuccessExitStatus=SIGTERM' \
                "$BATS_TEST_TMPDIR/run/systemd/system/initrd-switch-root.service.d/50-sdcompat-sigterm.conf"
        grep -qx 'VERDICT=protected' "$BATS_TEST_TMPDIR/run/sdcompat/plan"
}

@test "the root-side drop-in (sdcompat's package file) makes 7.7 -> 7.8 protected; masked or reset, at risk again" {
        rhel_image rhel-7.7 7.7 "$BATS_TEST_TMPDIR/i.img"
        rhel_root rhel-7.8 7.8 "$BATS_TEST_TMPDIR/root"
        install -D -m 0644 "$top/units/initrd-switch-root.service.d/sdcompat-sigterm.conf" \
                "$BATS_TEST_TMPDIR/root/usr/lib/systemd/system/initrd-switch-root.service.d/sdcompat-sigterm.conf"
        run check --image "$BATS_TEST_TMPDIR/i.img" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 0 ]
        [ "$(json '.entries[0].verdict')" = protected ]
        [ "$(json '.root.facts.switch_root_sigterm_success')" = true ]
        [ "$(json '.root.facts.switch_root_sigterm_success_source')" = /usr/lib/systemd/system/initrd-switch-root.service.d/sdcompat-sigterm.conf ]
        [ "$(json '.entries[0].hazards | map(select(.id == "SDC-H1")) | .[0].handled_by_root')" = true ]
        # An admin's reset in a later drop-in wins.
        mkdir -p "$BATS_TEST_TMPDIR/root/etc/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nSuccessExitStatus=\n' >"$BATS_TEST_TMPDIR/root/etc/systemd/system/initrd-switch-root.service.d/zz-reset.conf"
        run check --image "$BATS_TEST_TMPDIR/i.img" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 1 ]
        [ "$(json '.root.facts.switch_root_sigterm_success')" = false ]
        # Masked by a link to /dev/null of the same name in /etc.
        rm "$BATS_TEST_TMPDIR/root/etc/systemd/system/initrd-switch-root.service.d/zz-reset.conf"
        ln -s /dev/null "$BATS_TEST_TMPDIR/root/etc/systemd/system/initrd-switch-root.service.d/sdcompat-sigterm.conf"
        run check --image "$BATS_TEST_TMPDIR/i.img" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 1 ]
        [ "$(json '.entries[0].verdict')" = at-risk ]
}

@test "the root-side drop-in on a Debian root: the shell-wrapped race (SDC-H1-UNIT) is handled, in /etc or in /lib" {
        require_fixtures
        local tree img root=$BATS_TEST_TMPDIR/root
        img=$(systemd_dracut_fixture bookworm)
        [ -n "$img" ] || skip "no bookworm dracut fixture"
        race_image "$img"
        tree=$(fixture_path tree-trixie)
        mkdir -p "$root/usr/lib/systemd" "$root/usr/lib/x86_64-linux-gnu" "$root/etc"
        cp -a "$tree/usr/lib/systemd/systemd" "$root/usr/lib/systemd/"
        cp -a "$tree/usr/lib/x86_64-linux-gnu/systemd" "$root/usr/lib/x86_64-linux-gnu/"
        cp -aL "$tree/etc/os-release" "$root/etc/os-release"
        # bookworm's image execs /lib/systemd/systemd (split /usr) after the switch.
        mkdir -p "$root/lib/systemd"
        ln -s ../../usr/lib/systemd/systemd "$root/lib/systemd/systemd"
        run check --image "$BATS_TEST_TMPDIR/race.img" --root "$root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 1 ]
        [ "$(json '.entries[0].hazards | map(select(.match == "yes")) | map(.id) | join(",")')" = SDC-H1-UNIT ]
        mkdir -p "$root/etc/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nSuccessExitStatus=SIGTERM\n' >"$root/etc/systemd/system/initrd-switch-root.service.d/sigterm.conf"
        run check --image "$BATS_TEST_TMPDIR/race.img" --root "$root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 0 ]
        [ "$(json '.entries[0].verdict')" = protected ]
        rm -r "$root/etc/systemd"
        mkdir -p "$root/lib/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nSuccessExitStatus=0 TERM\n' >"$root/lib/systemd/system/initrd-switch-root.service.d/sigterm.conf"
        run check --image "$BATS_TEST_TMPDIR/race.img" --root "$root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 0 ]
        [ "$(json '.root.facts.switch_root_sigterm_success_source')" = /lib/systemd/system/initrd-switch-root.service.d/sigterm.conf ]
        [ "$(json '.entries[0].verdict')" = protected ]
        # negotiate leaves it to the root: nothing written in /run.
        run "$sdcompat_bin" negotiate --rules-path "$top/rules.d" --run-dir "$BATS_TEST_TMPDIR/run" \
                --initrd-root "$BATS_TEST_TMPDIR/initrd" --sysroot "$root" --cmdline "root=/dev/vda"
        [ "$status" -eq 0 ]
        [ ! -e "$BATS_TEST_TMPDIR/run/systemd/system/initrd-switch-root.service.d/50-sdcompat-sigterm.conf" ]
}

@test "a root whose systemd cannot be read: H1 undecided, never safe; negotiate still writes the harmless drop-in" {
        require_fixtures
        local img root=$BATS_TEST_TMPDIR/root
        img=$(systemd_dracut_fixture bookworm)
        [ -n "$img" ] || skip "no bookworm dracut fixture"
        race_image "$img"
        mkdir -p "$root/etc"
        cp -aL "$(fixture_path tree-trixie)/etc/os-release" "$root/etc/os-release"
        run check --image "$BATS_TEST_TMPDIR/race.img" --root "$root" --cmdline "root=/dev/vda" --json
        # At risk (SDC-H7: the root has no systemd binary), exit 1; a crash (134, 139) is not "not safe".
        [ "$status" -eq 1 ]
        [ "$(json '.entries[0].verdict')" != safe ]
        [ "$(json '.entries[0].hazards | map(select(.id == "SDC-H1-UNIT")) | .[0].match')" = unknown ]
        run "$sdcompat_bin" negotiate --rules-path "$top/rules.d" --run-dir "$BATS_TEST_TMPDIR/run" \
                --initrd-root "$BATS_TEST_TMPDIR/initrd" --sysroot "$root" --cmdline "root=/dev/vda"
        [ "$status" -eq 0 ]
        grep -qx 'SuccessExitStatus=SIGTERM' \
                "$BATS_TEST_TMPDIR/run/systemd/system/initrd-switch-root.service.d/50-sdcompat-sigterm.conf"
        grep -qx 'ACTIONS="dropin-sigterm-success"' "$BATS_TEST_TMPDIR/run/sdcompat/plan"
}

@test "sid image -> 7.8 root (H2d, booted: PID 1 freezes without sdcompat): at risk in check for an image without sdcompat; the action is the shim's cgroup-revert" {
        require_fixtures
        local img
        img=$(systemd_dracut_fixture sid)
        [ -n "$img" ] || skip "no sid dracut fixture"
        rhel_root rhel-7.8 7.8 "$BATS_TEST_TMPDIR/root"
        run check --image "$(fixture_path "$img")" --root "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda" --json
        [ "$status" -eq 1 ]
        [ "$(json '.entries[0].verdict')" = at-risk ]
        [ "$(json '.entries[0].hazards | map(select(.id == "SDC-H2D")) | .[0].severity')" = boot-fails ]
        [ "$(json '.entries[0].hazards | map(select(.id == "SDC-H2D")) | .[0].action')" = cgroup-revert ]
        unpack_image "$(fixture_path "$img")" "$BATS_TEST_TMPDIR/initrd"
        run "$sdcompat_bin" negotiate --rules-path "$top/rules.d" --run-dir "$BATS_TEST_TMPDIR/run" \
                --initrd-root "$BATS_TEST_TMPDIR/initrd" --sysroot "$BATS_TEST_TMPDIR/root" --cmdline "root=/dev/vda"
        [ "$status" -eq 0 ]
        # --initrd-root: the shim is not mounted in a test run, so its action is not applied and
        # negotiate says so (in a boot, the shim reverts the cgroups: tests/vm/results/rhel7-h2d.txt).
        [[ "$output" == *"The shim is not used"* ]]
        [[ "$output" == *"SDC-H2D (boot-fails) applies and nothing at this boot handles it"* ]]
        grep -q '^HAZARDS=.*SDC-H2D' "$BATS_TEST_TMPDIR/run/sdcompat/plan"
        grep -qx 'UNAVAILABLE=""' "$BATS_TEST_TMPDIR/run/sdcompat/plan"
        # The verdict follows what was applied, not what the build could do: at-risk, in the plan
        # and in handoff.json alike.
        grep -qx 'VERDICT=at-risk' "$BATS_TEST_TMPDIR/run/sdcompat/plan"
        [ "$(jq -r .verdict "$BATS_TEST_TMPDIR/run/sdcompat/handoff.json")" = at-risk ]
}
