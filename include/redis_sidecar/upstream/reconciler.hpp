#pragma once
/// Recovery: before forwarding resumes after an outage, Redis is brought up to date with what the
/// sidecar promised while it was down (README "Nothing lost": the key classes, on recovery):
///   1. every blacklist entry known locally is written with its absolute expiry (SET k v PXAT t),
///      which also re-seeds a Redis that restarted empty;
///   2. cache keys written or deleted while down are deleted, and so are the cache keys matching
///      each SCAN MATCH pattern used for invalidation while down;
///   3. locks held locally are written with SET NX PXAT; a lock already held there by someone
///      else is a conflict (two holders existed during the outage): counted, and Redis's stands.
/// Every step is idempotent, so a recovery cut short by Redis failing again is simply run again.
/// Commands go out in pipelined chunks at a bounded rate, not to flood a Redis that just came back.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

/// What recovery must apply to Redis.
struct reconciliation_work {
    /// A blacklist or lock entry held locally; expire_at_ms is absolute unix ms, -1 for none.
    struct entry {
        std::string key;
        std::string value;
        std::int64_t expire_at_ms;
    };
    std::vector<entry> blacklist;
    std::vector<entry> locks;
    std::vector<std::string> cache_keys;      ///< to DEL in Redis
    std::vector<std::string> cache_patterns;  ///< to SCAN MATCH, then DEL the cache keys found
    std::vector<std::string> default_keys;    ///< written while down; dropped locally, not sent

    bool empty() const {
        return blacklist.empty() && locks.empty() && cache_keys.empty() && cache_patterns.empty();
    }
};

/// Progress and outcome of one recovery.
struct reconciliation_report {
    std::string error;  ///< empty on success
    std::uint64_t blacklist_written = 0;
    std::uint64_t blacklist_expired = 0;  ///< expired before they could be written: skipped
    std::uint64_t cache_keys_deleted = 0;
    std::uint64_t locks_written = 0;
    std::uint64_t lock_conflicts = 0;
};

struct reconciler_options {
    /// Commands per pipelined chunk.
    std::size_t chunk = 256;
    /// Commands per second at most.
    std::uint64_t rate = 20000;
    /// Which keys found by an invalidation pattern are cache keys (only those are deleted).
    std::function<bool(std::string_view key)> is_cache_key;
    /// Unix time in ms (for skipping expired entries).
    std::function<std::int64_t()> now_ms;
    /// Called after each chunk, so progress can be shown while recovery runs.
    std::function<void(const reconciliation_report&)> on_progress;
};

/// Applies `work` to Redis over a connection of its own.
boost::asio::awaitable<reconciliation_report> async_reconcile(const upstream_settings& settings,
                                                              const reconciliation_work& work,
                                                              const reconciler_options& options);

}  // namespace redis_sidecar::upstream
