# shellcheck shell=bash disable=SC2034
# bench/lib/phase_forward.sh: bench/run.sh's forward phase (Redis up). One Redis, and in front of
# it twemproxy with Debian's defaults, twemproxy tuned, the sidecar and any SIDECAR_VARIANTS, all
# started by this script: they share its session, and with it one scheduling group
# (kernel.sched_autogroup_enabled), so the kernel shares CPU 0 between them as it would between an
# app host's processes. A process in a session of its own is scheduled as a group against the
# others, which changes how often it runs and so how it batches: a comparison needs the same
# placement for every proxy. Sourced by bench/run.sh.

# The targets: name, kind (redis, nutcracker, sidecar) and flags. Redis direct comes first; every
# other target forwards to it.
declare -a FW_NAME=() FW_KIND=() FW_FLAGS=() FW_BIN=()
forward_targets() {
  local variant name flags bin
  local -a variants=()
  FW_NAME=(direct twemproxy); FW_KIND=(redis nutcracker); FW_FLAGS=("" "$NC_ARGS"); FW_BIN=("" "")
  if [[ "$NC_TUNED" == 1 ]]; then FW_NAME+=(twem_tuned); FW_KIND+=(nutcracker); FW_FLAGS+=("$NC_TUNED_ARGS"); FW_BIN+=(""); fi
  FW_NAME+=(sidecar); FW_KIND+=(sidecar); FW_FLAGS+=(""); FW_BIN+=("$BIN")
  # The same binary with other flags, or another build (name@binary), measured in the same rounds
  # (e.g. a batch delay's trade-off, or a change against the commit before it).
  IFS=';' read -r -a variants <<< "$SIDECAR_VARIANTS"
  for variant in "${variants[@]}"; do
    [[ -n "$variant" ]] || continue
    name=${variant%%:*}; flags=${variant#*:}; bin=$BIN
    if [[ "$name" == *@* ]]; then bin=${name#*@}; name=${name%%@*}; fi
    [[ "$name" =~ ^[a-z][a-z0-9_]*$ && "$variant" == *:* ]] || bad_knob "SIDECAR_VARIANTS: '$variant' is not name[@binary]:flags"
    [[ -x "$bin" || "$bin" == "$BIN" ]] || bad_knob "SIDECAR_VARIANTS: '$bin' is not an executable"
    [[ " ${FW_NAME[*]} " != *" $name "* ]] || bad_knob "SIDECAR_VARIANTS: the name '$name' is taken"
    FW_NAME+=("$name"); FW_KIND+=(sidecar); FW_FLAGS+=("$flags"); FW_BIN+=("$bin")
  done
}

TARGET_PID=""
start_target() {  # start_target INDEX PORT REDIS_PORT -> TARGET_PID (Redis itself for direct)
  local i=$1 port=$2 rport=$3
  case "${FW_KIND[i]}" in
    redis) TARGET_PID=$REDIS_PID ;;
    nutcracker) start_nutcracker "$port" "$rport" "${FW_FLAGS[i]}"; TARGET_PID=$NC_PID ;;
    sidecar)
      # shellcheck disable=SC2086
      SC_BINARY=${FW_BIN[i]} start_sidecar "$port" "$rport" ${FW_FLAGS[i]}; TARGET_PID=$SC_PID
      wait_mode "$port" up "$START_WAIT" || die "${FW_NAME[i]} on $port did not reach mode:up (see $WORK/sidecar-$port.log)"
      ;;
  esac
}

