#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# sdcompat-check's report: systemd's --json=pretty|short|off and -j, the findings' fields
# (rule id, severity, inhibitor, entry, what sdcompat does at boot, remedy) and the summary line,
# on real images and roots from Debian's archive (tests/fixtures).

load helpers

# bookworm's initramfs on a sid root with cgroup v1 asked for: SDC-H2A (boot-fails) applies.
h2a() {
        local img
        img=$(systemd_dracut_fixture bookworm)
        [ -n "$img" ] || { echo "no bookworm dracut fixture" >&2; return 1; }
        check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" \
                --cmdline "root=LABEL=root systemd.unified_cgroup_hierarchy=0" "$@"
}

@test "--json=short is one line, --json=pretty and a bare --json are indented, the same document" {
        require_fixtures
        run -1 h2a --json=short
        [ "${#lines[@]}" -eq 1 ]
        short=$(jq -S 'del(.root.facts, .entries[].initrd)' <<<"$output")
        run -1 h2a --json=pretty
        [ "${#lines[@]}" -gt 20 ]
        [ "$(jq -S 'del(.root.facts, .entries[].initrd)' <<<"$output")" = "$short" ]
        run -1 h2a --json
        [ "${#lines[@]}" -gt 20 ]
        [ "$(jq -S 'del(.root.facts, .entries[].initrd)' <<<"$output")" = "$short" ]
}

@test "-j is short when stdout is not a terminal; --json=off is the text; a bad mode is exit 2" {
        require_fixtures
        run -1 h2a -j
        [ "${#lines[@]}" -eq 1 ]
        [ "$(json .schema_version)" = 1 ]
        run -1 h2a --json=off
        [[ "$output" == *"verdict:"*"at-risk"* ]]
        run -2 check --json=yaml
        [[ "$output" == *"Invalid --json=yaml"* ]]
        run -0 check --json=help
        [ "$output" = "$(printf 'pretty\nshort\noff')" ]
}

@test "-j is pretty on a terminal" {
        require_fixtures
        command -v script >/dev/null || skip "script(1) is not installed"
        local img
        img=$(fixture_path "$(systemd_dracut_fixture bookworm)")
        run script -qec "$build/sdcompat-check --rules-path $top/rules.d --image $img --root $(fixture_path tree-bookworm) --cmdline root=LABEL=root -j" /dev/null
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -gt 20 ]
        [[ "${lines[0]}" == "{"* ]]
}

@test "each finding: id, severity, inhibitor, impact, entry, sdcompat at boot, handled, remedy" {
        require_fixtures
        run -1 h2a --json=short
        run jq -ce '.entries[0] as $e | $e.hazards[] | select(.id == "SDC-H2A")
                | select(.severity == "boot-fails" and .inhibitor == true and .impact == "fails-boot"
                         and .entry == $e.id and .action == "cgroup-convert" and .handled == false
                         and (.sdcompat_at_boot | test("converts the cgroup v1 hierarchy"))
                         and (.remedy | length > 0) and .match == "yes")' <<<"$output"
        [ "$status" -eq 0 ]
        [ -n "$output" ]
}

@test "a degrading finding is not an inhibitor" {
        require_fixtures
        local img
        img=$(systemd_dracut_fixture bullseye)
        [ -n "$img" ] || skip "no bullseye dracut fixture"
        run -1 check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" --cmdline "root=LABEL=root" --json=short
        [ "$(json '.entries[0].hazards[] | select(.id == "SDC-H4") | [.severity, .inhibitor, .impact] | join(" ")')" = "degraded false degrades" ]
}

@test "the summary line: host, verdict, counts, the inhibitors by entry, the root's systemd" {
        require_fixtures
        local img
        img=$(fixture_path "$(systemd_dracut_fixture bookworm)")
        run -1 h2a
        last=${lines[${#lines[@]} - 1]}
        [[ "$last" == "root $(fixture_path tree-sid): at-risk: 1 boot entry (1 at-risk); 1 would fail the boot (SDC-H2A on $img), "*" degrade it; root systemd 2"* ]]
        run -1 h2a --json=short
        [ "$(json .summary)" = "$last" ]
}

@test "the summary line of a host without initramfs images" {
        mkdir -p "$BATS_TEST_TMPDIR/boot"
        run -0 check --boot-dir "$BATS_TEST_TMPDIR/boot"
        [[ "${lines[1]}" == "$(hostname): safe: 0 boot entries; 0 would fail the boot, 0 degrade it; root systemd "* ]]
}
