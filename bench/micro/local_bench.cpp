// Micro benchmarks of the local engine (the path that answers while Redis is down): one command
// through engine::execute, reply appended to a reused buffer, real system clock.
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/local/engine.hpp"

namespace local = redis_sidecar::local;

namespace {

// Skips with `what` and the reply (appended: GCC 12's false -Wrestrict on `"literal" + string`).
void fail(benchmark::State& state, std::string_view what, const std::string& reply) {
    std::string message(what);
    message.append(": ").append(reply);
    state.SkipWithError(message.c_str());
}

template <std::size_t N>
bool run(local::engine& e, const std::array<std::string_view, N>& args, std::string& out) {
    out.clear();
    e.execute(args, out);
    return !out.empty() && out[0] != '-';
}

void BM_Engine_GetHit64(benchmark::State& state) {
    local::engine e;
    std::string out;
    const std::string value(64, 'v');
    if (!run(e, std::array<std::string_view, 3>{"SET", "key:000000000001", value}, out)) {
        fail(state, "SET failed", out);
        return;
    }
    const std::array<std::string_view, 2> get{"GET", "key:000000000001"};
    for (auto _ : state) {
        out.clear();
        e.execute(get, out);
        benchmark::DoNotOptimize(out.data());
    }
    std::string expected;
    expected.append("$64\r\n").append(value).append("\r\n");
    if (out != expected) fail(state, "unexpected GET reply", out);
}
BENCHMARK(BM_Engine_GetHit64);

// SET with a 64 B value and EX 60, overwriting the same key (as redis-benchmark's SET does).
void BM_Engine_SetEx64(benchmark::State& state) {
    local::engine e;
    std::string out;
    const std::string value(64, 'v');
    const std::array<std::string_view, 5> set{"SET", "key:000000000001", value, "EX", "60"};
    for (auto _ : state) {
        out.clear();
        e.execute(set, out);
        benchmark::DoNotOptimize(out.data());
    }
    if (out != "+OK\r\n") fail(state, "unexpected SET reply", out);
}
BENCHMARK(BM_Engine_SetEx64);

void BM_Engine_Incr(benchmark::State& state) {
    local::engine e;
    std::string out;
    const std::array<std::string_view, 2> incr{"INCR", "counter:000000000001"};
    for (auto _ : state) {
        out.clear();
        e.execute(incr, out);
        benchmark::DoNotOptimize(out.data());
    }
    if (out.empty() || out[0] != ':') fail(state, "unexpected INCR reply", out);
}
BENCHMARK(BM_Engine_Incr);

// GET hit in a keyspace of 100,000 keys (hash lookups that miss the cache more often).
void BM_Engine_GetHit64_100kKeys(benchmark::State& state) {
    local::engine e;
    std::string out;
    const std::string value(64, 'v');
    std::vector<std::string> keys;
    for (int i = 0; i < 100000; ++i) {
        keys.emplace_back("key:");
        keys.back().append(std::to_string(1000000000000 + i));
        run(e, std::array<std::string_view, 3>{"SET", keys.back(), value}, out);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        out.clear();
        e.execute(std::array<std::string_view, 2>{"GET", keys[i]}, out);
        benchmark::DoNotOptimize(out.data());
        i = (i + 7919) % keys.size();
    }
    if (out.size() != 64 + 7) fail(state, "unexpected GET reply", out);
}
BENCHMARK(BM_Engine_GetHit64_100kKeys);

}  // namespace
