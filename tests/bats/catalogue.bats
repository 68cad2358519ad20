#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# An image that ages well: negotiate takes the rules of the newer catalogue, the image's or the
# root's (/sysroot + the rules directory), and the root's admin rules; a root systemd newer than
# the catalogue knows is recorded, and sdcompat-check calls it "unknown future version".

load helpers

setup() {
        require_fixtures
        # The vendor rules directory this build was configured with, as negotiate's help says.
        rulesdir=$("$sdcompat_bin" --help | sed -n 's/.*(default: .*:\([^:]*\))$/\1/p' | tail -n1)
        [ -n "$rulesdir" ]
        # The image: bookworm's dracut image with the old-initrd race (switch-root run by a shell).
        tree=$BATS_TEST_TMPDIR/initrd
        unpack_image "$(fixture_path dracut-bookworm)" "$tree"
        mkdir -p "$tree/etc/systemd/system/initrd-switch-root.service.d"
        printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "systemctl --no-block switch-root /sysroot; sleep 60"\n' \
                >"$tree/etc/systemd/system/initrd-switch-root.service.d/race.conf"
        # The image's catalogue (version 2) lacks the rule that finds this race.
        image_rules=$BATS_TEST_TMPDIR/image-rules
        cp -a "$top/rules.d" "$image_rules"
        rm "$image_rules/11-sdc-h1-unprotected-switch-root.rules" "$image_rules/meson.build"
        sed -i 's/^CATALOGUE_VERSION=.*/CATALOGUE_VERSION=2/' "$image_rules/catalogue"
        # The root: trixie, carrying a newer sdcompat's rules.
        sysroot=$BATS_TEST_TMPDIR/sysroot
        cp -a "$(fixture_path tree-trixie)" "$sysroot"
}

negotiate() {
        "$sdcompat_bin" negotiate --rules-path "$image_rules" --run-dir "$BATS_TEST_TMPDIR/run" \
                --initrd-root "$tree" --sysroot "$sysroot" --cmdline "root=LABEL=root" "$@"
}

plan() {
        sed -n "s/^$1=//p" "$BATS_TEST_TMPDIR/run/sdcompat/plan" | tr -d '"'
}

root_rules() { # CATALOGUE_VERSION
        mkdir -p "$sysroot$rulesdir"
        cp "$top"/rules.d/*.rules "$top/rules.d/catalogue" "$sysroot$rulesdir/"
        sed -i "s/^CATALOGUE_VERSION=.*/CATALOGUE_VERSION=$1/" "$sysroot$rulesdir/catalogue"
}

@test "the image's rules alone miss the race: native, nothing applied" {
        run negotiate
        [ "$status" -eq 0 ]
        [ "$(plan MODE)" = native ]
        [ "$(plan CATALOGUE)" = initramfs ]
        [ "$(plan CATALOGUE_VERSION)" = 2 ]
        [[ "$(plan HAZARDS)" != *SDC-H1-UNIT* ]]
}

@test "a root with a newer catalogue: the plan follows the root's rule" {
        root_rules 3
        run negotiate
        [ "$status" -eq 0 ]
        [ "$(plan CATALOGUE)" = root ]
        [ "$(plan CATALOGUE_VERSION)" = 3 ]
        [ "$(plan MODE)" = translate ]
        [[ "$(plan HAZARDS)" == *SDC-H1-UNIT* ]]
        [ "$(plan ACTIONS)" = dropin-sigterm-success ]
        grep -qx 'SuccessExitStatus=SIGTERM' \
                "$BATS_TEST_TMPDIR/run/systemd/system/initrd-switch-root.service.d/50-sdcompat-sigterm.conf"
        [ "$(jq -r .catalogue.used "$BATS_TEST_TMPDIR/run/sdcompat/handoff.json")" = root ]
}

@test "a root with an older (or the same) catalogue: the image's rules stay in force" {
        root_rules 2
        run negotiate
        [ "$status" -eq 0 ]
        [ "$(plan CATALOGUE)" = initramfs ]
        [[ "$(plan HAZARDS)" != *SDC-H1-UNIT* ]]
}

@test "the root's admin rules (/sysroot/etc/sdcompat/rules.d) apply whatever the catalogues" {
        mkdir -p "$sysroot/etc/sdcompat/rules.d"
        cp "$top/rules.d/11-sdc-h1-unprotected-switch-root.rules" "$sysroot/etc/sdcompat/rules.d/"
        run negotiate
        [ "$status" -eq 0 ]
        [ "$(plan CATALOGUE)" = initramfs ]
        [[ "$(plan HAZARDS)" == *SDC-H1-UNIT* ]]
        [ "$(plan ACTIONS)" = dropin-sigterm-success ]
}

@test "a root systemd newer than the catalogue knows: recorded; check says 'unknown future version', not safe" {
        # The catalogue was checked up to 256; trixie's 257 is "the future" for it.
        sed -i 's/^CATALOGUE_SYSTEMD_MAX=.*/CATALOGUE_SYSTEMD_MAX=256/' "$image_rules/catalogue"
        run negotiate
        [ "$status" -eq 0 ]
        [ "$(plan ROOT_SYSTEMD_FUTURE)" = yes ]
        [[ "$output" == *"newer than the hazard catalogue 2 knows (checked up to 256)"* ]]
        [ "$(jq -r .catalogue.root_systemd_future "$BATS_TEST_TMPDIR/run/sdcompat/handoff.json")" = true ]
        # The same pair with a plain dracut image (no hazard applies): not "safe".
        run "$build/sdcompat-check" --rules-path "$image_rules" --image "$(fixture_path dracut-bookworm)" \
                --root "$sysroot" --cmdline "root=LABEL=root"
        [ "$status" -eq 2 ]
        [[ "$output" == *"unknown future version: root systemd 257.13-1~deb13u1 is newer"* ]]
        [[ "$output" != *"verdict:        safe"* ]]
        # With the catalogue that knows 257: safe again.
        run "$build/sdcompat-check" --rules-path "$top/rules.d" --image "$(fixture_path dracut-bookworm)" \
                --root "$sysroot" --cmdline "root=LABEL=root"
        [ "$status" -eq 0 ]
        [[ "$output" == *"verdict:        safe"* ]]
        [[ "$output" != *"unknown future version"* ]]
}
