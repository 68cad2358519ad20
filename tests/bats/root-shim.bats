#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# An image that ages well, its programs: negotiate mounts the root's sdcompat-shim instead of the
# image's when the root's is strictly newer, a root-owned static program for this machine, and
# passes its self-test on the plan; otherwise the image's, and the record says which and why
# (shim-select.h, sdcompat(8) "The newer shim"). Outside an initramfs (--initrd-root) nothing is
# mounted, but the choice is made and recorded the same way: that is what these tests read.
#
# The newer, the same and the older shim are real builds of this tree with -Dpackage-version
# (only the shim target, kept beside SDCOMPAT_BUILD and rebuilt incrementally); hand-made programs
# only for the broken ones (a self-test that fails, hangs, or does not exist).

load helpers

# handmade NAME VERSION [CFLAGS...]: a static program that carries the self-test head with VERSION
# (unless -DNO_HEAD), prints it, and then fails its self-test (-DHANG: hangs in it instead, with a
# child; -DMARK=path: leaves that file behind when it runs at all).
handmade() {
        local name=$1 version=$2
        shift 2
        cat >"$BATS_FILE_TMPDIR/$name.c" <<EOF
#include <stdio.h>
#include <unistd.h>
int main(void) {
#ifdef MARK
        FILE *f = fopen(MARK, "w");
        if (f)
                fclose(f);
#endif
#ifndef NO_HEAD
        static const char head[] = "SDCOMPAT_SHIM_SELF_TEST=1\nSDCOMPAT_SHIM_VERSION=$version\n";
        fputs(head, stdout);
        fflush(stdout);
#endif
#ifdef HANG
        (void) fork();
        for (;;)
                pause();
#endif
        puts("PLAN=refused");
        return 1;
}
EOF
        cc -static -O1 "$@" -o "$BATS_FILE_TMPDIR/$name" "$BATS_FILE_TMPDIR/$name.c"
        echo "$BATS_FILE_TMPDIR/$name"
}

setup_file() {
        require_fixtures
        local v b
        v=$("$sdcompat_bin" --version | sed -n 's/^sdcompat //p')
        [ -n "$v" ]
        # dpkg's order: "$v.1" is newer, "$v~older" older than "$v".
        export IMAGE_VERSION=$v NEWER_VERSION=$v.1 OLDER_VERSION="$v~older"
        NEWER=$(shim_build newer "$NEWER_VERSION")
        SAME=$(shim_build same "$v")
        OLDER=$(shim_build older "$OLDER_VERSION")
        export NEWER SAME OLDER
        # The newer build's own objects linked without -static: a real newer shim, dynamically linked.
        b=$(dirname "$NEWER")
        DYNAMIC=$BATS_FILE_TMPDIR/sdcompat-shim-dynamic
        cc -o "$DYNAMIC" "$b/sdcompat-shim.p/src_shim_sdcompat-shim.c.o" -Wl,--start-group "$b/libsdcompat-core.a" \
                "$b/libshared.a" -Wl,--end-group
        readelf -l "$DYNAMIC" | grep -q 'program interpreter'
        FAILS=$(handmade fails "$NEWER_VERSION")
        HANGS=$(handmade hangs "$NEWER_VERSION" -DHANG)
        NO_SELF_TEST=$(handmade no-self-test "$NEWER_VERSION" -DNO_HEAD "-DMARK=\"$BATS_FILE_TMPDIR/no-self-test-ran\"")
        export DYNAMIC FAILS HANGS NO_SELF_TEST
        # The image: bookworm's dracut image, unpacked once; the root: trixie, copied per test.
        export INITRD=$BATS_FILE_TMPDIR/initrd
        unpack_image "$(fixture_path dracut-bookworm)" "$INITRD"
        SHIM_PATH=$(sed -n 's/^#define SDCOMPAT_SHIM_PATH "\(.*\)"$/\1/p' "$build/config.h")
        [ -n "$SHIM_PATH" ]
        export SHIM_PATH
}

