#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# sdcompat-shim run as an ordinary process (not PID 1: it then takes its run directory, command
# line and /sbin/init from SDCOMPAT_SHIM_RUN_DIR, SDCOMPAT_SHIM_CMDLINE, SDCOMPAT_SHIM_INIT),
# handing a state stream captured in a real boot (tests/data/state) to a stand-in for systemd
# that records the arguments and the stream it received.

load helpers

shim="$build/sdcompat-shim"

setup() {
        run_dir="$BATS_TEST_TMPDIR/run/sdcompat"
        out="$BATS_TEST_TMPDIR/out"
        mkdir -p "$run_dir" "$out"
        export SDCOMPAT_SHIM_RUN_DIR="$run_dir" SDCOMPAT_SHIM_CMDLINE="root=LABEL=root quiet"
        export SDCOMPAT_SHIM_INIT="$BATS_TEST_TMPDIR/init" OUT="$out"
        # The stand-in: its argv, the stream behind --deserialize, the descriptors it inherited.
        cat > "$BATS_TEST_TMPDIR/systemd" <<'SH'
#!/bin/bash
name=${0##*/}
printf '%s\n' "$@" > "$OUT/$name.argv"
fd=
while [ $# -gt 0 ]; do
        case $1 in
        --deserialize) fd=$2; shift ;;
        --deserialize=*) fd=${1#*=} ;;
        esac
        shift
done
[ -n "$fd" ] && cat "/proc/self/fd/$fd" > "$OUT/$name.state"
printf '%s' "${SYSTEMD_PROC_CMDLINE-(unset)}" > "$OUT/$name.proc_cmdline"
ls /proc/$$/fd > "$OUT/$name.fds"
exit 0
SH
        cp "$BATS_TEST_TMPDIR/systemd" "$BATS_TEST_TMPDIR/init"
        chmod +x "$BATS_TEST_TMPDIR/systemd" "$BATS_TEST_TMPDIR/init"
        capture=$(ls "$top"/tests/data/state/bullseye-*.state | head -n1)
        [ -f "$capture" ]
}

write_plan() { # MODE ACTIONS
        cat > "$run_dir/plan" <<EOF2
SDCOMPAT_PLAN_VERSION=1
MODE=$1
ACTIONS="$2"
ROOT_SYSTEMD_VERSION="262.1-1"
SHIM_TARGET="$BATS_TEST_TMPDIR/systemd"
EOF2
}

# shim ARGS...: runs the shim with the capture open on descriptor 7, under the stand-in's name, as
# PID 1 runs it (the initramfs's systemd execs the path the shim is mounted on). Each run is a boot
# of its own: the marker of an earlier handoff goes first.
run_shim() {
        rm -f "$run_dir/handoff-ran"
        run bash -c 'exec -a "$0" "$@"' "$BATS_TEST_TMPDIR/systemd" "$shim" "$@" 7<"$capture"
}

# run_shim_rw ARGS...: the same with a copy of the capture open read-write on descriptor 7 ($rw), as
# systemd passes its serialization memfd (before it sealed it): the shim may compact it in place.
run_shim_rw() {
        rw="$BATS_TEST_TMPDIR/rw.state"
        cp "$capture" "$rw"
        rm -f "$run_dir/handoff-ran"
        run bash -c 'exec -a "$0" "$@"' "$BATS_TEST_TMPDIR/systemd" "$shim" "$@" 7<>"$rw"
}

step_of() { # N: the Nth step name of shim.json (0-based; -1 the last)
        jq -r ".steps[$1].step" "$run_dir/shim.json"
}

@test "translate: mount sections dropped, argv reordered, everything else byte for byte" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        run_shim --  hello --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        # PID 1's options first, the kernel's after
        [ "$(head -n3 "$out/systemd.argv" | tr '\n' ' ')" = "--switched-root --system --deserialize=7 " ]
        [ "$(tail -n2 "$out/systemd.argv" | tr '\n' ' ')" = "-- hello " ]
        grep -q '\.service$' "$out/systemd.state"
        run ! grep -qE '^[^=]+\.(mount|automount)$' "$out/systemd.state"
        grep -qE '^[^=]+\.mount$' "$capture"
        # what is left is the original minus whole sections
        [ "$(grep -vcE '^$' "$out/systemd.state")" -lt "$(grep -vcE '^$' "$capture")" ]
        diff <(sed -n '1,/^$/p' "$capture") <(sed -n '1,/^$/p' "$out/systemd.state")
        [ "$(step_of -1)" = exec ]
        jq -e '.mode == "translate" and ([.steps[].step] | index("shim-drop-sections")) != null' "$run_dir/shim.json"
}

