# shellcheck shell=bash disable=SC2034
# bench/lib/harness.sh: what every phase of bench/run.sh uses: processes and their cleanup, free
# ports, the servers it starts, one redis-benchmark run, interleaved rounds, medians.
# Sourced by bench/run.sh (bash reads a sourced file whole before running it); it expects the
# knobs, WORK and BIN/FLOOR_BIN set there.

T0=$(date +%s)
log() { printf '[run.sh %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- processes and cleanup
declare -a KILL_PIDS=()
declare -A STOP_SECS=()  # pid -> seconds to wait after TERM (default 10; valgrind needs longer)
stop_pid() {  # TERM, wait, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < ${STOP_SECS[$pid]:-10} * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_all() {  # reverse start order: clients, then proxies and sidecars, then redis
  local i
  for ((i = ${#KILL_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${KILL_PIDS[i]}"; done
  KILL_PIDS=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  rm -rf "$WORK"/data-* 2>/dev/null || true
  if ((rc == 2)); then rm -rf "$WORK"   # a bad knob: nothing ran
  elif ((rc != 0)); then echo "run.sh: failed (rc=$rc); logs in $WORK" >&2; fi
  exit "$rc"
}

pin() { if [[ "$PIN" == 1 ]]; then echo "taskset -c $1"; fi; }

# ---------------------------------------------------------------- ports (127.0.0.1 only)
declare -a HANDED=()
port_busy() { [[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]]; }
free_port() {  # free_port VAR: a port below the ephemeral range (client sockets never take it),
  local p lo i  # not in use in any state (TIME_WAIT included: nutcracker's stats listener has no
  # SO_REUSEADDR), not handed out before
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
# Each start_ function runs its server pinned to SERVER_CPUS, prefixed by the words of the array VG
# when set (MODE=instr: valgrind), records it for stop_all and waits until it accepts connections.
declare -a VG=()
START_WAIT=30  # seconds a server may take to accept (longer under valgrind)
started() {  # started PID NAME PORT LOG: record PID, wait for PORT
  KILL_PIDS+=("$1")
  ((${#VG[@]} == 0)) || STOP_SECS[$1]=60
  wait_port "$3" "$START_WAIT" "$1" || die "$2 did not start on $3 (see $4)"
}
REDIS_PID=""
start_redis() {  # start_redis PORT -> REDIS_PID
  # shellcheck disable=SC2046
  $(pin "$SERVER_CPUS") "${VG[@]}" redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$WORK" --logfile "$WORK/redis-$1.log" &
  REDIS_PID=$!; started "$REDIS_PID" redis-server "$1" "$WORK/redis-$1.log"
}
SC_PID=""
start_sidecar() {  # start_sidecar LISTEN UPSTREAM_PORT [extra flags...] -> SC_PID
  local lp=$1 up=$2; shift 2
  mkdir -p "$WORK/data-$lp"
  # shellcheck disable=SC2046,SC2086
  $(pin "$SERVER_CPUS") "${VG[@]}" "${SC_BINARY:-$BIN}" --listen "127.0.0.1:$lp" --upstream "127.0.0.1:$up" \
    --data-dir "$WORK/data-$lp" --log-level warn --default-keys-while-down ephemeral $SIDECAR_ARGS "$@" \
    > "$WORK/sidecar-$lp.log" 2>&1 &
  SC_PID=$!; started "$SC_PID" sidecar "$lp" "$WORK/sidecar-$lp.log"
}
NC_PID=""
start_nutcracker() {  # start_nutcracker LISTEN REDIS_PORT "FLAGS" -> NC_PID
  local lp=$1 rp=$2 flags=$3 stats cfg="$WORK/nutcracker-$1.yml"
  # One pool, one server; server_connections 1 is twemproxy's default (every client on one
  # connection), preconnect so that the first request does not pay for the connection.
  cat > "$cfg" <<EOF
bench:
  listen: 127.0.0.1:$lp
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  preconnect: true
  server_connections: $NC_SERVER_CONNS
  servers:
   - 127.0.0.1:$rp:1
EOF
  nutcracker -t -c "$cfg" > "$WORK/nutcracker-$lp.check" 2>&1 || die "nutcracker rejects $cfg: $(cat "$WORK/nutcracker-$lp.check")"
  free_port stats
  # shellcheck disable=SC2046,SC2086
  $(pin "$SERVER_CPUS") "${VG[@]}" nutcracker -c "$cfg" -s "$stats" -a 127.0.0.1 -o "$WORK/nutcracker-$lp.log" $flags &
  NC_PID=$!; started "$NC_PID" nutcracker "$lp" "$WORK/nutcracker-$lp.log"
}
FLOOR_PID=""
start_floor() {  # start_floor PORT -> FLOOR_PID
  # shellcheck disable=SC2046
  $(pin "$SERVER_CPUS") "$FLOOR_BIN" "$1" > "$WORK/floor-$1.log" 2>&1 &
  FLOOR_PID=$!; started "$FLOOR_PID" floor-server "$1" "$WORK/floor-$1.log"
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
cpu_ns() {  # summed on-CPU ns of all threads of pid (0 for no pid)
  local s=0 f a
  [[ -n "$1" ]] || { echo 0; return; }
  for f in /proc/"$1"/task/*/schedstat; do read -r a _ < "$f" 2>/dev/null && s=$((s + a)); done
  echo "$s"
}
sys_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }  # USER_HZ ticks, steal included

# ---------------------------------------------------------------- one redis-benchmark run
# raw.tsv cols: phase round target test size pipe clients n rps p50 p99 cpu_us back_us other% rc
#   cpu_us: CPU-us per request of the target's process; back_us: of the Redis behind it (a proxy's
#   target; "-" for a server that answers itself); other%: CPU used outside the measured processes
#   and redis-benchmark, in % of one core.
RAW="$WORK/raw.tsv"; : > "$RAW"
FAILED_RUNS=0
xs() { printf "%${1}s" '' | tr ' ' x; }
run_one() {  # run_one phase round target port pid back_pid test size pipe clients n
  local phase=$1 round=$2 tg=$3 port=$4 pid=$5 back=$6 test=$7 size=$8 pipe=$9 clients=${10} n=${11}
  local out="$WORK/run.csv" tf="$WORK/run.time" rc=0 to r0 r1 k0 k1 b0 b1 w0 w1 tcmd=()
  if [[ "$test" == get ]]; then
    redis-cli -h 127.0.0.1 -p "$port" set key:__rand_int__ "$(xs "$size")" >/dev/null || die "preload on $tg failed"
  fi
  to=$(awk -v s="$SECS" -v c="$clients" 'BEGIN{print int(s * 10 + 30 + c / 50)}')
  if [[ -x /usr/bin/time ]]; then tcmd=(/usr/bin/time -f '%U %S' -o "$tf"); else echo "1 0" > "$tf"; fi
  r0=$(cpu_ns "$pid"); k0=$(cpu_ns "$back"); b0=$(sys_busy); w0=$(date +%s%N)
  # shellcheck disable=SC2046
  "${tcmd[@]}" $(pin "$BENCH_CPUS") timeout "$to" redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$n" \
    -P "$pipe" -d "$size" -t "$test" --csv > "$out" 2>> "$WORK/bench.stderr" || rc=$?
  r1=$(cpu_ns "$pid"); k1=$(cpu_ns "$back"); b1=$(sys_busy); w1=$(date +%s%N)
  awk -F'"' -v OFS='\t' -v ph="$phase" -v round="$round" -v tg="$tg" -v test="$test" -v d="$size" \
      -v P="$pipe" -v c="$clients" -v n="$n" -v rd="$((r1 - r0))" -v kd="$((k1 - k0))" -v hasback="${back:+1}" \
      -v bd="$((b1 - b0))" -v wd="$((w1 - w0))" -v rc="$rc" -v tf="$tf" '
    BEGIN { found = 0; while ((getline l < tf) > 0) bt = l; split(bt, b, " "); bench = b[1] + b[2] }
    $2 != "" && $2 != "test" && rc == 0 { found = 1
      other = (bd / 100 - rd / 1e9 - kd / 1e9 - bench) / (wd / 1e9) * 100
      print ph, round, tg, test, d, P, c, n, $4, $10, $14, sprintf("%.3f", rd / 1e3 / n),
            (hasback ? sprintf("%.3f", kd / 1e3 / n) : "-"), sprintf("%.0f", other), rc }
    END { if (!found) print ph, round, tg, test, d, P, c, n, "FAIL", "-", "-", "-", "-", "-", rc }' "$out" >> "$RAW"
  if [[ "$(tail -1 "$RAW" | cut -f9)" == FAIL ]]; then
    FAILED_RUNS=$((FAILED_RUNS + 1)); log "WARNING: run failed: $tg $test -d $size -P $pipe -c $clients (rc=$rc)"
  fi
}

# Interleaved rounds over configs x targets. Arrays: CFG ("test size pipe clients"), and per target
# TG_NAME, TG_PORT, TG_PID (its process) and TG_BACK (the Redis behind it, or "").
declare -a CFG=() TG_NAME=() TG_PORT=() TG_PID=() TG_BACK=()
run_rounds() {  # run_rounds phase
  local phase=$1 c t d P cl ti k r n rps nt=${#TG_NAME[@]}
  declare -A NREQ=()
  for c in "${CFG[@]}"; do read -r t d P cl <<< "$c"   # round 0: calibration + warm-up
    for ((ti = 0; ti < nt; ti++)); do
      n=$(( P == 1 ? 20000 : 200000 )); ((n >= cl * P * 10)) || n=$((cl * P * 10))
      run_one "$phase" 0 "${TG_NAME[ti]}" "${TG_PORT[ti]}" "${TG_PID[ti]}" "${TG_BACK[ti]:-}" "$t" "$d" "$P" "$cl" "$n"
      rps=$(tail -1 "$RAW" | cut -f9); [[ "$rps" == FAIL ]] && rps=20000
      NREQ["$ti $c"]=$(awk -v r="$rps" -v s="$SECS" -v m=$((cl * P * 10)) \
        'BEGIN{n = int(r * s / 10000 + 0.5) * 10000; if (n < 10000) n = 10000; if (n < m) n = m; print n}')
    done
  done
  log "$phase: calibrated (${#CFG[@]} configs x $nt targets)"
  for ((r = 1; r <= ROUNDS; r++)); do
    for c in "${CFG[@]}"; do read -r t d P cl <<< "$c"
      for ((k = 0; k < nt; k++)); do ti=$(( (k + r - 1) % nt ))   # rotate the order each round
        run_one "$phase" "$r" "${TG_NAME[ti]}" "${TG_PORT[ti]}" "${TG_PID[ti]}" "${TG_BACK[ti]:-}" \
          "$t" "$d" "$P" "$cl" "${NREQ["$ti $c"]}"
      done
    done
    log "$phase: round $r/$ROUNDS done"
  done
}
# The grid of the forward and local phases: every test at every size and pipeline depth, incr at
# the first size only (its value does not depend on -d).
grid_cfg() {
  local d P t first=${SIZES%% *}
  CFG=()
  for d in $SIZES; do for P in $PIPES; do for t in $TESTS; do
    [[ "$t" == incr && "$d" != "$first" ]] && continue
    CFG+=("$t $d $P $CLIENTS")
  done; done; done
}

# awk helpers over raw.tsv: medians of the measured rounds (round 0 is calibration) per key.
AWK_MED='
function med(s,   a, k, i, j, t) { k = split(s, a, " "); if (!k) return -1
  for (i = 2; i <= k; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j+1] = a[j]; a[j+1] = t }
  return (k % 2) ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2 }
function lo(s,   a, k, i, m) { k = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= k; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
function hi(s,   a, k, i, m) { k = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= k; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
function collect(key) { if ($9 == "FAIL") { fail[key]++; return }
  rps[key] = rps[key] " " $9; p50[key] = p50[key] " " $10; p99[key] = p99[key] " " $11
  cpu[key] = cpu[key] " " $12; if ($13 != "-") back[key] = back[key] " " $13; oth[key] = oth[key] " " $14 }
'
MISSED=0
SECTIONS="$WORK/sections.md"; : > "$SECTIONS"
section() { { echo; echo "## $1"; echo; echo '```'; cat; echo '```'; } >> "$SECTIONS"; }
count_missed() {  # count_missed FILE: add the "MISSED n" an awk check wrote to FILE
  MISSED=$((MISSED + $(awk '/^MISSED/{print $2}' "$1")))
}
