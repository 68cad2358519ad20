# tests/vm/source-suites.sh — "suites" whose systemd is built from a source tree: sourced by lib.sh.
# shellcheck shell=bash disable=SC2034 # the globals set here are read by lib.sh and the scripts
#
# A source suite is a Debian suite (its tree, its dracut, its toolchain) whose systemd and udev
# are replaced by a build of a checksummed source tarball from $SDCOMPAT_VM_SOURCES (default
# /work/shared/sources; never downloaded). For RHEL 7 (systemd 219):
#   rhel-7.7, rhel-7.8, rhel-7.9   bullseye + systemd-rhel-7.X, with /etc/os-release,
#                                  /etc/redhat-release and, in the image, /etc/initrd-release as
#                                  RHEL 7 writes them
#   rhel-7.8-rebranded             the same 7.8 build with none of those facts: the os-release of
#                                  a cloud vendor's rebuild, no redhat-release (sdcompat's
#                                  "unknown" path)
#
# Cache ($VM_CACHE):
#   src/buildroot-bullseye-KEY/    bullseye with the build dependencies (scripts/mkchroot)
#   src/systemd-TREE-KEY/          the install (make install DESTDIR) of one tree; KEY covers the
#                                  tarball's checksum, the patches, the flags and the build root
# The suite's root tree is roots/KEY like any other: bullseye's tree (the same mmdebstrap recipe)
# with Debian's systemd/udev files removed and the build installed over it.
VM_SOURCES=${SDCOMPAT_VM_SOURCES:-/work/shared/sources}
VM_SOURCE_SUITES=(rhel-7.7 rhel-7.8 rhel-7.9 rhel-7.8-rebranded)
SRC_BASE_SUITE=bullseye
SRC_BUILD_PACKAGES=build-essential,autoconf,automake,libtool,intltool,gperf,pkg-config,m4,gettext,libcap-dev,libmount-dev,libblkid-dev,libkmod-dev,libgcrypt20-dev,libgpg-error-dev,python3
# Bump when src_buildroot or src_build changes what they make.
SRC_BUILD_RECIPE=1

source_suite() {
        local s
        for s in "${VM_SOURCE_SUITES[@]}"; do [ "$s" = "$1" ] && return 0; done
        return 1
}

