#!/bin/sh
# registration.sh DIR NAME... — every tests/unit/test-*.c in DIR is one of the NAMEs that
# meson.build registers, and every NAME has its file. meson 0.56 has no glob, and a list that
# run_command() generated at configure time would not see a test added later until someone
# reconfigured by hand: this check runs with every `meson test` instead, so a test file that was
# added but not listed fails the suite, naming the file, rather than never running.
set -u
dir=$1
shift
fail=0
for f in "$dir"/test-*.c; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .c)
        found=0
        for n in "$@"; do [ "$n" = "$name" ] && found=1; done
        if [ "$found" = 0 ]; then
                echo "FAIL: $f is not registered: add '$name' to unit_tests in $dir/meson.build"
                fail=1
        fi
done
for n in "$@"; do
        if [ ! -e "$dir/$n.c" ]; then
                echo "FAIL: meson.build registers $n, but $dir/$n.c does not exist"
                fail=1
        fi
done
[ "$fail" = 0 ] && echo "all $# unit tests in $dir are registered"
exit "$fail"
