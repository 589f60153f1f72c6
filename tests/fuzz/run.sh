#!/usr/bin/env bash
# Builds the protocol fuzz targets with clang in their own build directory and runs each one for
# N seconds (default 60), one process at a time. New inputs go to <build>/corpus/<target>, crashes
# to <build>/artifacts/<target>/; the seed corpus in the tree is only read.
#
#   tests/fuzz/run.sh [seconds]            build dir: $FUZZ_BUILD_DIR or <repo>/build-fuzz
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
build="${FUZZ_BUILD_DIR:-${root}/build-fuzz}"

cmake -S "${here}" -B "${build}" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "${build}" -j1

status=0
for target in request_parser reply_framer; do
  work="${build}/corpus/${target}"
  artifacts="${build}/artifacts/${target}/"
  log="${build}/${target}.log"
  mkdir -p "${work}" "${artifacts}"
  echo "== ${target}: ${seconds} s"
  started="${SECONDS}"
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
done
exit "${status}"
