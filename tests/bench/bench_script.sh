#!/usr/bin/env bash
# bench/run.sh itself, one short round of its forward phase (when nutcracker is installed) and of
# its local phase, run from a copy of bench/ whose scripts are edited while it runs: the run must
# still end with its tables. bash reads a script as it executes it, so an edit once cost a full run
# its results; run.sh is therefore one block that bash reads whole before running any of it, and
# sources its lib/ files (which bash reads whole) at the start. Also: nothing in bench/ names a
# path outside the repository other than system ones, so that a fresh clone runs it as it is.
# Skipped (77) when a tool the local phase needs is missing.
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

# Absolute paths in bench/'s scripts: system ones only (a path of this machine outside the
# repository would not exist in a fresh clone). A slash right after a word, a closing quote or a
# glob continues a relative path ("$WORK"/data-*), not an absolute one.
outside="$(grep -HnoP '(?<![A-Za-z0-9_.$}*>])(?<![A-Za-z0-9_}]")/[A-Za-z][A-Za-z0-9_./-]*' \
               "$source_dir"/bench/run.sh "$source_dir"/bench/lib/*.sh "$source_dir"/bench/*.py \
           | grep -vE '^[^:]*:[0-9]+:/(usr|proc|dev|tmp|sys|bin|etc)(/|$)' || true)"
[[ -z "$outside" ]] || fail "bench/ names paths outside the repository:\n$outside"

for tool in redis-server redis-cli redis-benchmark ss python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: no $tool"; exit 77; }
done
[[ -x "$build_dir/redis-sidecar" ]] || fail "no $build_dir/redis-sidecar"
[[ -x "$build_dir/bench/floor/floor-server" ]] || fail "no $build_dir/bench/floor/floor-server"
phases=local
if PATH="$PATH:/usr/sbin" command -v nutcracker >/dev/null; then phases="forward local"; fi

mkdir -p "$tmp/bench"
cp -r "$source_dir/bench/run.sh" "$source_dir/bench/lib" "$tmp/bench/"
PHASES="$phases" ROUNDS=1 SECS=0.2 TESTS=get SIZES=64 PIPES=16 CLIENTS=8 PIN=0 BUILD=0 \
    SIDECAR_VARIANTS="delay25:--upstream-batch-delay 25" \
    BUILD_DIR="$build_dir" RESULTS="$tmp/results.md" bash "$tmp/bench/run.sh" > "$tmp/log" 2>&1 &
pid=$!

# Once the first phase has begun, lines go in at the top of every script: every later byte moves.
for _ in $(seq 1 600); do
    grep -qE "(forward|local): direct=" "$tmp/log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
grep -qE "(forward|local): direct=" "$tmp/log" || { wait "$pid" || true; fail "run.sh did not reach its first phase:\n$(tail -20 "$tmp/log")"; }
# Written into the same file, as an editor saving in place does (sed -i would make a new file and
# leave the one bash has open as it was).
for script in "$tmp/bench/run.sh" "$tmp"/bench/lib/*.sh; do
    { head -n 1 "$script"
      echo "# a line put in while the script runs"
      echo "# and a second one, so that every later byte moves"
      tail -n +2 "$script"; } > "$tmp/edited"
    cat "$tmp/edited" > "$script"
done

status=0
wait "$pid" || status=$?
work="$(grep -o '/tmp/sidecar-bench\.[A-Za-z0-9]*' "$tmp/log" | head -1 || true)"
[[ "$status" == 0 ]] || fail "run.sh exited $status after its files were edited:\n$(tail -20 "$tmp/log")"
results="$(cat "$tmp/results.md")"

if [[ "$phases" == "forward local" ]]; then
    grep -q '^## 1. Forwarding' "$tmp/results.md" || fail "no forwarding table in:\n$results"
    # Every target measured, each proxy with Redis's CPU and its own (redisus, proxyus), Redis direct
    # with its own only.
    for target in direct twemproxy twem_tuned sidecar delay25; do
        awk -v t="$target" '$1 == "get" && $2 == 64 && $3 == 16 && $4 == t && $5 ~ /^[0-9]+$/ &&
                            $10 ~ /^[0-9]+\.[0-9]+$/ && ($11 ~ /^[0-9]+\.[0-9]+$/ || (t == "direct" && $11 == "-")) \
                            { found = 1 } END { exit !found }' "$tmp/results.md" \
            || fail "no measured forwarding row for $target in:\n$results"
    done
    # The targets checked: the sidecar against Redis direct and both twemproxies.
    awk '$1 == "get" && $2 == 64 && $3 == 16 && $4 ~ /^[0-9]+\.[0-9]+$/ && $9 ~ /^[0-9]+\.[0-9]+$/ &&
         $10 ~ /^[0-9]+\.[0-9]+$/ && $12 ~ /^(ok|MISS)/ { found = 1 } END { exit !found }' "$tmp/results.md" \
        || fail "no targets check of the forwarding row in:\n$results"
    grep -q 'requests_forwarded=[1-9]' "$tmp/results.md" || fail "the sidecar forwarded nothing:\n$results"
fi
grep -q '^## 2. Local mode' "$tmp/results.md" || fail "no local-mode table in:\n$results"
grep -Eq '^get +64 +16 +[0-9]+ .*(ok|MISS)' "$tmp/results.md" || fail "no measured row in:\n$results"
# floor-server ran in the same rounds: its ratio to Redis direct (fl_x) is a number.
awk '$1 == "get" && $2 == 64 && $15 ~ /^[0-9]+\.[0-9]+$/ { found = 1 } END { exit !found }' "$tmp/results.md" \
    || fail "no floor-server figures (fl_x) in:\n$results"
echo "ok: run.sh finished its phases ($phases) after its files were edited"
grep -E '^(test|get) ' "$tmp/results.md"
