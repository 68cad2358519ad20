#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The hazard rules as an operator handles them: --explain, admin overrides and masks, broken files.

load helpers

@test "--explain prints what happens, when, what sdcompat does and what to do without it" {
        run check --explain=SDC-H1
        [ "$status" -eq 0 ]
        [[ "$output" == "SDC-H1 (hazard H1): "* ]]
        [[ "$output" == *"Severity:             boot-fails"* ]]
        [[ "$output" == *"sdcompat at boot:     dropin-sigterm-success (also when undecided"* ]]
        [[ "$output" == *"InitrdSystemctlIgnoresSigterm=no"* ]]
        [[ "$output" == *"RootVersion==219 os:rhel:>=7.8"* ]]
        [[ "$output" == *"Without sdcompat:"*"SuccessExitStatus=SIGTERM"* ]]
        [[ "$output" == *"https://github.com/redhat-plumbers/systemd-rhel7/pull/117"* ]]
        run check --explain=SDC-H1-VERSION
        [ "$status" -eq 0 ]
        [[ "$output" == *"InitrdVersion=<233 !rhel:>=219-70"* ]]
        [[ "$output" == *"InitrdSystemctlIgnoresSigterm=unknown"* ]]
}

@test "--explain of every shipped rule works" {
        for f in "$top"/rules.d/*.rules; do
                id=$(sed -n 's/^Id=//p' "$f")
                run check --explain="$id"
                [ "$status" -eq 0 ] || { echo "$id: $output"; return 1; }
        done
}

@test "--explain of an unknown id is exit 2 and says where it looked" {
        run check --explain=SDC-NOPE
        [ "$status" -eq 2 ]
        [[ "$output" == *"No rule with Id=SDC-NOPE in $top/rules.d"* ]]
}

@test "no rules installed: a systemd initramfs is blocked, not safe" {
        require_fixtures
        mkdir -p "$BATS_TEST_TMPDIR/empty"
        img=$(fixture_path "$(fixtures_where builder dracut | head -n1)")
        SDCOMPAT_TEST_RULES="$BATS_TEST_TMPDIR/empty" run check --image "$img" --root "$(fixture_path tree-sid)"
        [ "$status" -eq 2 ]
        [[ "$output" == *"No hazard rules found"* ]]
}

@test "an admin mask and a broken admin override, as /etc/sdcompat/rules.d would hold them" {
        require_fixtures
        local etc="$BATS_TEST_TMPDIR/etc" img
        img=$(systemd_dracut_fixture bookworm)
        mkdir -p "$etc"
        ln -s /dev/null "$etc/20-sdc-h2a-cgroup-v1-v258.rules"
        printf '[Rule]\nId=SDC-H2B\nSeverity=often\n' >"$etc/21-sdc-h2b-cgroup-v1-v256.rules"
        SDCOMPAT_TEST_RULES="$etc:$top/rules.d" run --separate-stderr check --image "$(fixture_path "$img")" \
                --root "$(fixture_path tree-sid)" --cmdline "systemd.unified_cgroup_hierarchy=0" --json
        [[ "$stderr" == *"Rule not loaded: $etc/21-sdc-h2b-cgroup-v1-v256.rules:3"* ]]
        # H2A is masked: nothing else applies to 252 -> 262 here.
        [ "$status" -eq 0 ]
        [ "$(json '.rules.masked[0]')" = 20-sdc-h2a-cgroup-v1-v258.rules ]
        [[ "$(json '.rules.errors[0]')" == *"etc/21-sdc-h2b-cgroup-v1-v256.rules:3: Severity=often"* ]]
        # The broken override did not disable the shipped H2B.
        SDCOMPAT_TEST_RULES="$etc:$top/rules.d" run check --explain=SDC-H2B
        [ "$status" -eq 0 ]
        [[ "$output" == *"Rule file: $top/rules.d/21-sdc-h2b-cgroup-v1-v256.rules"* ]]
        [[ "$output" == *"Rule not loaded: $etc/21-sdc-h2b-cgroup-v1-v256.rules:3"* ]]
}
