#pragma once
/// INFO while Redis is down: every section and field Redis 7.0 gives, in its order and value
/// formats, with the sidecar's own figures as values (constants where a field means nothing for
/// the sidecar: no RDB, no replicas, no Lua state).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_sidecar::server {

/// CPU time as getrusage gives it (a timeval), printed as INFO's `seconds.micros`.
struct cpu_time {
    std::int64_t seconds = 0;
    std::int64_t microseconds = 0;
};

/// What the local INFO shows while Redis is down.
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

/// Fills the figures that come from the process and the system (the first group above).
void fill_process_figures(local_figures& figures);

/// The body of INFO's reply for `sections` (the arguments after INFO) as Redis 7.0 shapes it:
/// the sections asked for (none: the default ones; `default`, `all`, `everything`; names in any
/// case, several at once), in Redis's order, with Redis's field names in Redis's order; an
/// unknown name adds nothing. `sidecar_section` comes last for no argument, `default`, `all`,
/// `everything` and `sidecar`.
std::string format_local_info(std::span<const std::string_view> sections, const local_figures& figures,
                              std::string_view sidecar_section);

/// Bytes as Redis's INFO writes them for humans: `512B`, `1.50K`, `919.09K`, `1.02M`, `2.00G`.
std::string human_bytes(std::uint64_t bytes);

}  // namespace redis_sidecar::server
