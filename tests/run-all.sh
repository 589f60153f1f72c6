#!/usr/bin/env bash
# Runs the whole test suite: builds (Release) if needed, installs the Node test dependencies if
# they are missing, then runs every test through ctest (unit, integration, ...).
#
#   bash tests/run-all.sh                 # from anywhere
#   BUILD_DIR=build-asan bash tests/run-all.sh
#   CTEST_ARGS="-R integration_protocol" bash tests/run-all.sh
#
# Exits non-zero when the build or any test fails. Needs the packages listed in README.md.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build_dir="${BUILD_DIR:-build}"
jobs="${JOBS:-2}"

echo "== build (${build_dir}, Release)"
if [[ ! -f "${build_dir}/CMakeCache.txt" ]]; then
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build_dir" -j"$jobs"

node_dir="tests/integration/node"
if command -v node >/dev/null 2>&1; then
    if [[ ! -d "${node_dir}/node_modules" ]]; then
        echo "== npm ci (${node_dir})"
        (cd "$node_dir" && npm ci --no-audit --no-fund)
    fi
else
    echo "== node not found: the Node.js (ioredis) integration test will be skipped"
fi

echo "== ctest"
# shellcheck disable=SC2086 # CTEST_ARGS is a list of words on purpose
# Two at a time: the tests mostly wait on sockets and timeouts (the stress tests are marked
# RUN_SERIAL and run alone).
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" ${CTEST_ARGS:-}
