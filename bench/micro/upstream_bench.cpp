// The request bytes of a pooled connection (upstream/request_blocks): what a forwarded request
// costs from being queued to being answered, without the sockets.
#include <benchmark/benchmark.h>

#include <string>

#include "redis_sidecar/upstream/request_blocks.hpp"

namespace {

using redis_sidecar::upstream::request_blocks;

std::string set_request(std::size_t value_size) {
    const std::string value(value_size, 'v');
    return "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000042\r\n$" + std::to_string(value_size) + "\r\n" + value + "\r\n";
}

// A batch of `batch` requests: queued, written in one gathered write, then answered in order;
// many batches wait at once, as under load (`in_flight` of them).
void run_blocks(benchmark::State& state, std::size_t value_size, int batch, int in_flight) {
    const std::string request = set_request(value_size);
    const std::size_t length = request.size();
    request_blocks blocks;
    std::size_t bytes_written = 0;
    for (int i = 0; i < batch * in_flight; ++i) blocks.append(request);  // the batches ahead
    blocks.take_unwritten();
    for (auto _ : state) {
        for (int i = 0; i < batch; ++i) blocks.append(request);
        for (const auto& buffer : blocks.take_unwritten()) bytes_written += buffer.size();
        for (int i = 0; i < batch; ++i) {
            benchmark::DoNotOptimize(blocks.oldest(length).data());
            blocks.finish_oldest(length);
        }
    }
    benchmark::DoNotOptimize(bytes_written);
    state.SetItemsProcessed(state.iterations() * batch);
    state.SetBytesProcessed(state.iterations() * batch * static_cast<std::int64_t>(request.size()));
}

void BM_RequestBlocks_Set64Batch100(benchmark::State& state) { run_blocks(state, 64, 100, 30); }
BENCHMARK(BM_RequestBlocks_Set64Batch100);

void BM_RequestBlocks_Set1KBatch100(benchmark::State& state) { run_blocks(state, 1024, 100, 30); }
BENCHMARK(BM_RequestBlocks_Set1KBatch100);

}  // namespace
