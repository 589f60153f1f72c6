#!/usr/bin/env bash
# bench/run.sh — the sidecar's performance tables in one command (see bench/README.md).
#
#   bench/run.sh                         # build Release, run all three phases, write bench/results/latest.md
#   ROUNDS=1 SECS=0.5 bench/run.sh       # a quick trial
#
# Phases (PHASES="forward local scale", any subset, in that order):
#   forward  /work/shared/tools/bench-peers.sh with the sidecar as extra target "sidecar":
#            Redis direct vs twemproxy (default, tuned) vs sidecar, all in front of the same Redis
#   local    Redis down: the sidecar answering from its local store vs a Redis direct, and
#            floor-server (bench/floor): what any server that sleeps when idle gets here
#   scale    Redis up: 10,000 idle connections (sidecar RSS), then 1,000 active clients vs 50
#
# Env knobs (defaults):
#   BUILD=1  BUILD_DIR=<repo>/build   0: use the existing $BUILD_DIR/redis-sidecar as it is
#   ROUNDS=5 SECS=1.5 CLIENTS=50      measured rounds (+1 calibration round), seconds per run, clients
#   PIPES="1 16" SIZES="64 1024" TESTS="set get incr" (incr only at the first size)
#   PIN=1 SERVER_CPUS=0 BENCH_CPUS=1  taskset: servers (redis, proxies, sidecar) / redis-benchmark
#   MAX_SECONDS=1500                  bench-peers.sh's soft bound on its phase (its own default, 285,
#                                     would cut ROUNDS=5 short with four targets)
#   SIDECAR_ARGS=""                   extra sidecar flags for every phase (e.g. "--threads 2")
#   SIDECAR_VARIANTS=""               forward phase: more sidecars in the same rounds, unchecked, as
#                                     "name:flags;name:flags" (e.g. "delay25:--upstream-batch-delay 25")
#   FLOOR=1                           0: leave floor-server out of the local phase
#   SIDECAR_SESSION=shared            forward phase: the sidecar shares the session (scheduling group)
#                                     of Redis and twemproxy; own: bench-peers.sh starts it (setsid;
#                                     always so with MODE=instr|both, which wraps it in valgrind)
#   IDLE_CONNS=10000 ACTIVE_CLIENTS=1000  scale phase sizes
#   SCALE_TESTS="set get" SCALE_PIPES="16 1" SCALE_SIZE=64
#   KEEP_IDLE=0                       1: keep the idle connections open during the active runs
#   STRICT=0                          1: exit 3 when a performance target is missed
#   RESULTS=bench/results/latest.md   where the tables go
#   PEERS=/work/shared/tools/bench-peers.sh, and any other bench-peers.sh knob (NC_TUNED_ARGS, ...)
# Exit status: 0 ok, 1 a step failed (build, a server did not start, a benchmark run failed),
# 2 missing tool, 3 (STRICT=1 only) a target was missed. Raw data and logs stay in $WORK (printed).
set -euo pipefail
# The whole script is one block, so bash reads all of it before running any: editing the file while
# a run goes on (11 minutes) cannot change what that run executes.
{

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-1}; BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PEERS=${PEERS:-/work/shared/tools/bench-peers.sh}
ROUNDS=${ROUNDS:-5}; SECS=${SECS:-1.5}; CLIENTS=${CLIENTS:-50}
PIPES=${PIPES:-"1 16"}; SIZES=${SIZES:-"64 1024"}; TESTS=${TESTS:-"set get incr"}
PIN=${PIN:-1}; SERVER_CPUS=${SERVER_CPUS:-0}; BENCH_CPUS=${BENCH_CPUS:-1}
MAX_SECONDS=${MAX_SECONDS:-1500}
SIDECAR_ARGS=${SIDECAR_ARGS:-}
SIDECAR_SESSION=${SIDECAR_SESSION:-shared}
SIDECAR_VARIANTS=${SIDECAR_VARIANTS:-}
FLOOR=${FLOOR:-1}
# bench-peers.sh's MODE=instr wraps a target in valgrind through its START_ command ($VG).
[[ "${MODE:-bench}" == bench ]] || SIDECAR_SESSION=own
IDLE_CONNS=${IDLE_CONNS:-10000}; ACTIVE_CLIENTS=${ACTIVE_CLIENTS:-1000}
SCALE_TESTS=${SCALE_TESTS:-"set get"}; SCALE_PIPES=${SCALE_PIPES:-"16 1"}; SCALE_SIZE=${SCALE_SIZE:-64}
KEEP_IDLE=${KEEP_IDLE:-0}; STRICT=${STRICT:-0}
PHASES=${PHASES:-"forward local scale"}
RESULTS=${RESULTS:-$HERE/results/latest.md}
PY=/usr/bin/python3
export ROUNDS SECS CLIENTS PIPES SIZES TESTS PIN SERVER_CPUS BENCH_CPUS MAX_SECONDS