# The bullseye build root: sets SRC_BUILDROOT.
src_buildroot() {
        local key log
        key=$(recipe_hash "$SRC_BASE_SUITE" "$SRC_BUILD_PACKAGES" "$(file_hash "$REPO_DIR/scripts/mkchroot")")
        SRC_BUILDROOT=$VM_CACHE/src/buildroot-$SRC_BASE_SUITE-$key
        [ -e "$SRC_BUILDROOT.done" ] && return 0
        mkdir -p "$VM_CACHE/src" "$VM_CACHE/logs"
        log=$VM_CACHE/logs/mkchroot-buildroot-$SRC_BASE_SUITE.log
        (
                flock 9
                [ -e "$SRC_BUILDROOT.done" ] && exit 0
                rm -rf "$SRC_BUILDROOT.tmp"
                note "building the $SRC_BASE_SUITE build root in $SRC_BUILDROOT (mmdebstrap)"
                "$REPO_DIR/scripts/mkchroot" "$SRC_BASE_SUITE" "$SRC_BUILDROOT.tmp" --variant=apt --quiet \
                        --include="$SRC_BUILD_PACKAGES" > "$log" 2>&1 ||
                        { tail -n 30 "$log" >&2; die "mkchroot $SRC_BASE_SUITE (build root) failed"; }
                rm -rf "$SRC_BUILDROOT.tmp/var/cache/apt/archives"/*.deb
                mv "$SRC_BUILDROOT.tmp" "$SRC_BUILDROOT"
                touch "$SRC_BUILDROOT.done"
        ) 9> "$VM_CACHE/src/.lock.buildroot"
        [ -e "$SRC_BUILDROOT.done" ] || die "building the build root failed"
}

# The source tree behind a source suite: "rhel-7.8-rebranded" is built from rhel-7.8.
src_tree_of() {
        case $1 in
        rhel-7.7|rhel-7.8|rhel-7.9) echo "$1" ;;
        rhel-7.8-rebranded) echo rhel-7.8 ;;
        *) return 1 ;;
        esac
}

# configure flags of the RHEL 7 build: what RHEL enables and a Debian chroot cannot (SELinux,
# gcrypt, audit, ...) is off, and so is every component a boot to multi-user.target does not run
# (logind, networkd, timesyncd, ...): their units are then not installed either. /usr is merged, as
# on RHEL 7.
SRC_CONFIGURE_FLAGS="--prefix=/usr --sysconfdir=/etc --localstatedir=/var \
--with-rootprefix=/usr --with-rootlibdir=/usr/lib/x86_64-linux-gnu --libdir=/usr/lib/x86_64-linux-gnu \
--disable-manpages --disable-selinux --disable-gcrypt --disable-python-devel --disable-kdbus \
--disable-terminal --disable-gudev --disable-myhostname --disable-networkd --disable-importd \
--disable-resolved --disable-timesyncd --disable-machined --disable-hostnamed --disable-localed \
--disable-timedated --disable-logind --disable-polkit --disable-coredump --disable-efi \
--disable-backlight --disable-rfkill --disable-vconsole --disable-readahead --disable-bootchart \
--disable-quotacheck --disable-sysusers --disable-firstboot --disable-randomseed --disable-binfmt \
--disable-hwdb --disable-hibernate --disable-utmp --disable-tests --disable-ldconfig \
--without-python --with-sysvinit-path= --with-sysvrcnd-path="
# -O1, not RHEL's -O2: the build is on a shared 2-core host (a full -O2 build took hours there).
SRC_CFLAGS="-O1 -fcommon -Wno-error"
SRC_CPPFLAGS="-include sys/sysmacros.h"
# What is built and installed: the programs a boot through dracut's image into multi-user.target
# runs, given to make as the automake program lists (so `make install` installs exactly these).
# Everything else (nspawn, analyze, the udev helpers, libsystemd.so, libudev.so, ...) is not built:
# the tree keeps Debian's libsystemd0 and libudev1 for the programs that link them.
SRC_MAKE_VARS=(
        "rootlibexec_PROGRAMS=systemd systemd-cgroups-agent systemd-shutdown systemd-shutdownd systemd-initctl \
systemd-remount-fs systemd-reply-password systemd-fsck systemd-machine-id-commit systemd-sysctl \
systemd-update-done systemd-journald systemd-modules-load systemd-udevd"
        "rootbin_PROGRAMS=systemctl systemd-notify systemd-ask-password systemd-tty-ask-password-agent \
systemd-machine-id-setup systemd-escape journalctl udevadm systemd-tmpfiles"
        "systemgenerator_PROGRAMS=systemd-getty-generator systemd-fstab-generator \
systemd-system-update-generator systemd-debug-generator"
        "bin_PROGRAMS=" "udevlibexec_PROGRAMS=" "noinst_PROGRAMS=" "lib_LTLIBRARIES=" "pkgconfiglib_DATA="
        "pamlib_LTLIBRARIES=" "pkgpyexec_LTLIBRARIES="
)

# Builds systemd from the tarball of TREE (rhel-7.7, ...) and installs it into a directory: sets
# SRC_INSTALL. The tarball's SHA-256 must be the one SHA256SUMS lists; nothing is downloaded.
src_build() {
        local tree=$1 tarball sums want have key log patches
        tarball=$VM_SOURCES/systemd-$tree.tar.xz
        sums=$VM_SOURCES/SHA256SUMS
        [ -r "$tarball" ] || die "no source tarball $tarball"
        [ -r "$sums" ] || die "no $sums to verify $tarball against"
        want=$(awk -v f="systemd-$tree.tar.xz" '$2 == f || $2 == "*" f { print $1 }' "$sums")
        [ -n "$want" ] || die "$sums does not list systemd-$tree.tar.xz"
        have=$(sha256sum "$tarball" | cut -d' ' -f1)
        [ "$have" = "$want" ] || die "systemd-$tree.tar.xz: SHA-256 $have, but $sums says $want"
        src_buildroot
        patches=("$VM_DIR"/patches/rhel7/*.patch)
        key=$(recipe_hash "$want" "$SRC_BUILD_RECIPE" "$SRC_CONFIGURE_FLAGS" "$SRC_CFLAGS" "$SRC_CPPFLAGS" "${SRC_MAKE_VARS[@]}" \
                "$(file_hash "${patches[@]}")" "${SRC_BUILDROOT##*/}")
        SRC_INSTALL=$VM_CACHE/src/systemd-$tree-$key
        [ -e "$SRC_INSTALL.done" ] && return 0
        log=$VM_CACHE/logs/build-systemd-$tree-$key.log
        (
                flock 9
                [ -e "$SRC_INSTALL.done" ] && exit 0
                note "building systemd from $tarball (log: $log)"
                rm -rf "$SRC_INSTALL.tmp"
                # An interrupted build of the same recipe (the key file says which) resumes where
                # it stopped: on a loaded 2-core host one tree takes hours, and make only redoes
                # what is missing. Any other key, or none, starts from the tarball again.
                if [ "$(cat "$SRC_BUILDROOT/build/$tree.key" 2>/dev/null)" = "$key" ] &&
                        [ -e "$SRC_BUILDROOT/build/$tree/Makefile" ]; then
                        note "resuming the interrupted build in $SRC_BUILDROOT/build/$tree"
                else
                        rm -rf "$SRC_BUILDROOT/build/$tree" "$SRC_BUILDROOT/build/$tree.key"
                        mkdir -p "$SRC_BUILDROOT/build/$tree"
                        tar -xJf "$tarball" -C "$SRC_BUILDROOT/build/$tree" --strip-components=1
                        for p in "${patches[@]}"; do
                                patch -d "$SRC_BUILDROOT/build/$tree" -p1 < "$p" >> "$log" 2>&1 ||
                                        die "patch $p does not apply to $tree"
                        done
                        # Left out of the tarballs (sources README): only libsystemd-terminal reads it.
                        touch "$SRC_BUILDROOT/build/$tree/src/libsystemd-terminal/unifont.hex"
                        echo "$key" > "$SRC_BUILDROOT/build/$tree.key"
                fi
                unshare --mount --propagation private -- /bin/sh -euc '
                        t=$1; shift
                        mount -t proc proc "$t/proc"
                        exec chroot "$t" /bin/bash -euc "$@"' sh "$SRC_BUILDROOT" '
                        tree=$1 cflags=$2 conf=$3 cppflags=$4
                        shift 4
                        cd /build/$tree
                        if [ ! -e Makefile ]; then
                                ./autogen.sh
                                ./configure CFLAGS="$cflags" $conf
                        fi
                        nice -n 10 make -j2 CPPFLAGS="$cppflags" "$@"
                        rm -rf /build/$tree.dest
                        make install DESTDIR=/build/$tree.dest CPPFLAGS="$cppflags" "$@"' sh \
                        "$tree" "$SRC_CFLAGS" "$SRC_CONFIGURE_FLAGS" "$SRC_CPPFLAGS" "${SRC_MAKE_VARS[@]}" \
                        >> "$log" 2>&1 || { tail -n 40 "$log" >&2; die "building systemd $tree failed (log: $log)"; }
                mv "$SRC_BUILDROOT/build/$tree.dest" "$SRC_INSTALL.tmp"
                rm -rf "$SRC_BUILDROOT/build/$tree" "$SRC_BUILDROOT/build/$tree.key"
                # What the tree keeps of Debian: libsystemd0 and libudev1 (other packages link them;
                # 219's own programs link their internal libraries statically), headers, docs.
                (cd "$SRC_INSTALL.tmp" && rm -rf usr/include usr/share/doc usr/share/man \
                        usr/lib/x86_64-linux-gnu/libsystemd.* usr/lib/x86_64-linux-gnu/libudev.* \
                        usr/lib/x86_64-linux-gnu/libnss_* usr/lib/x86_64-linux-gnu/pkgconfig \
                        usr/lib/x86_64-linux-gnu/security usr/share/pkgconfig)
                mv "$SRC_INSTALL.tmp" "$SRC_INSTALL"
                touch "$SRC_INSTALL.done"
        ) 9> "$VM_CACHE/src/.lock.build-$tree"
        [ -e "$SRC_INSTALL.done" ] || die "building systemd $tree failed"
}