@test "translate in place: a read-write descriptor is compacted, byte for byte what a new descriptor gets" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        run_shim --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        mv "$out/systemd.state" "$out/new-descriptor.state"
        jq -e '.steps[] | select(.step == "transform") | .detail | test("in a new descriptor")' "$run_dir/shim.json"
        run_shim_rw --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        jq -e '.steps[] | select(.step == "transform") | .detail | test("in place in fd 7")' "$run_dir/shim.json"
        cmp "$out/new-descriptor.state" "$out/systemd.state"
        # the file itself holds the result now, and is shorter than the capture
        cmp "$out/systemd.state" "$rw"
        [ "$(stat -c %s "$rw")" -lt "$(stat -c %s "$capture")" ]
        [ "$(step_of -1)" = exec ]
}

@test "fault compact: the in-place write fails, the original goes back and is handed on with the original argv" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        SDCOMPAT_SHIM_CMDLINE="rd.sdcompat.fault=compact" run_shim_rw -- hello --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        cmp "$capture" "$rw"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "-- hello --switched-root --system --deserialize 7 " ]
        jq -e '[.steps[] | select(.step == "transform" and .error < 0)] | length == 1' "$run_dir/shim.json"
        jq -e '.steps[] | select(.step == "transform" and .error < 0) | .detail | test("the original is back")' "$run_dir/shim.json"
        [ "$(step_of -1)" = exec ]
}

@test "fault restore: the original cannot be put back either: no state is handed on, fresh" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        SDCOMPAT_SHIM_CMDLINE="rd.sdcompat.fault=restore" run_shim_rw --switched-root --system --deserialize 7 hello
        [ "$status" -eq 0 ]
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "hello " ]
        [ ! -e "$out/systemd.state" ]
        jq -e '.steps[] | select(.step == "transform" and .error < 0) | .detail | test("the state is lost")' "$run_dir/shim.json"
        jq -e '.steps[] | select(.step == "exec") | .error < 0 and (.detail | test("lost"))' "$run_dir/shim.json"
        [ "$(step_of -1)" = exec-fresh ]
}

@test "fold-lines only, no line too long: handed on untouched without being parsed" {
        write_plan translate "shim-fold-lines shim-argv-reorder"
        run_shim_rw --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        cmp "$capture" "$rw"
        jq -e '.steps[] | select(.step == "shim-fold-lines") | .detail == "no line longer than 2046 bytes"' "$run_dir/shim.json"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "--switched-root --system --deserialize=7 " ]
}

@test "fold-lines only, one item longer than an old reader's buffer: that item goes, in place" {
        write_plan translate "shim-fold-lines"
        # the capture with a 3000-byte item after the first unit's name (hand-made in that line only)
        long="$BATS_TEST_TMPDIR/long.state"
        awk 'BEGIN { x = sprintf("%3000s", ""); gsub(/ /, "x", x) }
             { print } /^$/ && !done { getline; print; print "description=" x; done = 1 }' "$capture" > "$long"
        [ "$(stat -c %s "$long")" -eq "$(( $(stat -c %s "$capture") + 3013 ))" ]
        capture=$long run_shim_rw --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        jq -e '.steps[] | select(.step == "shim-fold-lines") | .detail | test("^1 lines longer")' "$run_dir/shim.json"
        jq -e '.steps[] | select(.step == "transform") | .detail | test("in place")' "$run_dir/shim.json"
        cmp "$capture" "$out/systemd.state"
}

