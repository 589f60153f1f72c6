#!/usr/bin/env bash
# The systemd unit, installed from this build tree into a temp prefix (so ExecStart names the
# built binary): `systemd-analyze verify` has nothing to say about it, and
# `systemd-analyze security` rates its exposure at most THRESHOLD tenths (11: 1.1).
#   systemd_unit.sh BUILD_DIR THRESHOLD
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build="$1" threshold="$2"
command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze not found (package systemd)"

prefix="$tmp/prefix"
install_prefix "$build" "$prefix"
unit="$prefix/lib/systemd/system/redis-sidecar.service"

verify="$(systemd-analyze verify "$unit" 2>&1)" || fail "systemd-analyze verify $unit:\n$verify"
[[ -z "$verify" ]] || fail "systemd-analyze verify warns:\n$verify"
echo "systemd-analyze verify: ok"

status=0
systemd-analyze security --offline=true --threshold="$threshold" "$unit" >"$tmp/security.log" 2>&1 || status=$?
grep -E '✗' "$tmp/security.log" || true
grep -F 'Overall exposure level' "$tmp/security.log" || { cat "$tmp/security.log"; fail "no exposure level"; }
[[ "$status" == 0 ]] || fail "exposure above the threshold ($threshold tenths): a hardening setting was lost?"