setup() {
        sysroot=$BATS_TEST_TMPDIR/sysroot
        cp -a "$(fixture_path tree-trixie)" "$sysroot"
        run_dir=$BATS_TEST_TMPDIR/run
}

# root_shim FILE [MODE [OWNER]]: FILE installed as the root's shim at the packaged path.
root_shim() {
        mkdir -p "$sysroot$(dirname "$SHIM_PATH")"
        install -m "${2:-0755}" -o "${3:-0}" -g 0 "$1" "$sysroot$SHIM_PATH"
}

# The plan needs the shim (rd.sdcompat.mode=translate); extra words go onto the command line.
negotiate() {
        "$sdcompat_bin" negotiate --rules-path "$top/rules.d" --run-dir "$run_dir" --initrd-root "$INITRD" \
                --sysroot "$sysroot" --cmdline "root=LABEL=root rd.sdcompat.mode=translate $*"
}

plan() {
        sed -n "s/^$1=//p" "$run_dir/sdcompat/plan" | tr -d '"'
}

# image_chosen REASON: the record says the image's shim, for REASON; no copy of the root's is left.
image_chosen() {
        [ "$(plan SHIM_FROM)" = initramfs ]
        [ "$(plan SHIM_VERSION)" = "$IMAGE_VERSION" ]
        [[ "$(plan SHIM_CHOICE)" == "the initramfs's sdcompat-shim $IMAGE_VERSION"*"$1"* ]]
        [[ "$output" == *"Shim: the initramfs's sdcompat-shim $IMAGE_VERSION"*"$1"* ]]
        [ "$(jq -r .shim.from "$run_dir/sdcompat/handoff.json")" = initramfs ]
        [ ! -e "$run_dir/sdcompat/root-shim" ]
        [ ! -e "$run_dir/sdcompat/plan.self-test" ]
}

@test "a strictly newer root shim, a real build of this tree: chosen, copied to the run directory; the root unchanged" {
        root_shim "$NEWER"
        before=$(sha256sum <"$sysroot$SHIM_PATH")
        run negotiate
        [ "$status" -eq 0 ]
        [ "$(plan SHIM_FROM)" = root ]
        [ "$(plan SHIM_VERSION)" = "$NEWER_VERSION" ]
        [[ "$(plan SHIM_CHOICE)" == "the root's sdcompat-shim $NEWER_VERSION (newer than the initramfs's $IMAGE_VERSION; static, for this machine, self-test passed)"* ]]
        [[ "$output" == *"Shim: the root's sdcompat-shim $NEWER_VERSION"* ]]
        # outside an initramfs: chosen and recorded, not mounted
        [ -z "$(plan SHIM_TARGET)" ]
        [[ "$(plan SHIM_NOTE)" == *"not in the initramfs"* ]]
        # what was checked is what would be mounted: the copy, byte for byte the root's file
        cmp "$run_dir/sdcompat/root-shim" "$NEWER"
        [ "$(sha256sum <"$sysroot$SHIM_PATH")" = "$before" ]
        [ ! -e "$run_dir/sdcompat/plan.self-test" ]
        jq -e --arg v "$NEWER_VERSION" '.shim.from == "root" and .shim.version == $v' "$run_dir/sdcompat/handoff.json"
        run -0 "$sdcompat_bin" status --run-dir "$run_dir"
        [[ "$output" == *"Shim chosen: the root's sdcompat-shim $NEWER_VERSION"* ]]
}

@test "a root shim of the same version, or an older one: the image's" {
        root_shim "$SAME"
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "(version $IMAGE_VERSION) is not used: its version $IMAGE_VERSION is not newer"
        root_shim "$OLDER"
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "(version $OLDER_VERSION) is not used: its version $OLDER_VERSION is not newer"
}

@test "a newer root shim that is dynamically linked: the image's" {
        root_shim "$DYNAMIC"
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "is not used: it is dynamically linked (it has a program interpreter): a PID 1 must be static"
}

