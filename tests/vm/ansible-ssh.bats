#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The Ansible collection against a booted guest over SSH (tests/vm/ansible-ssh): one TCG boot of
# 3-10 minutes, so it lives with the VM boots and not in tests/bats. Skips, saying why, when it
# cannot boot here: not root, a tool missing, SDCOMPAT_SKIP_VM=1, or no VM cache (no bookworm
# root: tests/vm/prepare bookworm).

vm="$BATS_TEST_DIRNAME"
cache=${SDCOMPAT_VM_CACHE:-/var/tmp/sdcompat-vm}

setup() {
        [ "${SDCOMPAT_SKIP_VM:-}" != 1 ] || skip "SDCOMPAT_SKIP_VM=1"
        [ "$(id -u)" -eq 0 ] || skip "the VM harness runs as root"
        local p
        for p in ansible-playbook ssh ssh-keygen qemu-system-x86_64 debugfs mmdebstrap; do
                command -v "$p" >/dev/null || skip "$p is not installed"
        done
        compgen -G "$cache/roots/bookworm-2*.done" >/dev/null || skip "no VM cache in $cache (tests/vm/prepare bookworm)"
}

# field NAME: the value of NAME= in the result line (quoted values without their quotes).
field() {
        sed -n "s/.* $1=\"\\([^\"]*\\)\".*/\\1/p; t; s/.* $1=\\([^ ]*\\).*/\\1/p" <<< "$line"
}

@test "ansible-ssh: check mode changes nothing, apply protects the guest's image, a second run changes nothing" {
        run "$vm/ansible-ssh"
        echo "$output" | tail -n 5 >&3
        line=$(grep '^ansible-ssh ' <<< "$output" | tail -n 1)
        [ -n "$line" ]
        [ "$status" -eq 0 ]
        [ "$(field outcome)" = multi-user ]
        [ "$(field match)" = yes ]
        [[ $(field check) == "rc=0 run=check verdict=at-risk "*" action=would-inject changed=True "*" after=at-risk "* ]]
        [[ $(field check) == *" recap=(ok="*" changed=1 "*" failed=0 "* ]]
        [[ $(field apply) == "rc=0 run=apply verdict=at-risk "*" action=injected changed=True "*" after=protected "* ]]
        [[ $(field again) == "rc=0 run=again verdict=protected "*" action=unchanged changed=False "*" after=protected "* ]]
        [[ $(field again) == *" recap=(ok="*" changed=0 "*" failed=0 "* ]]
        # check mode left the image byte for byte; the apply changed it; the second apply did not
        local s0 s1 s2 s3
        s0=$(field sha256_before)
        s1=$(field check | sed 's/.*sha256=//')
        s2=$(field apply | sed 's/.*sha256=//')
        s3=$(field again | sed 's/.*sha256=//')
        [ "$s1" = "$s0" ]
        [ "$s2" != "$s0" ]
        [ "$s3" = "$s2" ]
}
