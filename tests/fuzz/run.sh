#!/usr/bin/env bash
# Builds the parsers' fuzz targets with clang in their own build directory and runs each one for
# N seconds (default 60), the targets side by side (one process each; JOBS=1 runs them one after
# the other). New inputs go to <build>/corpus/<target>, crashes to <build>/artifacts/<target>/;
# the seed corpus in the tree is only read.
#
#   tests/fuzz/run.sh [seconds]            build dir: $FUZZ_BUILD_DIR or <repo>/build-fuzz
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
build="${FUZZ_BUILD_DIR:-${root}/build-fuzz}"

cmake -S "${here}" -B "${build}" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
jobs="${JOBS:-2}"
cmake --build "${build}" -j"${jobs}"

# Runs one target for the set time; prints its result line and fails when the fuzzer did.
fuzz_target() {
  local target="$1" work="${build}/corpus/$1" artifacts="${build}/artifacts/$1/" log="${build}/$1.log"
  local started="${SECONDS}" result status=0 executions corpus
  mkdir -p "${work}" "${artifacts}"
  if "${build}/${target}_fuzz" -max_total_time="${seconds}" -timeout=10 -print_final_stats=1 \
      -dict="${here}/resp.dict" -artifact_prefix="${artifacts}" "${work}" "${here}/corpus/${target}" \
      >"${log}" 2>&1; then
    result="ok"
  else
    result="FAILED (log: ${log}, inputs: ${artifacts})"
    status=1
    grep -E "invariant broken|ERROR: |runtime error|SUMMARY" "${log}" | head -20 || true
  fi
  executions="$(grep -oE 'stat::number_of_executed_units: [0-9]+' "${log}" | grep -oE '[0-9]+$' || echo "?")"
  corpus="$(find "${work}" -type f | wc -l)"
  echo "${target}: ${result}, ${executions} executions in $((SECONDS - started)) s, corpus ${corpus} inputs"
  return "${status}"
}

targets=(request_parser reply_framer command_reply)
status=0
if [[ "${jobs}" -gt 1 ]]; then
  # Each target is one single-threaded process: on two cores both run in the time of one.
  echo "== ${targets[*]}: ${seconds} s each, side by side"
  pids=()
  for target in "${targets[@]}"; do
    fuzz_target "${target}" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "${pid}" || status=1
  done
else
  for target in "${targets[@]}"; do
    echo "== ${target}: ${seconds} s"
    fuzz_target "${target}" || status=1
  done
fi
exit "${status}"
