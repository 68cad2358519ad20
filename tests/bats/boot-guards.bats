#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Never worse than stock (issue #10): what sdcompat negotiate and sdcompat-shim do where the boot is
# not the one they were made for — negotiate run twice, init= elsewhere, no plan, a dynamically
# linked shim, a PID namespace, a run by hand. Everything that mounts runs in a private mount
# namespace (unshare -m), everything that is PID 1 in a PID namespace of its own with a tmpfs over
# /run and /sys/fs/cgroup: nothing here touches the host's mount table, /run or cgroups. Needs root.

load helpers

shim="$build/sdcompat-shim"
sdcompat_bin="$build/sdcompat"

setup() {
        [ "$(id -u)" -eq 0 ] || skip "needs root (mount namespaces)"
        T=$BATS_TEST_TMPDIR
        export OUT="$T/out"
        mkdir -p "$OUT"
        # A root with a systemd stand-in that records its arguments, /run and the mount table.
        mkdir -p "$T/root/usr/lib/systemd" "$T/root/usr/bin" "$T/root/usr/sbin" "$T/root/etc"
        ln -s usr/lib "$T/root/lib"
        ln -s usr/bin "$T/root/bin"
        ln -s usr/sbin "$T/root/sbin"
        ln -s ../lib/systemd/systemd "$T/root/usr/sbin/init"
        cat > "$T/standin" <<'SH'
#!/bin/bash
name=${0##*/}
printf '%s\n' "$@" > "$OUT/$name.argv"
cat /proc/self/mountinfo > "$OUT/$name.mountinfo"
ls /run > "$OUT/$name.run"
cp /run/sdcompat/shim.json "$OUT/$name.shim.json" 2>/dev/null
exit 0
SH
        chmod +x "$T/standin"
        cp "$T/standin" "$T/root/usr/lib/systemd/systemd"
        cp "$T/standin" "$T/init"
        shim_path=$(sed -n 's/^#define SDCOMPAT_SHIM_PATH "\(.*\)"$/\1/p' "$build/config.h")
        [ -n "$shim_path" ]
}

# mounts_on PATH: how many mounts the mount table lists on PATH.
mounts_on() {
        awk -v p="$2" '$5 == p' "$1" | wc -l
}

# in_initramfs SCRIPT: bash -c SCRIPT in a private mount namespace that looks like an initramfs to
# negotiate: /etc/initrd-release exists and the shim is at its configured path (overlays: nothing
# is written outside $T). SCRIPT ends with a copy of the mount table in $OUT/mountinfo.
in_initramfs() {
        local dir=$shim_path
        while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
        mkdir -p "$T/ovl/etc/u" "$T/ovl/etc/w" "$T/ovl/lib/u" "$T/ovl/lib/w"
        unshare -m --propagation private -- bash -ec '
                mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/ovl/etc/u,workdir=$T/ovl/etc/w" /etc
                touch /etc/initrd-release
                mount -t overlay overlay -o "lowerdir=$1,upperdir=$T/ovl/lib/u,workdir=$T/ovl/lib/w" "$1"
                mkdir -p "$(dirname "$2")"
                cp "${SHIM_SOURCE:-$3}" "$2"
                eval "$4"
                cat /proc/self/mountinfo > "$OUT/mountinfo"' sh "$dir" "$shim_path" "$shim" "$1"
}

negotiate_here() { # CMDLINE [ARGS...]: negotiate in the "initramfs" for the root $T/root
        local cmdline=$1
        shift
        echo "\"$sdcompat_bin\" negotiate --rules-path \"$top/rules.d\" --run-dir \"\${RUN_DIR:-$T/run}\" --sysroot \"$T/root\" --cmdline \"$cmdline\" $*"
}

plan_of() {
        sed -n "s/^$1=//p" "$T/run/sdcompat/plan" | tr -d '"'
}

@test "negotiate run twice in one boot: the shim is mounted once, not stacked" {
        export T
        in_initramfs "$(negotiate_here rd.sdcompat.mode=translate); cp \"$T/run/sdcompat/handoff.json\" \"$T/first.json\"; $(negotiate_here rd.sdcompat.mode=translate)"
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 1 ]
        [ "$(plan_of SHIM_TARGET)" = /usr/lib/systemd/systemd ]
        [ "$(plan_of MODE)" = translate ]
        # the second run probed the root's own binary, not the shim the first one mounted there
        [ "$(jq -S .root "$T/first.json")" = "$(jq -S .root "$T/run/sdcompat/handoff.json")" ]
}