# What real RHEL 7 roots carry: os-release (a regular file in /etc, none in /usr/lib) and
# redhat-release (system-release links to it). The rebranded variant carries the os-release of a
# cloud vendor's rebuild instead, and no redhat-release: nothing that names RHEL or its release.
src_os_files() {
        local suite=$1 t=$2 minor
        rm -f "$t/etc/os-release" "$t/usr/lib/os-release" "$t/etc/redhat-release" "$t/etc/system-release"
        case $suite in
        rhel-7.[0-9])
                minor=${suite#rhel-}
                cat > "$t/etc/os-release" <<OSR
NAME="Red Hat Enterprise Linux Server"
VERSION="$minor (Maipo)"
ID="rhel"
ID_LIKE="fedora"
VARIANT="Server"
VARIANT_ID="server"
VERSION_ID="$minor"
PRETTY_NAME="Red Hat Enterprise Linux Server $minor (Maipo)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:$minor:GA:server"
HOME_URL="https://www.redhat.com/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 7"
REDHAT_BUGZILLA_PRODUCT_VERSION=$minor
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="$minor"
OSR
                echo "Red Hat Enterprise Linux Server release $minor (Maipo)" > "$t/etc/redhat-release"
                ln -s redhat-release "$t/etc/system-release"
                ;;
        *-rebranded)
                cat > "$t/etc/os-release" <<'OSR'
