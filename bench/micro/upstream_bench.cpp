// The request bytes of a pooled connection (upstream/request_blocks): what a forwarded request
// costs from being queued to being answered, without the sockets.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/upstream/request_blocks.hpp"

namespace {

using redis_sidecar::upstream::request_blocks;

std::string set_request(std::size_t value_size) {
    const std::string value(value_size, 'v');
    return "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000042\r\n$" + std::to_string(value_size) + "\r\n" + value + "\r\n";
}

// Batches of `batch` requests of `length` bytes each: queued by `append_batch(blocks)`, written in
// one gathered write, then answered in order; many batches wait at once, as under load
// (`in_flight` of them).
template <typename AppendBatch>
void run_batches(benchmark::State& state, std::size_t length, int batch, int in_flight, AppendBatch append_batch) {
    request_blocks blocks;
    std::size_t bytes_written = 0;
    for (int i = 0; i < in_flight; ++i) append_batch(blocks);  // the batches ahead
    blocks.take_unwritten();
    for (auto _ : state) {
        append_batch(blocks);
        for (const auto& buffer : blocks.take_unwritten()) bytes_written += buffer.size();
        for (int i = 0; i < batch; ++i) {
            benchmark::DoNotOptimize(blocks.oldest(length).data());
            blocks.finish_oldest(length);
        }
    }
    benchmark::DoNotOptimize(bytes_written);
    state.SetItemsProcessed(state.iterations() * batch);
    state.SetBytesProcessed(state.iterations() * batch * static_cast<std::int64_t>(length));
}

// SETs copied into the request blocks.
void run_blocks(benchmark::State& state, std::size_t value_size, int batch, int in_flight) {
    const std::string request = set_request(value_size);
    run_batches(state, request.size(), batch, in_flight, [&](request_blocks& blocks) {
        for (int i = 0; i < batch; ++i) blocks.append(request);
    });
}

// SETs shared with their clients' receive buffers (append_shared): each client's `per_client`
// requests lie back to back in its buffer, as a pipeline read at once.
void run_shared_blocks(benchmark::State& state, std::size_t value_size, int batch, int in_flight, int per_client) {
    const std::string request = set_request(value_size);
    const std::size_t length = request.size();
    std::vector<redis_sidecar::protocol::shared_bytes> buffers;
    std::vector<std::string_view> placed;  // batch requests, in the order the clients send them
    for (int client = 0; client < batch / per_client; ++client) {
        buffers.push_back(redis_sidecar::protocol::shared_bytes::allocate(length * per_client));
        for (int i = 0; i < per_client; ++i) {
            char* at = buffers.back().data() + i * length;
            std::memcpy(at, request.data(), length);
            placed.emplace_back(at, length);
        }
    }
    run_batches(state, length, static_cast<int>(placed.size()), in_flight, [&](request_blocks& blocks) {
        for (std::size_t i = 0; i < placed.size(); ++i) blocks.append_shared(placed[i], buffers[i / per_client]);
    });
}

void BM_RequestBlocks_Set64Batch100(benchmark::State& state) { run_blocks(state, 64, 100, 30); }
BENCHMARK(BM_RequestBlocks_Set64Batch100);

void BM_RequestBlocks_Set1KBatch100(benchmark::State& state) { run_blocks(state, 1024, 100, 30); }
BENCHMARK(BM_RequestBlocks_Set1KBatch100);

// 1 KB SETs shared instead of copied: 16 per client (-P 16) and 1 per client (-P 1).
void BM_RequestBlocks_Shared1KBatch96Pipelined16(benchmark::State& state) { run_shared_blocks(state, 1024, 96, 30, 16); }
BENCHMARK(BM_RequestBlocks_Shared1KBatch96Pipelined16);

void BM_RequestBlocks_Shared1KBatch100Single(benchmark::State& state) { run_shared_blocks(state, 1024, 100, 30, 1); }
BENCHMARK(BM_RequestBlocks_Shared1KBatch100Single);

// Requests of about 512 B (the sharing threshold) copied, and shared one per client.
void BM_RequestBlocks_Set480Batch100(benchmark::State& state) { run_blocks(state, 480, 100, 30); }
BENCHMARK(BM_RequestBlocks_Set480Batch100);

void BM_RequestBlocks_Shared480Batch100Single(benchmark::State& state) { run_shared_blocks(state, 480, 100, 30, 1); }
BENCHMARK(BM_RequestBlocks_Shared480Batch100Single);

}  // namespace
