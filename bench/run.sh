#!/usr/bin/env bash
# bench/run.sh — the sidecar's performance tables in one command (see bench/README.md).
#
#   bench/run.sh                         # build Release, run all three phases, write bench/results/latest.md
#   ROUNDS=1 SECS=0.5 bench/run.sh       # a quick trial
#
# Phases (PHASES="forward local scale", any subset, in that order):
#   forward  Redis up: Redis direct vs twemproxy (Debian defaults, and tuned) vs the sidecar, all in
#            front of the same Redis, all started by this script (bench/lib/phase_forward.sh)
#   local    Redis down: the sidecar answering from its local store vs a Redis direct, and
#            floor-server (bench/floor): what any server that sleeps when idle gets here
#   scale    Redis up: 10,000 idle connections (sidecar RSS), then 1,000 active clients vs 50
#
# Env knobs (defaults):
#   BUILD=1  BUILD_DIR=<repo>/build   0: use the existing $BUILD_DIR/redis-sidecar as it is
#   ROUNDS=5 SECS=1.5 CLIENTS=50      measured rounds (+1 calibration round), seconds per run, clients
#   PIPES="1 16" SIZES="64 1024" TESTS="set get incr" (incr only at the first size)
#   PIN=1 SERVER_CPUS=0 BENCH_CPUS=1  taskset: servers (redis, proxies, sidecar) / redis-benchmark
#   SIDECAR_ARGS=""                   extra sidecar flags for every phase (e.g. "--threads 2")
#   SIDECAR_VARIANTS=""               forward phase: more sidecars in the same rounds, unchecked, as
#                                     "name[@binary]:flags;..." (e.g. "delay25:--upstream-batch-delay 25",
#                                     or "before@/tmp/old/build/redis-sidecar:" for another build)
#   NC_ARGS=""                        flags of "twemproxy" (empty: the package's defaults)
#   NC_TUNED_ARGS="-v 4 -m 1024"      flags of "twem_tuned"; NC_TUNED=0 leaves that target out
#   NC_SERVER_CONNS=1                 twemproxy's server_connections (1, its default: one connection)
#   MODE=bench                        forward phase: bench (the tables), instr (user-space instructions
#                                     per request under valgrind cachegrind instead), both
#   INSTR_TESTS="get set incr" INSTR_PIPES="16 1" INSTR_N=100000 INSTR_N_P1=20000   MODE=instr's grid
#   FLOOR=1                           0: leave floor-server out of the local phase
#   IDLE_CONNS=10000 ACTIVE_CLIENTS=1000  scale phase sizes
#   SCALE_TESTS="set get" SCALE_PIPES="16 1" SCALE_SIZE=64
#   KEEP_IDLE=0                       1: keep the idle connections open during the active runs
#   STRICT=0                          1: exit 3 when a performance target is missed
#   RESULTS=bench/results/latest.md   where the tables go
# Needs: redis-server redis-tools nutcracker iproute2 util-linux cmake python3 (Debian packages),
# valgrind for MODE=instr.
# Exit status: 0 ok, 1 a step failed (build, a server did not start, a benchmark run failed),
# 2 missing tool or bad knob, 3 (STRICT=1 only) a target was missed. Raw data and logs stay in
# $WORK (printed).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# The whole script is one block, so bash reads all of it before running any, and the files it
# sources are read whole when sourced, at the start: editing them while a run goes on cannot change
# what that run executes.
{

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-1}; BUILD_DIR=${BUILD_DIR:-$ROOT/build}
ROUNDS=${ROUNDS:-5}; SECS=${SECS:-1.5}; CLIENTS=${CLIENTS:-50}
PIPES=${PIPES:-"1 16"}; SIZES=${SIZES:-"64 1024"}; TESTS=${TESTS:-"set get incr"}
PIN=${PIN:-1}; SERVER_CPUS=${SERVER_CPUS:-0}; BENCH_CPUS=${BENCH_CPUS:-1}
SIDECAR_ARGS=${SIDECAR_ARGS:-}
SIDECAR_VARIANTS=${SIDECAR_VARIANTS:-}
NC_ARGS=${NC_ARGS:-}; NC_TUNED_ARGS=${NC_TUNED_ARGS:-"-v 4 -m 1024"}; NC_TUNED=${NC_TUNED:-1}
NC_SERVER_CONNS=${NC_SERVER_CONNS:-1}
MODE=${MODE:-bench}
INSTR_TESTS=${INSTR_TESTS:-"get set incr"}; INSTR_PIPES=${INSTR_PIPES:-"16 1"}
INSTR_N=${INSTR_N:-100000}; INSTR_N_P1=${INSTR_N_P1:-20000}
FLOOR=${FLOOR:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}; ACTIVE_CLIENTS=${ACTIVE_CLIENTS:-1000}
SCALE_TESTS=${SCALE_TESTS:-"set get"}; SCALE_PIPES=${SCALE_PIPES:-"16 1"}; SCALE_SIZE=${SCALE_SIZE:-64}
KEEP_IDLE=${KEEP_IDLE:-0}; STRICT=${STRICT:-0}
PHASES=${PHASES:-"forward local scale"}
RESULTS=${RESULTS:-$HERE/results/latest.md}
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin   # Debian installs nutcracker there

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ && !index($0, "shellcheck") { print; next } NR > 1 { exit }' "$0"; exit 0;; esac
bad_knob() { echo "run.sh: $*" >&2; exit 2; }
for ph in $PHASES; do [[ "$ph" =~ ^(forward|local|scale)$ ]] || bad_knob "unknown phase '$ph' in PHASES (forward|local|scale)"; done
[[ "$MODE" =~ ^(bench|instr|both)$ ]] || bad_knob "MODE must be bench, instr or both, not '$MODE'"
for knob in ROUNDS CLIENTS INSTR_N INSTR_N_P1 IDLE_CONNS ACTIVE_CLIENTS SCALE_SIZE NC_SERVER_CONNS; do
  [[ "${!knob}" =~ ^[1-9][0-9]*$ ]] || bad_knob "$knob must be a positive integer, not '${!knob}'"
