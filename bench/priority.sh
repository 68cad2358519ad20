# Sourced by the bench scripts: how the measuring gets the CPU first on a shared machine.
#
# With the scheduler's autogroups on (/proc/sys/kernel/sched_autogroup_enabled = 1, Debian's
# default), every session is a group that weighs as much as any other, whatever the nice value
# of its processes: nice acts only inside the group. On this project's machines the helpers'
# and CI's jobs each run in a session of their own, so a benchmark at nice -20 still got one
# group's share, not the CPU (seen 2026-12-06: a VM boot at nice 0 ran 4x slower next to
# builds at nice 19 in other sessions). So, as root: the script runs in a session of its own
# (re-executed once under setsid), and that session's group gets nice -20 as well.

# Call first, with the script's arguments: re-executes the script in a new session when that
# is needed and possible (root, autogroups on, no --no-renice).
bench_own_session() {
        local a
        [ "$(id -u)" = 0 ] && [ -z "${SDCOMPAT_BENCH_SESSION:-}" ] || return 0
        [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ] || return 0
        for a in "$@"; do [ "$a" != --no-renice ] || return 0; done
        SDCOMPAT_BENCH_SESSION=1 exec setsid --wait "$0" "$@"
}

# nice -20 for this process (its children inherit it) and, in its own session, for its group.
bench_raise_priority() {
        renice -n -20 -p $$ >/dev/null
        [ -n "${SDCOMPAT_BENCH_SESSION:-}" ] && echo -20 > /proc/self/autogroup 2>/dev/null || true
}

# What the table says about the priority the measuring ran at.
bench_priority_label() {
        local g
        g=$(sed -n 's/.* nice \(-\{0,1\}[0-9]*\)$/\1/p' /proc/self/autogroup 2>/dev/null)
        echo "nice $(ps -o ni= -p $$ | tr -d ' ')${g:+, scheduler group (session) at nice $g}"
}