NAME="Example Cloud OS"
VERSION="2 (Nimbus)"
ID="examplecloud"
VERSION_ID="2"
PRETTY_NAME="Example Cloud OS 2 (Nimbus)"
HOME_URL="https://cloud.example.com/os/"
OSR
                ;;
        esac
}

# The initramfs's /etc/initrd-release as RHEL 7's dracut (033) writes it: NAME and ID "dracut", the
# host's VERSION and PRETTY_NAME with " dracut-VERSION" appended (modules.d/99base). Bullseye's
# dracut 051 writes its own form from the same os-release; the image gets RHEL's instead (its
# os-release links to it). The dracut releases are those of RHEL 7.7/7.8/7.9 as far as known here
# (the RPMs are not available to check): 033-564.el7, 033-568.el7, 033-572.el7.
src_initrd_files() {
        local suite=$1 stage=$2 minor dver
        case $suite in
        rhel-7.[0-9]) minor=${suite#rhel-} ;;
        *) return 0 ;;
        esac
        case $minor in
        7.7) dver=033-564.el7 ;;
        7.8) dver=033-568.el7 ;;
        *) dver=033-572.el7 ;;
        esac
        mkdir -p "$stage/etc"
        cat > "$stage/etc/initrd-release" <<IRR
NAME="dracut"
VERSION="$minor (Maipo) dracut-$dver"
ID=dracut
VERSION_ID=$dver
PRETTY_NAME="Red Hat Enterprise Linux Server $minor (Maipo) dracut-$dver (Initramfs)"
ANSI_COLOR="0;34"
IRR
}

# Bump when src_root_build changes what a source suite's tree holds.
SRC_ROOT_RECIPE=2

