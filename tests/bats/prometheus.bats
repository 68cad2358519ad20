#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# sdcompat-check --prometheus and the alerting rules, proven with Prometheus's own tools from
# Debian: promtool (package prometheus) checks the exposition and the rules and runs the rules'
# unit tests; a real prometheus-node-exporter on a loopback port serves the textfile.

load helpers

setup() {
        command -v promtool >/dev/null || skip "promtool is not installed (scripts/install-deps test)"
        textdir="$BATS_TEST_TMPDIR/textfile"
        run_dir="$BATS_TEST_TMPDIR/run"
        mkdir -p "$textdir" "$run_dir/sdcompat"
}

teardown() {
        if [ -n "${exporter_pid:-}" ]; then
                kill "$exporter_pid" 2>/dev/null || true
                wait "$exporter_pid" 2>/dev/null || true
        fi
}

# A boot record as sdcompat-shim writes it: the real shim, run as an ordinary process on a state
# stream captured in a real boot, with rd.sdcompat.fault=exec (the stateful exec fails, the chain
# falls back to a fresh start). The stand-in for systemd only exits.
shim_record() { # FAULT (empty: none)
        local capture
        capture=$(ls "$top"/tests/data/state/bullseye-*.state | head -n1)
        printf '#!/bin/sh\nexit 0\n' > "$BATS_TEST_TMPDIR/systemd"
        chmod +x "$BATS_TEST_TMPDIR/systemd"
        cat > "$run_dir/sdcompat/plan" <<EOF2
SDCOMPAT_PLAN_VERSION=1
MODE=translate
ACTIONS="shim-drop-sections"
ROOT_SYSTEMD_VERSION="262.1-1"
SHIM_TARGET="$BATS_TEST_TMPDIR/systemd"
EOF2
        SDCOMPAT_SHIM_RUN_DIR="$run_dir/sdcompat" SDCOMPAT_SHIM_INIT="$BATS_TEST_TMPDIR/systemd" \
                SDCOMPAT_SHIM_CMDLINE="root=LABEL=root${1:+ rd.sdcompat.fault=$1}" \
                bash -c 'exec -a "$0" "$@"' "$BATS_TEST_TMPDIR/systemd" "$build/sdcompat-shim" \
                --switched-root --system --deserialize 7 7<"$capture" >/dev/null 2>&1
        [ -f "$run_dir/sdcompat/shim.json" ]
}

# h2a FILE: bookworm's initramfs on a sid root with cgroup v1 asked for (SDC-H2A, boot-fails).
h2a() {
        local img
        img=$(systemd_dracut_fixture bookworm)
        [ -n "$img" ] || { echo "no bookworm dracut fixture" >&2; return 1; }
        check --image "$(fixture_path "$img")" --root "$(fixture_path tree-sid)" --run-dir "$run_dir" \
                --cmdline "root=LABEL=root systemd.unified_cgroup_hierarchy=0" --prometheus "$1"
}

@test "promtool check metrics: an at-risk host whose boot needed the shim's fallback" {
        require_fixtures
        shim_record exec
        run -1 h2a "$textdir/sdcompat.prom"
        run promtool check metrics < "$textdir/sdcompat.prom"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        grep -qx 'sdcompat_info{version="[^"]*"} 1' "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_check_verdict{verdict="at-risk"} 1' "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_check_exit_status 1' "$textdir/sdcompat.prom"
        grep -q '^sdcompat_entry_hazard{image=".*",id="SDC-H2A",severity="boot-fails",match="yes",inhibitor="true",handled="false"} 1$' "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_boot_shim_ran 1' "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_boot_shim_fallback 1' "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_boot_shim_info{mode="translate",step="exec-fresh"} 1' "$textdir/sdcompat.prom"
        [ "$(sed -n 's/^sdcompat_boot_shim_failed_steps //p' "$textdir/sdcompat.prom")" -ge 1 ]
        # no sample carries a timestamp (node_exporter refuses them): "name{labels} value" only
        run grep -vE '^#|^[a-z_]+(\{.*\})? -?[0-9.e+]+$' "$textdir/sdcompat.prom"
        [ "$status" -eq 1 ]
        # the rename left no temporary file behind
        [ "$(ls "$textdir")" = sdcompat.prom ]
}

@test "a boot the shim handled without falling back, and one without the shim" {
        require_fixtures
        shim_record ""
        run -1 h2a "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_boot_shim_fallback 0' "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_boot_shim_failed_steps 0' "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_boot_shim_info{mode="translate",step="exec"} 1' "$textdir/sdcompat.prom"
        rm "$run_dir/sdcompat/shim.json"
        run -1 h2a "$textdir/sdcompat.prom"
        grep -qx 'sdcompat_boot_shim_ran 0' "$textdir/sdcompat.prom"
        run grep -c '^sdcompat_boot_shim_fallback' "$textdir/sdcompat.prom"
        [ "$output" = 0 ]
        run promtool check metrics < "$textdir/sdcompat.prom"
        [ "$status" -eq 0 ]
}

