#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# sdcompat-inject is crash-atomic: killed at random points (signals, and a file size limit that
# stops it in the middle of writing, as a full disk would), the image is always either
# byte-identical to what it was or completely injected (or removed) and valid. Never a mix.

load helpers

TRIALS=${SDC_INJECT_KILL_TRIALS:-120}

setup_file() {
        export SDC_INJECT_DESTDIR
        SDC_INJECT_DESTDIR=$(inject_destdir)
}

setup() {
        require_fixtures
        d=$SDC_INJECT_DESTDIR
        base=$(fixture_path dracut-bookworm)
        size=$(stat -c %s "$base")
}

inject() {
        "$d/usr/sbin/sdcompat-inject" --sdcompat "$d/usr/bin/sdcompat" --shim "$d/usr/libexec/sdcompat/sdcompat-shim" \
                --unit "$d/usr/lib/dracut/modules.d/99sdcompat/sdcompat-negotiate.service" \
                --rules-dir "$top/rules.d" --admin-rules-dir '' "$@"
}

# state IMG: "original" (byte-identical to the base), "injected" (the base as its prefix, a
# consistent segment whose recorded SHA-256 matches, and sdcompat-check reads all of it with the
# injected manifest), or "BROKEN".
state() {
        local img=$1 out
        if cmp -s "$img" "$base"; then
                echo original
                return
        fi
        if cmp -s -n "$size" "$img" "$base" &&
                out=$(inject --check --remove --json "$img") &&
                [ "$(jq -r '.images[0].action' <<<"$out")" = would-remove ] &&
                { out=$(check --image "$img" --json) || true; } && [ "$(jq -r '.entries[0].sdcompat.injected' <<<"$out")" = true ]; then
                echo injected
                return
        fi
        echo BROKEN
}

# One trial: OP (inject or remove) on a fresh copy in state FROM, killed after DELAY ms with SIG.
@test "killed at random points ($TRIALS trials of inject and --remove, SIGKILL/SIGTERM/SIGINT): old or new, never a mix" {
        local dir=$BATS_TEST_TMPDIR/k img injected_copy=$BATS_TEST_TMPDIR/injected.img
        local -A seen=()
        mkdir -p "$dir"
        img=$dir/initrd.img
        inject_cmd=("$d/usr/sbin/sdcompat-inject" --sdcompat "$d/usr/bin/sdcompat" --shim "$d/usr/libexec/sdcompat/sdcompat-shim"
                --unit "$d/usr/lib/dracut/modules.d/99sdcompat/sdcompat-negotiate.service" --rules-dir "$top/rules.d"
                --admin-rules-dir '')
        cp "$base" "$injected_copy"
        inject "$injected_copy" >/dev/null
        for ((i = 0; i < TRIALS; i++)); do
                sigs=(KILL TERM INT)
                sig=${sigs[RANDOM % 3]}
                delay=$((RANDOM % 1400))
                if ((i % 2)); then
                        op=remove
                        cp "$injected_copy" "$img"
                else
                        op=inject
                        cp "$base" "$img"
                fi
                # exec: the signal must reach sdcompat-inject itself, not a subshell around it.
                if [ $op = remove ]; then
                        (exec "${inject_cmd[@]}" --remove "$img" >/dev/null 2>&1) &
                else
                        (exec "${inject_cmd[@]}" "$img" >/dev/null 2>&1) &
                fi
                pid=$!
                sleep "$(printf '0.%03d' "$delay")"
                kill -s "$sig" "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
                s=$(state "$img")
                [ "$s" != BROKEN ] || { echo "trial $i: $op killed by SIG$sig after $delay ms left a broken image"; return 1; }
                seen[$op-$s]=$((${seen[$op-$s]:-0} + 1))
        done
        for k in "${!seen[@]}"; do echo "# $k: ${seen[$k]}" >&3; done
        # Both outcomes happened for both operations: the kill points really differ.
        [ "${seen[inject-original]:-0}" -gt 0 ]
        [ "${seen[inject-injected]:-0}" -gt 0 ]
        [ "${seen[remove-original]:-0}" -gt 0 ]
        [ "${seen[remove-injected]:-0}" -gt 0 ]
        [ $(( ${seen[inject-original]:-0} + ${seen[inject-injected]:-0} + ${seen[remove-original]:-0} + ${seen[remove-injected]:-0} )) -eq "$TRIALS" ]
        # What interrupted runs left beside the image is cleaned by the next run.
        inject "$img" >/dev/null
        run ls -A "$dir"
        [ "$output" = initrd.img ]
}

@test "a full disk in the middle of writing (RLIMIT_FSIZE at random sizes, 40 trials): old or new, never a mix" {
        local dir=$BATS_TEST_TMPDIR/f img seg
        local -A seen=()
        mkdir -p "$dir"
        img=$dir/initrd.img
        cp "$base" "$img"
        inject "$img" >/dev/null
        seg=$(($(stat -c %s "$img") - size))
        for ((i = 0; i < 40; i++)); do
                cp "$base" "$img"
                # A limit anywhere from a quarter of the original to just past the new image: the
                # write of the new file (or its claim of space) fails at that byte.
                limit_kb=$(((size / 4 + (RANDOM * 32768 + RANDOM) % (size + seg)) / 1024))
                ( ulimit -f "$limit_kb"; trap '' XFSZ; exec "$d/usr/sbin/sdcompat-inject" --sdcompat "$d/usr/bin/sdcompat" \
                        --shim "$d/usr/libexec/sdcompat/sdcompat-shim" \
                        --unit "$d/usr/lib/dracut/modules.d/99sdcompat/sdcompat-negotiate.service" \
                        --rules-dir "$top/rules.d" --admin-rules-dir '' "$img" ) >"$dir.out" 2>&1 || true
                s=$(state "$img")
                [ "$s" != BROKEN ] || { echo "trial $i: limit ${limit_kb} KiB left a broken image"; cat "$dir.out"; return 1; }
                if [ "$s" = original ]; then
                        grep -q "the image is unchanged" "$dir.out" || { cat "$dir.out"; return 1; }
                fi
                seen[$s]=$((${seen[$s]:-0} + 1))
                run ls -A "$dir"
                [ "$output" = initrd.img ] || { echo "trial $i left: $output"; return 1; }
        done
        for k in "${!seen[@]}"; do echo "# rlimit $k: ${seen[$k]}" >&3; done
        [ "${seen[original]:-0}" -gt 0 ]
        [ "${seen[injected]:-0}" -gt 0 ]
}
