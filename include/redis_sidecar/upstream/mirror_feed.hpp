#pragma once
/// Keeps the local blacklist mirror fresh with what Redis holds, so a token revoked elsewhere
/// (another sidecar, or straight in Redis) is known here too, and still known if Redis goes down.
///
/// Mechanism: a connection of its own in RESP3 with `CLIENT TRACKING ON BCAST PREFIX ...` over the
/// blacklist prefixes. Redis then pushes an invalidation for every key with those prefixes that
/// changes, by anyone, within a round trip; the feed reads each such key (GET + PEXPIRETIME) and
/// hands it to the mirror. Tracking is switched on before a full SCAN of the prefixes, so nothing
/// written during the warm-up is missed; after a reconnect the SCAN runs again, since the pushes of
/// the time in between are lost. This is cheaper and faster than re-scanning every second:
/// Redis's work is proportional to the revocations, not to the keyspace.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

struct mirror_feed_options {
    /// Key prefixes to follow (the blacklist class).
    std::vector<std::string> prefixes;
    /// A key Redis holds: value and absolute expiry in unix ms (-1: none).
    std::function<void(std::string_view key, std::string_view value, std::int64_t expire_at_ms)> on_entry;
    /// A full warm-up scan finished (`entries` found).
    std::function<void(std::uint64_t entries)> on_warm;
    /// Keeps going while this returns true; checked between reconnects.
    std::function<bool()> running;
};

/// Follows the prefixes until `options.running()` turns false, reconnecting after failures.
/// Both are taken by value: a coroutine must not keep a reference to a temporary.
boost::asio::awaitable<void> async_follow_mirror(upstream_settings settings, mirror_feed_options options);

}  // namespace redis_sidecar::upstream
