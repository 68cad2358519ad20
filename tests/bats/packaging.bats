#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The packages, built from a clean clone of this tree's HEAD as a distribution would: the Debian
# packages with dpkg-buildpackage and lintian, the RPMs with rpmbuild (Debian's rpm) and rpmlint.
# The .deb files are then installed and purged in a fresh bookworm chroot, and installed there by
# the Ansible role protect (scripts/test-packages --ansible, ~7 minutes; more suites with
# `scripts/test-packages --suite trixie --suite sid DEB...`).
# (The unit tests run elsewhere in CI, hence DEB_BUILD_OPTIONS=nocheck and --nocheck.)

load helpers

setup_file() {
        export DEBS="$BATS_FILE_TMPDIR/deb" RPMS="$BATS_FILE_TMPDIR/rpm"
        mkdir -p "$DEBS" "$RPMS"
        if command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null; then
                git clone -q "$top" "$DEBS/sdcompat"
                (cd "$DEBS/sdcompat" && DEB_BUILD_OPTIONS=nocheck nice dpkg-buildpackage -us -uc -b) >"$DEBS/build.log" 2>&1 ||
                        echo failed >"$DEBS/failed"
        fi
}

@test "dpkg-buildpackage builds sdcompat and dracut-sdcompat from a clean clone" {
        command -v dh >/dev/null || skip "debhelper is not installed (scripts/install-deps test)"
        [ ! -e "$DEBS/failed" ] || { tail -n 30 "$DEBS/build.log"; false; }
        [ -f "$DEBS"/sdcompat_*_amd64.deb ] || [ -n "$(ls "$DEBS"/sdcompat_*.deb)" ]
        [ -n "$(ls "$DEBS"/dracut-sdcompat_*_all.deb)" ]
}

@test "the split: programs, rules and units in sdcompat; the module and the dracut.conf.d snippet in dracut-sdcompat" {
        [ ! -e "$DEBS/failed" ]
        run dpkg-deb -c "$(ls "$DEBS"/sdcompat_*.deb)"
        for f in ./usr/sbin/sdcompat-check ./usr/bin/sdcompat ./usr/lib/sdcompat/sdcompat-shim \
                 ./usr/lib/sdcompat/rules.d/10-sdc-h1-old-systemctl.rules systemd/system/sdcompat-check.timer \
                 systemd/system/sdcompat-status.service ./usr/share/sdcompat/prometheus/sdcompat.rules.yml \
                 ./usr/share/man/man8/sdcompat-check.8.gz ./var/lib/prometheus/node-exporter/; do
                [[ "$output" == *"$f"* ]] || { echo "sdcompat lacks $f"; false; }
        done
        [[ "$output" != *modules.d* ]]
        run dpkg-deb -c "$(ls "$DEBS"/dracut-sdcompat_*.deb)"
        [[ "$output" == *./usr/lib/dracut/modules.d/99sdcompat/module-setup.sh* ]]
        [[ "$output" == *./usr/lib/dracut/dracut.conf.d/50-sdcompat.conf* ]]
        # the snippet adds the module; the programs dracut copies into images are static
        mkdir -p "$BATS_TEST_TMPDIR/x"
        dpkg-deb -x "$(ls "$DEBS"/dracut-sdcompat_*.deb)" "$BATS_TEST_TMPDIR/x"
        dpkg-deb -x "$(ls "$DEBS"/sdcompat_*.deb)" "$BATS_TEST_TMPDIR/x"
        grep -qx 'add_dracutmodules+=" sdcompat "' "$BATS_TEST_TMPDIR/x/usr/lib/dracut/dracut.conf.d/50-sdcompat.conf"
        run file "$BATS_TEST_TMPDIR/x/usr/bin/sdcompat" "$BATS_TEST_TMPDIR/x/usr/lib/sdcompat/sdcompat-shim"
        [ "$(grep -c 'statically linked' <<<"$output")" -eq 2 ]
        run file "$BATS_TEST_TMPDIR/x/usr/sbin/sdcompat-check"
        [[ "$output" == *"dynamically linked"* ]]
        grep -q '@SHIMPATH@' "$BATS_TEST_TMPDIR/x/usr/lib/dracut/modules.d/99sdcompat/module-setup.sh" && false
        grep -q '"/usr/lib/sdcompat/sdcompat-shim"' "$BATS_TEST_TMPDIR/x/usr/lib/dracut/modules.d/99sdcompat/module-setup.sh"
}

