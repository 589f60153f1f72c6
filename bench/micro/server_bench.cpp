// Micro benchmarks of the server component's per-request routing.
#include <benchmark/benchmark.h>

#include <array>
#include <string_view>

#include "redis_sidecar/server/command_table.hpp"

namespace server = redis_sidecar::server;

namespace {

// Routes the same command over and over: the lookup every forwarded request pays.
void route_repeatedly(benchmark::State& state, std::array<std::string_view, 2> args) {
    const auto& commands = *redis_sidecar::catalogue::command_catalogue::builtin();
    for (auto _ : state) {
        benchmark::DoNotOptimize(args.data());
        benchmark::DoNotOptimize(server::route_command(commands, args));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// A read the local store backs (GET), a write (INCR), and a name in capitals, as most clients send it.
void BM_Route_Get(benchmark::State& state) { route_repeatedly(state, {"get", "key"}); }
void BM_Route_Incr(benchmark::State& state) { route_repeatedly(state, {"incr", "key"}); }
void BM_Route_SetUppercase(benchmark::State& state) { route_repeatedly(state, {"SET", "key"}); }

}  // namespace

BENCHMARK(BM_Route_Get);
BENCHMARK(BM_Route_Incr);
BENCHMARK(BM_Route_SetUppercase);