@test "a state on a pipe (cannot be read without consuming it): handed on untouched" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        CAPTURE=$capture run bash -c 'exec -a "$0" "$@" 7< <(cat "$CAPTURE")' "$BATS_TEST_TMPDIR/systemd" "$shim" \
                --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "--switched-root --system --deserialize 7 " ]
        jq -e '[.steps[] | select(.step == "transform" and .error < 0)] | length == 1' "$run_dir/shim.json"
}

@test "translate without transforms that change it: the stream and argv go on untouched" {
        write_plan translate ""
        run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "--switched-root --system --deserialize=7 " ]
}

@test "no plan: native, argv and state as received, and the record says why" {
        run_shim --switched-root --system --deserialize 7 extra
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "--switched-root --system --deserialize 7 extra " ]
        [ "$(step_of 0)" = plan ]
        jq -e '.steps[0].error < 0' "$run_dir/shim.json"
}

@test "rd.sdcompat.debug keeps the state before and after" {
        write_plan translate "shim-drop-sections"
        SDCOMPAT_SHIM_CMDLINE="quiet rd.sdcompat.debug" run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        cmp "$capture" "$run_dir/state.before"
        cmp "$out/systemd.state" "$run_dir/state.after"
        [ "$(stat -c %a "$run_dir/state.before")" = 600 ]
        # the same when the stream is compacted in place: "after" is what was handed on
        SDCOMPAT_SHIM_CMDLINE="quiet rd.sdcompat.debug" run_shim_rw --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        jq -e '.steps[] | select(.step == "transform") | .detail | test("in place")' "$run_dir/shim.json"
        cmp "$capture" "$run_dir/state.before"
        cmp "$out/systemd.state" "$run_dir/state.after"
        run ! cmp -s "$capture" "$run_dir/state.after"
}

@test "fault transform: the original state and argv are handed on" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        SDCOMPAT_SHIM_CMDLINE="rd.sdcompat.fault=transform" run_shim -- hello --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "-- hello --switched-root --system --deserialize 7 " ]
        jq -e '[.steps[] | select(.step == "transform" and .error < 0)] | length == 1' "$run_dir/shim.json"
}

@test "fault exec: fresh, without the state, the switch-root options or inherited descriptors" {
        write_plan translate "shim-drop-sections"
        SDCOMPAT_SHIM_CMDLINE="rd.sdcompat.fault=exec" run_shim --switched-root --system --deserialize 7 hello
        [ "$status" -eq 0 ]
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "hello " ]
        [ ! -e "$out/systemd.state" ]
        run ! grep -qx 7 "$out/systemd.fds"
        [ "$(step_of -1)" = exec-fresh ]
}

@test "fault exec,fresh: /sbin/init (here a stand-in) without state" {
        write_plan translate ""
        SDCOMPAT_SHIM_CMDLINE="rd.sdcompat.fault=exec,fresh" run_shim --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        [ -e "$out/init.argv" ]
        [ -z "$(cat "$out/init.argv")" ]
        [ ! -e "$out/systemd.argv" ]
        [ "$(step_of -1)" = exec-init ]
}

@test "every step failing: the last resort (as a test process: exit 1, the record says so)" {
        write_plan fresh ""
        SDCOMPAT_SHIM_CMDLINE="rd.sdcompat.fault=fresh,init" run_shim --switched-root --system --deserialize 7
        [ "$status" -eq 1 ]
        [ "$(step_of -1)" = last-resort ]
        [ ! -e "$out/systemd.argv" ]
        [ ! -e "$out/init.argv" ]
}

@test "fresh plan: no state crosses, /run/systemd is not touched outside PID 1's /run" {
        write_plan fresh ""
        run_shim --switched-root --system --deserialize=7 -- x
        [ "$status" -eq 0 ]
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "-- x " ]
        [ ! -e "$out/systemd.state" ]
}

