#!/usr/bin/env bash
# bench/run.sh's local phase, one short round, run from a copy of the script that is edited while
# it runs: the run must still end with its table. bash reads a script as it executes it, so an
# edit once cost a full run its results; run.sh is therefore one block that bash reads whole
# before running any of it. Skipped (77) when a tool the phase needs is missing.
#
#   bench_script.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build_dir="$1"
source_dir="$2"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/redis-sidecar-bench-script.XXXXXX")"
work=""
cleanup() { rm -rf "$tmp" ${work:+"$work"}; }
trap cleanup EXIT

fail() { printf 'FAIL: %b\n' "$*" >&2; exit 1; }
for tool in redis-server redis-cli redis-benchmark ss python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: no $tool"; exit 77; }
done
[[ -x "$build_dir/redis-sidecar" ]] || fail "no $build_dir/redis-sidecar"
[[ -x "$build_dir/bench/floor/floor-server" ]] || fail "no $build_dir/bench/floor/floor-server"

mkdir -p "$tmp/bench"
cp "$source_dir/bench/run.sh" "$tmp/bench/run.sh"
PHASES=local ROUNDS=1 SECS=0.2 TESTS=get SIZES=64 PIPES=16 CLIENTS=8 PIN=0 BUILD=0 \
    BUILD_DIR="$build_dir" RESULTS="$tmp/results.md" bash "$tmp/bench/run.sh" > "$tmp/log" 2>&1 &
pid=$!

# Once the local phase has begun, lines go in at the top: every later byte moves.
for _ in $(seq 1 600); do
    grep -q "local: direct=" "$tmp/log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
grep -q "local: direct=" "$tmp/log" || { wait "$pid" || true; fail "run.sh did not reach its local phase:\n$(tail -20 "$tmp/log")"; }
# Written into the same file, as an editor saving in place does (sed -i would make a new file and
# leave the one bash has open as it was).
{ head -n 1 "$tmp/bench/run.sh"
  echo "# a line put in while the script runs"
  echo "# and a second one, so that every later byte moves"
  tail -n +2 "$tmp/bench/run.sh"; } > "$tmp/edited"
cat "$tmp/edited" > "$tmp/bench/run.sh"

status=0
wait "$pid" || status=$?
work="$(grep -o '/tmp/sidecar-bench\.[A-Za-z0-9]*' "$tmp/log" | head -1 || true)"
[[ "$status" == 0 ]] || fail "run.sh exited $status after its file was edited:\n$(tail -20 "$tmp/log")"
grep -q '^## 2. Local mode' "$tmp/results.md" || fail "no local-mode table in:\n$(cat "$tmp/results.md")"
grep -Eq '^get +64 +16 +[0-9]+ .*(ok|MISS)' "$tmp/results.md" || fail "no measured row in:\n$(cat "$tmp/results.md")"
# floor-server ran in the same rounds: its ratio to Redis direct (fl_x) is a number.
awk '$1 == "get" && $2 == 64 && $15 ~ /^[0-9]+\.[0-9]+$/ { found = 1 } END { exit !found }' "$tmp/results.md" \
    || fail "no floor-server figures (fl_x) in:\n$(cat "$tmp/results.md")"
echo "ok: run.sh finished its local phase after its file was edited"
grep -E '^(test|get) ' "$tmp/results.md"
