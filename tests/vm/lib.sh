# tests/vm/lib.sh — shared functions of the VM boot harness. Sourced by boot, matrix and smoke.
# shellcheck shell=bash disable=SC2034 # the globals set here are read by the scripts that source it
#
# Everything built is cached under $SDCOMPAT_VM_CACHE (default /var/tmp/sdcompat-vm):
#   apt/SUITE/        a private apt state per suite (lists only), used to resolve candidate
#                     versions and to download the kernel, without touching the host's apt
#   kernel/KVER/      vmlinuz and lib/modules of the one kernel every boot uses
#   roots/KEY/        a root tree per suite, KEY = suite + systemd/dracut versions + recipe hash
#   disks/KEY.img     the ext4 image of that root (mkfs.ext4 -d, no loop mounts)
#   initrds/KEY.img   an initramfs built by a suite's own dracut inside its own tree
#   logs/             one serial-console log per boot
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$VM_DIR/../.." && pwd)
VM_CACHE=${SDCOMPAT_VM_CACHE:-/var/tmp/sdcompat-vm}
VM_SUITES=(bullseye bookworm bookworm-backports trixie sid)
# The kernel: by default bookworm's cloud flavour (virtio drivers, small module tree, uncompressed
# modules that every suite's kmod can read). SDCOMPAT_VM_KERNEL=SUITE (boot --kernel SUITE) takes
# the same metapackage from another suite's archive, e.g. trixie's 6.12 for the cells that need a
# kernel >= 6.5 (H6: SO_PASSPIDFD). KVER is in every root's key (the tree carries its modules), so
# another kernel builds trees, disks and images of its own; the default keeps the existing keys.
VM_KERNEL_DEFAULT_SUITE=bookworm
VM_KERNEL_SUITE=${SDCOMPAT_VM_KERNEL:-$VM_KERNEL_DEFAULT_SUITE}
VM_KERNEL_META=linux-image-cloud-amd64
# Packages of every root. dracut-core carries the modules; the systemd module needs only what
# the systemd and udev packages ship.
VM_ROOT_PACKAGES=systemd,systemd-sysv,udev,kmod,dracut,dracut-core,e2fsprogs,util-linux,cpio
VM_ROOT_LABEL=sdvm-root
# The "ssh" flavour of a root (root_setup SUITE ssh; tests/vm/ansible-ssh) adds these, from the
# suite's own archive: an SSH server, and the Python that Ansible's modules run with.
VM_ROOT_SSH_PACKAGES=openssh-server,python3

die() { echo "sdvm: $*" >&2; exit 3; }
note() { echo "sdvm: $*" >&2; }

# SUITE whose archive gives the kernel (SDCOMPAT_VM_KERNEL, boot --kernel): a Debian suite.
set_kernel_suite() {
        local s
        for s in "${VM_SUITES[@]}"; do
                if [ "$s" = "$1" ]; then
                        VM_KERNEL_SUITE=$1
                        return 0
                fi
        done
        die "unknown kernel suite '$1' (known: ${VM_SUITES[*]})"
}

valid_suite() {
        local s
        for s in "${VM_SUITES[@]}"; do [ "$s" = "$1" ] && return 0; done
        source_suite "$1"
}

# A private apt configuration for SUITE: lists under $VM_CACHE/apt/SUITE, no host sources, no
# host status. Prints nothing; sets the array APT_OPTS. Refreshes the lists when they are older
# than SDCOMPAT_VM_APT_MAXAGE seconds (default one day): the archive is a snapshot, and an
# update costs a download of the Packages index.
apt_setup() {
        local suite=$1 base dir mirror maxage age
        base=${suite%-backports}
        dir=$VM_CACHE/apt/$suite
        mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/etc/preferences.d"
        : > "$dir/status"
        APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=-"
                  -o "Dir::Etc::PreferencesParts=$dir/etc/preferences.d"
                  -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=$dir/status"
                  -o "Dir::Cache=$dir/cache" -o "Acquire::Check-Valid-Until=false"
                  -o "Acquire::Check-Date=false" -o "Acquire::Languages=none"
                  -o "APT::Architecture=amd64" -o "APT::Architectures::=amd64"
                  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
        if [ "$suite" != "$base" ]; then
                APT_OPTS+=(-o "APT::Default-Release=$suite")
        fi
        if [ ! -s "$dir/sources.list" ]; then
                mirror=$("$REPO_DIR/scripts/debian-mirror")
                {
                        echo "deb $mirror $base main"
                        [ "$suite" = "$base" ] || echo "deb $mirror $suite main"
                } > "$dir/sources.list"
        fi
        maxage=${SDCOMPAT_VM_APT_MAXAGE:-86400}
        age=$maxage
        [ -e "$dir/updated" ] && age=$(( $(date +%s) - $(stat -c %Y "$dir/updated") ))
        if [ "$age" -ge "$maxage" ]; then
                apt-get -q=2 "${APT_OPTS[@]}" update >&2 || die "apt-get update for $suite failed"
                touch "$dir/updated"
        fi
}

# Candidate version of PACKAGE in SUITE's private apt state.
candidate_version() {
        local suite=$1 pkg=$2
        apt_setup "$suite"
        apt-cache "${APT_OPTS[@]}" policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'
}

# A short stable hash of its arguments and of the named files' contents.
recipe_hash() {
        { printf '%s\n' "$@"; } | sha256sum | cut -c1-12
}

file_hash() {
        cat "$@" | sha256sum | cut -c1-12
}