@test "a malformed --deserialize: arguments handed on unchanged, native" {
        write_plan translate "shim-argv-reorder"
        run_shim --switched-root --system --deserialize=7 --deserialize=8
        [ "$status" -eq 0 ]
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "--switched-root --system --deserialize=7 --deserialize=8 " ]
        jq -e '[.steps[] | select(.step == "arguments" and .error < 0)] | length == 1' "$run_dir/shim.json"
}

@test "a target that is still the shim (its mount not removed) is never executed: /sbin/init instead" {
        write_plan translate ""
        sed -i "s|^SHIM_TARGET=.*|SHIM_TARGET=\"$shim\"|" "$run_dir/plan"
        run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        [ -e "$out/init.argv" ]
        jq -e '[.steps[] | select(.error == -40)] | length == 2' "$run_dir/shim.json" # ELOOP: exec and exec-fresh
        [ "$(step_of -1)" = exec-init ]
}

@test "sdcompat status shows what the shim did last" {
        write_plan translate "shim-drop-sections"
        run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        run "$build/sdcompat" status --run-dir "$BATS_TEST_TMPDIR/run"
        [ "$status" -eq 0 ]
        # the shim that ran says its version: the image's, or the root's newer one (root-shim.bats)
        [[ "$output" == *"Shim: exec: exec $BATS_TEST_TMPDIR/systemd (sdcompat-shim $("$shim" --version | sed 's/^sdcompat-shim \([^ ]*\).*/\1/'); all steps: $run_dir/shim.json)"* ]]
}

@test "cgroup-convert in a test run (not PID 1): the host's /sys/fs/cgroup is not touched" {
        before=$(stat -f -c %T /sys/fs/cgroup; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo)
        write_plan translate "cgroup-convert"
        run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        [ "$(jq -r '.steps[] | select(.step == "cgroup-convert") | .detail' "$run_dir/shim.json")" = \
                "not PID 1 (a test run): /sys/fs/cgroup not touched" ]
        [ "$(stat -f -c %T /sys/fs/cgroup; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo)" = "$before" ]
}

@test "cgroup-revert in a test run (not PID 1): the host's /sys/fs/cgroup is not touched, the target still runs" {
        before=$(stat -f -c %T /sys/fs/cgroup; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo)
        write_plan translate "cgroup-revert"
        run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        [ "$(jq -r '.steps[] | select(.step == "cgroup-revert") | .detail' "$run_dir/shim.json")" = \
                "not PID 1 (a test run): /sys/fs/cgroup not touched" ]
        [ "$(stat -f -c %T /sys/fs/cgroup; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo)" = "$before" ]
        cmp "$capture" "$out/systemd.state"
}

@test "--release-cgroups where /sys/fs/cgroup is not cgroup2: nothing touched, said so, recorded" {
        [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] ||
                skip "this host runs cgroup2 only: the refusal is covered by tests/unit/test-cgroup.c"
        before=$(grep ' /sys/fs/cgroup' /proc/self/mountinfo; cat /proc/cgroups)
        touch "$run_dir/handoff-ran" # as after the shim's handoff at this boot
        run "$shim" --release-cgroups memory pids
        [ "$status" -eq 0 ]
        [[ "$output" == *"/sys/fs/cgroup is not cgroup2: this system keeps its v1 hierarchies, nothing to release."* ]]
        [ "$(jq -r .error "$run_dir/cgroup-release.json")" = 0 ]
        [ "$(jq -r .released "$run_dir/cgroup-release.json")" = "" ]
        [ "$(jq -r .pid1_reexecuted "$run_dir/cgroup-release.json")" = false ]
        [ "$(grep ' /sys/fs/cgroup' /proc/self/mountinfo; cat /proc/cgroups)" = "$before" ]
        write_plan translate "cgroup-convert"
        run "$build/sdcompat" status --run-dir "$BATS_TEST_TMPDIR/run"
        [ "$status" -eq 0 ]
        [[ "$output" == *"Cgroup release: released to cgroup2: none; still bound to v1: none ($run_dir/cgroup-release.json)"* ]]
}

