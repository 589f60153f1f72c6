#!/usr/bin/env bash
# The Debian package, built with cpack from this build tree into a temp dir and inspected with
# dpkg-deb (never installed): name, version, dependencies found by dpkg-shlibdeps, files, the
# conffile, the maintainer scripts.
#   deb.sh BUILD_DIR SOURCE_DIR VERSION
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build="$1" source_dir="$2" version="$3"
for tool in cpack dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (packages cmake, dpkg-dev)"
done

cpack -G DEB -B "$tmp/out" --config "$build/CPackConfig.cmake" >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; fail "cpack"; }
deb="$tmp/out/redis-sidecar_${version}_$(dpkg --print-architecture).deb"
[[ -f "$deb" ]] || fail "no $deb:\n$(ls "$tmp/out")"
dpkg-deb -I "$deb"

field() { dpkg-deb -f "$deb" "$1"; }
[[ "$(field Package)" == redis-sidecar ]] || fail "Package: $(field Package)"
[[ "$(field Version)" == "$version" ]] || fail "Version: $(field Version)"
[[ -n "$(field Maintainer)" && -n "$(field Description)" ]] || fail "no Maintainer or Description"
depends="$(field Depends)"
for dependency in adduser libc6 'libstdc++6' libboost-program-options; do  # dpkg-shlibdeps' finds
    [[ "$depends" == *"$dependency"* ]] || fail "Depends lacks $dependency: $depends"
done

listing="$(dpkg-deb -c "$deb")"
grep -qE '^-rwxr-xr-x root/root .* \./usr/bin/redis-sidecar$' <<<"$listing" || fail "binary not 0755 root:root:\n$listing"
dpkg-deb -x "$deb" "$tmp/root"
expect_files "$tmp/root" "${usr_layout[@]}"
cmp "$tmp/root/lib/systemd/system/redis-sidecar.service" "$source_dir/systemd/redis-sidecar.service" ||
    fail "the packaged unit differs from systemd/redis-sidecar.service"
[[ "$("$tmp/root/usr/bin/redis-sidecar" --version)" == "redis-sidecar $version" ]] || fail "packaged binary --version"

dpkg-deb -e "$deb" "$tmp/control"
[[ "$(cat "$tmp/control/conffiles")" == /etc/redis-sidecar/redis-sidecar.conf ]] || fail "conffiles: $(cat "$tmp/control/conffiles")"
for script in postinst prerm postrm; do
    [[ -x "$tmp/control/$script" ]] || fail "no executable $script"
    sh -n "$tmp/control/$script" || fail "$script: syntax"
done
grep -q 'adduser --quiet --system --group' "$tmp/control/postinst" || fail "postinst does not create the user"
grep -q 'deb-systemd-invoke stop' "$tmp/control/prerm" || fail "prerm does not stop the service"
echo "packaging_deb: ok ($(basename "$deb"), $(stat -c %s "$deb") bytes)"