@test "a root with a newer sdcompat-shim: its copy in the run directory is mounted, once, also when negotiate runs twice" {
        export T
        local v newer
        v=$("$sdcompat_bin" --version | sed -n 's/^sdcompat //p')
        newer=$(shim_build newer "$v.1")
        mkdir -p "$T/root$(dirname "$shim_path")"
        install -m 0755 "$newer" "$T/root$shim_path"
        in_initramfs "$(negotiate_here rd.sdcompat.mode=translate); $(negotiate_here rd.sdcompat.mode=translate)
                stat -L -c %d:%i \"$T/root/usr/lib/systemd/systemd\" > \"$OUT/target.id\"
                stat -c %d:%i \"$T/run/sdcompat/root-shim\" > \"$OUT/copy.id\""
        # the second run took the first one's mount of the copy back before it probed the root
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 1 ]
        [ "$(cat "$OUT/target.id")" = "$(cat "$OUT/copy.id")" ]
        [ "$(plan_of SHIM_FROM)" = root ]
        [ "$(plan_of SHIM_VERSION)" = "$v.1" ]
        [ "$(plan_of SHIM_TARGET)" = /usr/lib/systemd/systemd ]
        [ "$(plan_of MODE)" = translate ]
        # the root's own file is untouched and was never mounted
        cmp "$T/root$shim_path" "$newer"
        [ "$(awk -v p="$T/root$shim_path" '$5 == p' "$OUT/mountinfo" | wc -l)" -eq 0 ]
}

@test "negotiate cannot write the plan: the mount is taken back, the stock handoff" {
        export T
        RUN_DIR=/proc/sdcompat-nope in_initramfs "$(negotiate_here rd.sdcompat.mode=translate)"
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 0 ]
        # the fault of the test builds: the plan alone fails, handoff.json says why
        "$shim" --version | grep -q '+test-faults' || skip "this build has no test faults (-Dtest-faults=true)"
        in_initramfs "$(negotiate_here "rd.sdcompat.mode=translate rd.sdcompat.fault=plan")"
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 0 ]
        [ ! -e "$T/run/sdcompat/plan" ]
        jq -e '.mode == "native" and .shim_target == null' "$T/run/sdcompat/handoff.json"
        jq -e '.errors | any(test("cannot write the plan: the shim is unmounted again"))' "$T/run/sdcompat/handoff.json"
        # status says what happened, from handoff.json, not "booted without sdcompat"
        run -0 "$sdcompat_bin" status --run-dir "$T/run"
        [[ "$output" == *"Plan: not written"* ]]
        [[ "$output" == *"Errors: cannot write the plan: the shim is unmounted again"* ]]
        [[ "$output" != *"booted without sdcompat"* ]]
}

@test "init= on the kernel command line names another program: the shim is not mounted; naming systemd: it is" {
        export T
        in_initramfs "$(negotiate_here "rd.sdcompat.mode=translate init=/bin/sh")"
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 0 ]
        [[ "$(plan_of SHIM_NOTE)" == "init=/bin/sh on the kernel command line: the initramfs's PID 1 execs that"* ]]
        [ "$(plan_of MODE)" = native ]
        # a path that resolves to the same file in the root (/lib -> usr/lib, /sbin/init -> systemd)
        in_initramfs "$(negotiate_here "rd.sdcompat.mode=translate init=/sbin/init")"
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 1 ]
        [ "$(plan_of SHIM_TARGET)" = /usr/lib/systemd/systemd ]
}

@test "a dynamically linked shim is never mounted" {
        export T
        readelf -l /bin/true | grep -q 'program interpreter'
        SHIM_SOURCE=/bin/true in_initramfs "$(negotiate_here rd.sdcompat.mode=translate)"
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 0 ]
        [[ "$(plan_of SHIM_NOTE)" == "the shim is dynamically linked (it has a program interpreter)"* ]]
        # the static shim of the same run is (the test above can fail)
        if readelf -l "$shim" | grep -q 'program interpreter'; then
                skip "this build's shim is dynamic (sanitizers): not installed, see meson.build"
        fi
        in_initramfs "$(negotiate_here rd.sdcompat.mode=translate)"
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 1 ]
}

@test "negotiate by hand outside an initramfs refuses; in a PID namespace as well" {
        run unshare -m --propagation private -- "$sdcompat_bin" negotiate --rules-path "$top/rules.d" \
                --run-dir "$T/run" --sysroot "$T/root" --cmdline rd.sdcompat.mode=translate
        [ "$status" -eq 1 ]
        [[ "$output" == *"/etc/initrd-release: No such file or directory: not in an initramfs"* ]] ||
                [ -e /etc/initrd-release ]
        [ ! -e "$T/run/sdcompat/plan" ]
        export T
        run in_initramfs "unshare -p -f --mount-proc $(negotiate_here rd.sdcompat.mode=translate); true"
        [[ "$output" == *"Not the initial PID namespace"* ]]
        [ "$(mounts_on "$OUT/mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 0 ]
        [ ! -e "$T/run/sdcompat/plan" ]
}

