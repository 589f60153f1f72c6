#include "redis_sidecar/upstream/mirror_feed.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <span>
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

namespace redis_sidecar::upstream {

namespace {

// How long the feed waits for a push before it looks whether it should stop.
constexpr std::chrono::seconds idle_check{1};
// Keys read per pipelined round trip.
constexpr std::size_t fetch_chunk = 256;
// Bytes the feed makes room for before each read.
constexpr std::size_t read_chunk = 16 * 1024;

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

// What a feed connection follows: the blacklist prefixes (BCAST tracking: every change under them,
// by anyone), or the lock keys held here (default tracking: the keys this connection read back).
enum class feed_role : std::uint8_t { blacklist, locks };

class feed {
public:
    feed(feed_role role, redis_stream& stream, protocol::byte_buffer& rx, const mirror_feed_options& options,
         asio::steady_timer& wake)
        : role_(role), stream_(stream), rx_(rx), options_(options), wake_(wake) {}

    asio::awaitable<bool> enable_tracking() {
        std::string commands;
        protocol::write_bulk_array(commands, {"HELLO", "3"});
        std::vector<std::string_view> tracking{"CLIENT", "TRACKING", "ON"};
        if (role_ == feed_role::blacklist) tracking.push_back("BCAST");
        for (const std::string& prefix : role_ == feed_role::blacklist ? options_.prefixes : no_prefixes) {
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

    // SCAN over every prefix: the mirror learns what Redis holds before the pushes take over. The
    // lock follower instead has every lock held here read back, which also makes Redis track them
    // for this connection.
    asio::awaitable<bool> warm_up() {
        if (role_ == feed_role::locks) {
            if (options_.on_lock_tracking_started) options_.on_lock_tracking_started();
            co_return true;
        }
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
        if (options_.on_warm && !options_.prefixes.empty()) options_.on_warm(found);
        co_return true;
    }

    // Reads pushes and serves readbacks until the connection fails (false) or the feed should
    // stop (true).
    asio::awaitable<bool> follow() {
        while (options_.running()) {
            if (!invalidated_.empty()) {
                std::vector<std::string> keys(invalidated_.begin(), invalidated_.end());
                invalidated_.clear();
                if (!co_await fetch(keys)) co_return false;
                continue;
            }
            if (role_ == feed_role::locks && options_.readbacks && options_.readbacks->size() > 0) {
                if (!co_await read_back_requested()) co_return false;
                continue;
            }
            bool not_resp = false;
            if (auto frame = take_buffered_frame(rx_, framer_, not_resp)) {
                if (!take_push(*frame)) co_return false;  // only pushes arrive unasked
                continue;
            }
            if (not_resp || !co_await wait_for_bytes_or_wake()) co_return false;
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

    // Waits until Redis sends bytes (kept in rx_) or `wake_` fires: a readback was asked for, or
    // the idle check is due. Both outcomes are collected, whichever came first, so bytes read
    // just as the timer fired are never lost (a lost push would be a revocation missed). False
    // when the connection failed.
    asio::awaitable<bool> wait_for_bytes_or_wake() {
        rx_.prepare(read_chunk);
        wake_.expires_after(idle_check);
        auto [order, read_error, read, wait_error] =
            co_await asio::experimental::make_parallel_group(
                stream_.async_read_some(asio::buffer(rx_.writable(), rx_.writable_size()), asio::deferred),
                wake_.async_wait(asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), use_awaitable);
        (void)order;
        (void)wait_error;
        rx_.commit(read);
        co_return !read_error || read_error == asio::error::operation_aborted;
    }

    // Takes every key asked for and reads it back; keys whose result was not applied wait again.
    asio::awaitable<bool> read_back_requested() {
        if (!options_.readbacks) co_return true;
        const std::vector<std::string> keys = options_.readbacks->take();
        if (keys.empty()) co_return true;
        std::size_t applied = 0;
        const bool alive = co_await read_back(keys, applied);
        options_.readbacks->finished(applied);
        if (applied < keys.size()) options_.readbacks->give_back(std::span(keys).subspan(applied));
        co_return alive;
    }

    // MULTI, GET, PEXPIRETIME, EXEC per key, pipelined; each result is handed on in the order
    // Redis ran them. `applied` counts the keys handed on.
    asio::awaitable<bool> read_back(const std::vector<std::string>& keys, std::size_t& applied) {
        for (std::size_t begin = 0; begin < keys.size(); begin += fetch_chunk) {
            const std::size_t end = std::min(keys.size(), begin + fetch_chunk);
            std::string commands;
            for (std::size_t i = begin; i < end; ++i) {
                protocol::write_bulk_array(commands, {"MULTI"});
                protocol::write_bulk_array(commands, {"GET", keys[i]});
                protocol::write_bulk_array(commands, {"PEXPIRETIME", keys[i]});
                protocol::write_bulk_array(commands, {"EXEC"});
            }
            if (!co_await send(commands)) co_return false;
            for (std::size_t i = begin; i < end; ++i) {
                std::optional<std::string> exec;
                for (int n = 0; n < 4; ++n)  // +OK, +QUEUED, +QUEUED, then EXEC's array
                    if (!(exec = co_await reply())) co_return false;
                // A feed replaced by a reload applies nothing more: the new one reads these keys
                // back, and only its results, in its own order, may come last.
                if (!options_.running()) co_return true;
                hand_on_readback(keys[i], *exec);
                ++applied;
            }
        }
        co_return true;
    }

    // EXEC's `[value or null, absolute expiry in ms (-1: none, -2: no key)]`. Anything else (an
    // error: not a string key, a Redis without PEXPIRETIME) has nothing to mirror.
    void hand_on_readback(const std::string& key, const std::string& exec) {
        const frame_items items = items_of(exec);
        if (!options_.on_readback || !exec.starts_with('*') || items.bulks.size() != 1 || items.integers.size() != 1)
            return;
        const bool asked_again = options_.readbacks->waiting(key);
        const std::int64_t expiry = items.integers[0];
        if (!items.bulks[0] || expiry == -2)
            options_.on_readback(key, std::nullopt, -1, asked_again);
        else
            options_.on_readback(key, *items.bulks[0], expiry >= 0 ? expiry : -1, asked_again);
    }

    // `>2 invalidate [keys]` (or a null list: everything was flushed, so warm up again). A lock
    // key that changed in Redis (released or taken by another app host, expired) is read back: the
    // readback's rules decide what the copy here becomes.
    bool take_push(const std::string& frame) {
        if (!frame.starts_with('>')) return false;
        const frame_items items = items_of(frame);
        if (items.bulks.empty() || items.bulks[0] != "invalidate") return true;
        if (items.bulks.size() == 2 && !items.bulks[1]) {
            if (role_ == feed_role::locks) {
                if (options_.on_lock_tracking_started) options_.on_lock_tracking_started();
                return true;
            }
            rescan_ = true;
            return false;  // reconnect and warm up again
        }
        for (std::size_t i = 1; i < items.bulks.size(); ++i) {
            if (!items.bulks[i]) continue;
            if (role_ == feed_role::blacklist) {
                invalidated_.push_back(*items.bulks[i]);
            } else if (options_.readbacks) {
                options_.readbacks->request(*items.bulks[i]);
                if (options_.on_lock_invalidation) options_.on_lock_invalidation();
            }
        }
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

    static inline const std::vector<std::string> no_prefixes;
    feed_role role_;
    redis_stream& stream_;
    protocol::byte_buffer& rx_;
    const mirror_feed_options& options_;
    asio::steady_timer& wake_;  // idle check, cut short when a readback is asked for
    protocol::reply_framer framer_;
    std::deque<std::string> invalidated_;
    bool rescan_ = false;
};

// The feed sleeps in `wake`; a readback asked for from any thread cuts that short. The timer is
// only touched on this executor's thread, and the waker holds it weakly: it may outlive the feed.
void wake_on_readbacks(readback_queue& readbacks, const std::shared_ptr<asio::steady_timer>& wake) {
    readbacks.set_waker([executor = wake->get_executor(), timer = std::weak_ptr<asio::steady_timer>(wake)] {
        asio::post(executor, [timer] {
            if (auto t = timer.lock()) t->cancel();
        });
    });
}

void announce(feed_role role, const mirror_feed_options& options) {
    if (role == feed_role::blacklist)
        spdlog::info("mirror: following {} blacklist prefix(es) in Redis", options.prefixes.size());
    else
        spdlog::info("mirror: following the lock keys held here in Redis (client tracking)");
}

// One connection of the feed, reconnecting after failures until the feed stops.
asio::awaitable<void> follow(feed_role role, upstream_settings settings, const mirror_feed_options& options,
                             std::shared_ptr<asio::steady_timer> wake) {
    const auto executor = co_await asio::this_coro::executor;
    asio::steady_timer pause(executor);
    bool announced = false;
    while (options.running()) {
        redis_stream stream(executor, settings.tls);
        protocol::byte_buffer rx(16 * 1024);
        const open_result opened = co_await async_open(stream, settings, rx);
        if (opened.error.empty()) {
            feed f(role, stream, rx, options, *wake);
            const bool tracking = co_await f.enable_tracking();
            if (!tracking) spdlog::debug("mirror: CLIENT TRACKING was refused");
            if (tracking && co_await f.warm_up()) {
                if (!announced) announce(role, options);
                announced = true;
                if (co_await f.follow()) co_return;
            }
        }
        if (!opened.error.empty()) spdlog::debug("mirror: {}", opened.error);
        // Redis is away (or flushed): try again a probe interval later, with a full warm-up.
        // Readbacks asked for meanwhile wait in their queue.
        pause.expires_after(settings.probe_interval);
        co_await pause.async_wait(as_tuple(use_awaitable));
    }
}

}  // namespace

asio::awaitable<void> async_follow_mirror(upstream_settings settings, mirror_feed_options options) {
    using namespace asio::experimental::awaitable_operators;
    const auto executor = co_await asio::this_coro::executor;
    // The blacklist connection sleeps in its own timer; the lock follower's is cut short by a
    // readback asked for.
    auto blacklist_wake = std::make_shared<asio::steady_timer>(executor);
    auto locks_wake = std::make_shared<asio::steady_timer>(executor);
    if (options.readbacks) wake_on_readbacks(*options.readbacks, locks_wake);
    // Without blacklist prefixes there is nothing to follow there: BCAST with no prefix would
    // track every key.
    if (!options.prefixes.empty() && options.readbacks)
        co_await (follow(feed_role::blacklist, settings, options, blacklist_wake) &&
                  follow(feed_role::locks, settings, options, locks_wake));
    else if (!options.prefixes.empty())
        co_await follow(feed_role::blacklist, settings, options, blacklist_wake);
    else if (options.readbacks)
        co_await follow(feed_role::locks, settings, options, locks_wake);
}

}  // namespace redis_sidecar::upstream
