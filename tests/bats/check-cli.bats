#!/usr/bin/env bats
# sdcompat-check as an operator meets it: help, errors, exit codes, a host without initramfs.

load helpers

@test "--help names every option and the exit codes" {
        run check --help
        [ "$status" -eq 0 ]
        for opt in --image --root --cmdline --boot-dir --json --max-unpacked --jobs; do
                [[ "$output" == *"$opt"* ]]
        done
        [[ "$output" == *"0 no risk found, 1 at risk, 2 could not check"* ]]
}

@test "--version prints the version" {
        run check --version
        [ "$status" -eq 0 ]
        [[ "$output" == "sdcompat-check "[0-9]* ]]
}

@test "an unknown option is a usage error with exit 2" {
        run check --no-such-option
        [ "$status" -eq 2 ]
}

@test "a stray argument is a usage error with exit 2" {
        run check /boot/initrd.img
        [ "$status" -eq 2 ]
        [[ "$output" == *"Unexpected argument"* ]]
}

@test "a host without any initramfs says so and exits 0" {
        mkdir -p "$BATS_TEST_TMPDIR/boot"
        run check --boot-dir "$BATS_TEST_TMPDIR/boot"
        [ "$status" -eq 0 ]
        [[ "$output" == *"No initramfs images found in $BATS_TEST_TMPDIR/boot"* ]]
}

@test "a host without /boot at all is the same" {
        run check --boot-dir "$BATS_TEST_TMPDIR/does-not-exist"
        [ "$status" -eq 0 ]
        [[ "$output" == *"No initramfs images found"* ]]
}

@test "no initramfs, as JSON: an empty entry list" {
        mkdir -p "$BATS_TEST_TMPDIR/boot"
        run check --boot-dir "$BATS_TEST_TMPDIR/boot" --json
        [ "$status" -eq 0 ]
        [ "$(json '.entries | length')" = 0 ]
        [ "$(json .verdict)" = safe ]
        [ "$(json .exit_status)" = 0 ]
}

@test "a missing image names the file and the reason, exit 2" {
        run check --image "$BATS_TEST_TMPDIR/nope.img"
        [ "$status" -eq 2 ]
        [[ "$output" == *"$BATS_TEST_TMPDIR/nope.img"*"No such file or directory"* ]]
}

@test "a directory given as an image is refused clearly" {
        run check --image "$BATS_TEST_TMPDIR"
        [ "$status" -eq 2 ]
        [[ "$output" == *"$BATS_TEST_TMPDIR"* ]]
}

@test "an unreadable root is exit 2 with the path" {
        run check --root "$BATS_TEST_TMPDIR/no-root" --image /dev/null
        [ "$status" -eq 2 ]
        [[ "$output" == *"no-root"* ]]
}

@test "--max-unpacked rejects nonsense" {
        run check --max-unpacked=lots --image /dev/null
        [ "$status" -eq 2 ]
        [[ "$output" == *"--max-unpacked=lots"* ]]
}

@test "every man page renders without warnings" {
        for page in "$top"/man/*.[578]; do
                run bash -c "MANWIDTH=80 man --warnings -l '$page' 2>&1 >/dev/null"
                [ "$status" -eq 0 ] && [ -z "$output" ] || { echo "$page: $output"; return 1; }
        done
}
