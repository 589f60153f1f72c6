#include "redis_sidecar/upstream/reconciler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
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

void encode(std::string& out, std::initializer_list<std::string_view> args) { protocol::write_bulk_array(out, args); }

// One pipelined round trip on a connection of its own: the commands, then exactly `count` replies.
class pipeline {
public:
    pipeline(redis_stream& stream, protocol::byte_buffer& rx, std::chrono::milliseconds timeout)
        : stream_(stream), rx_(rx), timeout_(timeout) {}

    /// The replies, or nothing when the connection failed or Redis took longer than the timeout.
    asio::awaitable<std::optional<std::vector<std::string>>> round(const std::string& commands, std::size_t count) {
        asio::steady_timer deadline(co_await asio::this_coro::executor, timeout_);
        auto outcome = co_await (exchange(commands, count) || deadline.async_wait(as_tuple(use_awaitable)));
        if (outcome.index() == 0) co_return std::get<0>(std::move(outcome));
        co_return std::nullopt;
    }

private:
    asio::awaitable<std::optional<std::vector<std::string>>> exchange(const std::string& commands, std::size_t count) {
        auto [wec, written] = co_await asio::async_write(stream_, asio::buffer(commands), as_tuple(use_awaitable));
        if (wec) co_return std::nullopt;
        std::vector<std::string> replies;
        protocol::reply_framer framer;
        while (replies.size() < count) {
            auto frame = co_await async_read_frame(stream_, rx_, framer);
            if (!frame) co_return std::nullopt;
            replies.push_back(std::move(*frame));
        }
        co_return replies;
    }

    redis_stream& stream_;
    protocol::byte_buffer& rx_;
    std::chrono::milliseconds timeout_;
};

std::string first_line(std::string_view reply) { return std::string(reply.substr(0, reply.find('\r'))); }

// Waits so that `sent` commands since `start` stay within `rate` per second.
asio::awaitable<void> pace(std::chrono::steady_clock::time_point start, std::uint64_t sent, std::uint64_t rate) {
    const auto due = start + std::chrono::microseconds(sent * 1000000 / std::max<std::uint64_t>(rate, 1));
    if (due <= std::chrono::steady_clock::now()) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor, due);
    co_await timer.async_wait(as_tuple(use_awaitable));
}

class reconciliation {
public:
    reconciliation(redis_stream& stream, protocol::byte_buffer& rx, const upstream_settings& settings,
                   const reconciler_options& options)
        : pipeline_(stream, rx, std::max(settings.timeout * 4, std::chrono::milliseconds(2000))), options_(options) {}

    asio::awaitable<bool> write_blacklist(const std::vector<reconciliation_work::entry>& entries) {
        // SET k v PXAT t: the absolute expiry keeps the TTL the token had, however long the outage.
        return send_entries(entries, false);
    }

    asio::awaitable<bool> write_locks(const std::vector<reconciliation_work::entry>& entries) {
        return send_entries(entries, true);
    }

    asio::awaitable<bool> delete_keys(const std::vector<std::string>& keys) {
        for (std::size_t begin = 0; begin < keys.size(); begin += options_.chunk) {
            const std::size_t end = std::min(keys.size(), begin + options_.chunk);
            std::string commands;
            for (std::size_t i = begin; i < end; ++i) encode(commands, {"DEL", keys[i]});
            if (!co_await run(commands, end - begin)) co_return false;
            for (const std::string& reply : replies_)
                if (reply == ":1\r\n") ++report_.cache_keys_deleted;
        }
        co_return true;
    }