# pidns SCRIPT: bash -c SCRIPT as PID 1 of a new PID namespace, in a private mount namespace with
# tmpfs over /run and /sys/fs/cgroup, and the stand-in $T/init mounted three times over the host's
# systemd (where /sbin/init leads) before anything else runs: a PID 1 in there that execs
# /sbin/init — a shim's last fallback, or a release that bash's exec of the last command made PID
# 1 — starts the stand-in, never the host's systemd (which would boot the host's services in the
# namespace, with the host's /tmp and /var: seen once while writing these tests). Killed after 60 s.
pidns() {
        timeout -s KILL 60 unshare -m -p -f --mount-proc --kill-child --propagation private -- bash -ec '
                init=$(readlink -f /sbin/init)
                for i in 1 2 3; do mount --bind "$T/init" "$init"; done
                cmp -s "$T/init" /sbin/init
                mount -t tmpfs tmpfs /run
                mkdir -p /run/sdcompat /run/systemd
                mount -t tmpfs tmpfs /sys/fs/cgroup
                eval "$1"' sh "$1"
}

@test "shim: stacked twice, no plan, run through a symlink: every copy unmounted, the real binary runs" {
        export T shim SDCOMPAT_SHIM_RUN_DIR=/run/sdcompat SDCOMPAT_SHIM_INIT=/sbin/init
        pidns '
                mount --bind "$shim" "$T/root/usr/lib/systemd/systemd"
                mount --bind "$shim" "$T/root/usr/lib/systemd/systemd"
                exec "$T/root/sbin/init" --switched-root --system'
        [ -e "$OUT/systemd.argv" ]
        [ ! -e "$OUT/init.argv" ]
        [ "$(tr '\n' ' ' < "$OUT/systemd.argv")" = "--switched-root --system " ]
        [ "$(mounts_on "$OUT/systemd.mountinfo" "$T/root/usr/lib/systemd/systemd")" -eq 0 ]
        jq -e '.steps[] | select(.step == "detach") | .detail | test("^2 mounts of this program removed")' "$OUT/systemd.shim.json"
        jq -e --arg t "$T/root/usr/lib/systemd/systemd" '.target == $t' "$OUT/systemd.shim.json"
}

@test "shim: PID 1 of a PID namespace is not the machine's PID 1: /run/systemd stays, no cgroup conversion" {
        export T shim SDCOMPAT_SHIM_RUN_DIR=/run/sdcompat SDCOMPAT_SHIM_INIT=/sbin/init
        pidns '
                printf "SDCOMPAT_PLAN_VERSION=1\nMODE=fresh\nACTIONS=\"\"\nSHIM_TARGET=\"%s\"\n" "$T/root/usr/lib/systemd/systemd" > /run/sdcompat/plan
                exec -a "$T/root/usr/lib/systemd/systemd" "$shim" --switched-root --system'
        [ -e "$OUT/systemd.argv" ]
        grep -qx systemd "$OUT/systemd.run"
        run ! grep -q pre-switch-root "$OUT/systemd.run"
        jq -e '.steps[] | select(.step == "fresh") | .detail | test("not PID 1")' "$OUT/systemd.shim.json"
}

@test "--release-cgroups: refused in a PID namespace, and without this boot's handoff marker" {
        export T shim
        # /sys/fs/cgroup is a tmpfs in these namespaces and the controller cannot exist: even an
        # unguarded release (a regression of the guards) finds nothing of the host's to act on
        mkdir -p "$T/run" && touch "$T/run/handoff-ran"
        # (a child of the namespace's PID 1, as the unit's process is; never the last command,
        # which bash would exec as PID 1)
        run pidns 'SDCOMPAT_SHIM_RUN_DIR="$T/run" "$shim" --release-cgroups sdcompat-test-no-such-controller; exit $?'
        [ "$status" -eq 1 ]
        [[ "$output" == *"refused outside the initial PID namespace"* ]]
        [ ! -e "$T/run/cgroup-release.json" ]
        rm "$T/run/handoff-ran"
        run unshare -m --propagation private -- bash -ec '
                mount -t tmpfs tmpfs /sys/fs/cgroup
                SDCOMPAT_SHIM_RUN_DIR="$T/run" "$shim" --release-cgroups sdcompat-test-no-such-controller; exit $?'
        [ "$status" -eq 1 ]
        [[ "$output" == *"handoff-ran: No such file or directory: no sdcompat-shim handoff at this boot"* ]]
        [ ! -e "$T/run/cgroup-release.json" ]
}