case "${1:-}" in -h|--help) sed -n '2,35p' "$0"; exit 0;; esac
# Only the tools the chosen phases need: twemproxy and bench-peers.sh for the forward phase alone.
TOOLS=(redis-server redis-cli redis-benchmark ss "$PY")
[[ " $PHASES " == *" forward "* ]] && TOOLS+=(nutcracker)
[[ "$PIN" == 1 ]] && TOOLS+=(taskset)
[[ "$BUILD" == 1 ]] && TOOLS+=(cmake)
for b in "${TOOLS[@]}"; do
  command -v "$b" >/dev/null || { echo "missing $b (apt-get install -y redis-server redis-tools nutcracker iproute2 util-linux cmake python3)" >&2; exit 2; }
done
[[ " $PHASES " != *" forward "* || -x "$PEERS" ]] || { echo "missing $PEERS" >&2; exit 2; }
[[ -n "$(redis-benchmark --help 2>&1 | grep -e '--csv' || true)" ]] || { echo "redis-benchmark without --csv" >&2; exit 2; }

WORK=$(mktemp -d /tmp/sidecar-bench.XXXXXX)
T0=$(date +%s)
log() { printf '[run.sh %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- processes and cleanup
declare -a KILL_PIDS=()
declare -A STOP_SECS=()  # pid -> seconds to wait after TERM (default 10)
stop_pid() {  # TERM, wait, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < ${STOP_SECS[$pid]:-10} * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_all() {  # reverse start order: clients, then sidecars, then redis
  local i
  for ((i = ${#KILL_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${KILL_PIDS[i]}"; done
  KILL_PIDS=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  rm -rf "$WORK"/data-* 2>/dev/null || true
  ((rc == 0)) || echo "run.sh: failed (rc=$rc); logs in $WORK" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pin() { if [[ "$PIN" == 1 ]]; then echo "taskset -c $1"; fi; }

# ---------------------------------------------------------------- ports (127.0.0.1 only)
declare -a HANDED=()
port_busy() { [[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]]; }
free_port() {  # free_port VAR: a port below the ephemeral range (client sockets never take it),
  local p lo i  # not in use in any state (TIME_WAIT included), not handed out before
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  ((lo > 12000)) || lo=32768
  for ((i = 0; i < 1000; i++)); do
    p=$(( 10000 + RANDOM % (lo - 10000) ))
    [[ " ${HANDED[*]:-} " == *" $p "* ]] && continue
    port_busy "$p" || { HANDED+=("$p"); printf -v "$1" '%s' "$p"; return 0; }
  done
  die "no free port found"
}
wait_port() {  # wait_port port seconds pid
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- servers
REDIS_PID=""; SC_PID=""
start_redis() {  # start_redis PORT -> REDIS_PID
  # shellcheck disable=SC2046
  $(pin "$SERVER_CPUS") redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$WORK" --logfile "$WORK/redis-$1.log" &
  REDIS_PID=$!; KILL_PIDS+=("$REDIS_PID")
  wait_port "$1" 30 "$REDIS_PID" || die "redis-server did not start on $1 (see $WORK/redis-$1.log)"
}
start_sidecar() {  # start_sidecar LISTEN UPSTREAM_PORT [extra flags...] -> SC_PID
  local lp=$1 up=$2; shift 2
  mkdir -p "$WORK/data-$lp"
  # shellcheck disable=SC2046,SC2086
  $(pin "$SERVER_CPUS") "$BIN" --listen "127.0.0.1:$lp" --upstream "127.0.0.1:$up" \
    --data-dir "$WORK/data-$lp" --log-level warn $SIDECAR_ARGS "$@" > "$WORK/sidecar-$lp.log" 2>&1 &
  SC_PID=$!; KILL_PIDS+=("$SC_PID")
  wait_port "$lp" 30 "$SC_PID" || die "sidecar did not start on $lp (see $WORK/sidecar-$lp.log)"
}
FLOOR_PID=""
start_floor() {  # start_floor PORT -> FLOOR_PID
  # shellcheck disable=SC2046
  $(pin "$SERVER_CPUS") "$FLOOR_BIN" "$1" > "$WORK/floor-$1.log" 2>&1 &
  FLOOR_PID=$!; KILL_PIDS+=("$FLOOR_PID")
  wait_port "$1" 30 "$FLOOR_PID" || die "floor-server did not start on $1 (see $WORK/floor-$1.log)"
}
info_field() {  # info_field PORT FIELD -> value from INFO sidecar
  redis-cli -h 127.0.0.1 -p "$1" INFO sidecar 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'
}
wait_mode() {  # wait_mode PORT up|down SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [[ "$(info_field "$1" mode)" == "$2" ]] && return 0
    sleep 0.1
  done
  return 1
}
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
cpu_ns() {  # summed on-CPU ns of all threads of pid
  local s=0 f a
  for f in /proc/"$1"/task/*/schedstat; do read -r a _ < "$f" 2>/dev/null && s=$((s + a)); done
  echo "$s"
}
sys_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

# ---------------------------------------------------------------- one redis-benchmark run
# raw.tsv cols: phase round target test size pipe clients n rps p50 p99 server_us/req other% rc
RAW="$WORK/raw.tsv"; : > "$RAW"
FAILED_RUNS=0
xs() { printf "%${1}s" '' | tr ' ' x; }
run_one() {  # run_one phase round target port pid test size pipe clients n
  local phase=$1 round=$2 tg=$3 port=$4 pid=$5 test=$6 size=$7 pipe=$8 clients=$9 n=${10}
  local out="$WORK/run.csv" tf="$WORK/run.time" rc=0 to r0 r1 b0 b1 w0 w1 tcmd=()
  if [[ "$test" == get ]]; then
    redis-cli -h 127.0.0.1 -p "$port" set key:__rand_int__ "$(xs "$size")" >/dev/null || die "preload on $tg failed"
  fi
  to=$(awk -v s="$SECS" -v c="$clients" 'BEGIN{print int(s * 10 + 30 + c / 50)}')
  if [[ -x /usr/bin/time ]]; then tcmd=(/usr/bin/time -f '%U %S' -o "$tf"); else echo "1 0" > "$tf"; fi
  r0=$(cpu_ns "$pid"); b0=$(sys_busy); w0=$(date +%s%N)
  # shellcheck disable=SC2046
  "${tcmd[@]}" $(pin "$BENCH_CPUS") timeout "$to" redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$n" \
    -P "$pipe" -d "$size" -t "$test" --csv > "$out" 2>> "$WORK/bench.stderr" || rc=$?
  r1=$(cpu_ns "$pid"); b1=$(sys_busy); w1=$(date +%s%N)
  awk -F'"' -v OFS='\t' -v ph="$phase" -v round="$round" -v tg="$tg" -v test="$test" -v d="$size" \
      -v P="$pipe" -v c="$clients" -v n="$n" -v rd="$((r1 - r0))" -v bd="$((b1 - b0))" -v wd="$((w1 - w0))" -v rc="$rc" -v tf="$tf" '
    BEGIN { found = 0; while ((getline l < tf) > 0) bt = l; split(bt, b, " "); bench = b[1] + b[2] }
    $2 != "" && $2 != "test" && rc == 0 { found = 1
      other = (bd / 100 - rd / 1e9 - bench) / (wd / 1e9) * 100
      print ph, round, tg, test, d, P, c, n, $4, $10, $14, sprintf("%.3f", rd / 1e3 / n), sprintf("%.0f", other), rc }
    END { if (!found) print ph, round, tg, test, d, P, c, n, "FAIL", "-", "-", "-", "-", rc }' "$out" >> "$RAW"
  if [[ "$(tail -1 "$RAW" | cut -f9)" == FAIL ]]; then
    FAILED_RUNS=$((FAILED_RUNS + 1)); log "WARNING: run failed: $tg $test -d $size -P $pipe -c $clients (rc=$rc)"
  fi
}

# interleaved rounds over configs x targets. Arrays: CFG ("test size pipe clients"), TG_NAME/TG_PORT/TG_PID
declare -a CFG=() TG_NAME=() TG_PORT=() TG_PID=()
run_rounds() {  # run_rounds phase
  local phase=$1 c t d P cl ti k r n rps nt=${#TG_NAME[@]}
  declare -A NREQ=()
  for c in "${CFG[@]}"; do read -r t d P cl <<< "$c"   # round 0: calibration + warm-up
    for ((ti = 0; ti < nt; ti++)); do
      n=$(( P == 1 ? 20000 : 200000 )); ((n >= cl * P * 10)) || n=$((cl * P * 10))
      run_one "$phase" 0 "${TG_NAME[ti]}" "${TG_PORT[ti]}" "${TG_PID[ti]}" "$t" "$d" "$P" "$cl" "$n"
      rps=$(tail -1 "$RAW" | cut -f9); [[ "$rps" == FAIL ]] && rps=20000
      NREQ["$ti $c"]=$(awk -v r="$rps" -v s="$SECS" -v m=$((cl * P * 10)) \
        'BEGIN{n = int(r * s / 10000 + 0.5) * 10000; if (n < 10000) n = 10000; if (n < m) n = m; print n}')
    done
  done
  log "$phase: calibrated (${#CFG[@]} configs x $nt targets)"
  for ((r = 1; r <= ROUNDS; r++)); do
    for c in "${CFG[@]}"; do read -r t d P cl <<< "$c"
      for ((k = 0; k < nt; k++)); do ti=$(( (k + r - 1) % nt ))   # rotate the order each round
        run_one "$phase" "$r" "${TG_NAME[ti]}" "${TG_PORT[ti]}" "${TG_PID[ti]}" "$t" "$d" "$P" "$cl" "${NREQ["$ti $c"]}"
      done
    done
    log "$phase: round $r/$ROUNDS done"
  done
}

AWK_MED='
function med(s,   a, k, i, j, t) { k = split(s, a, " "); if (!k) return -1
  for (i = 2; i <= k; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j+1] = a[j]; a[j+1] = t }
  return (k % 2) ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2 }
function collect(key) { if ($9 == "FAIL") { fail[key]++; return }
  rps[key] = rps[key] " " $9; p50[key] = p50[key] " " $10; p99[key] = p99[key] " " $11
  cpu[key] = cpu[key] " " $12; oth[key] = oth[key] " " $13 }
'
MISSED=0

# ---------------------------------------------------------------- build
if [[ "$BUILD" == 1 ]]; then
  log "building Release into $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release > "$WORK/cmake-configure.log" 2>&1 \
    || { tail -30 "$WORK/cmake-configure.log" >&2; die "cmake configure failed"; }
  cmake --build "$BUILD_DIR" -j2 --target redis-sidecar floor-server > "$WORK/cmake-build.log" 2>&1 \
    || { tail -40 "$WORK/cmake-build.log" >&2; die "build failed"; }
fi
BIN="$BUILD_DIR/redis-sidecar"
[[ -x "$BIN" ]] || die "no $BIN (BUILD=0 needs an existing build)"
FLOOR_BIN="$BUILD_DIR/bench/floor/floor-server"
[[ "$FLOOR" != 1 || -x "$FLOOR_BIN" ]] || die "no $FLOOR_BIN (build it, or FLOOR=0)"

# enough descriptors for IDLE_CONNS + ACTIVE_CLIENTS in one process (sidecar) and in the client
NEED_FDS=$(( IDLE_CONNS + ACTIVE_CLIENTS + 1024 ))
if (( $(ulimit -n) < NEED_FDS )); then
  ulimit -n "$NEED_FDS" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

SECTIONS="$WORK/sections.md"; : > "$SECTIONS"
section() { { echo; echo "## $1"; echo; echo '```'; cat; echo '```'; } >> "$SECTIONS"; }

# ================================================================ phase 1: forwarding (bench-peers.sh)
# bench-peers.sh starts Redis and both twemproxies as children of its own, so they share this
# script's session and with it one scheduling group (kernel.sched_autogroup_enabled); a target it
# starts from a START_ command runs under setsid, in a group of its own. The sidecar is started here
# instead, as twemproxy is there, unless SIDECAR_SESSION=own. A group of its own cost the sidecar
# 17 to 43 % more CPU per request at -P 16, twemproxy 0 to 8 % (bench/README.md, session 12).
phase_forward() {
  log "forward: bench-peers.sh (ROUNDS=$ROUNDS SECS=$SECS), sidecar as target 'sidecar' (SIDECAR_SESSION=$SIDECAR_SESSION)"
  local rc=0 redis_port sc_port="" counts="" variant name flags port
  local -a targets=() variants=()
  if [[ "$SIDECAR_SESSION" == own ]]; then
    [[ -z "$SIDECAR_VARIANTS" ]] || die "SIDECAR_VARIANTS needs SIDECAR_SESSION=shared"
    mkdir -p "$WORK/data-forward"
    local start="\$VG $BIN --listen 127.0.0.1:\$LISTEN_PORT --upstream \$REDIS_HOST:\$REDIS_PORT"
    start+=" --data-dir $WORK/data-forward --log-level warn $SIDECAR_ARGS"
    export START_sidecar="$start"
    targets=(sidecar=127.0.0.1:auto)
  else
    # Up before the Redis bench-peers.sh starts on redis_port: it answers locally until its next
    # probe finds Redis (within a second), during the calibration round, which is not counted.
    free_port redis_port; free_port sc_port
    start_sidecar "$sc_port" "$redis_port"
    export REDIS_PORT=$redis_port
    targets=(sidecar=127.0.0.1:$sc_port)
    # The same binary with other flags, measured in the same rounds (e.g. a batch delay's trade-off).
    IFS=';' read -r -a variants <<< "$SIDECAR_VARIANTS"
    for variant in "${variants[@]}"; do
      [[ -n "$variant" ]] || continue
      name=${variant%%:*}; flags=${variant#*:}
      [[ "$name" =~ ^[a-z][a-z0-9_]*$ && "$variant" == *:* ]] || die "SIDECAR_VARIANTS: '$variant' is not name:flags"
      free_port port
      # shellcheck disable=SC2086
      start_sidecar "$port" "$redis_port" $flags
      targets+=("$name=127.0.0.1:$port")
    done
  fi
  OUTDIR="$WORK/peers" "$PEERS" "${targets[@]}" > "$WORK/forward.txt" &
  KILL_PIDS+=("$!")
  STOP_SECS[$!]=120   # it finishes its current redis-benchmark run, then stops what it started
  wait "$!" || rc=$?
  KILL_PIDS=("${KILL_PIDS[@]:0:${#KILL_PIDS[@]}-1}")
  unset START_sidecar REDIS_PORT
  ((rc == 0)) || { cat "$WORK/forward.txt" >&2; die "bench-peers.sh failed (rc=$rc; see $WORK/peers)"; }
  grep -q FAILED "$WORK/forward.txt" && FAILED_RUNS=$((FAILED_RUNS + 1))
  if [[ -n "$sc_port" ]]; then
    counts="requests_forwarded=$(info_field "$sc_port" requests_forwarded), requests_local=$(info_field "$sc_port" requests_local)"
    stop_all
  fi
  # targets, from bench-peers' table (cols: test size P target rps ratio min..max p50 p99 redisus proxyus oth%)
  local check
  check=$(awk -v pipes="$PIPES" '
    $4 ~ /^(direct|twemproxy|twem_tuned|sidecar)$/ && $1 ~ /^[a-z]+$/ && $5 ~ /^[0-9]/ {
      c = $1 " " $2 " " $3; if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
      ratio[c, $4] = $6; p99[c, $4] = $9; rus[c, $4] = $10; pus[c, $4] = $11 }
    END {
      printf "%-5s %5s %3s  %7s %5s  %8s  %8s %8s  %8s %8s %8s  %s\n", "test", "size", "P", "sc/dir", "need",
        "dp99ms", "sc_us", "twt_us/2", "r_us_sc", "r_us_tw", "r_us_twt", "verdict"
      for (i = 1; i <= nc; i++) { c = order[i]; split(c, f, " "); v = ""
        if (!((c, "sidecar") in ratio)) { printf "%-5s %5s %3s  sidecar: no result\n", f[1], f[2], f[3]; miss++; continue }
        need = (f[3] == 1) ? 0.95 : (f[2] + 0 <= 64 ? 0.70 : 0.50)
        if (ratio[c, "sidecar"] + 0 < need) v = v " rps"
        dp = p99[c, "sidecar"] - p99[c, "direct"]
        if (f[3] == 1 && dp > 0.2) v = v " p99"
        half = ((c, "twem_tuned") in pus && pus[c, "twem_tuned"] != "-") ? pus[c, "twem_tuned"] / 2 : -1
        if (half >= 0 && pus[c, "sidecar"] + 0 > half) v = v " cpu"
        rmin = 1e9; if ((c, "twemproxy") in rus) rmin = rus[c, "twemproxy"] + 0
        if ((c, "twem_tuned") in rus && rus[c, "twem_tuned"] + 0 < rmin) rmin = rus[c, "twem_tuned"] + 0
        if (rus[c, "sidecar"] + 0 > rmin) v = v " redis-cpu"
        if (v != "") miss++
        printf "%-5s %5s %3s  %7.3f %5.2f  %8.3f  %8s %8.3f  %8s %8s %8s  %s\n", f[1], f[2], f[3], ratio[c, "sidecar"], need,
          dp, pus[c, "sidecar"], half, rus[c, "sidecar"], rus[c, "twemproxy"], rus[c, "twem_tuned"], (v == "" ? "ok" : "MISS:" v) }
      print "MISSED " miss + 0 > "/dev/stderr" }' "$WORK/forward.txt" 2> "$WORK/forward.miss")
  MISSED=$((MISSED + $(awk '/^MISSED/{print $2}' "$WORK/forward.miss")))
  { cat "$WORK/forward.txt"
    echo
    if [[ -n "$sc_port" ]]; then
      echo "-- the sidecar ran in this script's session, as Redis and twemproxy in bench-peers.sh's (SIDECAR_SESSION=shared);"
      echo "   it answered locally only until it found bench-peers.sh's Redis (calibration round): $counts"
      [[ -z "$SIDECAR_VARIANTS" ]] || echo "-- also measured, in the same rounds and not checked against the targets: $SIDECAR_VARIANTS"
    else
      echo "-- the sidecar ran from START_sidecar, in a session (scheduling group) of its own (SIDECAR_SESSION=own)"
    fi
    echo "-- targets: sc/dir >= need (P1 0.95, P16 64 B 0.70, P16 1 KB 0.50); dp99ms = sidecar p99 - direct p99 <= 0.2 at P1;"
    echo "   sc_us (sidecar CPU-us/req) <= twt_us/2 (half of twemproxy tuned's); r_us_sc (Redis CPU-us/req behind the"
    echo "   sidecar) <= the lower of r_us_tw / r_us_twt (behind twemproxy default / tuned)"
    echo "$check"; } | section "1. Forwarding: Redis direct vs twemproxy vs sidecar (Redis up)"
}

# ================================================================ phase 2: local mode (Redis down)
phase_local() {
  local rport sport dead fport=""
  free_port rport; free_port sport; free_port dead
  start_redis "$rport"
  start_sidecar "$sport" "$dead"
  local scpid=$SC_PID
  if [[ "$FLOOR" == 1 ]]; then free_port fport; start_floor "$fport"; fi
  port_busy "$dead" && die "upstream port $dead is no longer free"
  wait_mode "$sport" down 10 || die "sidecar on $sport is not in mode:down (upstream 127.0.0.1:$dead)"
  [[ "$(redis-cli -p "$sport" set bench:probe v)" == OK && "$(redis-cli -p "$sport" get bench:probe)" == v ]] \
    || die "sidecar in mode:down does not serve SET/GET"
  redis-cli -p "$sport" del bench:probe > /dev/null
  log "local: direct=:$rport sidecar=:$sport (upstream :$dead, mode:down)${fport:+ floor=:$fport}"
  CFG=(); local d P t first=${SIZES%% *}
  for d in $SIZES; do for P in $PIPES; do for t in $TESTS; do
    [[ "$t" == incr && "$d" != "$first" ]] && continue
    CFG+=("$t $d $P $CLIENTS")
  done; done; done
  TG_NAME=(direct sidecar); TG_PORT=("$rport" "$sport"); TG_PID=("$REDIS_PID" "$scpid")
  if [[ -n "$fport" ]]; then TG_NAME+=(floor); TG_PORT+=("$fport"); TG_PID+=("$FLOOR_PID"); fi
  run_rounds local
  local mode_after served
  mode_after=$(info_field "$sport" mode); served=$(info_field "$sport" requests_local)
  [[ "$mode_after" == down ]] || die "sidecar left mode:down during the local phase (mode:$mode_after)"
  stop_all
  local table
  table=$(awk -F'\t' -v cfgs="$(printf '%s|' "${CFG[@]}")" "$AWK_MED"'
    $1 == "local" && $2 > 0 { collect($4 " " $5 " " $6 " " $7 SUBSEP $3) }
    END {
      printf "%-5s %5s %3s  %9s %6s %6s %6s  %9s %6s %6s %6s  %6s %7s %6s  %6s %6s  %5s  %s\n", "test", "size", "P",
        "dir_rps", "p50", "p99", "cpu_us", "sc_rps", "p50", "p99", "cpu_us", "ratio", "dp99ms", "cpu_x", "fl_x", "fl_us",
        "oth%", "verdict"
      n = split(cfgs, C, "|")
      for (i = 1; i <= n; i++) { if (C[i] == "") continue; split(C[i], f, " ")
        a = C[i] SUBSEP "direct"; b = C[i] SUBSEP "sidecar"
        if (!(a in rps) || !(b in rps)) { printf "%-5s %5s %3s  no result (failed runs: direct %d, sidecar %d)\n", f[1], f[2], f[3], fail[a], fail[b]; miss++; continue }
        ra = med(rps[a]); rb = med(rps[b]); dp = med(p99[b]) - med(p99[a]); v = ""
        if (rb / ra < 1.0) v = v " rps"
        if (f[3] == 1 && dp > 0.2) v = v " p99"
        if (v != "") miss++
        fl = C[i] SUBSEP "floor"; fx = "-"; fu = "-"   # the yardstick: not checked
        if (fl in rps) { fx = sprintf("%.3f", med(rps[fl]) / ra); fu = sprintf("%.3f", med(cpu[fl])) }
        printf "%-5s %5s %3s  %9.0f %6.3f %6.3f %6.3f  %9.0f %6.3f %6.3f %6.3f  %6.3f %7.3f %6.2f  %6s %6s  %5.0f  %s\n", f[1], f[2], f[3],
          ra, med(p50[a]), med(p99[a]), med(cpu[a]), rb, med(p50[b]), med(p99[b]), med(cpu[b]),
          rb / ra, dp, (med(cpu[a]) > 0 ? med(cpu[b]) / med(cpu[a]) : 0), fx, fu, (med(oth[a]) + med(oth[b])) / 2,
          (v == "" ? "ok" : "MISS:" v) }
      print "MISSED " miss + 0 > "/dev/stderr" }' "$RAW" 2> "$WORK/local.miss")
  MISSED=$((MISSED + $(awk '/^MISSED/{print $2}' "$WORK/local.miss")))
  { echo "redis-benchmark -c $CLIENTS, medians of $ROUNDS rounds (~${SECS}s/run, order alternated per round), fixed key."
    echo "direct = redis-server; sc = sidecar whose upstream port has no listener (INFO: mode:down, requests_local=$served)."
    echo "cpu_us = CPU-us per request of that server process (schedstat, all threads); cpu_x = sidecar/direct;"
    echo "fl_x, fl_us = floor-server's rps / direct's and its CPU-us per request, in the same rounds (bench/floor: the least a"
    echo "server that sleeps when idle does per request; a yardstick, not checked). oth% = CPU used outside the benchmark"
    echo "(% of a core; noise indicator). Targets: ratio >= 1.0; dp99ms <= 0.2 at P1."
    echo "$table"; } | section "2. Local mode (Redis down): sidecar-local vs Redis direct"
}

# ================================================================ phase 3: connection scale
phase_scale() {
  local rport sport state="$WORK/idle" ppid i cc want rss0 rss1 rss2 st
  free_port rport; free_port sport
  start_redis "$rport"
  start_sidecar "$sport" "$rport" --maxclients $(( IDLE_CONNS + ACTIVE_CLIENTS + 100 ))
  wait_mode "$sport" up 15 || die "sidecar on $sport did not reach mode:up"
  [[ "$(redis-cli -p "$sport" set bench:probe v)" == OK ]] || die "sidecar does not forward SET"
  redis-cli -p "$sport" del bench:probe > /dev/null
  local scpid=$SC_PID rpid=$REDIS_PID
  sleep 0.5; rss0=$(rss_kb "$scpid")
  log "scale: opening $IDLE_CONNS idle connections to the sidecar on :$sport (ulimit -n $(ulimit -n))"
  (( $(ulimit -n) >= IDLE_CONNS + 100 )) || die "ulimit -n $(ulimit -n) is too low for $IDLE_CONNS connections"
  mkdir -p "$state"
  # shellcheck disable=SC2046
  $(pin "$BENCH_CPUS") "$PY" "$HERE/idle_clients.py" 127.0.0.1 "$sport" "$IDLE_CONNS" "$state" 900 \
    > "$WORK/idle_clients.log" 2>&1 &
  ppid=$!; KILL_PIDS+=("$ppid")
  want=$((IDLE_CONNS + 1))   # + the redis-cli asking
  st=""
  for ((i = 0; i < 2400; i++)); do   # <= 240 s
    st=$(cat "$state/status" 2>/dev/null || true)
    [[ "$st" == connected* ]] && break
    kill -0 "$ppid" 2>/dev/null || die "idle client died (see $WORK/idle_clients.log)"
    sleep 0.1
  done
  [[ "$st" == "connected $IDLE_CONNS" ]] || die "idle client: '$st' (wanted $IDLE_CONNS; see $WORK/idle_clients.log)"
  cc=0
  for ((i = 0; i < 600; i++)); do   # <= 60 s
    cc=$(info_field "$sport" connected_clients); [[ -n "$cc" ]] || cc=0
    ((cc >= want)) && break
    sleep 0.1
  done
  ((cc >= want)) || die "sidecar shows connected_clients:$cc, expected >= $want"
  sleep 1; rss1=$(rss_kb "$scpid")
  touch "$state/ping"
  for ((i = 0; i < 1500; i++)); do   # <= 150 s
    st=$(cat "$state/status" 2>/dev/null || true)
    [[ "$st" == pinged* ]] && break
    kill -0 "$ppid" 2>/dev/null || die "idle client died (see $WORK/idle_clients.log)"
    sleep 0.1
  done
  [[ "$st" == "pinged $IDLE_CONNS" ]] || die "idle client: '$st' after PING (wanted $IDLE_CONNS)"
  sleep 1; rss2=$(rss_kb "$scpid")
  cc=$(info_field "$sport" connected_clients)
  log "scale: RSS ${rss0} kB -> ${rss1} kB (connected) -> ${rss2} kB (after one PING each); connected_clients:$cc"
  if [[ "$KEEP_IDLE" != 1 ]]; then
    touch "$state/exit"
    for ((i = 0; i < 300; i++)); do kill -0 "$ppid" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$ppid"
    for ((i = 0; i < 300; i++)); do
      cc=$(info_field "$sport" connected_clients); ((${cc:-0} <= 1)) && break; sleep 0.1
    done
  fi
  local rss_table
  rss_table=$(awk -v n="$IDLE_CONNS" -v a="$rss0" -v b="$rss1" -v c="$rss2" 'BEGIN {
    printf "%-36s %10s %12s\n", "sidecar RSS (VmRSS)", "MB", "KB/conn"
    printf "%-36s %10.1f %12s\n", "before (Redis up, no clients)", a / 1024, "-"
    printf "%-36s %10.1f %12.2f\n", sprintf("%d idle connections", n), b / 1024, (b - a) / n
    printf "%-36s %10.1f %12.2f\n", "  after one PING on each", c / 1024, (c - a) / n
    ok = (c < 100 * 1024 && b < 100 * 1024)
    printf "target: < 100 MB with %d idle connections: %s\n", n, ok ? "ok" : "MISS"
    print "MISSED " (ok ? 0 : 1) > "/dev/stderr" }' 2> "$WORK/rss.miss")
  MISSED=$((MISSED + $(awk '/^MISSED/{print $2}' "$WORK/rss.miss")))

  log "scale: active clients ${ACTIVE_CLIENTS} vs $CLIENTS, direct=:$rport sidecar=:$sport$([[ $KEEP_IDLE == 1 ]] && echo " (idle connections kept open)")"
  CFG=(); local t P cl
  for t in $SCALE_TESTS; do for P in $SCALE_PIPES; do for cl in "$CLIENTS" "$ACTIVE_CLIENTS"; do
    CFG+=("$t $SCALE_SIZE $P $cl")
  done; done; done
  TG_NAME=(direct sidecar); TG_PORT=("$rport" "$sport"); TG_PID=("$rpid" "$scpid")
  run_rounds scale
  local peak; peak=$(awk '/^VmHWM:/{print $2}' "/proc/$scpid/status")
  stop_all
  local table
  table=$(awk -F'\t' -v cfgs="$(printf '%s|' "${CFG[@]}")" -v base="$CLIENTS" -v act="$ACTIVE_CLIENTS" "$AWK_MED"'
    $1 == "scale" && $2 > 0 { collect($4 " " $5 " " $6 " " $7 SUBSEP $3) }
    END {
      printf "%-5s %5s %3s %5s  %9s %9s %6s  %7s %7s  %6s %6s  %7s %5s  %s\n", "test", "size", "P", "cli",
        "dir_rps", "sc_rps", "ratio", "dir_p99", "sc_p99", "dir_us", "sc_us", "vs_" base, "oth%", "verdict"
      n = split(cfgs, C, "|")
      for (i = 1; i <= n; i++) { if (C[i] == "") continue; split(C[i], f, " ")
        a = C[i] SUBSEP "direct"; b = C[i] SUBSEP "sidecar"
        if (!(a in rps) || !(b in rps)) { printf "%-5s %5s %3s %5s  no result\n", f[1], f[2], f[3], f[4]; miss++; continue }
        r = med(rps[b]) / med(rps[a]); R[f[1] " " f[3], f[4]] = r
        rel = "-"; v = ""
        if (f[4] == act && ((f[1] " " f[3], base) in R)) { x = r / R[f[1] " " f[3], base]; rel = sprintf("%.3f", x)
          v = (x >= 0.9 ? "ok" : "MISS"); if (x < 0.9) miss++ }
        printf "%-5s %5s %3s %5s  %9.0f %9.0f %6.3f  %7.3f %7.3f  %6.3f %6.3f  %7s %5.0f  %s\n", f[1], f[2], f[3], f[4],
          med(rps[a]), med(rps[b]), r, med(p99[a]), med(p99[b]), med(cpu[a]), med(cpu[b]), rel,
          (med(oth[a]) + med(oth[b])) / 2, v }
      print "MISSED " miss + 0 > "/dev/stderr" }' "$RAW" 2> "$WORK/scale.miss")
  MISSED=$((MISSED + $(awk '/^MISSED/{print $2}' "$WORK/scale.miss")))
  { echo "$rss_table"
    echo "(sidecar peak RSS over the whole phase, VmHWM: $(awk -v k="$peak" 'BEGIN{printf "%.1f MB", k / 1024}'))"
    echo
    echo "Active clients (Redis up): redis-benchmark -c $CLIENTS vs -c $ACTIVE_CLIENTS, -d $SCALE_SIZE, medians of $ROUNDS rounds;"
    echo "ratio = sidecar/direct at that client count; vs_$CLIENTS = ratio at $ACTIVE_CLIENTS clients / ratio at $CLIENTS"
    echo "(target >= 0.90); dir_us/sc_us = CPU-us/request of redis / of the sidecar (Redis's CPU not included in sc_us)."
    [[ "$KEEP_IDLE" == 1 ]] && echo "The $IDLE_CONNS idle connections stayed open during these runs."
    echo "$table"; } | section "3. Connection scale (Redis up)"
}

for ph in $PHASES; do
  case "$ph" in
    forward) phase_forward ;;
    local) phase_local ;;
    scale) phase_scale ;;
    *) die "unknown phase '$ph' (forward|local|scale)" ;;
  esac
done

# ---------------------------------------------------------------- results
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n "$(git -C "$ROOT" --no-optional-locks status --porcelain 2>/dev/null)" ]] && COMMIT+="-dirty"
mkdir -p "$(dirname "$RESULTS")"
{ echo "# redis-sidecar benchmark results"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- commit: $COMMIT"
  echo "- uname: $(uname -a)"
  echo "- nproc: $(nproc); CPU: $(lscpu 2>/dev/null | awk -F: '/^Model name/{gsub(/^[ \t]+/, "", $2); print $2; exit}')"
  echo "- knobs: ROUNDS=$ROUNDS SECS=$SECS CLIENTS=$CLIENTS PIPES=\"$PIPES\" SIZES=\"$SIZES\" PIN=$PIN" \
       "(servers cpu $SERVER_CPUS, redis-benchmark cpu $BENCH_CPUS) SIDECAR_ARGS=\"$SIDECAR_ARGS\"" \
       "IDLE_CONNS=$IDLE_CONNS ACTIVE_CLIENTS=$ACTIVE_CLIENTS KEEP_IDLE=$KEEP_IDLE"
  echo "- $(redis-server --version | cut -d' ' -f1-3); $(nutcracker --version 2>&1 | head -1)"
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
