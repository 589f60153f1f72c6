#pragma once
/// What the local store and recovery report about themselves: the figures INFO (sidecar, and the
/// local INFO while Redis is down) and /metrics show. Plain data; server/info formats it.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "redis_sidecar/local/key_classes.hpp"

namespace redis_sidecar::store {

/// The classes in the order INFO and /metrics list them.
inline constexpr std::array<local::key_class, 4> reported_key_classes = {
    local::key_class::blacklist, local::key_class::lock, local::key_class::cache, local::key_class::default_class};

/// The local store's part of the sidecar's figures.
struct local_store_figures {
    /// Live keys, indexed by local::key_class.
    std::array<std::uint64_t, 4> keys_by_class{};
    std::uint64_t journal_bytes = 0;
    std::uint64_t journal_records = 0;
    /// Journal writes the disk refused (each fails the local answers waiting on it).
    std::uint64_t journal_write_failures = 0;
    /// 1 while the last journal write was refused (a full or failing disk), else 0.
    std::uint64_t journal_failing = 0;
    std::uint64_t owed_cache_invalidations = 0;
    std::uint64_t owed_locks = 0;
    std::uint64_t owed_default_keys_to_drop = 0;
    /// Keys read back from Redis after mirrored writes (upstream/readback_queue.hpp).
    std::uint64_t mirror_readbacks = 0;
    /// Readbacks that changed whether or with which value the local copy held the key: a mirrored
    /// write applied out of Redis's order, or a write made elsewhere.
    std::uint64_t mirror_readback_corrections = 0;
    /// Readbacks asked for and not applied yet (waiting, or in flight on the mirror feed).
    std::uint64_t mirror_readbacks_pending = 0;
    /// Readbacks not asked for because too many waited already.
    std::uint64_t mirror_readbacks_dropped = 0;
};

/// Recovery's part of the sidecar's figures.
struct recovery_figures {
    /// "redis", "local (recovering)" or "local".
    std::string serving;
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    /// Entries of the recovery in progress not yet applied to Redis.
    std::uint64_t backlog = 0;
    std::uint64_t blacklist_written = 0;
    std::uint64_t cache_keys_deleted = 0;
    std::uint64_t locks_written = 0;
    std::uint64_t lock_conflicts = 0;
    std::uint64_t default_keys_dropped = 0;
};

/// What the local INFO shows while Redis is down: the local store fills its part (local_service::fill),
/// the server the rest.
struct local_figures {
    std::string redis_version;
    std::uint16_t tcp_port = 0;
    std::uint64_t uptime_seconds = 0;
    std::uint64_t connected_clients = 0;
    std::uint64_t total_connections = 0;
    std::uint64_t total_commands = 0;
    std::uint64_t used_memory = 0;
    std::uint64_t maxmemory = 0;
    std::uint64_t keys = 0;
    std::uint64_t keys_with_expiry = 0;
    std::uint64_t expired_keys = 0;
    std::uint64_t evicted_keys = 0;
    /// Calls per command, by lowercase name, sorted.
    std::vector<std::pair<std::string, std::uint64_t>> command_calls;
};

}  // namespace redis_sidecar::store