@test "the units are enabled by the maintainer scripts; the install note never fails the install" {
        [ ! -e "$DEBS/failed" ]
        mkdir -p "$BATS_TEST_TMPDIR/c"
        dpkg-deb -e "$(ls "$DEBS"/sdcompat_*.deb)" "$BATS_TEST_TMPDIR/c/sdcompat"
        dpkg-deb -e "$(ls "$DEBS"/dracut-sdcompat_*.deb)" "$BATS_TEST_TMPDIR/c/dracut"
        grep -q 'deb-systemd-helper.*enable.*sdcompat-check.timer' "$BATS_TEST_TMPDIR/c/sdcompat/postinst"
        grep -q 'deb-systemd-helper.*enable.*sdcompat-status.service' "$BATS_TEST_TMPDIR/c/sdcompat/postinst"
        # the note runs sdcompat-check; here with one that fails in every way it can
        mkdir -p "$BATS_TEST_TMPDIR/bin"
        printf '#!/bin/sh\necho "/boot/initrd.img-x"\necho "  verdict:        at-risk: x"\necho "h: at-risk: 1 boot entry"\nexit 1\n' >"$BATS_TEST_TMPDIR/bin/sdcompat-check"
        chmod +x "$BATS_TEST_TMPDIR/bin/sdcompat-check"
        sed 's/^#DEBHELPER#$//' "$BATS_TEST_TMPDIR/c/dracut/postinst" >"$BATS_TEST_TMPDIR/postinst"
        run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" sh "$BATS_TEST_TMPDIR/postinst" configure
        [ "$status" -eq 0 ]
        [[ "$output" == *"Existing images without sdcompat"* ]]
        [[ "$output" == *"    /boot/initrd.img-x  (at-risk)"* ]]
        [[ "$output" == *"  h: at-risk: 1 boot entry"* ]]
}

@test "lintian: no error and no warning that is not overridden with its reason" {
        command -v lintian >/dev/null || skip "lintian is not installed (scripts/install-deps test)"
        [ ! -e "$DEBS/failed" ]
        run lintian --fail-on error,warning "$(ls "$DEBS"/sdcompat_*.changes)"
        echo "$output"
        [ "$status" -eq 0 ]
        run grep -E '^[EW]: ' <<<"$output"
        [ "$status" -eq 1 ]
}

@test "rpmbuild -ba from git archive; rpmlint clean with the filters of packaging/rpm/sdcompat.rpmlintrc" {
        command -v rpmbuild >/dev/null || skip "rpm is not installed (scripts/install-deps test)"
        run env RPMBUILD_EXTRA=--nocheck nice "$top/scripts/build-rpm" "$RPMS"
        [ "$status" -eq 0 ] || { echo "$output" | tail -n 30; false; }
        [ -n "$(ls "$RPMS"/sdcompat-*.x86_64.rpm "$RPMS"/dracut-sdcompat-*.noarch.rpm "$RPMS"/sdcompat-*.src.rpm)" ]
        run rpm -qlp "$(ls "$RPMS"/sdcompat-*.x86_64.rpm)"
        [[ "$output" == *"/usr/libexec/sdcompat/sdcompat-shim"* ]]
        [[ "$output" == *"/usr/lib/systemd/system/sdcompat-check.timer"* ]]
        command -v rpmlint >/dev/null || skip "rpmlint is not installed"
        run rpmlint -r "$top/packaging/rpm/sdcompat.rpmlintrc" "$RPMS"/*.rpm "$top/packaging/rpm/sdcompat.spec"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *" 0 errors, 0 warnings"* ]]
}

@test "the .deb files install, protect new images and purge cleanly in a fresh bookworm root; the Ansible role installs them and protects the image there (scripts/test-packages --ansible)" {
        [ ! -e "$DEBS/failed" ] || skip "the packages did not build (the first test says why)"
        [ "$(id -u)" -eq 0 ] || skip "scripts/test-packages needs root (a chroot)"
        command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed (scripts/install-deps test)"
        local debs
        debs=("$DEBS"/sdcompat_*_amd64.deb "$DEBS"/dracut-sdcompat_*_all.deb)
        run "$top/scripts/test-packages" --suite bookworm --ansible "${debs[@]}"
        echo "$output" | tail -n 30
        [ "$status" -eq 0 ]
        [[ "${lines[-1]}" == "test-packages: bookworm: ok" ]]
        # the role's four runs, each with what it found
        for r in check apply again repository; do
                [[ "$output" == *"  $r: SDCOMPAT-ROLE run=$r "* ]] || { echo "no line of the role's $r run"; false; }
        done
        [[ "$output" == *"run=apply install_changed=True pending=False installed=sdcompat,dracut-sdcompat"*"action=injected"* ]]
}
