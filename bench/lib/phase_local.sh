# shellcheck shell=bash disable=SC2034
# bench/lib/phase_local.sh: bench/run.sh's local phase (Redis down). A Redis direct, a sidecar whose
# upstream port has no listener (so it answers from its local store), and floor-server, the least a
# server that sleeps when idle does per request, in the same interleaved rounds. Sourced by
# bench/run.sh.

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
  grid_cfg
  TG_NAME=(direct sidecar); TG_PORT=("$rport" "$sport"); TG_PID=("$REDIS_PID" "$scpid"); TG_BACK=("" "")
  if [[ -n "$fport" ]]; then TG_NAME+=(floor); TG_PORT+=("$fport"); TG_PID+=("$FLOOR_PID"); TG_BACK+=(""); fi
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
  count_missed "$WORK/local.miss"
  { echo "redis-benchmark -c $CLIENTS, medians of $ROUNDS rounds (~${SECS}s/run, order alternated per round), fixed key."
    echo "direct = redis-server; sc = sidecar whose upstream port has no listener (INFO: mode:down, requests_local=$served)."
    echo "cpu_us = CPU-us per request of that server process (schedstat, all threads); cpu_x = sidecar/direct;"
    echo "fl_x, fl_us = floor-server's rps / direct's and its CPU-us per request, in the same rounds (bench/floor: the least a"
    echo "server that sleeps when idle does per request; a yardstick, not checked). oth% = CPU used outside the benchmark"
    echo "(% of a core; noise indicator). Targets: ratio >= 1.0; dp99ms <= 0.2 at P1."
    echo "$table"; } | section "2. Local mode (Redis down): sidecar-local vs Redis direct"
}

