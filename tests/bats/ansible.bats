#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The Ansible collection (ansible_collections/sdcompat/sdcompat) with Debian's ansible-core: a
# playbook against localhost (connection local) on real images and roots from Debian's archive,
# and ansible-test sanity. The inject module drives the real sdcompat-inject of a static install
# (inject_destdir, as tests/bats/inject.bats) on a real dracut image in a temporary boot directory.

load helpers

collection="$top/ansible_collections/sdcompat/sdcompat"

setup() {
        command -v ansible-playbook >/dev/null || skip "ansible-core is not installed (scripts/install-deps test)"
}

@test "playbook on localhost: check_info, inject with check mode and honest changed, the role" {
        require_fixtures
        local boot="$BATS_TEST_TMPDIR/boot" root orig image sum
        root=$(fixture_path tree-sid)
        orig=$(fixture_path "$(systemd_dracut_fixture bookworm)")
        image=$boot/initrd.img-6.1.0-test
        mkdir -p "$boot"
        cp "$orig" "$image"
        cp "$orig" "$BATS_TEST_TMPDIR/outside.img"
        sum=$(sha256sum "$orig" | cut -d' ' -f1)
        write_inject "$(inject_destdir)" "$BATS_TEST_TMPDIR/sdcompat-inject"
        # the role calls sdcompat-check with the host's defaults: this one overrides them (the last
        # option wins) with the tree's rules, the fixture root and a cgroup v1 command line
        cat > "$BATS_TEST_TMPDIR/check" <<EOF2
#!/bin/sh
exec "$build/sdcompat-check" "\$@" --rules-path "$top/rules.d" --root "$root" --cmdline "root=LABEL=root systemd.unified_cgroup_hierarchy=0"
EOF2
        chmod +x "$BATS_TEST_TMPDIR/check"
        run env ANSIBLE_COLLECTIONS_PATH="$top" ANSIBLE_LOCAL_TEMP="$BATS_TEST_TMPDIR/ansible-tmp" \
                ANSIBLE_HOME="$BATS_TEST_TMPDIR/ansible-home" ANSIBLE_NOCOLOR=1 ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
                ansible-playbook -i localhost, "$top/tests/ansible/localhost.yml" \
                -e check="$build/sdcompat-check" -e rules="$top/rules.d" -e boot_dir="$boot" -e root="$root" \
                -e image="$image" -e image_sha256="$sum" -e outside="$BATS_TEST_TMPDIR/outside.img" \
                -e inject="$BATS_TEST_TMPDIR/sdcompat-inject" -e check_wrapper="$BATS_TEST_TMPDIR/check"
        echo "$output" | sed -n '/PLAY RECAP/,$p' >&3
        [ "$status" -eq 0 ] || { echo "$output" | tail -n 60; return 1; }
        [[ "$output" =~ localhost\ +:\ ok=[0-9]+\ +changed=[0-9]+\ +unreachable=0\ +failed=0 ]]
        # the two expected failures were caught (ignore_errors), nothing else failed
        [[ "$output" =~ ignored=2 ]]
        # check mode left the copy outside the boot directory alone; the role protected the image:
        # the original is its prefix, and a segment follows
        cmp "$orig" "$BATS_TEST_TMPDIR/outside.img"
        cmp -n "$(stat -c %s "$orig")" "$orig" "$image"
        [ "$(stat -c %s "$image")" -gt "$(stat -c %s "$orig")" ]
}

@test "ansible-test sanity on the collection" {
        command -v ansible-test >/dev/null || skip "ansible-test is not installed"
        # ansible-test wants the collection at ansible_collections/NS/NAME and a git tree or none
        local work="$BATS_TEST_TMPDIR/ansible_collections/sdcompat/sdcompat"
        mkdir -p "$work"
        cp -r "$collection/." "$work/"
        cd "$work"
        # Every sanity test that needs no virtualenv (the others: ansible-doc, import, pep8, pylint,
        # runtime-metadata, validate-modules, yamllint, changelog, mypy, pslint fill one from PyPI,
        # which is not reachable offline; pep8 and yamllint are run below with Debian's tools).
        local t tests=(action-plugin-docs compile empty-init future-import-boilerplate ignores line-endings
                metaclass-boilerplate no-assert no-basestring no-dict-iteritems no-dict-iterkeys
                no-dict-itervalues no-get-exception no-illegal-filenames no-main-display no-smart-quotes
                no-unicode-literals replace-urlopen shebang shellcheck symlinks use-argspec-type-path
                use-compat-six)
        local -a args=()
        for t in "${tests[@]}"; do args+=(--test "$t"); done
        run ansible-test sanity --python "$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
                "${args[@]}" --color no
        echo "$output" | tail -n 20 >&3
        [ "$status" -eq 0 ] || { echo "$output" | tail -n 60; return 1; }
        for t in "${tests[@]}"; do
                [[ "$output" == *"Running sanity test \"$t\""* ]]
        done
        # ansible-test's pep8 (its options and ignore list) and yamllint (its config) with Debian's
        # pycodestyle and yamllint
        local at=/usr/lib/python3/dist-packages/ansible_test/_util/controller/sanity
        if /usr/bin/python3 -c 'import pycodestyle' 2>/dev/null; then
                run /usr/bin/python3 -m pycodestyle --max-line-length 160 \
                        --ignore "$(paste -sd, "$at/pep8/current-ignore.txt")" plugins
                [ "$status" -eq 0 ] || { echo "$output"; return 1; }
        else
                echo "# pep8 not run: python3-pycodestyle is not installed" >&3
        fi
        if command -v yamllint >/dev/null; then
                run yamllint -c "$at/yamllint/config/default.yml" $(find . "$top/tests/ansible" -name '*.yml')
                [ "$status" -eq 0 ] || { echo "$output"; return 1; }
        else
                echo "# yamllint not run: yamllint is not installed" >&3
        fi
        # ansible-doc parses each module's DOCUMENTATION, EXAMPLES and RETURN
        for m in sdcompat_check_info sdcompat_inject; do
                run env ANSIBLE_COLLECTIONS_PATH="$top" ANSIBLE_HOME="$BATS_TEST_TMPDIR/ansible-home" \
                        ansible-doc "sdcompat.sdcompat.$m"
                [ "$status" -eq 0 ]
                [[ "$output" == *"RETURN VALUES"* ]]
        done
}

@test "ansible-lint on the role and the playbooks, module arguments checked" {
        command -v ansible-lint >/dev/null || skip "ansible-lint is not installed"
        cd "$top"
        # ANSIBLE_COLLECTIONS_PATH names the ansible_collections directory itself: with ansible-core
        # 2.14, Debian's ansible-compat 3.0.1 gives ansible-lint's own collection finder the DIRNAME of
        # that variable, so the usual "$top" made it look in $top/.. and silently skip the modules'
        # argument checks ("Unable to load module ... for options validation"). --strict: args[module]
        # is an "experimental" rule, a warning that would otherwise pass.
        run env ANSIBLE_COLLECTIONS_PATH="$top/ansible_collections" ANSIBLE_HOME="$BATS_TEST_TMPDIR/ansible-home" \
                ansible-lint --strict --offline --nocolor ansible_collections/sdcompat/sdcompat/roles/protect \
                tests/ansible/localhost.yml tests/ansible/guest.yml
        echo "$output" | tail -n 20 >&3
        [ "$status" -eq 0 ] || { echo "$output" | tail -n 60; return 1; }
        # every task of the collection's modules had its arguments checked
        [[ "$output" != *"Unable to load module"* ]]
        [[ "$output" != *"Unable to resolve FQCN"* ]]
}
