# shellcheck shell=bash
# Sourced by the packaging tests: a temp dir removed at exit, fail/skip, and what a /usr install
# (and so the .deb) holds. Nothing here installs on the machine itself.
set -euo pipefail

tmp="$(mktemp -d "${TMPDIR:-/tmp}/redis-sidecar-packaging.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

fail() { printf 'FAIL: %b\n' "$*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }  # ctest's SKIP_RETURN_CODE

# expect_line FILE LINE: FILE has LINE, whole.
expect_line() { grep -qxF -- "$2" "$1" || fail "$1 has no line '$2'"; }

# expect_files ROOT PATH...: the regular files under ROOT are exactly PATHs.
expect_files() {
    local root="$1"
    shift
    local want got
    want="$(printf '%s\n' "$@" | sort)"
    got="$(cd "$root" && find . -type f | sed 's|^\./||' | sort)"
    [[ "$got" == "$want" ]] || fail "files under $root:\n$got\nexpected:\n$want"
}

# The files of an install with prefix /usr, which is also what the .deb holds.
# shellcheck disable=SC2034 # used by the scripts that source this file
usr_layout=(
    usr/bin/redis-sidecar
    etc/redis-sidecar/redis-sidecar.conf
    lib/systemd/system/redis-sidecar.service
    usr/share/doc/redis-sidecar/README.md
)

# install_prefix BUILD PREFIX: cmake --install of the build tree into PREFIX.
install_prefix() {
    cmake --install "$1" --prefix "$2" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install --prefix $2"; }
}