@test "a host without images passes promtool too; an unwritable textfile is exit 2 and says why" {
        mkdir -p "$BATS_TEST_TMPDIR/boot"
        run -0 check --boot-dir "$BATS_TEST_TMPDIR/boot" --run-dir "$run_dir" --prometheus "$textdir/sdcompat.prom"
        run promtool check metrics < "$textdir/sdcompat.prom"
        [ "$status" -eq 0 ]
        grep -qx 'sdcompat_check_entries 0' "$textdir/sdcompat.prom"
        run -2 check --boot-dir "$BATS_TEST_TMPDIR/boot" --prometheus "$BATS_TEST_TMPDIR/missing/sdcompat.prom"
        [[ "$output" == *"$BATS_TEST_TMPDIR/missing/sdcompat.prom: cannot write the metrics"* ]]
}

@test "a real prometheus-node-exporter on 127.0.0.1 serves the series, node_textfile_scrape_error 0" {
        require_fixtures
        local exporter=/usr/bin/prometheus-node-exporter port metrics
        [ -x "$exporter" ] || skip "prometheus-node-exporter is not installed (scripts/install-deps test)"
        shim_record exec
        run -1 h2a "$textdir/sdcompat.prom"
        # a free loopback port, then only the textfile collector
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        "$exporter" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.textfile \
                --collector.textfile.directory="$textdir" >"$BATS_TEST_TMPDIR/exporter.log" 2>&1 &
        exporter_pid=$!
        for _ in $(seq 50); do
                metrics=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) && break
                sleep 0.2
        done
        [ -n "$metrics" ]
        grep -qx 'node_textfile_scrape_error 0' <<<"$metrics"
        grep -qx 'sdcompat_check_verdict{verdict="at-risk"} 1' <<<"$metrics"
        grep -q '^sdcompat_entry_hazard{.*id="SDC-H2A".*inhibitor="true".*} 1$' <<<"$metrics"
        grep -qx 'sdcompat_boot_shim_fallback 1' <<<"$metrics"
        grep -q '^node_textfile_mtime_seconds{file=".*sdcompat.prom"} ' <<<"$metrics"
        # everything node_exporter serves passes promtool as well
        run promtool check metrics <<<"$metrics"
        [ "$status" -eq 0 ]
        grep -E '^(node_textfile_scrape_error|sdcompat_check_verdict|sdcompat_boot_shim_fallback)' <<<"$metrics" >&3 || true
}

@test "the alerting rules: promtool check rules and promtool test rules" {
        run promtool check rules "$top/prometheus/sdcompat.rules.yml"
        [ "$status" -eq 0 ]
        [[ "$output" == *"SUCCESS: 6 rules found"* ]]
        run promtool test rules "$top/prometheus/sdcompat.rules.test.yml"
        [ "$status" -eq 0 ]
        [[ "$output" == *SUCCESS* ]]
}

@test "the rules' tests fail on rules that are wrong (an inhibitor that ignores handled, a stale limit of 3 days)" {
        cp "$top"/prometheus/sdcompat.rules*.yml "$BATS_TEST_TMPDIR/"
        sed -i 's/inhibitor="true",handled="false"/inhibitor="true"/; s/> 2 \* 86400/> 3 * 86400/' "$BATS_TEST_TMPDIR/sdcompat.rules.yml"
        run promtool test rules "$BATS_TEST_TMPDIR/sdcompat.rules.test.yml"
        [ "$status" -ne 0 ]
        [[ "$output" == *"alertname: SdcompatBootEntryWouldFailBoot"* ]]
        [[ "$output" == *"alertname: SdcompatCheckStale"* ]]
}

@test "sdcompat status reads the same record the same way: fell back, or not" {
        shim_record exec
        run -0 "$build/sdcompat" status --run-dir "$run_dir"
        [[ "$output" == *"Shim: exec-fresh: "*"; fell back: a step failed or another took over (sdcompat-shim "*"; all steps: $run_dir/sdcompat/shim.json)"* ]]
        shim_record ""
        run -0 "$build/sdcompat" status --run-dir "$run_dir"
        [[ "$output" == *"Shim: exec: exec $BATS_TEST_TMPDIR/systemd (sdcompat-shim "*"; all steps: $run_dir/sdcompat/shim.json)"* ]]
        [[ "$output" != *"fell back"* ]]
}