# root_setup for a source suite: sets ROOT_TREE, ROOT_DISK, ROOT_KEY and ROOT_SYSTEMD like root_setup.
src_root_setup() {
        local suite=$1 tree key gkey base_tree base_key
        tree=$(src_tree_of "$suite") || die "unknown source suite $suite"
        src_build "$tree"
        root_setup "$SRC_BASE_SUITE"
        base_tree=$ROOT_TREE base_key=$ROOT_KEY
        key=$(recipe_hash "$base_key" "${SRC_INSTALL##*/}" "$SRC_ROOT_RECIPE" "$suite")
        gkey=$(recipe_hash "$ROOT_CUSTOM_RECIPE" "$(file_hash "${ROOT_GUEST_FILES[@]}")")
        ROOT_SYSTEMD="219($tree)"
        ROOT_KEY=$suite-$key
        ROOT_TREE=$VM_CACHE/roots/$ROOT_KEY
        ROOT_DISK=$VM_CACHE/disks/$ROOT_KEY-$gkey.img
        [ -e "$ROOT_TREE.done" ] && [ -e "$ROOT_DISK" ] && return 0
        (
                flock 9
                if [ ! -e "$ROOT_TREE.done" ]; then
                        src_root_build "$suite" "$base_tree"
                fi
                if [ ! -e "$ROOT_DISK" ]; then
                        root_customize "$ROOT_TREE"
                        disk_build
                fi
        ) 9> "$VM_CACHE/roots/.lock.$suite"
        [ -e "$ROOT_TREE.done" ] && [ -e "$ROOT_DISK" ] || die "building the $suite root failed"
}

# bullseye's tree, Debian's systemd and udev files taken out (dpkg -L: files and links, not
# directories; libsystemd0 and libudev1 stay), the 219 build laid over it, dpkg's database
# replaced by an empty /var/lib/rpm as on an RPM system, and the release files of the suite.
src_root_build() {
        local suite=$1 base=$2 tmp=$ROOT_TREE.tmp start=$SECONDS
        note "building the $suite root in $ROOT_TREE (bullseye + systemd from ${SRC_INSTALL##*/})"
        rm -rf "$tmp"
        cp -a --reflink=auto "$base" "$tmp"
        # Directories, and the merged-/usr links to them (/bin, /lib, /sbin), are listed too: kept.
        chroot "$tmp" dpkg-query -L systemd udev > "$tmp.files"
        while read -r f; do
                [ -d "$tmp$f" ] && continue
                if [ -L "$tmp$f" ] || [ -e "$tmp$f" ]; then rm -f "$tmp$f"; fi
        done < "$tmp.files"
        rm -f "$tmp.files"
        cp -a "$SRC_INSTALL/." "$tmp/"
        { echo "# $suite: bullseye's packages, systemd and udev replaced by ${SRC_INSTALL##*/}"; cat "$base.versions"; } \
                > "$tmp.versions"
        rm -rf "$tmp/var/lib/dpkg"
        mkdir -p "$tmp/var/lib/rpm"
        src_os_files "$suite" "$tmp"
        # dracut finds udev's directory from pkg-config or from ata_id being there (dracut 051,
        # /usr/bin/dracut: "[[ -e .../usr/lib/udev/ata_id ]] && udevdir=/usr/lib/udev"). RHEL's
        # root has both; the trimmed build makes neither (the VM's disk is virtio: no rule on the
        # boot path runs ata_id or scsi_id), and without udevdir dracut skips every udev rule and
        # the image never finds its root (seen: "A start job is running for dev-disk...").
        mkdir -p "$tmp/etc/dracut.conf.d"
        echo "udevdir=/usr/lib/udev" > "$tmp/etc/dracut.conf.d/10-sdvm-udevdir.conf"
        rm -rf "$ROOT_TREE"
        mv "$tmp" "$ROOT_TREE"
        mv "$tmp.versions" "$ROOT_TREE.versions"
        touch "$ROOT_TREE.done"
        note "$suite root built in $((SECONDS - start)) s"
}
