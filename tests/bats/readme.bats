#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The README's commands on a fresh Debian 12 root, as root without sudo and as a user with sudo
# (scripts/test-readme: two mmdebstrap roots, the build dependencies downloaded into each, ~10
# minutes). Slow and network-bound, so it runs only when asked: SDCOMPAT_TEST_README=1
# (SDCOMPAT_TEST_README=full adds scripts/install-deps test as the user and the first steps of
# command 2, ~20 minutes).

load helpers

@test "the README's command 1 works on a fresh Debian 12 as root without sudo and as a user with sudo (scripts/test-readme)" {
        [ -n "${SDCOMPAT_TEST_README:-}" ] || skip "slow: set SDCOMPAT_TEST_README=1 (or full) to run scripts/test-readme"
        [ "$(id -u)" -eq 0 ] || skip "scripts/test-readme needs root (chroot)"
        command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed (scripts/install-deps test)"
        local args=()
        [ "$SDCOMPAT_TEST_README" != full ] || args=(--run-tests)
        run "$top/scripts/test-readme" "${args[@]}"
        echo "$output" | grep '^test-readme: ' >&3
        [ "$status" -eq 0 ] || { echo "$output" | tail -n 40; false; }
        [[ "$output" == *"test-readme: root without sudo: ok (exit 0; "* ]]
        [[ "$output" == *"test-readme: user with sudo: ok (exit 0; "* ]]
        [ "$SDCOMPAT_TEST_README" != full ] || [[ "$output" == *"test-readme: command 2 as the user, to its unit tests: ok"* ]]
}
