#!/usr/bin/env bats
# Hostile and broken images: a clear error naming the file and the reason, exit 2, never a crash.
# Runs the sanitizer build too when scripts/run-tests made one.

load helpers

setup() {
        require_fixtures
}

checkers() {
        echo "$build/sdcompat-check"
        asan=${SDCOMPAT_ASAN_BUILD:-$top/build-tests/asan}/sdcompat-check
        [ -x "$asan" ] && echo "$asan"
        return 0
}

@test "every hostile fixture: exit 2 or a verdict, a message naming the file, no crash" {
        local n=0
        for name in $(awk -F'\t' 'NR > 1 && $1 ~ /^hostile-/ { print $1 }' "$fixtures/index.tsv"); do
                img=$(fixture_path "$name")
                for c in $(checkers); do
                        run "$c" --rules-path "$top/rules.d" --image "$img" --json
                        # 134 abort, 139 segfault, 1 from a sanitizer report: all crashes.
                        [ "$status" -eq 2 ] || [ "$status" -eq 0 ] || [ "$status" -eq 1 ] ||
                                { echo "$name ($c): exit $status: $output"; return 1; }
                        [[ "$output" != *"ERROR: AddressSanitizer"* && "$output" != *"runtime error"* ]] ||
                                { echo "$name ($c): $output"; return 1; }
                        if [ "$status" -eq 2 ]; then
                                [[ "$(json '.entries[0].error.message')" == *"$img"* ]] ||
                                        { echo "$name: error does not name the file: $output"; return 1; }
                        fi
                done
                n=$((n + 1))
        done
        [ "$n" -ge 4 ]
}

@test "a truncated image says truncated and where" {
        local name
        name=$(awk -F'\t' 'NR > 1 && $1 ~ /^hostile-trunc/ { print $1; exit }' "$fixtures/index.tsv")
        [ -n "$name" ]
        run check --image "$(fixture_path "$name")"
        [ "$status" -eq 2 ]
        [[ "$output" == *"at byte "* ]]
        [[ "$output" == *"truncated"* ]]
}

@test "a text file is not an initramfs" {
        echo "hello world, not an image" >"$BATS_TEST_TMPDIR/text.img"
        run check --image "$BATS_TEST_TMPDIR/text.img"
        [ "$status" -eq 2 ]
        [[ "$output" == *"$BATS_TEST_TMPDIR/text.img: at byte 0:"* ]]
}

@test "an empty file is refused" {
        : >"$BATS_TEST_TMPDIR/empty.img"
        run check --image "$BATS_TEST_TMPDIR/empty.img"
        [ "$status" -eq 2 ]
        [[ "$output" == *"empty.img"* ]]
}

@test "the unpacked-size cap stops a large image with a clear message" {
        img=$(fixture_path "$(fixtures_where builder dracut | head -n1)")
        run check --image "$img" --max-unpacked=64K
        [ "$status" -eq 2 ]
        [[ "$output" == *"limit"* ]]
}
