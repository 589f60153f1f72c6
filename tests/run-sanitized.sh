#!/usr/bin/env bash
# The test suite on an ASan + UBSan build (build-asan): builds the sidecar and its tests with
# -DREDIS_SIDECAR_SANITIZE=ON (-O0, asserts on, UBSan fatal), then runs the unit and integration
# tests on it. Every process writes its sanitizer reports into one directory (the sidecars that
# the Python tests start too, whose stderr no test reads): the run fails if any report is there.
#
#   bash tests/run-sanitized.sh                       # from anywhere
#   CTEST_ARGS="-R integration_protocol" bash tests/run-sanitized.sh
#   ASAN_BUILD_DIR=build-asan JOBS=2                  # the defaults
#
# Left out here: the benchmark (throughput bounds), the soak (a minute of timing stress through ten
# outages), the packaging tests and bench/run.sh's (no memory at stake); tests/run-all.sh runs them
# on the Release build. Run the soak here too with CTEST_ARGS="-R integration_soak" and SANITIZED_EXCLUDE=none.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build_dir="${ASAN_BUILD_DIR:-build-asan}"
jobs="${JOBS:-2}"

echo "== build (${build_dir}, ASan + UBSan, -O0)"
# Debug keeps assert() on. -O0 builds faster than -O1 and the suite (mostly waiting on sockets)
# runs as fast; -g1 gives file:line in reports. The Google Benchmark suite is not built here.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" \
    -DREDIS_SIDECAR_SANITIZE=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON >/dev/null
cmake --build "$build_dir" -j"$jobs"

reports="$(cd "$build_dir" && pwd)/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
# Exit code 66 on a finding, so that a test expecting a plain failure (1) notices it too.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:exitcode=66:log_path=${reports}/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=66:log_path=${reports}/ubsan"

echo "== ctest (${build_dir})"
status=0
# shellcheck disable=SC2086 # CTEST_ARGS is a list of words on purpose
# Two at a time, as tests/run-all.sh: the tests mostly wait on sockets.
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" \
    -E "${SANITIZED_EXCLUDE:-^(integration_benchmark|integration_soak|packaging_.*|systemd_unit_verify|bench_script)$}" \
    ${CTEST_ARGS:-} || status=$?

if compgen -G "${reports}/*" >/dev/null; then
    echo "== sanitizer reports (${reports})"
    for report in "${reports}"/*; do
        echo "--- ${report}"
        head -60 "$report"
    done
    echo "FAILED: $(find "$reports" -type f | wc -l) sanitizer report(s)"
    status=1
else
    echo "== no sanitizer reports"
fi
exit "$status"
