// Cancelling one socket operation must not complete another one.
//
// Boost 1.81's Asio io_uring backend (REDIS_SIDECAR_IO_URING) submits its cancel requests
// (IORING_OP_ASYNC_CANCEL: per-operation cancellation, `||` of awaitables, closing a socket) without
// setting their user_data. liburing 2.3 does not clear it either, so a cancel inherits the user_data
// of whatever request last used its slot of the submission ring, and its completion (0, or -ENOENT)
// is taken for that request's: a read or write of some other socket "completes" with EOF or
// "No such file or directory" while the kernel still owns its buffer. In the sidecar that was the
// `malloc(): unsorted double linked list corrupted` under redis-benchmark (the mirror feed cancels
// its read every second). include/redis_sidecar/asio_ext/io_uring_fix.hpp is the fix; under epoll this test passes anyway.
//
// Real sockets (a socket pair), no Redis. A reader drains a byte stream whose every byte is known
// while a writer sends it in chunks of varying size and, now and then, starts a read on a second,
// idle socket and cancels it at once. Enough rounds to wrap the submission ring (16384 entries)
// several times: then a cancel lands in a slot that a read or write of the busy pair used before.

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;
using socket_type = asio::local::stream_protocol::socket;

namespace {

constexpr std::uint64_t rounds = 40000;  // about 3 submissions each: the ring wraps 7 times

char expected_byte(std::uint64_t offset) { return static_cast<char>('a' + offset % 23); }

// What the writer does in each round: a fixed pseudo-random sequence, the same on every run.
struct round_plan {
    std::uint32_t chunk_size;
    bool cancel_idle_read;
};

class plan {
public:
    round_plan next() {
        lcg_ = lcg_ * 1103515245u + 12345u;
        const std::uint32_t r = lcg_ >> 16;
        return {1 + r % 48, r % 3 != 0};
    }

private:
    std::uint32_t lcg_ = 12345;
};

struct cancel_test {
    // The idle read's signal and buffer outlive the io_context, which may still hold that read.
    asio::cancellation_signal cancel_idle_read;
    std::array<char, 256> idle_buffer{};
    asio::io_context io{1};
    socket_type writer_end{io}, reader_end{io};
    socket_type idle_end{io}, idle_peer{io};
    std::uint64_t total = 0;  // bytes the writer sends
    std::uint64_t received = 0;
    std::uint64_t cancels_started = 0, cancels_done = 0;
    bool idle_read_pending = false;
    std::vector<std::string> failures;

    void fail(std::string what) {
        failures.push_back(std::move(what));
        // A completion taken by another operation's cancel leaves Asio's count of pending work
        // wrong, so run() might never return by itself.
        io.stop();
    }

    asio::awaitable<void> read_stream() {
        std::array<char, 64> buffer{};
        while (received < total && failures.empty()) {
            auto [ec, n] = co_await reader_end.async_read_some(asio::buffer(buffer), as_tuple(use_awaitable));
            if (!failures.empty()) co_return;
            if (ec || n == 0) {
                fail("read at offset " + std::to_string(received) + " failed: " + ec.message());
                co_return;
            }
            for (std::size_t i = 0; i < n; ++i, ++received) {
                if (buffer[i] != expected_byte(received)) {
                    fail("byte " + std::to_string(received) + " is wrong: the stream was corrupted");
                    co_return;
                }
            }
        }
    }

    // A read on the idle socket, cancelled before anything can arrive: it must end as aborted.
    void start_and_cancel_idle_read() {
        idle_read_pending = true;
        ++cancels_started;
        auto done = [this](boost::system::error_code ec, std::size_t n) {
            idle_read_pending = false;
            ++cancels_done;
            if (ec != asio::error::operation_aborted && failures.empty())
                fail("cancelled read completed with '" + ec.message() + "', " + std::to_string(n) + " bytes");
        };
        idle_end.async_read_some(asio::buffer(idle_buffer),
                                 asio::bind_cancellation_slot(cancel_idle_read.slot(), done));
        cancel_idle_read.emit(asio::cancellation_type::terminal);
    }

    asio::awaitable<void> write_stream() {
        plan rounds_plan;
        std::uint64_t sent = 0;
        std::string chunk;
        for (std::uint64_t round = 0; round < rounds && failures.empty(); ++round) {
            const round_plan step = rounds_plan.next();
            if (step.cancel_idle_read && !idle_read_pending) start_and_cancel_idle_read();
            chunk.clear();
            for (std::uint32_t i = 0; i < step.chunk_size; ++i) chunk.push_back(expected_byte(sent + i));
            auto [ec, n] = co_await asio::async_write(writer_end, asio::buffer(chunk), as_tuple(use_awaitable));
            if (!failures.empty()) co_return;
            if (ec || n != chunk.size()) {
                fail("write of round " + std::to_string(round) + " failed: " + ec.message() + ", " +
                     std::to_string(n) + " of " + std::to_string(chunk.size()) + " bytes");
                co_return;
            }
            sent += n;
        }
    }
};

TEST(AsioCancel, CancellingAReadNeverCompletesAnotherOperation) {
    cancel_test t;
    asio::local::connect_pair(t.writer_end, t.reader_end);
    asio::local::connect_pair(t.idle_end, t.idle_peer);
    // The writer's chunk sizes are known in advance, so the reader knows when the stream ends.
    plan rounds_plan;
    for (std::uint64_t round = 0; round < rounds; ++round) t.total += rounds_plan.next().chunk_size;
    asio::co_spawn(t.io, [&t] { return t.read_stream(); }, asio::detached);
    asio::co_spawn(t.io, [&t] { return t.write_stream(); }, asio::detached);
    t.io.run();

    EXPECT_EQ(t.failures, std::vector<std::string>{});
    if (t.failures.empty()) {
        EXPECT_EQ(t.received, t.total);
        EXPECT_GT(t.cancels_started, rounds / 2);
        EXPECT_EQ(t.cancels_done, t.cancels_started);
    }
}

}  // namespace