# Does each proxy serve SET, GET and INCR, out of this script's Redis?
check_backed_by_redis() {  # check_backed_by_redis REDIS_PORT
  local i k v p
  for ((i = 1; i < ${#TG_NAME[@]}; i++)); do
    p=${TG_PORT[i]}; k="bench:probe:${TG_NAME[i]}:$RANDOM"; v="v$RANDOM"
    [[ "$(redis-cli -p "$p" set "$k" "$v" 2>&1)" == OK && "$(redis-cli -p "$p" get "$k" 2>&1)" == "$v" &&
       "$(redis-cli -p "$p" incr "$k:n" 2>&1)" == 1 ]] || die "${TG_NAME[i]} on $p does not serve SET/GET/INCR"
    [[ "$(redis-cli -p "$1" get "$k")" == "$v" ]] || die "${TG_NAME[i]} on $p is not in front of the Redis on $1"
    redis-cli -p "$1" del "$k" "$k:n" > /dev/null
  done
}

phase_forward() {
  local rport port i sc_port=""
  forward_targets
  TG_NAME=(); TG_PORT=(); TG_PID=(); TG_BACK=()
  free_port rport
  start_redis "$rport"
  local rpid=$REDIS_PID
  for ((i = 0; i < ${#FW_NAME[@]}; i++)); do
    if ((i == 0)); then port=$rport; else free_port port; fi
    start_target "$i" "$port" "$rport"
    TG_NAME+=("${FW_NAME[i]}"); TG_PORT+=("$port"); TG_PID+=("$TARGET_PID")
    if ((i == 0)); then TG_BACK+=(""); else TG_BACK+=("$rpid"); fi
    [[ "${FW_NAME[i]}" == sidecar ]] && sc_port=$port
  done
  check_backed_by_redis "$rport"
  log "forward: $(for ((i = 0; i < ${#TG_NAME[@]}; i++)); do printf '%s=:%s ' "${TG_NAME[i]}" "${TG_PORT[i]}"; done)(MODE=$MODE)"
  local body="$WORK/forward.txt"; : > "$body"
  if [[ "$MODE" != instr ]]; then
    grid_cfg
    run_rounds forward
    local counts
    counts="requests_forwarded=$(info_field "$sc_port" requests_forwarded), requests_local=$(info_field "$sc_port" requests_local)"
    stop_all
    forward_tables "$counts" >> "$body"
  fi
  stop_all
  if [[ "$MODE" != bench ]]; then
    [[ "$MODE" == instr ]] || echo >> "$body"
    forward_instr >> "$body"
  fi
  section "1. Forwarding: Redis direct vs twemproxy vs sidecar (Redis up)" < "$body"
}

# The side-by-side table (medians per config and target), then the targets checked per config.
forward_tables() {  # forward_tables "sidecar's request counts"
  local report check
  report=$(awk -F'\t' -v order="${TG_NAME[*]}" -v cfgs="$(printf '%s|' "${CFG[@]}")" "$AWK_MED"'
    $1 == "forward" && $2 > 0 { collect($4 " " $5 " " $6 SUBSEP $3) }
    END {
      nt = split(order, T, " "); nc = split(cfgs, C, "|")
      printf "%-5s %5s %3s  %-10s %10s %6s %18s %7s %7s %8s %8s %6s\n", "test", "size", "P", "target",
        "rps(med)", "ratio", "rps[min..max]", "p50ms", "p99ms", "redisus", "proxyus", "oth%"
      for (c = 1; c <= nc; c++) { if (C[c] == "") continue; split(C[c], f, " "); cf = f[1] " " f[2] " " f[3]
        base = med(rps[cf SUBSEP "direct"])
        for (t = 1; t <= nt; t++) { k = cf SUBSEP T[t]
          if (!(k in rps)) { printf "%-5s %5s %3s  %-10s %10s   (all %d runs failed)\n", f[1], f[2], f[3], T[t], "-", fail[k]; continue }
          m = med(rps[k]); direct = (T[t] == "direct")
          printf "%-5s %5s %3s  %-10s %10.0f %6.3f %8.0f..%-8.0f %7.3f %7.3f %8.3f %8s %6.0f%s\n", f[1], f[2], f[3], T[t],
            m, (base > 0 ? m / base : 0), lo(rps[k]), hi(rps[k]), med(p50[k]), med(p99[k]),
            (direct ? med(cpu[k]) : med(back[k])), (direct ? "-" : sprintf("%.3f", med(cpu[k]))), med(oth[k]),
            (fail[k] ? "  FAILED x" fail[k] : "") }
      } }' "$RAW")
  check=$(awk -F'\t' -v cfgs="$(printf '%s|' "${CFG[@]}")" "$AWK_MED"'
    $1 == "forward" && $2 > 0 { collect($4 " " $5 " " $6 SUBSEP $3) }
    function has(c, t) { return (c SUBSEP t) in rps }
    END {
      printf "%-5s %5s %3s  %7s %5s  %8s  %8s %8s  %8s %8s %8s  %s\n", "test", "size", "P", "sc/dir", "need",
        "dp99ms", "sc_us", "twt_us/2", "r_us_sc", "r_us_tw", "r_us_twt", "verdict"
      n = split(cfgs, C, "|")
      for (i = 1; i <= n; i++) { if (C[i] == "") continue; split(C[i], f, " "); c = f[1] " " f[2] " " f[3]; v = ""
        if (!has(c, "sidecar") || !has(c, "direct")) { printf "%-5s %5s %3s  no result for the sidecar or Redis direct\n", f[1], f[2], f[3]; miss++; continue }
        sc = c SUBSEP "sidecar"; dr = c SUBSEP "direct"; tw = c SUBSEP "twemproxy"; twt = c SUBSEP "twem_tuned"
        ratio = med(rps[sc]) / med(rps[dr])
        need = (f[3] == 1) ? 0.95 : (f[2] + 0 <= 64 ? 0.70 : 0.50)
        if (ratio < need) v = v " rps"
        dp = med(p99[sc]) - med(p99[dr])
        if (f[3] == 1 && dp > 0.2) v = v " p99"
        half = has(c, "twem_tuned") ? med(cpu[twt]) / 2 : -1
        if (half >= 0 && med(cpu[sc]) > half) v = v " cpu"
        rtw = has(c, "twemproxy") ? med(back[tw]) : -1; rtwt = has(c, "twem_tuned") ? med(back[twt]) : -1
        rmin = rtw; if (rtwt >= 0 && (rmin < 0 || rtwt < rmin)) rmin = rtwt
        if (rmin >= 0 && med(back[sc]) > rmin) v = v " redis-cpu"
        if (v != "") miss++
        printf "%-5s %5s %3s  %7.3f %5.2f  %8.3f  %8.3f %8s  %8.3f %8s %8s  %s\n", f[1], f[2], f[3], ratio, need, dp,
          med(cpu[sc]), (half >= 0 ? sprintf("%.3f", half) : "-"), med(back[sc]),
          (rtw >= 0 ? sprintf("%.3f", rtw) : "-"), (rtwt >= 0 ? sprintf("%.3f", rtwt) : "-"), (v == "" ? "ok" : "MISS:" v) }
      print "MISSED " miss + 0 > "/dev/stderr" }' "$RAW" 2> "$WORK/forward.miss")
  count_missed "$WORK/forward.miss"
  echo "redis-benchmark $(redis-benchmark --version | awk '{print $2}'), $(nutcracker --version 2>&1 | head -1)"
  echo "(twemproxy flags '$NC_ARGS'$([[ $NC_TUNED == 1 ]] && echo ", twem_tuned '$NC_TUNED_ARGS'"); sidecar flags '$SIDECAR_ARGS')."
  echo "-c $CLIENTS, medians of $ROUNDS rounds (~${SECS}s/run, order rotated per round), fixed key, pin=$PIN"
  echo "(servers cpu $SERVER_CPUS, redis-benchmark cpu $BENCH_CPUS). ratio = target/direct rps; redisus/proxyus = CPU-us per"
  echo "request of Redis / of the proxy (schedstat, all threads); oth% = CPU used outside the measured processes"
  echo "(% of one core; noise indicator)."
  echo "$report"
  echo
  echo "-- every target ran in this script's session (one scheduling group); the sidecar: $1"
  [[ -z "$SIDECAR_VARIANTS" ]] || echo "-- also measured, in the same rounds and not checked against the targets: $SIDECAR_VARIANTS"
  echo "-- targets: sc/dir >= need (P1 0.95, P16 64 B 0.70, P16 1 KB 0.50); dp99ms = sidecar p99 - direct p99 <= 0.2 at P1;"
  echo "   sc_us (sidecar CPU-us/req) <= twt_us/2 (half of twemproxy tuned's); r_us_sc (Redis CPU-us/req behind the"
  echo "   sidecar) <= the lower of r_us_tw / r_us_twt (behind twemproxy default / tuned)"
  echo "$check"
}

# MODE=instr: user-space instructions per request of each target's process under cachegrind, by
# difference: two runs of n0 and n0 + N requests, each with fresh processes, so that start-up and
# shutdown cancel out. The other processes of a run (Redis behind a proxy) run natively.
cg_sum() { awk '/^summary:/{print $2}' "$1" 2>/dev/null || true; }
forward_instr() {
  local t P N n0 n i rport port out line a b
  local -a count=() cg=(valgrind --tool=cachegrind --cache-sim=no --branch-sim=no)
  local START_WAIT=120  # valgrind starts a server slowly
  echo "user-space instructions per request (valgrind cachegrind; (I(n0+N) - I(n0)) / N, -c $CLIENTS -d 64, fixed key)"
  printf "%-5s %3s %8s " test P N; for ((i = 0; i < ${#FW_NAME[@]}; i++)); do printf " %14s" "${FW_NAME[i]}"; done; echo
  for t in $INSTR_TESTS; do for P in $INSTR_PIPES; do
    N=$(( P == 1 ? INSTR_N_P1 : INSTR_N )); n0=$(( N / 10 ))
    line=$(printf "%-5s %3s %8s " "$t" "$P" "$N")
    for ((i = 0; i < ${#FW_NAME[@]}; i++)); do
      count=()
      for n in "$n0" "$((n0 + N))"; do
        out="$WORK/cg.${FW_NAME[i]}.$t.$P.$n"; rm -f "$out"
        free_port rport
        if ((i == 0)); then
          VG=("${cg[@]}" --cachegrind-out-file="$out" --log-file="$out.log"); start_redis "$rport"; port=$rport
        else
          start_redis "$rport"; free_port port
          VG=("${cg[@]}" --cachegrind-out-file="$out" --log-file="$out.log"); start_target "$i" "$port" "$rport"
        fi
        VG=()
        redis-cli -p "$port" set key:__rand_int__ "$(xs 64)" > /dev/null || die "preload on ${FW_NAME[i]} failed"
        # shellcheck disable=SC2046
        $(pin "$BENCH_CPUS") timeout 600 redis-benchmark -p "$port" -c "$CLIENTS" -n "$n" -P "$P" -d 64 -t "$t" --csv \
          > "$WORK/instr.csv" 2>> "$WORK/bench.stderr" || die "instr run failed: ${FW_NAME[i]} $t -P $P -n $n"
        stop_all
        count+=("$(cg_sum "$out")")
      done
      a=${count[0]:-}; b=${count[1]:-}
      if [[ -n "$a" && -n "$b" ]]; then line+=$(awk -v a="$a" -v b="$b" -v N="$N" 'BEGIN { printf " %14.0f", (b - a) / N }')
      else line+=$(printf " %14s" ERR); FAILED_RUNS=$((FAILED_RUNS + 1)); fi
    done
    echo "$line"
  done; done
  echo "(user space only: the kernel's work of read, write and epoll is not counted; valgrind slows a process many"
  echo " times over, which changes how requests batch somewhat)"
}