done
[[ "$SECS" =~ ^[0-9]*\.?[0-9]+$ ]] || bad_knob "SECS must be a number of seconds, not '$SECS'"
# Only the tools the chosen phases need.
TOOLS=(redis-server redis-cli redis-benchmark ss "$PY")
[[ " $PHASES " == *" forward "* ]] && TOOLS+=(nutcracker)
[[ " $PHASES " == *" forward "* && "$MODE" != bench ]] && TOOLS+=(valgrind)
[[ "$PIN" == 1 ]] && TOOLS+=(taskset)
[[ "$BUILD" == 1 ]] && TOOLS+=(cmake)
for b in "${TOOLS[@]}"; do
  command -v "$b" >/dev/null || { echo "missing $b (apt-get install -y redis-server redis-tools nutcracker iproute2 util-linux cmake python3 valgrind)" >&2; exit 2; }
done
[[ -n "$(redis-benchmark --help 2>&1 | grep -e '--csv' || true)" ]] || { echo "redis-benchmark without --csv" >&2; exit 2; }

WORK=$(mktemp -d /tmp/sidecar-bench.XXXXXX)
BIN="$BUILD_DIR/redis-sidecar"
FLOOR_BIN="$BUILD_DIR/bench/floor/floor-server"
# shellcheck source=lib/harness.sh
source "$HERE/lib/harness.sh"
# shellcheck source=lib/phase_forward.sh
source "$HERE/lib/phase_forward.sh"
# shellcheck source=lib/phase_local.sh
source "$HERE/lib/phase_local.sh"
# shellcheck source=lib/phase_scale.sh
source "$HERE/lib/phase_scale.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM
[[ " $PHASES " != *" forward "* ]] || forward_targets   # SIDECAR_VARIANTS checked before the build

# ---------------------------------------------------------------- build
if [[ "$BUILD" == 1 ]]; then
  log "building Release into $BUILD_DIR"
  launcher=()  # rebuilds of an unchanged tree cost next to nothing with ccache
  command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" > "$WORK/cmake-configure.log" 2>&1 \
    || { tail -30 "$WORK/cmake-configure.log" >&2; die "cmake configure failed"; }
  cmake --build "$BUILD_DIR" -j2 --target redis-sidecar floor-server > "$WORK/cmake-build.log" 2>&1 \
    || { tail -40 "$WORK/cmake-build.log" >&2; die "build failed"; }
fi
[[ -x "$BIN" ]] || die "no $BIN (BUILD=0 needs an existing build)"
[[ "$FLOOR" != 1 || " $PHASES " != *" local "* || -x "$FLOOR_BIN" ]] || die "no $FLOOR_BIN (build it, or FLOOR=0)"

# enough descriptors for IDLE_CONNS + ACTIVE_CLIENTS in one process (sidecar) and in the client
NEED_FDS=$(( IDLE_CONNS + ACTIVE_CLIENTS + 1024 ))
if (( $(ulimit -n) < NEED_FDS )); then
  ulimit -n "$NEED_FDS" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

for ph in $PHASES; do
  case "$ph" in
    forward) phase_forward ;;
    local) phase_local ;;
    scale) phase_scale ;;
  esac
done

# ---------------------------------------------------------------- results
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n "$(git -C "$ROOT" --no-optional-locks status --porcelain 2>/dev/null)" ]] && COMMIT+="-dirty"
VERSIONS=$(redis-server --version | cut -d' ' -f1-3)
command -v nutcracker > /dev/null && VERSIONS+="; $(nutcracker --version 2>&1 | head -1)"
mkdir -p "$(dirname "$RESULTS")"
{ echo "# redis-sidecar benchmark results"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- commit: $COMMIT"
  echo "- uname: $(uname -a)"
  echo "- nproc: $(nproc); CPU: $(lscpu 2>/dev/null | awk -F: '/^Model name/{gsub(/^[ \t]+/, "", $2); print $2; exit}')"
  echo "- knobs: ROUNDS=$ROUNDS SECS=$SECS CLIENTS=$CLIENTS PIPES=\"$PIPES\" SIZES=\"$SIZES\" PIN=$PIN" \
       "(servers cpu $SERVER_CPUS, redis-benchmark cpu $BENCH_CPUS) SIDECAR_ARGS=\"$SIDECAR_ARGS\"" \
       "SIDECAR_VARIANTS=\"$SIDECAR_VARIANTS\" MODE=$MODE" \
       "IDLE_CONNS=$IDLE_CONNS ACTIVE_CLIENTS=$ACTIVE_CLIENTS KEEP_IDLE=$KEEP_IDLE"
  echo "- $VERSIONS"
  echo "- phases: $PHASES; targets missed: $MISSED; failed runs: $FAILED_RUNS; raw data: $WORK"
  cat "$SECTIONS"; } > "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
echo
cat "$RESULTS"
log "wrote $RESULTS (total $(( $(date +%s) - T0 ))s)"
((FAILED_RUNS == 0)) || die "$FAILED_RUNS benchmark run(s) failed"
if [[ "$STRICT" == 1 ]] && ((MISSED > 0)); then echo "run.sh: $MISSED target(s) missed" >&2; exit 3; fi
exit 0
}
