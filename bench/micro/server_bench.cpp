// Micro benchmarks of the server component's per-request routing.
#include <benchmark/benchmark.h>

#include <array>
#include <string_view>

#include "redis_sidecar/server/command_table.hpp"

namespace server = redis_sidecar::server;

namespace {

// Routes the same command over and over: the lookup every forwarded request pays.
void route_repeatedly(benchmark::State& state, std::array<std::string_view, 2> args) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(args.data());
        benchmark::DoNotOptimize(server::route_command(args));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// A command in the table (GET is followed by the local store), one that is not (INCR), and one in
// the table whose name is in capitals, as most clients send it.
void BM_Route_Get(benchmark::State& state) { route_repeatedly(state, {"get", "key"}); }
void BM_Route_Incr(benchmark::State& state) { route_repeatedly(state, {"incr", "key"}); }
void BM_Route_SetUppercase(benchmark::State& state) { route_repeatedly(state, {"SET", "key"}); }

}  // namespace

BENCHMARK(BM_Route_Get);
BENCHMARK(BM_Route_Incr);
BENCHMARK(BM_Route_SetUppercase);
