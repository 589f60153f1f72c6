#include "redis_sidecar/upstream/mirror_feed.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <optional>
#include <spdlog/spdlog.h>
#include <variant>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/upstream/frame_reader.hpp"
#include "redis_sidecar/upstream/handshake.hpp"
#include "redis_sidecar/upstream/redis_stream.hpp"

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace redis_sidecar::upstream {

namespace {

// How long the feed waits for a push before it looks whether it should stop.
constexpr std::chrono::seconds idle_check{1};
// Keys read per pipelined round trip.
constexpr std::size_t fetch_chunk = 256;

// The scalars of a frame in order: bulk strings, and nulls as nullopt (enough for the replies
// the feed reads: SCAN, GET, PEXPIRETIME, invalidation pushes).
struct frame_items {
    std::vector<std::optional<std::string>> bulks;
    std::vector<std::int64_t> integers;
};

frame_items items_of(std::string_view frame) {
    frame_items items;
    std::size_t pos = 0;
    while (pos < frame.size()) {
        const auto end = frame.find("\r\n", pos);
        if (end == std::string_view::npos) break;
        const char type = frame[pos];
        const std::string_view rest = frame.substr(pos + 1, end - pos - 1);
        pos = end + 2;
        std::int64_t n = 0;
        if (type == '$' && protocol::parse_int64(rest, n) && n >= 0) {
            items.bulks.emplace_back(std::string(frame.substr(pos, static_cast<std::size_t>(n))));
            pos += static_cast<std::size_t>(n) + 2;
        } else if (type == '_' || (type == '$' && rest == "-1")) {
            items.bulks.emplace_back(std::nullopt);
        } else if (type == ':' && protocol::parse_int64(rest, n)) {
            items.integers.push_back(n);
        }
    }
    return items;
}

class feed {
public:
    feed(redis_stream& stream, protocol::byte_buffer& rx, const mirror_feed_options& options)
        : stream_(stream), rx_(rx), options_(options) {}

    asio::awaitable<bool> enable_tracking() {
        std::string commands;
        protocol::write_bulk_array(commands, {"HELLO", "3"});
        std::vector<std::string_view> tracking{"CLIENT", "TRACKING", "ON", "BCAST"};
        for (const std::string& prefix : options_.prefixes) {
            tracking.push_back("PREFIX");
            tracking.push_back(prefix);
        }
        protocol::write_array_header(commands, static_cast<std::int64_t>(tracking.size()));
        for (std::string_view a : tracking) protocol::write_bulk(commands, a);
        if (!co_await send(commands)) co_return false;
        const auto hello = co_await reply();
        const auto tracking_reply = co_await reply();
        co_return hello && !hello->starts_with('-') && tracking_reply && *tracking_reply == "+OK\r\n";
    }

    // SCAN over every prefix: the mirror learns what Redis holds before the pushes take over.
    asio::awaitable<bool> warm_up() {
        std::uint64_t found = 0;
        for (const std::string& prefix : options_.prefixes) {
            std::string cursor = "0";
            do {
                std::string command;
                protocol::write_bulk_array(command, {"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
                if (!co_await send(command)) co_return false;
                const auto scanned = co_await reply();
                if (!scanned || scanned->starts_with('-')) co_return false;
                frame_items items = items_of(*scanned);
                if (items.bulks.empty() || !items.bulks[0]) co_return false;
                cursor = *items.bulks[0];
                std::vector<std::string> keys;
                for (std::size_t i = 1; i < items.bulks.size(); ++i)
                    if (items.bulks[i]) keys.push_back(std::move(*items.bulks[i]));
                found += keys.size();
                if (!co_await fetch(keys)) co_return false;
            } while (cursor != "0");
        }
        if (options_.on_warm) options_.on_warm(found);
        co_return true;
    }

    // Reads pushes until the connection fails (false) or the feed should stop (true).
    asio::awaitable<bool> follow() {
        while (options_.running()) {
            if (!invalidated_.empty()) {
                std::vector<std::string> keys(invalidated_.begin(), invalidated_.end());
                invalidated_.clear();
                if (!co_await fetch(keys)) co_return false;
                continue;
            }
            asio::steady_timer idle(co_await asio::this_coro::executor, idle_check);
            auto outcome = co_await (next_frame() || idle.async_wait(as_tuple(use_awaitable)));
            if (outcome.index() == 1) continue;
            const std::optional<std::string> frame = std::get<0>(std::move(outcome));
            if (!frame) co_return false;
            if (!take_push(*frame)) co_return false;  // only pushes arrive unasked
        }
        co_return true;
    }

    bool rescan_wanted() const { return rescan_; }

private:
    // GET and PEXPIRETIME of each key, pipelined; present keys go to the mirror.
    asio::awaitable<bool> fetch(const std::vector<std::string>& keys) {
        for (std::size_t begin = 0; begin < keys.size(); begin += fetch_chunk) {
            const std::size_t end = std::min(keys.size(), begin + fetch_chunk);
            std::string commands;
            for (std::size_t i = begin; i < end; ++i) {
                protocol::write_bulk_array(commands, {"GET", keys[i]});
                protocol::write_bulk_array(commands, {"PEXPIRETIME", keys[i]});
            }
            if (!co_await send(commands)) co_return false;
            for (std::size_t i = begin; i < end; ++i) {
                const auto value = co_await reply();
                const auto expiry = co_await reply();
                if (!value || !expiry) co_return false;
                const frame_items v = items_of(*value);
                const frame_items e = items_of(*expiry);
                // A key that is gone is not un-revoked here: the mirror fails closed.
                if (v.bulks.empty() || !v.bulks[0] || e.integers.empty() || e.integers[0] == -2) continue;
                options_.on_entry(keys[i], *v.bulks[0], e.integers[0] >= 0 ? e.integers[0] : -1);
            }
        }
        co_return true;
    }

    // `>2 invalidate [keys]` (or a null list: everything was flushed, so scan again).
    bool take_push(const std::string& frame) {
        if (!frame.starts_with('>')) return false;
        const frame_items items = items_of(frame);
        if (items.bulks.empty() || items.bulks[0] != "invalidate") return true;
        if (items.bulks.size() == 2 && !items.bulks[1]) {
            rescan_ = true;
            return false;  // reconnect and warm up again
        }
        for (std::size_t i = 1; i < items.bulks.size(); ++i)
            if (items.bulks[i]) invalidated_.push_back(*items.bulks[i]);
        return true;
    }

    // The reply to the oldest request; pushes arriving first are taken aside.
    asio::awaitable<std::optional<std::string>> reply() {
        for (;;) {
            auto frame = co_await next_frame();
            if (!frame || !frame->starts_with('>')) co_return frame;
            if (!take_push(*frame)) co_return std::nullopt;
        }
    }

    asio::awaitable<std::optional<std::string>> next_frame() { return async_read_frame(stream_, rx_, framer_); }

    asio::awaitable<bool> send(const std::string& commands) {
        auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(commands), as_tuple(use_awaitable));
        co_return !ec;
    }

    redis_stream& stream_;
    protocol::byte_buffer& rx_;
    const mirror_feed_options& options_;
    protocol::reply_framer framer_;
    std::deque<std::string> invalidated_;
    bool rescan_ = false;
};

}  // namespace

asio::awaitable<void> async_follow_mirror(upstream_settings settings, mirror_feed_options options) {
    if (options.prefixes.empty()) co_return;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    bool announced = false;
    while (options.running()) {
        redis_stream stream(co_await asio::this_coro::executor, settings.tls);
        protocol::byte_buffer rx(16 * 1024);
        const open_result opened = co_await async_open(stream, settings, rx);
        if (opened.error.empty()) {
            feed f(stream, rx, options);
            const bool tracking = co_await f.enable_tracking();
            if (!tracking) spdlog::debug("mirror: CLIENT TRACKING was refused");
            if (tracking && co_await f.warm_up()) {
                if (!announced) spdlog::info("mirror: following {} blacklist prefix(es) in Redis", options.prefixes.size());
                announced = true;
                if (co_await f.follow()) co_return;
            }
        }
        if (!opened.error.empty()) spdlog::debug("mirror: {}", opened.error);
        // Redis is away (or flushed): try again a probe interval later, with a full warm-up.
        pause.expires_after(settings.probe_interval);
        co_await pause.async_wait(as_tuple(use_awaitable));
    }
}

}  // namespace redis_sidecar::upstream