# The kernel: sets KVER, KERNEL_DIR ($VM_CACHE/kernel/KVER with vmlinuz and modules/KVER).
kernel_setup() {
        local pkg tmp
        apt_setup "$VM_KERNEL_SUITE"
        pkg=$(apt-cache "${APT_OPTS[@]}" depends "$VM_KERNEL_META" 2>/dev/null |
                awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
        [ -n "$pkg" ] || die "cannot resolve $VM_KERNEL_META in $VM_KERNEL_SUITE"
        KVER=${pkg#linux-image-}
        KERNEL_DIR=$VM_CACHE/kernel/$KVER
        [ -e "$KERNEL_DIR/done" ] && return 0
        mkdir -p "$VM_CACHE/kernel"
        (
                flock 9
                [ -e "$KERNEL_DIR/done" ] && exit 0
                tmp=$(mktemp -d "$VM_CACHE/kernel/.tmp.XXXXXX")
                trap 'rm -rf "$tmp"' EXIT
                note "downloading $pkg ($(candidate_version "$VM_KERNEL_SUITE" "$pkg"))"
                (cd "$tmp" && apt-get -q=2 "${APT_OPTS[@]}" download "$pkg" >&2) ||
                        die "apt-get download $pkg failed"
                dpkg-deb -x "$tmp"/*.deb "$tmp/x"
                mkdir -p "$tmp/k/modules"
                mv "$tmp/x/boot/vmlinuz-$KVER" "$tmp/k/vmlinuz"
                if [ -d "$tmp/x/usr/lib/modules/$KVER" ]; then
                        mv "$tmp/x/usr/lib/modules/$KVER" "$tmp/k/modules/"
                else
                        mv "$tmp/x/lib/modules/$KVER" "$tmp/k/modules/"
                fi
                dpkg-deb -f "$tmp"/*.deb Version > "$tmp/k/version"
                rm -rf "$KERNEL_DIR"
                mv "$tmp/k" "$KERNEL_DIR"
                touch "$KERNEL_DIR/done"
        ) 9> "$VM_CACHE/kernel/.lock"
        [ -e "$KERNEL_DIR/done" ] || die "kernel setup failed"
}

# Bump when root_build changes what a base tree holds, or root_customize what it adds.
ROOT_BASE_RECIPE=1
ROOT_CUSTOM_RECIPE=1
# What the harness adds to every root (root_customize); their contents key the disk images.
ROOT_GUEST_FILES=("$VM_DIR/guest/marker" "$VM_DIR/guest/sdvm-report.service"
                  "$VM_DIR/guest/root-emergency.conf")
# What root_customize_ssh adds to the roots of the ssh flavour.
ROOT_SSH_GUEST_FILES=("$VM_DIR/guest/ssh/ssh-key" "$VM_DIR/guest/ssh/ssh-key.conf"
                      "$VM_DIR/guest/ssh/sdvm.network" "$VM_DIR/guest/ssh/report-hold.conf")

# Sets ROOT_TREE and ROOT_DISK for SUITE, building what is not cached. The tree's key names the
# suite, its candidate systemd and dracut versions, the package list, the kernel and the recipe,
# so an archive update builds a new tree and a rerun reuses the old one; the disk's key adds the
# guest files. FLAVOUR "ssh" is a tree of its own with VM_ROOT_SSH_PACKAGES as well, and a disk
# with root_customize_ssh's files (sshd, a network, a guest that stays up after multi-user).
root_setup() {
        local suite=$1 flavour=${2:-} packages=$VM_ROOT_PACKAGES sdver dver key gkey
        if source_suite "$suite"; then
                [ -z "$flavour" ] || die "no $flavour flavour of the source suite $suite"
                src_root_setup "$suite"
                return 0
        fi
        case $flavour in
        '') ;;
        ssh) packages+=,$VM_ROOT_SSH_PACKAGES ;;
        *) die "unknown root flavour '$flavour'" ;;
        esac
        kernel_setup
        sdver=$(candidate_version "$suite" systemd)
        dver=$(candidate_version "$suite" dracut)
        [ -n "$sdver" ] && [ -n "$dver" ] || die "no systemd/dracut candidate in $suite"
        key=$(recipe_hash "$suite" "$sdver" "$dver" "$packages" "$KVER" \
                "$ROOT_BASE_RECIPE" "$(file_hash "$REPO_DIR/scripts/mkchroot")")
        if [ -n "$flavour" ]; then
                gkey=$(recipe_hash "$ROOT_CUSTOM_RECIPE" "$(file_hash "${ROOT_GUEST_FILES[@]}")" \
                        "$flavour" "$(file_hash "${ROOT_SSH_GUEST_FILES[@]}")")
        else
                gkey=$(recipe_hash "$ROOT_CUSTOM_RECIPE" "$(file_hash "${ROOT_GUEST_FILES[@]}")")
        fi
        ROOT_SYSTEMD=$sdver
        ROOT_KEY=$suite${flavour:+-$flavour}-${sdver//[~+:]/_}-$key
        ROOT_TREE=$VM_CACHE/roots/$ROOT_KEY
        ROOT_DISK=$VM_CACHE/disks/$ROOT_KEY-$gkey.img
        [ -e "$ROOT_TREE.done" ] && [ -e "$ROOT_DISK" ] && return 0
        mkdir -p "$VM_CACHE/roots" "$VM_CACHE/disks"
        (
                flock 9
                if [ ! -e "$ROOT_TREE.done" ]; then
                        root_build "$suite" "$packages" "$flavour"
                fi
                # Disks of the same tree with other guest files are left alone: several checkouts
                # share the cache, and deleting the disk another one is booting from made both
                # rebuild in turn (and its boots fail: "Could not open backing file").
                if [ ! -e "$ROOT_DISK" ]; then
                        root_customize "$ROOT_TREE"
                        [ "$flavour" != ssh ] || root_customize_ssh "$ROOT_TREE"
                        disk_build
                fi
        ) 9> "$VM_CACHE/roots/.lock.$suite${flavour:+-$flavour}"
        [ -e "$ROOT_TREE.done" ] && [ -e "$ROOT_DISK" ] || die "building the $suite root failed"
}

root_build() {
        local suite=$1 packages=$2 flavour=$3 tmp=$ROOT_TREE.tmp start=$SECONDS log
        local -a merged
        rm -rf "$tmp"
        log=$VM_CACHE/logs/mkchroot-$suite${flavour:+-$flavour}.log
        note "building the $suite${flavour:+ ($flavour)} root in $ROOT_TREE (mmdebstrap)"
        mkdir -p "$VM_CACHE/logs"
        # Merged /usr: bookworm and later ship usr-is-merged, which mmdebstrap's merged-usr hook
        # installs; bullseye does not, so there only the hook's debootstrap-style symlinks.
        if [ "$suite" = bullseye ]; then
                merged=(--setup-hook=/usr/share/mmdebstrap/hooks/merged-usr/setup00.sh)
        else
                merged=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
        fi
        "$REPO_DIR/scripts/mkchroot" "$suite" "$tmp" --variant=apt --quiet "${merged[@]}" \
                --include="$packages" > "$log" 2>&1 || { tail -n 30 "$log" >&2; die "mkchroot $suite failed"; }
        mkdir -p "$tmp/usr/lib/modules"
        cp -a "$KERNEL_DIR/modules/$KVER" "$tmp/usr/lib/modules/"
        chroot "$tmp" depmod -a "$KVER"
        chroot "$tmp" dpkg-query -W -f '${Package} ${Version}\n' > "$tmp.versions"
        rm -rf "$tmp/var/cache/apt/archives"/*.deb "$tmp/var/lib/apt/lists"/*_Packages
        rm -rf "$ROOT_TREE"
        mv "$tmp" "$ROOT_TREE"
        mv "$tmp.versions" "$ROOT_TREE.versions"
        touch "$ROOT_TREE.done"
        note "$suite root built in $((SECONDS - start)) s"
}

# Makes a tree bootable by the harness: an fstab with the root's label, the report unit that
# prints the outcome when multi-user.target is reached, and emergency and rescue units replaced
# by the same report (sulogin would wait for a console that nobody types on). Idempotent: it
# only writes the harness's own paths, so a changed guest file is applied to the cached tree.
root_customize() {
        local t=$1 u
        echo "LABEL=$VM_ROOT_LABEL / ext4 defaults 0 1" > "$t/etc/fstab"
        echo sdvm > "$t/etc/hostname"
        install -D -m 0755 "$VM_DIR/guest/marker" "$t/usr/lib/sdvm/marker"
        install -D -m 0644 "$VM_DIR/guest/sdvm-report.service" "$t/etc/systemd/system/sdvm-report.service"
        mkdir -p "$t/etc/systemd/system/multi-user.target.wants"
        ln -sfn ../sdvm-report.service "$t/etc/systemd/system/multi-user.target.wants/sdvm-report.service"
        ln -sfn /usr/lib/systemd/system/multi-user.target "$t/etc/systemd/system/default.target"
        for u in emergency rescue; do
                mkdir -p "$t/etc/systemd/system/$u.service.d"
                sed "s/@OUTCOME@/$u/" "$VM_DIR/guest/root-emergency.conf" \
                        > "$t/etc/systemd/system/$u.service.d/sdvm.conf"
        done
        # Nobody logs in: a getty on the serial console would only add lines to the log.
        ln -sfn /dev/null "$t/etc/systemd/system/serial-getty@ttyS0.service"
        ln -sfn /dev/null "$t/etc/systemd/system/getty@tty1.service"
}

# The ssh flavour (tests/vm/ansible-ssh): sshd takes root's authorized key from the kernel command
# line (sdvm.ssh_key=, base64; the key pair is made per run and never stored on a disk),
# systemd-networkd gives the NIC QEMU's user-mode address, and the report marks multi-user
# without powering off: whoever holds the key powers the guest off over SSH.
root_customize_ssh() {
        local t=$1
        install -D -m 0755 "$VM_DIR/guest/ssh/ssh-key" "$t/usr/lib/sdvm/ssh-key"
        install -D -m 0644 "$VM_DIR/guest/ssh/ssh-key.conf" "$t/etc/systemd/system/ssh.service.d/sdvm-key.conf"
        install -D -m 0644 "$VM_DIR/guest/ssh/sdvm.network" "$t/etc/systemd/network/10-sdvm.network"
        install -D -m 0644 "$VM_DIR/guest/ssh/report-hold.conf" "$t/etc/systemd/system/sdvm-report.service.d/hold.conf"
        ln -sfn /usr/lib/systemd/system/ssh.service "$t/etc/systemd/system/multi-user.target.wants/ssh.service"
        ln -sfn /usr/lib/systemd/system/systemd-networkd.service \
                "$t/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
        [ -s "$t/etc/ssh/ssh_host_ed25519_key.pub" ] || die "the ssh root $t has no SSH host key"
}

disk_build() {
        local size
        # Room for the tree plus 512 MiB; mkfs.ext4 -d copies the tree without a loop mount.
        size=$(( $(du -sm "$ROOT_TREE" | cut -f1) + 512 ))
        rm -f "$ROOT_DISK.tmp"
        truncate -s "${size}M" "$ROOT_DISK.tmp"
        mkfs.ext4 -q -F -L "$VM_ROOT_LABEL" -d "$ROOT_TREE" "$ROOT_DISK.tmp" ||
                die "mkfs.ext4 -d $ROOT_TREE failed"
        mv "$ROOT_DISK.tmp" "$ROOT_DISK"
}

# Runs a command inside TREE with /proc, /sys and /dev, in a private mount namespace so that
# nothing stays mounted when it ends.
in_tree() {
        local t=$1
        shift
        unshare --mount --propagation private -- /bin/sh -euc '
                t=$1; shift
                mount -t proc proc "$t/proc"
                mount --rbind /sys "$t/sys"
                mount --rbind /dev "$t/dev"
                exec chroot "$t" "$@"' sh "$t" "$@"
}

# Scenarios: tests/vm/scenarios/NAME, a bash fragment that sets
#   DESCRIPTION  one line
#   CMDLINE      extra kernel command line
#   DRACUT_ARGS  extra dracut arguments (word-split)
#   HAZARDS      lines "INITRD ROOT OUTCOME [REPEAT]", '*' for any suite: the cells where the
#                hazard applies and the outcome predicted without sdcompat; REPEAT says how
#                often the matrix boots the cell (races)
#   NOTABLE      extended regex of console lines that explain the outcome (decisive line)
# and may define initrd_files DIR, which writes files that the image gets at / (dracut
# --include), in the image only.
scenario_load() {
        local name=$1 f=$VM_DIR/scenarios/$1
        [ -f "$f" ] || die "unknown scenario '$name' (see $VM_DIR/scenarios/)"
        DESCRIPTION='' CMDLINE='' DRACUT_ARGS='' HAZARDS='' NOTABLE='' SDCOMPAT_RESCUES='' ROOT_DROPIN_RESCUES=''
        unset -f initrd_files
        # shellcheck disable=SC1090
        source "$f"
        SCENARIO=$name
}

# Prints "OUTCOME REPEAT" predicted for INITRD ROOT by the loaded scenario, nothing when the cell
# is not hazardous.
scenario_prediction() {
        local initrd=$1 root=$2 i r o n
        while read -r i r o n; do
                [ -n "$i" ] && [ "${i:0:1}" != '#' ] || continue
                { [ "$i" = '*' ] || [ "$i" = "$initrd" ]; } || continue
                { [ "$r" = '*' ] || [ "$r" = "$root" ]; } || continue
                echo "$o ${n:-1}"
                return 0
        done <<< "$HAZARDS"
}

# sdcompat for the initramfs (boot --sdcompat): this checkout built statically with prefix /usr and
# installed into a directory, which initrd_setup lays over the suite's tree for the dracut run only
# and root_sdcompat_variant copies into a variant of the root disk. The build directory belongs to
# this checkout (the cache is shared by several worktrees); the install is content-addressed and
# never changed once made, because boots running side by side (matrix --jobs) read it.
# SDCOMPAT_VM_MESON_OPTIONS: more meson options for this build, separated by blanks (e.g.
# -Dstatic-libc=musl); they are part of the build directory's key, so each set has a build of its own.
# Sets SDCOMPAT_DESTDIR, SDCOMPAT_HASH (part of the image's cache key) and SDCOMPAT_INSTALL_HASH
# (part of the variant disk's).
sdcompat_stage() {
        local top build log tmp key
        local -a opts
        read -r -a opts <<< "${SDCOMPAT_VM_MESON_OPTIONS:-}"
        top=$(cd "$VM_DIR/../.." && pwd)
        # Without options the key is the checkout's alone, as before the variable existed.
        key=$(recipe_hash "$top" "${opts[@]}")
        build=$VM_CACHE/sdcompat/build-$key
        log=$VM_CACHE/logs/sdcompat-build-$key.log
        mkdir -p "$VM_CACHE/sdcompat" "$VM_CACHE/logs"
        exec 8> "$build.lock"
        flock 8
        tmp=$build.destdir
        {
                # -Dtest-faults=true: the boots that prove the fail-safe chain use rd.sdcompat.fault=
                # (SHIM.md); a production build ignores it.
                if [ ! -e "$build/build.ninja" ]; then
                        meson setup "$build" "$top" --prefix=/usr -Dstatic-programs=true -Dtests=false \
                                -Dbuildtype=release -Dtest-faults=true "${opts[@]}"
                else
                        meson configure "$build" -Dtest-faults=true "${opts[@]}"
                fi
                meson compile -C "$build" && rm -rf "$tmp" &&
                        meson install -C "$build" --no-rebuild --destdir "$tmp"
        } > "$log" 2>&1 || { tail -n 20 "$log" >&2; die "building sdcompat for the initramfs failed (log: $log)"; }
        # The image's key: only what can end up in an image, so that a man page edit does not
        # rebuild every initramfs. The install's (directory, variant disks): every file.
        SDCOMPAT_HASH=$(cd "$tmp" && find usr/bin usr/libexec usr/lib/sdcompat usr/lib/dracut -type f -print0 |
                sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
        SDCOMPAT_INSTALL_HASH=$(cd "$tmp" && find . -type f -print0 | sort -z | xargs -0 sha256sum |
                sha256sum | cut -c1-12)
        SDCOMPAT_DESTDIR=$VM_CACHE/sdcompat/destdir-$SDCOMPAT_INSTALL_HASH
        if [ -d "$SDCOMPAT_DESTDIR" ]; then
                rm -rf "$tmp"
        else
                mv "$tmp" "$SDCOMPAT_DESTDIR"
        fi
        exec 8>&-
}

# Bump when root_sdcompat_variant changes what it adds to a disk.
ROOT_SDCOMPAT_RECIPE=2
# sdcompat's root-side H1 guard, as its package installs it.
ROOT_DROPIN_PATH=/usr/lib/systemd/system/initrd-switch-root.service.d/sdcompat-sigterm.conf

# Makes VARIANT: a sparse copy of the disk BASE edited by the debugfs commands in the file CMDS (no
# mount), checked with e2fsck -fn; WHAT names the edit in errors. BASE is never changed. Run under
# the caller's lock, after it found VARIANT missing; removes CMDS.
disk_variant_edit() {
        local base=$1 variant=$2 cmds=$3 what=$4
        cp --sparse=always "$base" "$variant.tmp"
        debugfs -w -f "$cmds" "$variant.tmp" > "$variant.log" 2>&1 ||
                { cat "$variant.log" >&2; rm -f "$variant.tmp"; die "debugfs on $variant.tmp failed"; }
        # debugfs goes on after a failed command: every failure but an existing directory is fatal.
        if grep -v -e '^debugfs[ :]' -e 'already exists' -e '^Allocated inode: ' "$variant.log" | grep -q .; then
                cat "$variant.log" >&2
                rm -f "$variant.tmp"
                die "debugfs could not add $what to $variant.tmp"
        fi
        e2fsck -fn "$variant.tmp" > "$variant.fsck" 2>&1 ||
                { cat "$variant.fsck" >&2; rm -f "$variant.tmp"; die "the variant disk $variant.tmp fails e2fsck"; }
        rm -f "$cmds" "$variant.log" "$variant.fsck"
        mv "$variant.tmp" "$variant"
}

# Sets ROOT_DISK to a variant of the base disk of the last root_setup that carries only sdcompat's
# root-side drop-in (units/initrd-switch-root.service.d/sdcompat-sigterm.conf of this checkout) at
# ROOT_DROPIN_PATH: no sdcompat anywhere else (boot --root-dropin). Made as root_sdcompat_variant
# makes its disks.
root_dropin_variant() {
        local base=$ROOT_DISK src=$REPO_DIR/units/initrd-switch-root.service.d/sdcompat-sigterm.conf variant d
        variant=${base%.img}-dropin-$(file_hash "$src").img
        ROOT_DISK=$variant
        [ -e "$variant" ] && return 0
        (
                flock 9
                [ -e "$variant" ] && exit 0
                d=${ROOT_DROPIN_PATH%/*}
                printf 'mkdir %s\nwrite %s %s\nset_inode_field %s mode 0100644\n' "$d" "$src" "$ROOT_DROPIN_PATH" \
                        "$ROOT_DROPIN_PATH" > "$variant.debugfs"
                disk_variant_edit "$base" "$variant" "$variant.debugfs" "the drop-in"
        ) 9> "$VM_CACHE/disks/.lock.dropin-variant"
        [ -e "$variant" ] || die "building the drop-in variant of $base failed"
}
# The packaged path of sdcompat-shim (meson --prefix=/usr, libexecdir libexec): where a root's newer
# sdcompat package puts its shim, and where negotiate looks for it (sdcompat(8), "The newer shim").
ROOT_SHIM_PATH=/usr/libexec/sdcompat/sdcompat-shim

# disk_has DISK PATH: whether PATH exists on the ext4 image DISK (read with debugfs, no mount).
disk_has() {
        debugfs -R "stat $2" "$1" 2>/dev/null | grep -q '^Inode:'
}

# Sets ROOT_DISK to a variant of the disk chosen so far (the base disk of the last root_setup, or
# the --sdcompat variant) that carries FILE at ROOT_SHIM_PATH, owned by root, mode 0755, in place of
# what was there (boot --root-shim FILE): a root whose shim is newer than the image's, or broken.
# Made as root_dropin_variant makes its disks.
root_shim_variant() {
        local base=$ROOT_DISK src=$1 variant
        variant=${base%.img}-rootshim-$(file_hash "$src").img
        ROOT_DISK=$variant
        [ -e "$variant" ] && return 0
        (
                flock 9
                [ -e "$variant" ] && exit 0
                {
                        # Only what is missing: debugfs 1.47's mkdir of an existing directory leaves
                        # an unconnected directory inode behind (e2fsck finds it), and its write
                        # refuses a name that exists (the install's shim goes first).
                        for d in /usr/libexec "${ROOT_SHIM_PATH%/*}"; do
                                disk_has "$base" "$d" || echo "mkdir $d"
                        done
                        if disk_has "$base" "$ROOT_SHIM_PATH"; then
                                echo "rm $ROOT_SHIM_PATH"
                        fi
                        echo "write $src $ROOT_SHIM_PATH"
                        echo "set_inode_field $ROOT_SHIM_PATH mode 0100755"
                        echo "set_inode_field $ROOT_SHIM_PATH uid 0"
                        echo "set_inode_field $ROOT_SHIM_PATH gid 0"
                } > "$variant.debugfs"
                disk_variant_edit "$base" "$variant" "$variant.debugfs" "the root's shim"
        ) 9> "$VM_CACHE/disks/.lock.rootshim-variant"
        [ -e "$variant" ] || die "building the root-shim variant of $base failed"
}

# What the variant adds besides the install: the report of `sdcompat status` on the console.
ROOT_SDCOMPAT_GUEST_FILES=("$VM_DIR/guest/sdcompat-report" "$VM_DIR/guest/sdcompat-report.conf")

# The units of the install that packaging enables: their [Install] WantedBy= gets a link.
ROOT_SDCOMPAT_ENABLE=(sdcompat-status.service)

# Sets ROOT_DISK to a variant of the base disk of the last root_setup that also carries the
# sdcompat install SDCOMPAT_DESTDIR, as a package would install it (files under /usr, the units in
# ROOT_SDCOMPAT_ENABLE enabled by a wants-link), plus the harness's report of `sdcompat status`.
# The variant is a copy of the base disk edited with debugfs (no mount): the base disk and the
# root tree stay as they are, so boots without --sdcompat are unchanged.
root_sdcompat_variant() {
        local base=$ROOT_DISK key variant cmds f rel d u target
        key=$(recipe_hash "$ROOT_SDCOMPAT_RECIPE" "$SDCOMPAT_INSTALL_HASH" "$(file_hash "${ROOT_SDCOMPAT_GUEST_FILES[@]}")")
        variant=${base%.img}-sdcompat-$key.img
        ROOT_DISK=$variant
        [ -e "$variant" ] && return 0
        (
                flock 9
                [ -e "$variant" ] && exit 0
                cmds=$variant.debugfs
                {
                        # Directories first, parents before children; existing ones only give a
                        # message that is filtered out below.
                        (cd "$SDCOMPAT_DESTDIR" && find . -mindepth 1 -type d | sort) | while read -r d; do
                                echo "mkdir ${d#.}"
                        done
                        (cd "$SDCOMPAT_DESTDIR" && find . -type f | sort) | while read -r rel; do
                                # The root-side H1 drop-in is left out: these boots prove what
                                # negotiate does in the image (rd.sdcompat=0 must bring the failure
                                # back); --root-dropin boots the drop-in on its own.
                                [ "${rel#.}" != "$ROOT_DROPIN_PATH" ] || continue
                                f=$SDCOMPAT_DESTDIR/${rel#./}
                                echo "write $f ${rel#.}"
                                printf 'set_inode_field %s mode 0%o
' "${rel#.}" $((0100000 | 0$(stat -c %a "$f")))
                        done
                        echo "mkdir /usr/lib/sdvm"
                        echo "write $VM_DIR/guest/sdcompat-report /usr/lib/sdvm/sdcompat-report"
                        echo "set_inode_field /usr/lib/sdvm/sdcompat-report mode 0100755"
                        for u in sdvm-report emergency rescue; do
                                echo "mkdir /etc/systemd/system/$u.service.d"
                                echo "write $VM_DIR/guest/sdcompat-report.conf /etc/systemd/system/$u.service.d/zz-sdcompat-report.conf"
                                echo "set_inode_field /etc/systemd/system/$u.service.d/zz-sdcompat-report.conf mode 0100644"
                        done
                        for u in "${ROOT_SDCOMPAT_ENABLE[@]}"; do
                                [ -f "$SDCOMPAT_DESTDIR/usr/lib/systemd/system/$u" ] ||
                                        die "the sdcompat install has no unit $u"
                                for target in $(sed -n 's/^WantedBy=//p' "$SDCOMPAT_DESTDIR/usr/lib/systemd/system/$u"); do
                                        echo "mkdir /etc/systemd/system/$target.wants"
                                        echo "symlink /etc/systemd/system/$target.wants/$u /usr/lib/systemd/system/$u"
                                done
                        done
                } > "$cmds"
                disk_variant_edit "$base" "$variant" "$cmds" "the sdcompat install"
        ) 9> "$VM_CACHE/disks/.lock.sdcompat-variant"
        [ -e "$variant" ] || die "building the sdcompat variant of $base failed"
}

# Bump when initrd_setup changes how an image is built.
INITRD_RECIPE=1
VM_DRIVERS="virtio_blk virtio_pci virtio_scsi virtio_console ext4"

# Builds (or finds) the initramfs of SUITE for the loaded scenario plus EXTRA dracut arguments,
# with SUITE's own dracut inside SUITE's own tree. Sets INITRD_IMG and INITRD_SYSTEMD.
initrd_setup() {
        local suite=$1 extra=$2 stage hash key img log u
        local -a args
        root_setup "$suite"
        INITRD_SYSTEMD=$ROOT_SYSTEMD
        mkdir -p "$VM_CACHE/initrds" "$VM_CACHE/logs"
        stage=$(mktemp -d "$ROOT_TREE/tmp/sdvm-stage.XXXXXX")
        install -D -m 0755 "$VM_DIR/guest/marker" "$stage/usr/lib/sdvm/marker"
        for u in emergency rescue; do
                mkdir -p "$stage/etc/systemd/system/$u.service.d"
                sed "s/@OUTCOME@/$u/" "$VM_DIR/guest/initrd-emergency.conf" \
                        > "$stage/etc/systemd/system/$u.service.d/sdvm.conf"
        done
        if declare -F initrd_files >/dev/null; then
                initrd_files "$stage"
        fi
        if source_suite "$suite"; then
                src_initrd_files "$suite" "$stage"
        fi
        hash=$(tar -C "$stage" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . |
                sha256sum | cut -c1-12)
        key=$(recipe_hash "$ROOT_KEY" "$INITRD_RECIPE" "$VM_DRIVERS" "$hash" "$DRACUT_ARGS" "$extra" \
                "${SDCOMPAT_HASH:-}")
        img=$VM_CACHE/initrds/$suite-$SCENARIO${SDCOMPAT_HASH:+-sdcompat}-$key.img
        INITRD_IMG=$img
        if [ -e "$img" ]; then
                rm -rf "$stage"
                return 0
        fi
        log=$VM_CACHE/logs/dracut-$suite-$SCENARIO-$key.log
        # shellcheck disable=SC2206 # word splitting is the interface of DRACUT_ARGS and extra
        args=($DRACUT_ARGS $extra)
        note "building the $suite initramfs for $SCENARIO (dracut ${args[*]})"
        if [ -n "${SDCOMPAT_DESTDIR:-}" ]; then
                args+=(--add sdcompat)
        fi
        (
                flock 9
                # Built meanwhile by a boot running beside this one (matrix --jobs).
                [ ! -e "$img" ] || exit 0
                # sdcompat is laid over the tree for this dracut run only, then taken away again:
                # the cached tree stays the suite's own.
                if [ -n "${SDCOMPAT_DESTDIR:-}" ]; then
                        (cd "$SDCOMPAT_DESTDIR" && find . ! -type d) > "$stage.sdcompat-files"
                        cp -a "$SDCOMPAT_DESTDIR/." "$ROOT_TREE/"
                fi
                rc=0
                in_tree "$ROOT_TREE" dracut --force --no-hostonly --kver "$KVER" \
                        --add-drivers "$VM_DRIVERS" --include "/tmp/${stage##*/}" / \
                        "${args[@]}" "/tmp/${stage##*/}.img" > "$log" 2>&1 || rc=$?
                if [ -n "${SDCOMPAT_DESTDIR:-}" ]; then
                        (cd "$ROOT_TREE" && xargs -d '\n' rm -f < "$stage.sdcompat-files")
                        rm -f "$stage.sdcompat-files"
                fi
                [ "$rc" -eq 0 ] || exit "$rc"
                mv "$stage.img" "$img.tmp"
                mv "$img.tmp" "$img"
        ) 9> "$VM_CACHE/roots/.lock.$suite" ||
                { tail -n 30 "$log" >&2; rm -rf "$stage" "$stage.img"; die "dracut in the $suite tree failed (log: $log)"; }
        rm -rf "$stage" "$stage.img"
}

# TCG emulates "rep stosb" byte by byte: with ERMS the guest kernel clears pages that way, and
# module loading alone stalled for 45 s (soft lockups) on a loaded host. Without ERMS it uses
# "rep stosq".
VM_QEMU_CPU=${SDCOMPAT_VM_QEMU_CPU:-max,-erms}
# no_timer_check: on a busy host the guest kernel's IO-APIC timer check timed out under TCG and
# it panicked ("IO-APIC + timer doesn't work!") before running /init.
VM_BASE_CMDLINE="root=LABEL=$VM_ROOT_LABEL ro console=ttyS0,115200 panic=-1 no_timer_check \
printk.devkmsg=on systemd.log_target=kmsg rd.shell=0 rd.emergency=poweroff"

# Extra QEMU arguments of the next boot_qemu (e.g. a NIC), and a function it runs once the marker
# showed while the guest still runs (the ssh flavour's guest stays up for it; the function ends
# by powering the guest off, and its exit status is left in BOOT_HOOK_RC).
BOOT_QEMU_ARGS=()
# pid1_log_time REGEX: the kernel log timestamp (seconds since the kernel started) of the first
# console line of PID 1 whose message matches REGEX, read from stdin; empty when none does.
# boot_analyse and tests/vm/cost read the boot's phases with it.
pid1_log_time() {
        grep -a -m1 -E "^\[ *[0-9]+\.[0-9]+\] systemd\[1\]: $1" | sed 's/^\[ *\([0-9.]*\)\].*/\1/' || true
}
# The two ends of the stretch sdcompat negotiate runs in: the initramfs's root file system mounted,
# then the switch.
VM_ROOTFS_MSG='Reached target.*Initrd Root File System'
VM_SWITCH_MSG='Switching root'
BOOT_ON_MARKER=''
BOOT_HOOK_RC=''

# Boots INITRD_IMG with ROOT_DISK (through a throwaway qcow2 overlay) and the kernel command line
# CMDLINE_ALL; the console goes to BOOT_DIR/console.log. Sets BOOT_END (marker, frozen, panic,
# exited, timeout) and BOOT_SECONDS (wall seconds until the outcome showed on the console).
boot_qemu() {
        local timeout=$1 log=$BOOT_DIR/console.log qpid start now grace
        qemu-img create -q -f qcow2 -F raw -b "$ROOT_DISK" "$BOOT_DIR/disk.qcow2" ||
                die "qemu-img create failed"
        : > "$log"
        start=$(date +%s)
        qemu-system-x86_64 -accel tcg -cpu "$VM_QEMU_CPU" -m 1024 -smp 1 -nodefaults -no-reboot \
                -display none -monitor none -serial "file:$log" \
                -kernel "$KERNEL_DIR/vmlinuz" -initrd "$BOOT_INITRD" -append "$CMDLINE_ALL" \
                -drive "file=$BOOT_DIR/disk.qcow2,format=qcow2,if=virtio" "${BOOT_QEMU_ARGS[@]}" \
                > "$BOOT_DIR/qemu.out" 2>&1 &
        qpid=$!
        BOOT_END='' grace=''
        while :; do
                now=$(date +%s)
                if ! kill -0 "$qpid" 2>/dev/null; then
                        [ -n "$BOOT_END" ] || BOOT_END=exited
                        break
                fi
                if [ -z "$BOOT_END" ]; then
                        if grep -qa 'SDVM-RESULT' "$log"; then
                                BOOT_END=marker grace=60
                        elif grep -qaE 'Freezing execution|Kernel panic - not syncing' "$log"; then
                                BOOT_END=stopped grace=5
                        elif [ $((now - start)) -ge "$timeout" ]; then
                                BOOT_END=timeout grace=0
                        fi
                        if [ -n "$BOOT_END" ]; then
                                BOOT_SECONDS=$((now - start))
                                grace=$((now + grace))
                                if [ "$BOOT_END" = marker ] && [ -n "$BOOT_ON_MARKER" ]; then
                                        BOOT_HOOK_RC=0
                                        "$BOOT_ON_MARKER" || BOOT_HOOK_RC=$?
                                        grace=$(( $(date +%s) + 60 ))
                                fi
                        fi
                elif [ "$now" -ge "$grace" ]; then
                        kill "$qpid" 2>/dev/null || true
                fi
                sleep 1
        done
        wait "$qpid" 2>/dev/null || true
        [ -n "${BOOT_SECONDS:-}" ] || BOOT_SECONDS=$(( $(date +%s) - start ))
        rm -f "$BOOT_DIR/disk.qcow2"
        if [ "$BOOT_END" = exited ] && [ ! -s "$log" ]; then
                cat "$BOOT_DIR/qemu.out" >&2
                die "qemu did not start (see $BOOT_DIR/qemu.out)"
        fi
}

# The console without carriage returns, NUL bytes or escape sequences, for matching.
console_text() {
        tr -d '\r\000' < "$BOOT_DIR/console.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g'
}

# Reads the outcome from the console. Sets OUTCOME, DECISIVE and the marker's fields (M_*).
boot_analyse() {
        local text marker report re
        text=$(console_text)
        marker=$(grep -a -m1 -o 'SDVM-RESULT .*' <<< "$text" || true)
        M_PID1=$(sed -n 's/.* pid1=\([^ ]*\).*/\1/p' <<< "$marker")
        M_CGROUP=$(sed -n 's/.* cgroup=\([^ ]*\).*/\1/p' <<< "$marker")
        M_CONTROLLERS=$(sed -n 's/.* controllers=\([^ ]*\).*/\1/p' <<< "$marker")
        M_SUBTREE=$(sed -n 's/.* subtree=\([^ ]*\).*/\1/p' <<< "$marker")
        M_FAILED=$(sed -n 's/.* failed=\([^ ]*\).*/\1/p' <<< "$marker")
        M_INITRD_TS=$(sed -n 's/.* initrd_ts=\([^ ]*\).*/\1/p' <<< "$marker")
        M_UPTIME=$(sed -n 's/.* uptime=\([^ ]*\).*/\1/p' <<< "$marker")
        M_BUSY=$(sed -n 's/.* busy_cpu=\([^ ]*\).*/\1/p' <<< "$marker")
        M_ARGV=$(sed -n 's/.* pid1_argv="\(.*\)".*/\1/p' <<< "$marker")
        M_FDS=$(sed -n 's/.* pid1_fds=\([^ ]*\).*/\1/p' <<< "$marker")
        M_PIDFDS=$(sed -n 's/.* pid1_pidfds=\([^ ]*\).*/\1/p' <<< "$marker")
        M_TRAFFIC=$(sed -n 's/.* notify_traffic=\([^ ]*\).*/\1/p' <<< "$marker")
        M_PIDFDS_AFTER=$(sed -n 's/.* pid1_pidfds_after=\([^ ]*\).*/\1/p' <<< "$marker")
        # When the root's PID 1 reached multi-user.target, by the kernel log's clock (seconds since
        # the kernel started): the boot time, before anything the harness runs after that target.
        MU_AT=$(pid1_log_time 'Reached target.*Multi-User' <<< "$text")
        # tests/vm/cost splits the boot time into phases at these two.
        ROOTFS_AT=$(pid1_log_time "$VM_ROOTFS_MSG" <<< "$text")
        SWITCH_AT=$(pid1_log_time "$VM_SWITCH_MSG" <<< "$text")
        # guest/sdcompat-report's line (root disks with sdcompat only).
        report=$(grep -a -m1 -o 'SDVM-SDCOMPAT .*' <<< "$text" || true)
        S_RC=$(sed -n 's/.* status_rc=\([^ ]*\).*/\1/p' <<< "$report")
        S_STATUS=$(sed -n 's/.* status="\([^"]*\)".*/\1/p' <<< "$report")
        S_UNIT=$(sed -n 's/.* status_unit=\([^ ]*\).*/\1/p' <<< "$report")
        S_JOURNAL=$(sed -n 's/.* status_journal=\([^ ]*\).*/\1/p' <<< "$report")
        if [ -n "$marker" ]; then
                OUTCOME=$(sed -n 's/^SDVM-RESULT outcome=\([^ ]*\).*/\1/p' <<< "$marker")
        elif grep -qa 'Kernel panic - not syncing' <<< "$text"; then
                OUTCOME=panic
        elif grep -qa 'Freezing execution' <<< "$text"; then
                OUTCOME=frozen
        elif [ "$BOOT_END" = timeout ]; then
                OUTCOME=timeout
        else
                OUTCOME=unrecognised
        fi
        # The decisive line: what the scenario says explains the outcome, else the line that
        # shows the outcome itself.
        DECISIVE=''
        if [ -n "$NOTABLE" ]; then
                DECISIVE=$(grep -a -m1 -E "$NOTABLE" <<< "$text" || true)
        fi
        if [ -z "$DECISIVE" ]; then
                case $OUTCOME in
                multi-user) re='Reached target.*Multi-User' ;;
                emergency|rescue|initrd-emergency|initrd-rescue)
                        re='Failed with result|code=killed|Failed to start|refusing|Deserialization failed|has failed' ;;
                frozen) re='!!!!!!|refusing|Refusing|Freezing execution' ;;
                panic) re='Kernel panic' ;;
                *) re='' ;;
                esac
                if [ -n "$re" ]; then
                        DECISIVE=$(grep -a -m1 -E "$re" <<< "$text" || true)
                fi
        fi
        [ -n "$DECISIVE" ] || DECISIVE=$(grep -a -v '^[[:space:]]*$' <<< "$text" | tail -n 1 || true)
        [ -n "$DECISIVE" ] || DECISIVE=$marker
        DECISIVE=$(sed -e 's/^\[ *[0-9.]*\] //' -e 's/"/'"'"'/g' <<< "$DECISIVE" | cut -c1-200)
        # PID 1 names its build when it starts: the first such line is the initramfs's, the
        # next one the root's (after switch-root).
        mapfile -t RUNNING < <(grep -a -o 'systemd [^ ]* running in system mode' <<< "$text" |
                awk '{ print $2 }')
}

# Suites whose systemd is built from source (RHEL 7): tests/vm/source-suites.sh.
# shellcheck source=tests/vm/source-suites.sh
source "$VM_DIR/source-suites.sh"

# An unknown SDCOMPAT_VM_KERNEL is an error before anything is built.
set_kernel_suite "$VM_KERNEL_SUITE"
