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
    /// Lock keys held here that Redis said changed (released, taken or expired elsewhere).
    std::uint64_t mirror_lock_invalidations = 0;
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

/// CPU time as getrusage gives it (a timeval), printed as INFO's `seconds.micros`.
struct cpu_time {
    std::int64_t seconds = 0;
    std::int64_t microseconds = 0;
};

/// What the local INFO shows while Redis is down: the local store fills its part
/// (local_service::fill), the server the rest.
struct local_figures {
    // -- From the process and the system (fill_process_figures) ---------------------------------
    /// "sysname release machine", as uname(2) gives them.
    std::string os;
    std::uint64_t process_id = 0;
    /// "systemd" when started with systemd's notify socket, else "no".
    std::string process_supervised = "no";
    /// 40 hex digits, drawn once per process.
    std::string run_id;
    /// The replication ID INFO replication shows: 40 hex digits, drawn once per process.
    std::string replid;
    /// Unix time of the INFO request, in microseconds.
    std::uint64_t server_time_usec = 0;
    /// The sidecar's binary, as an absolute path (empty when unknown).
    std::string executable;
    /// Resident set size of the process, in bytes.
    std::uint64_t used_memory_rss = 0;
    std::uint64_t total_system_memory = 0;
    cpu_time used_cpu_sys;
    cpu_time used_cpu_user;
    cpu_time used_cpu_sys_children;
    cpu_time used_cpu_user_children;
    /// Of the thread answering INFO (an event loop; Redis's main thread).
    cpu_time used_cpu_sys_main_thread;
    cpu_time used_cpu_user_main_thread;

    // -- From the sidecar (the session) ---------------------------------------------------------
    /// Redis's version as last seen upstream (7.0.0 when never seen).
    std::string redis_version;
    std::uint16_t tcp_port = 0;
    std::uint64_t uptime_seconds = 0;
    std::uint64_t connected_clients = 0;
    std::uint64_t maxclients = 0;
    std::uint64_t total_connections = 0;
    std::uint64_t rejected_connections = 0;

    // -- From the local store (local_service::fill) ---------------------------------------------
    /// The local store's memory estimate, and its highest value seen.
    std::uint64_t used_memory = 0;
    std::uint64_t used_memory_peak = 0;
    /// local-maxmemory.
    std::uint64_t maxmemory = 0;
    /// The last journal write was refused (INFO persistence's aof_last_write_status:err).
    bool journal_failing = false;
    std::uint64_t total_commands = 0;
    std::uint64_t expired_keys = 0;
    std::uint64_t evicted_keys = 0;
    std::uint64_t keys = 0;
    std::uint64_t keys_with_expiry = 0;
    /// Calls per command, by lowercase name ("get", "script|load"), sorted.
    std::vector<std::pair<std::string, std::uint64_t>> command_calls;
    /// Error replies per error code ("ERR", "WRONGTYPE"), sorted, and all of them.
    std::vector<std::pair<std::string, std::uint64_t>> error_counts;
    std::uint64_t total_error_replies = 0;
};

}  // namespace redis_sidecar::store
