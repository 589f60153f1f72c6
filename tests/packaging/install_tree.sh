#!/usr/bin/env bash
# cmake --install puts the binary, the config file, the systemd unit and the README where the
# prefix given at install time says, and the unit's paths follow them.
#   install_tree.sh BUILD_DIR SOURCE_DIR VERSION
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build="$1" source_dir="$2" version="$3"

# Any prefix: everything under it.
prefix="$tmp/prefix"
install_prefix "$build" "$prefix"
expect_files "$prefix" bin/redis-sidecar etc/redis-sidecar/redis-sidecar.conf lib/systemd/system/redis-sidecar.service \
    share/doc/redis-sidecar/README.md
unit="$prefix/lib/systemd/system/redis-sidecar.service"
expect_line "$unit" "ExecStart=$prefix/bin/redis-sidecar --config $prefix/etc/redis-sidecar/redis-sidecar.conf"
expect_line "$unit" "Documentation=file:$prefix/share/doc/redis-sidecar/README.md"
cmp "$prefix/etc/redis-sidecar/redis-sidecar.conf" "$source_dir/conf/redis-sidecar.conf" || fail "installed conf differs"
[[ "$("$prefix/bin/redis-sidecar" --version)" == "redis-sidecar $version" ]] || fail "installed binary --version"

# Prefix /usr (staged with DESTDIR, as a package build does): /etc, /lib/systemd/system, and the
# unit exactly as it is in the tree.
DESTDIR="$tmp/root" install_prefix "$build" /usr
expect_files "$tmp/root" "${usr_layout[@]}"
cmp "$tmp/root/lib/systemd/system/redis-sidecar.service" "$source_dir/systemd/redis-sidecar.service" ||
    fail "the unit installed with prefix /usr differs from systemd/redis-sidecar.service"
echo "packaging_install: ok ($prefix and DESTDIR + /usr)"