@test "--release-cgroups without controllers: a usage error, nothing touched" {
        run "$shim" --release-cgroups
        [ "$status" -eq 2 ]
        [[ "$output" == *"--release-cgroups wants the controllers to release"* ]]
        [ ! -e "$run_dir/cgroup-release.json" ]
}

@test "shim-legacy-force: the target sees the command line with SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 added (v1 only)" {
        export SDCOMPAT_SHIM_CMDLINE="root=LABEL=root ro systemd.unified_cgroup_hierarchy=0 quiet
"
        write_plan translate "shim-legacy-force"
        run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        detail=$(jq -r '.steps[] | select(.step == "shim-legacy-force") | .detail' "$run_dir/shim.json")
        if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
                [ "$detail" = "cgroup2 is mounted: nothing to force" ]
                [ "$(cat "$out/systemd.proc_cmdline")" = "(unset)" ]
        else
                [ "$detail" = "SYSTEMD_PROC_CMDLINE is the command line with SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 added" ]
                [ "$(cat "$out/systemd.proc_cmdline")" = \
                        "root=LABEL=root ro systemd.unified_cgroup_hierarchy=0 quiet SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1" ]
        fi
        # the state and argv go on as in any translate
        cmp "$capture" "$out/systemd.state"
}

@test "shim-legacy-force: an explicit SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE= on the command line is left as it is" {
        export SDCOMPAT_SHIM_CMDLINE="root=LABEL=root systemd.unified_cgroup_hierarchy=0 SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=0"
        write_plan translate "shim-legacy-force"
        run_shim --switched-root --system --deserialize=7
        [ "$status" -eq 0 ]
        [ "$(cat "$out/systemd.proc_cmdline")" = "(unset)" ]
}

# SO_PASSPIDFD (76, Linux 6.5+) as the initramfs's PID 1 hands it over: the notify socket with the
# option on, inherited at the number the state names, the state on descriptor 7. The stand-in for
# the root's systemd writes the option's value as it got it to $OUT/passpidfd.
passpidfd_supported() {
        python3 -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).setsockopt(socket.SOL_SOCKET, 76, 1)' 2>/dev/null
}

run_shim_with_notify_socket() { # CAPTURE
        notify_fd=$(grep -a -m1 '^notify-fd=' "$1" | cut -d= -f2)
        [ "$notify_fd" -gt 7 ]
        cat > "$BATS_TEST_TMPDIR/systemd" <<'PY'
#!/usr/bin/python3
import os, socket
s = socket.socket(fileno=os.dup(int(os.environ["NOTIFY_FD"])))
open(os.environ["OUT"] + "/passpidfd", "w").write(str(s.getsockopt(socket.SOL_SOCKET, 76)))
PY
        NOTIFY_FD=$notify_fd run python3 - "$shim" "$BATS_TEST_TMPDIR/systemd" "$1" <<'PY'
import os, socket, sys
shim, target, capture = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 76, 1)
os.dup2(s.fileno(), int(os.environ["NOTIFY_FD"]))
os.dup2(os.open(capture, os.O_RDONLY), 7)
os.execv(shim, [target, "--switched-root", "--system", "--deserialize=7"])
PY
}

@test "shim-clear-passpidfd: SO_PASSPIDFD goes off on the socket the state's notify-fd= names" {
        passpidfd_supported || skip "this kernel has no SO_PASSPIDFD (it came in Linux 6.5): nothing to leak, nothing to clear"
        write_plan translate "shim-clear-passpidfd"
        run_shim_with_notify_socket "$(ls "$top"/tests/data/state/trixie-*.state)"
        [ "$status" -eq 0 ]
        [ "$(cat "$out/passpidfd")" = 0 ]
        [ "$(jq -r '.steps[] | select(.step == "shim-clear-passpidfd") | .detail' "$run_dir/shim.json")" = \
                "SO_PASSPIDFD cleared on notify-fd=$notify_fd" ]
}