@test "a newer root shim writable by its group or others, or not owned by root: the image's" {
        [ "$(id -u)" -eq 0 ] || skip "needs root: the root's files must be owned by root"
        root_shim "$NEWER" 0775
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "is not used: it is writable by its group (mode 0775)"
        root_shim "$NEWER" 0757
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "is not used: it is writable by others (mode 0757)"
        root_shim "$NEWER" 0755 1234
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "is not used: it is not owned by root (uid 1234)"
}

@test "the root's shim is a symlink that leaves the root: resolved inside it, the image's" {
        # A good newer shim outside the root, where a plain open() of SYSROOT + path would find it.
        mkdir -p "$BATS_TEST_TMPDIR/outside"
        cp "$NEWER" "$BATS_TEST_TMPDIR/outside/sdcompat-shim"
        mkdir -p "$sysroot$(dirname "$SHIM_PATH")"
        ln -s "$BATS_TEST_TMPDIR/outside/sdcompat-shim" "$sysroot$SHIM_PATH"
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "(the root has none at $sysroot$SHIM_PATH)"
        # the same through "..": it stops at the root
        ln -sfn "$(printf '../%.0s' $(seq 1 30))${BATS_TEST_TMPDIR#/}/outside/sdcompat-shim" "$sysroot$SHIM_PATH"
        [ -x "$sysroot$SHIM_PATH" ] # the kernel follows it out of the root
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "(the root has none at $sysroot$SHIM_PATH)"
}

@test "a newer root shim whose self-test fails: the image's" {
        root_shim "$FAILS"
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "(version $NEWER_VERSION) is not used: its self-test failed (exit status 1)"
        [[ "$output" == *"sdcompat: Shim: "* ]]
}

@test "a newer root shim whose self-test hangs: killed at the timeout with its child, the image's" {
        root_shim "$HANGS"
        SECONDS=0
        run negotiate
        [ "$status" -eq 0 ]
        [ "$SECONDS" -lt 9 ] # within negotiate's own 10 s deadline
        image_chosen "is not used: its self-test did not finish within 2000 ms: killed"
        # nothing of it is left running: the whole process group was killed
        run pgrep -f -- "--self-test=$run_dir"
        [ "$status" -eq 1 ]
}

@test "a program without the self-test at the root's shim path is never executed" {
        root_shim "$NO_SELF_TEST"
        run negotiate
        [ "$status" -eq 0 ]
        image_chosen "is not used: it has no self-test"
        [ ! -e "$BATS_FILE_TMPDIR/no-self-test-ran" ]
        # (it does leave its mark when it runs: the check above can fail)
        run "$NO_SELF_TEST"
        [ -e "$BATS_FILE_TMPDIR/no-self-test-ran" ]
        rm "$BATS_FILE_TMPDIR/no-self-test-ran"
}

@test "rd.sdcompat.shim=image: the root's newer shim is not looked at" {
        root_shim "$NEWER"
        run negotiate rd.sdcompat.shim=image
        [ "$status" -eq 0 ]
        image_chosen ": rd.sdcompat.shim=image"
        # a value it does not know is read as the cautious one; auto is the default
        run negotiate rd.sdcompat.shim=newest
        [ "$status" -eq 0 ]
        image_chosen ": rd.sdcompat.shim=newest (not auto or image: read as image)"
        run negotiate rd.sdcompat.shim=auto
        [ "$status" -eq 0 ]
        [ "$(plan SHIM_FROM)" = root ]
}

@test "a plan that needs no shim: no shim is chosen, none recorded" {
        root_shim "$NEWER"
        run "$sdcompat_bin" negotiate --rules-path "$top/rules.d" --run-dir "$run_dir" --initrd-root "$INITRD" \
                --sysroot "$sysroot" --cmdline "root=LABEL=root"
        [ "$status" -eq 0 ]
        [ "$(plan MODE)" = native ]
        [ -z "$(plan SHIM_FROM)" ]
        [ "$(jq -r .shim "$run_dir/sdcompat/handoff.json")" = null ]
        [ ! -e "$run_dir/sdcompat/root-shim" ]
}
