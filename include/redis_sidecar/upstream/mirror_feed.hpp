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
///
/// The lock keys are followed on a second connection, the lock follower, in RESP3 with
/// `CLIENT TRACKING ON` in the default mode: Redis tracks the keys this connection read, and only
/// those. It reads back the keys of a `readback_queue` (lock keys after a mirrored write, and every
/// lock held here when it connects): one connection, so the results are applied in the order
/// Redis ran them (see readback_queue.hpp for why that makes the local locks converge to Redis),
/// and each key read back is then tracked. When another app host releases, takes or lets expire a
/// lock held here, Redis pushes an invalidation and the key is read back again: a release made
/// elsewhere drops the copy within a round trip. Not BCAST over the lock prefix: locks are written
/// on every request, and a fleet of sidecars must not each receive every lock write. A readback
/// reads the key's value and absolute expiry in one MULTI/EXEC, so the two describe the same moment.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/upstream/readback_queue.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

struct mirror_feed_options {
    /// Key prefixes to follow (the blacklist class); none: no tracking, readbacks only.
    std::vector<std::string> prefixes;
    /// Keys to read back from Redis, asked for from any thread; null: none.
    std::shared_ptr<readback_queue> readbacks;
    /// A readback's result: Redis holds `key` with `value` until `expire_at_ms` (-1: no expiry), or
    /// (no value) does not hold it. `asked_again`: a readback of the key was asked for since this
    /// one was taken from the queue, so a write may have run in Redis after it, and another
    /// result follows.
    std::function<void(std::string_view key, std::optional<std::string_view> value, std::int64_t expire_at_ms,
                       bool asked_again)>
        on_readback;
    /// A key Redis holds: value and absolute expiry in unix ms (-1: none).
    std::function<void(std::string_view key, std::string_view value, std::int64_t expire_at_ms)> on_entry;
    /// A full warm-up scan finished (`entries` found).
    std::function<void(std::uint64_t entries)> on_warm;
    /// The lock follower's tracking started afresh (it connected, or Redis flushed): every lock key
    /// held here must be asked to be read back (which has Redis track it again). Event loop 0.
    std::function<void()> on_lock_tracking_started;
    /// Redis said a lock key read on the lock follower changed; it is asked to be read back.
    std::function<void()> on_lock_invalidation;
    /// Keeps going while this returns true; checked between reconnects, between waits, and before
    /// each readback result is handed on (a feed replaced by a reload must not apply any more).
    std::function<bool()> running;
};

/// Follows the prefixes and serves the readbacks until `options.running()` turns false,
/// reconnecting after failures.
/// Both are taken by value: a coroutine must not keep a reference to a temporary.
boost::asio::awaitable<void> async_follow_mirror(upstream_settings settings, mirror_feed_options options);

}  // namespace redis_sidecar::upstream