    asio::awaitable<bool> delete_matching(const std::string& pattern) {
        std::string cursor = "0";
        do {
            std::string command;
            encode(command, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
            if (!co_await run(command, 1)) co_return false;
            std::vector<std::string> found;
            if (!parse_scan_reply(replies_[0], cursor, found)) {
                report_.error = "unexpected SCAN reply: " + first_line(replies_[0]);
                co_return false;
            }
            std::erase_if(found, [&](const std::string& key) { return !options_.is_cache_key(key); });
            if (!co_await delete_keys(found)) co_return false;
        } while (cursor != "0");
        co_return true;
    }

    reconciliation_report& report() { return report_; }

private:
    asio::awaitable<bool> send_entries(const std::vector<reconciliation_work::entry>& entries, bool locks) {
        std::vector<const reconciliation_work::entry*> chunk;
        for (std::size_t begin = 0; begin < entries.size(); begin += options_.chunk) {
            const std::int64_t now = options_.now_ms();
            std::string commands;
            chunk.clear();
            for (std::size_t i = begin; i < std::min(entries.size(), begin + options_.chunk); ++i) {
                const auto& e = entries[i];
                if (e.expire_at_ms >= 0 && e.expire_at_ms <= now) {
                    if (!locks) ++report_.blacklist_expired;
                    continue;
                }
                encode_set(commands, e, locks);
                chunk.push_back(&e);
            }
            if (chunk.empty()) continue;
            if (!co_await run(commands, chunk.size())) co_return false;
            for (std::size_t i = 0; i < chunk.size(); ++i) {
                if (replies_[i] == "+OK\r\n") {
                    ++(locks ? report_.locks_written : report_.blacklist_written);
                } else if (locks && replies_[i] == "$-1\r\n") {
                    // Held in Redis already: by us (same value, a lock taken just before the outage)
                    // or by someone else, who then held it while we did.
                    if (!co_await count_conflict(*chunk[i])) co_return false;
                } else {
                    report_.error = "writing " + chunk[i]->key + ": " + first_line(replies_[i]);
                    co_return false;
                }
            }
        }
        co_return true;
    }

    static void encode_set(std::string& out, const reconciliation_work::entry& e, bool nx) {
        if (e.expire_at_ms < 0) {
            if (nx)
                encode(out, {"SET", e.key, e.value, "NX"});
            else
                encode(out, {"SET", e.key, e.value});
            return;
        }
        char at[24];
        const std::string_view when(at, protocol::format_int64(e.expire_at_ms, at));
        if (nx)
            encode(out, {"SET", e.key, e.value, "NX", "PXAT", when});
        else
            encode(out, {"SET", e.key, e.value, "PXAT", when});
    }

    // A lock this sidecar pushed before (a recovery cut short) is held with its value and the
    // exact expiry pushed (PXAT): that is no conflict. Any other holder is, whatever its value:
    // request locks all store "1".
    asio::awaitable<bool> count_conflict(const reconciliation_work::entry& e) {
        std::string commands;
        encode(commands, {"GET", e.key});
        encode(commands, {"PEXPIRETIME", e.key});
        std::vector<std::string> saved = std::move(replies_);
        if (!co_await run(commands, 2)) co_return false;
        std::string value;
        protocol::write_bulk(value, e.value);
        char expiry[32];
        const std::size_t n = protocol::format_int64(e.expire_at_ms, expiry + 1);
        expiry[0] = ':';
        const std::string expected_expiry = std::string(expiry, n + 1) + "\r\n";
        if (replies_[0] != value || replies_[1] != expected_expiry) ++report_.lock_conflicts;
        replies_ = std::move(saved);
        co_return true;
    }

    // SCAN's reply: *2 $cursor *N $key...
    static bool parse_scan_reply(const std::string& reply, std::string& cursor, std::vector<std::string>& keys) {
        std::size_t pos = 0;
        auto line = [&]() -> std::string_view {
            const auto end = reply.find("\r\n", pos);
            if (end == std::string::npos) return {};
            const std::string_view l(reply.data() + pos, end - pos);
            pos = end + 2;
            return l;
        };
        auto bulk = [&](std::string& out) {
            const std::string_view header = line();
            std::int64_t length = 0;
            if (header.empty() || header[0] != '$' || !protocol::parse_int64(header.substr(1), length) || length < 0)
                return false;
            out.assign(reply, pos, static_cast<std::size_t>(length));
            pos += static_cast<std::size_t>(length) + 2;
            return pos <= reply.size();
        };
        if (line() != "*2" || !bulk(cursor)) return false;
        const std::string_view count_line = line();
        std::int64_t count = 0;
        if (count_line.empty() || count_line[0] != '*' || !protocol::parse_int64(count_line.substr(1), count))
            return false;
        for (std::int64_t i = 0; i < count; ++i)
            if (!bulk(keys.emplace_back())) return false;
        return true;
    }

    asio::awaitable<bool> run(const std::string& commands, std::size_t count) {
        co_await pace(started_, sent_, options_.rate);
        auto replies = co_await pipeline_.round(commands, count);
        if (!replies) {
            report_.error = "Redis failed or did not answer during recovery";
            co_return false;
        }
        sent_ += count;
        replies_ = std::move(*replies);
        if (options_.on_progress) options_.on_progress(report_);
        co_return true;
    }

    pipeline pipeline_;
    const reconciler_options& options_;
    reconciliation_report report_;
    std::vector<std::string> replies_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::uint64_t sent_ = 0;
};

}  // namespace

asio::awaitable<reconciliation_report> async_reconcile(const upstream_settings& settings,
                                                       const reconciliation_work& work,
                                                       const reconciler_options& options) {
    redis_stream stream(co_await asio::this_coro::executor, settings.tls);
    protocol::byte_buffer rx(16 * 1024);
    const open_result opened = co_await async_open(stream, settings, rx);
    if (!opened.error.empty()) co_return reconciliation_report{opened.error};
    reconciliation run(stream, rx, settings, options);
    // Revocations first, then cache invalidations, then locks; each step only once the one before
    // succeeded.
    bool ok = co_await run.write_blacklist(work.blacklist);
    if (ok) ok = co_await run.delete_keys(work.cache_keys);
    for (std::size_t i = 0; ok && i < work.cache_patterns.size(); ++i)
        ok = co_await run.delete_matching(work.cache_patterns[i]);
    if (ok) ok = co_await run.write_locks(work.locks);
    co_return run.report();
}

}  // namespace redis_sidecar::upstream
