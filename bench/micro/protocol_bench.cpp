// Micro benchmarks of the protocol component: request parser, pinned request scanner, reply
// framer, reply writer.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/protocol/pinned_request_scanner.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"

namespace proto = redis_sidecar::protocol;

namespace {

// (Built with append, not `"literal" + std::string`: GCC 12's false -Wrestrict, bug 105651.)
std::string bulk(std::string_view s) {
    std::string out;
    out.append("$").append(std::to_string(s.size())).append("\r\n").append(s).append("\r\n");
    return out;
}

std::string multibulk(std::initializer_list<std::string_view> args) {
    std::string out;
    out.append("*").append(std::to_string(args.size())).append("\r\n");
    for (auto a : args) out += bulk(a);
    return out;
}

// Parses every command in `input` (which holds only whole commands); returns how many.
std::size_t parse_all(proto::request_parser& parser, std::string_view input) {
    std::size_t commands = 0;
    while (!input.empty()) {
        const auto r = parser.parse(input);
        if (r.status != proto::parse_status::complete) return commands;  // checked by the caller
        benchmark::DoNotOptimize(parser.args().data());
        input.remove_prefix(r.consumed);
        ++commands;
    }
    return commands;
}

void run_parser(benchmark::State& state, const std::string& input, std::size_t expected) {
    proto::request_parser parser;
    if (parse_all(parser, input) != expected) {
        state.SkipWithError("input did not parse into the expected commands");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(parse_all(parser, input));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * expected));
}

// SET key:000000000001 <64 B value> as redis-benchmark -d 64 sends it.
void BM_Parser_Set64Multibulk(benchmark::State& state) {
    run_parser(state, multibulk({"SET", "key:000000000001", std::string(64, 'x')}), 1);
}
BENCHMARK(BM_Parser_Set64Multibulk);

// A pipeline of 16 GETs in one buffer (redis-benchmark -P 16); time per pipeline, items = commands.
void BM_Parser_Pipeline16Get(benchmark::State& state) {
    std::string input;
    for (int i = 0; i < 16; ++i) input += multibulk({"GET", "key:000000000001"});
    run_parser(state, input, 16);
}
BENCHMARK(BM_Parser_Pipeline16Get);

// An inline command (telnet style, needs splitting and copying into the parser's scratch).
void BM_Parser_Inline(benchmark::State& state) {
    run_parser(state, "SET key:000000000001 hello-inline-value\r\n", 1);
}
BENCHMARK(BM_Parser_Inline);

// A pinned client's stream, as pipe_client_to_pinned scans it on its way to Redis: `input` holds
// whole requests and no INFO.
void run_pinned_scanner(benchmark::State& state, const std::string& input, std::uint64_t expected) {
    proto::pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
    const auto first = scanner.scan(input);
    if (first.requests != expected || first.info || scanner.held() != 0) {
        state.SkipWithError("input did not scan into the expected requests");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(scanner.scan(input).requests);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * expected));
}

// MULTI, 16 SETs of 64 B, EXEC in one buffer (a transaction pipelined on a pinned connection).
void BM_PinnedScanner_Transaction16Set64(benchmark::State& state) {
    std::string input = multibulk({"MULTI"});
    for (int i = 0; i < 16; ++i) input += multibulk({"SET", "key:000000000001", std::string(64, 'x')});
    input += multibulk({"EXEC"});
    run_pinned_scanner(state, input, 18);
}
BENCHMARK(BM_PinnedScanner_Transaction16Set64);

// One SET of 1 KB: the payload is skipped, not read.
void BM_PinnedScanner_Set1K(benchmark::State& state) {
    run_pinned_scanner(state, multibulk({"SET", "key:000000000001", std::string(1024, 'x')}), 1);
}
BENCHMARK(BM_PinnedScanner_Set1K);

void run_framer(benchmark::State& state, const std::string& reply) {
    proto::reply_framer framer;
    const auto first = framer.next(reply);
    if (first.status != proto::frame_status::complete || first.length != reply.size()) {
        state.SkipWithError("reply did not frame as one complete reply");
        return;
    }
    for (auto _ : state) {
        auto r = framer.next(reply);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * reply.size()));
}

void BM_Framer_Bulk64(benchmark::State& state) { run_framer(state, bulk(std::string(64, 'v'))); }
BENCHMARK(BM_Framer_Bulk64);

void BM_Framer_Bulk1K(benchmark::State& state) { run_framer(state, bulk(std::string(1024, 'v'))); }
BENCHMARK(BM_Framer_Bulk1K);

// *10 of 64 B bulks (an MGET of 10 keys).
void BM_Framer_Array10Bulk64(benchmark::State& state) {
    std::string reply;
    reply.append("*10\r\n");
    for (int i = 0; i < 10; ++i) reply += bulk(std::string(64, 'v'));
    run_framer(state, reply);
}
BENCHMARK(BM_Framer_Array10Bulk64);

// The framer fed a 1 KB bulk in 4 reads of 256 B (the incremental path).
void BM_Framer_Bulk1KIn4Reads(benchmark::State& state) {
    const std::string reply = bulk(std::string(1024, 'v'));
    proto::reply_framer framer;
    for (auto _ : state) {
        for (std::size_t have = 256;; have += 256) {
            const auto r = framer.next(std::string_view(reply).substr(0, std::min(have, reply.size())));
            if (r.status == proto::frame_status::complete) break;
            if (r.status == proto::frame_status::error) {
                state.SkipWithError("framer error");
                return;
            }
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * reply.size()));
}
BENCHMARK(BM_Framer_Bulk1KIn4Reads);

// The reply writer, as the local engine uses it (output buffer reused, as per connection).
void BM_Writer_Bulk64(benchmark::State& state) {
    const std::string value(64, 'v');
    std::string out;
    for (auto _ : state) {
        out.clear();
        proto::write_bulk(out, value);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_Writer_Bulk64);

void BM_Writer_Bulk1K(benchmark::State& state) {
    const std::string value(1024, 'v');
    std::string out;
    for (auto _ : state) {
        out.clear();
        proto::write_bulk(out, value);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_Writer_Bulk1K);

void BM_Writer_Array10Bulk64(benchmark::State& state) {
    const std::string v(64, 'v');
    std::string out;
    for (auto _ : state) {
        out.clear();
        proto::write_bulk_array(out, {v, v, v, v, v, v, v, v, v, v});
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_Writer_Array10Bulk64);

}  // namespace
