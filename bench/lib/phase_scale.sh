# shellcheck shell=bash disable=SC2034
# bench/lib/phase_scale.sh: bench/run.sh's scale phase (Redis up). The sidecar's memory with
# IDLE_CONNS idle connections, then ACTIVE_CLIENTS active clients against CLIENTS, through the
# sidecar and to Redis direct. Sourced by bench/run.sh.

# wait_idle_stage STATE_DIR PID STAGE SECONDS: idle_clients.py's status once it names STAGE (or
# whatever it says after SECONDS); stops the run if the client died.
wait_idle_stage() {
  local st="" i
  for ((i = 0; i < $4 * 10; i++)); do
    st=$(cat "$1/status" 2>/dev/null || true)
    [[ "$st" == "$3"* ]] && break
    kill -0 "$2" 2>/dev/null || die "idle client died (see $WORK/idle_clients.log)"
    sleep 0.1
  done
  echo "$st"
}

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
  st=$(wait_idle_stage "$state" "$ppid" connected 240)
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
  st=$(wait_idle_stage "$state" "$ppid" pinged 150)
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
  count_missed "$WORK/rss.miss"

  log "scale: active clients ${ACTIVE_CLIENTS} vs $CLIENTS, direct=:$rport sidecar=:$sport$([[ $KEEP_IDLE == 1 ]] && echo " (idle connections kept open)")"
  CFG=(); local t P cl
  for t in $SCALE_TESTS; do for P in $SCALE_PIPES; do for cl in "$CLIENTS" "$ACTIVE_CLIENTS"; do
    CFG+=("$t $SCALE_SIZE $P $cl")
  done; done; done
  TG_NAME=(direct sidecar); TG_PORT=("$rport" "$sport"); TG_PID=("$rpid" "$scpid"); TG_BACK=("" "")
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
  count_missed "$WORK/scale.miss"
  { echo "$rss_table"
    echo "(sidecar peak RSS over the whole phase, VmHWM: $(awk -v k="$peak" 'BEGIN{printf "%.1f MB", k / 1024}'))"
    echo
    echo "Active clients (Redis up): redis-benchmark -c $CLIENTS vs -c $ACTIVE_CLIENTS, -d $SCALE_SIZE, medians of $ROUNDS rounds;"
    echo "ratio = sidecar/direct at that client count; vs_$CLIENTS = ratio at $ACTIVE_CLIENTS clients / ratio at $CLIENTS"
    echo "(target >= 0.90); dir_us/sc_us = CPU-us/request of redis / of the sidecar (Redis's CPU not included in sc_us)."
    [[ "$KEEP_IDLE" == 1 ]] && echo "The $IDLE_CONNS idle connections stayed open during these runs."
    echo "$table"; } | section "3. Connection scale (Redis up)"
}