@test "shim-clear-passpidfd: without the action the socket is handed on as it came (the test above can fail)" {
        passpidfd_supported || skip "this kernel has no SO_PASSPIDFD (it came in Linux 6.5)"
        write_plan translate "shim-fold-lines"
        run_shim_with_notify_socket "$(ls "$top"/tests/data/state/trixie-*.state)"
        [ "$status" -eq 0 ]
        [ "$(cat "$out/passpidfd")" = 1 ]
}

@test "not a switch-root handoff (no --switched-root: an init= wrapper exec'ing systemd): handed on untouched" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        run_shim -- hello --system --deserialize 7
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "-- hello --system --deserialize 7 " ]
        jq -e '.steps[] | select(.step == "handoff") | .detail | test("not a switch-root handoff")' "$run_dir/shim.json"
        jq -e '[.steps[].step] | index("transform") == null' "$run_dir/shim.json"
        [ "$(step_of -1)" = exec ]
}

@test "the handoff ran at this boot already (its marker): a second switch-root exec is handed on untouched" {
        write_plan translate "shim-drop-sections shim-argv-reorder"
        run_shim --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        [ -e "$run_dir/handoff-ran" ]
        run ! cmp -s "$capture" "$out/systemd.state"
        # the same exec again, the marker left in place
        run bash -c 'exec -a "$0" "$@"' "$BATS_TEST_TMPDIR/systemd" "$shim" -- x --switched-root --system --deserialize 7 7<"$capture"
        [ "$status" -eq 0 ]
        cmp "$capture" "$out/systemd.state"
        [ "$(tr '\n' ' ' < "$out/systemd.argv")" = "-- x --switched-root --system --deserialize 7 " ]
        jq -e '.steps[] | select(.step == "handoff") | .detail | test("ran at this boot already")' "$run_dir/shim.json"
}

@test "a production build (without -Dtest-faults) ignores rd.sdcompat.fault= and says so" {
        local prod="$BATS_FILE_TMPDIR/prod"
        [ -e "$prod/build.ninja" ] || meson setup "$prod" "$top" -Dtests=false -Dstatic-libc="$(static_libc)" >/dev/null
        meson compile -C "$prod" sdcompat-shim >/dev/null
        "$prod/sdcompat-shim" --version
        run ! grep -q 'test-faults' <("$prod/sdcompat-shim" --version)
        write_plan translate "shim-drop-sections"
        shim="$prod/sdcompat-shim" SDCOMPAT_SHIM_CMDLINE="rd.sdcompat.fault=exec" run_shim --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        [[ "$output" == *"rd.sdcompat.fault=exec ignored: this build has no test faults"* ]]
        [ "$(step_of -1)" = exec ]
        [ -e "$out/systemd.state" ]
}

@test "a step detail longer than the record's slot is marked [cut], not cut silently" {
        local d="$BATS_TEST_TMPDIR" i
        for i in 1 2 3; do d="$d/$(printf 'd%.0s' $(seq 200))"; done
        mkdir -p "$d"
        ln -s "$BATS_TEST_TMPDIR/systemd" "$d/systemd"
        write_plan translate ""
        sed -i "s|^SHIM_TARGET=.*|SHIM_TARGET=\"$d/systemd\"|" "$run_dir/plan"
        run_shim --switched-root --system --deserialize 7
        [ "$status" -eq 0 ]
        [ "$(step_of -1)" = exec ]
        [[ "$(jq -r '.steps[-1].detail' "$run_dir/shim.json")" == *" [cut]" ]]
        # A detail that fits carries no marker.
        [[ "$(jq -r '.steps[0].detail' "$run_dir/shim.json")" != *"[cut]"* ]]
}
