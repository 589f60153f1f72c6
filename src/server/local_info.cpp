#include "redis_sidecar/server/local_info.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <initializer_list>

#include "info_lines.hpp"
#include "redis_sidecar/server/command_table.hpp"

// Field lists, order and value formats are those of Redis 7.0's genRedisInfoString (server.c).

namespace redis_sidecar::server {

using info_text::line;

namespace {

enum section : unsigned {
    server_section = 1 << 0,
    clients_section = 1 << 1,
    memory_section = 1 << 2,
    persistence_section = 1 << 3,
    stats_section = 1 << 4,
    replication_section = 1 << 5,
    cpu_section = 1 << 6,
    modules_section = 1 << 7,
    commandstats_section = 1 << 8,
    errorstats_section = 1 << 9,
    latencystats_section = 1 << 10,
    cluster_section = 1 << 11,
    keyspace_section = 1 << 12,
    sidecar_section_bit = 1 << 13,
};

constexpr unsigned default_sections = server_section | clients_section | memory_section | persistence_section |
                                      stats_section | replication_section | cpu_section | modules_section |
                                      errorstats_section | cluster_section | keyspace_section | sidecar_section_bit;
constexpr unsigned all_sections = default_sections | commandstats_section | latencystats_section;

// Which sections the arguments ask for, as Redis 7.0's genInfoSectionDict decides it: names in
// any case, compared as C strings (up to a NUL byte); unknown ones add nothing.
unsigned requested_sections(std::span<const std::string_view> arguments) {
    if (arguments.empty()) return default_sections;
    static constexpr std::array<std::pair<std::string_view, unsigned>, 18> names = {{
        {"default", default_sections},
        {"all", all_sections},
        {"everything", all_sections},
        {"server", server_section},
        {"clients", clients_section},
        {"memory", memory_section},
        {"persistence", persistence_section},
        {"stats", stats_section},
        {"replication", replication_section},
        {"cpu", cpu_section},
        {"modules", modules_section},
        {"module_list", modules_section},
        {"commandstats", commandstats_section},
        {"errorstats", errorstats_section},
        {"latencystats", latencystats_section},
        {"cluster", cluster_section},
        {"keyspace", keyspace_section},
        {"sidecar", sidecar_section_bit},
    }};
    unsigned wanted = 0;
    for (std::string_view argument : arguments) {
        argument = argument.substr(0, argument.find('\0'));
        for (const auto& [name, bits] : names)
            if (equals_lower(argument, name)) wanted |= bits;
    }
    return wanted;
}

std::string two_decimals(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.2f", value);
    return text;
}

// A ratio as INFO prints it; 0.00 where Redis's divisor can never be 0 but the local store's can.
std::string ratio(std::uint64_t numerator, std::uint64_t denominator) {
    return two_decimals(denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator));
}

std::string cpu_seconds(const cpu_time& t) {
    char text[64];
    std::snprintf(text, sizeof text, "%ld.%06ld", static_cast<long>(t.seconds), static_cast<long>(t.microseconds));
    return text;
}

std::int64_t difference(std::uint64_t a, std::uint64_t b) { return static_cast<std::int64_t>(a - b); }

// Command names and error codes with INFO's separators in them ('#', ':', CR, LF) get '_'
// instead, as Redis's getSafeInfoString does.
std::string safe_info_name(std::string_view name) {
    std::string safe(name);
    for (char& c : safe)
        if (c == '#' || c == ':' || c == '\r' || c == '\n') c = '_';
    return safe;
}

// Fields the sidecar has no counterpart for, all 0.
void zero_lines(std::string& out, std::initializer_list<std::string_view> keys) {
    for (const std::string_view key : keys) line(out, key, "0");
}

// Redis separates sections with an empty line.
std::string& next_section(std::string& out) {
    if (!out.empty()) out.append("\r\n");
    return out;
}

void append_server(std::string& s, const local_figures& f) {
    s.append("# Server\r\n");
    line(s, "redis_version", f.redis_version);
    line(s, "redis_git_sha1", "00000000");
    line(s, "redis_git_dirty", "0");
    line(s, "redis_build_id", "0000000000000000");
    line(s, "redis_mode", "standalone");
    line(s, "os", f.os);
    line(s, "arch_bits", sizeof(void*) * 8);
    line(s, "monotonic_clock", "POSIX clock_gettime");  // std::chrono::steady_clock
#if defined(BOOST_ASIO_DISABLE_EPOLL) && defined(BOOST_ASIO_HAS_IO_URING)
    line(s, "multiplexing_api", "io_uring");
#else
    line(s, "multiplexing_api", "epoll");
#endif
    line(s, "atomicvar_api", "c11-builtin");  // std::atomic
    line(s, "gcc_version",
         std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." + std::to_string(__GNUC_PATCHLEVEL__));
    line(s, "process_id", f.process_id);
    line(s, "process_supervised", f.process_supervised);
    line(s, "run_id", f.run_id);
    line(s, "tcp_port", f.tcp_port);
    line(s, "server_time_usec", f.server_time_usec);
    line(s, "uptime_in_seconds", f.uptime_seconds);
    line(s, "uptime_in_days", f.uptime_seconds / 86400);
    // The local store's expiry and eviction run ten times a second, as Redis's cron at hz 10.
    line(s, "hz", "10");
    line(s, "configured_hz", "10");
    // Redis's LRU clock: unix seconds in 24 bits.
    line(s, "lru_clock", (f.server_time_usec / 1000000) & 0xFFFFFF);
    line(s, "executable", f.executable);
    line(s, "config_file", "");
    line(s, "io_threads_active", "0");
}

void append_clients(std::string& s, const local_figures& f) {
    s.append("# Clients\r\n");
    line(s, "connected_clients", f.connected_clients);
    line(s, "cluster_connections", "0");
    line(s, "maxclients", f.maxclients);
    zero_lines(s, {"client_recent_max_input_buffer", "client_recent_max_output_buffer", "blocked_clients",
                   "tracking_clients", "clients_in_timeout_table"});
}

void append_memory(std::string& s, const local_figures& f) {
    // Redis built with libc's malloc reports allocator_allocated as used_memory and
    // allocator_active and allocator_resident as the RSS; the ratios follow from those.
    const std::uint64_t used = f.used_memory;
    const std::uint64_t peak = std::max(f.used_memory_peak, used);
    const std::uint64_t rss = f.used_memory_rss;
    s.append("# Memory\r\n");
    line(s, "used_memory", used);
    line(s, "used_memory_human", human_bytes(used));
    line(s, "used_memory_rss", rss);
    line(s, "used_memory_rss_human", human_bytes(rss));
    line(s, "used_memory_peak", peak);
    line(s, "used_memory_peak_human", human_bytes(peak));
    line(s, "used_memory_peak_perc", ratio(used * 100, peak) + "%");
    // All of the local store's memory is its dataset: nothing is allocated at start-up.
    line(s, "used_memory_overhead", "0");
    line(s, "used_memory_startup", "0");
    line(s, "used_memory_dataset", used);
    line(s, "used_memory_dataset_perc", ratio(used * 100, used == 0 ? 1 : used) + "%");
    line(s, "allocator_allocated", used);
    line(s, "allocator_active", rss);
    line(s, "allocator_resident", rss);
    line(s, "total_system_memory", f.total_system_memory);
    line(s, "total_system_memory_human", human_bytes(f.total_system_memory));
    // No Lua state, no functions: scripts are the known lock scripts, run natively.
    zero_lines(s, {"used_memory_lua", "used_memory_vm_eval"});
    line(s, "used_memory_lua_human", "0B");
    zero_lines(s, {"used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
                   "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total"});
    line(s, "used_memory_vm_total_human", "0B");
    zero_lines(s, {"used_memory_functions", "used_memory_scripts"});
    line(s, "used_memory_scripts_human", "0B");
    line(s, "maxmemory", f.maxmemory);
    line(s, "maxmemory_human", human_bytes(f.maxmemory));
    line(s, "maxmemory_policy", "allkeys-lru");
    line(s, "allocator_frag_ratio", ratio(rss, used));
    line(s, "allocator_frag_bytes", difference(rss, used));
    line(s, "allocator_rss_ratio", ratio(rss, rss));
    line(s, "allocator_rss_bytes", "0");
    line(s, "rss_overhead_ratio", ratio(rss, rss));
    line(s, "rss_overhead_bytes", "0");
    line(s, "mem_fragmentation_ratio", ratio(rss, used));
    line(s, "mem_fragmentation_bytes", difference(rss, used));
    zero_lines(s, {"mem_not_counted_for_evict", "mem_replication_backlog", "mem_total_replication_buffers",
                   "mem_clients_slaves", "mem_clients_normal", "mem_cluster_links", "mem_aof_buffer"});
    line(s, "mem_allocator", "libc");
    zero_lines(s, {"active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"});
}

void append_persistence(std::string& s, const local_figures& f) {
    // No RDB and no AOF: the journal keeps what must survive, and a refused journal write is
    // what a failed AOF write is to Redis.
    s.append("# Persistence\r\n");
    zero_lines(s, {"loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age"});
    line(s, "current_fork_perc", "0.00");
    zero_lines(s, {"current_save_keys_processed", "current_save_keys_total", "rdb_changes_since_last_save",
                   "rdb_bgsave_in_progress"});
    line(s, "rdb_last_save_time", f.server_time_usec / 1000000 - f.uptime_seconds);  // Redis: its start
    line(s, "rdb_last_bgsave_status", "ok");
    line(s, "rdb_last_bgsave_time_sec", "-1");
    line(s, "rdb_current_bgsave_time_sec", "-1");
    zero_lines(s, {"rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded",
                   "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled"});
    line(s, "aof_last_rewrite_time_sec", "-1");
    line(s, "aof_current_rewrite_time_sec", "-1");
    line(s, "aof_last_bgrewrite_status", "ok");
    zero_lines(s, {"aof_rewrites", "aof_rewrites_consecutive_failures"});
    line(s, "aof_last_write_status", f.journal_failing ? "err" : "ok");
    zero_lines(s, {"aof_last_cow_size", "module_fork_in_progress", "module_fork_last_cow_size"});
}

void append_stats(std::string& s, const local_figures& f) {
    s.append("# Stats\r\n");
    line(s, "total_connections_received", f.total_connections);
    line(s, "total_commands_processed", f.total_commands);
    zero_lines(s, {"instantaneous_ops_per_sec", "total_net_input_bytes", "total_net_output_bytes",
                   "total_net_repl_input_bytes", "total_net_repl_output_bytes"});
    for (const std::string_view key : {"instantaneous_input_kbps", "instantaneous_output_kbps",
                                       "instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps"})
        line(s, key, "0.00");
    line(s, "rejected_connections", f.rejected_connections);
    zero_lines(s, {"sync_full", "sync_partial_ok", "sync_partial_err"});
    line(s, "expired_keys", f.expired_keys);
    line(s, "expired_stale_perc", "0.00");
    zero_lines(s, {"expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds"});
    line(s, "evicted_keys", f.evicted_keys);
    zero_lines(s, {"evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time",
                   "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns", "pubsubshard_channels",
                   "latest_fork_usec", "total_forks", "migrate_cached_sockets", "slave_expires_tracked_keys",
                   "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses",
                   "total_active_defrag_time", "current_active_defrag_time", "tracking_total_keys",
                   "tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies"});
    line(s, "total_error_replies", f.total_error_replies);
    zero_lines(s, {"dump_payload_sanitizations", "total_reads_processed", "total_writes_processed",
                   "io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks",
                   "reply_buffer_expands"});
}

void append_replication(std::string& s, const local_figures& f) {
    // A master without replicas and without a backlog, as a Redis that never had one.
    s.append("# Replication\r\n");
    line(s, "role", "master");
    line(s, "connected_slaves", "0");
    line(s, "master_failover_state", "no-failover");
    line(s, "master_replid", f.replid);
    line(s, "master_replid2", "0000000000000000000000000000000000000000");
    line(s, "master_repl_offset", "0");
    line(s, "second_repl_offset", "-1");
    line(s, "repl_backlog_active", "0");
    line(s, "repl_backlog_size", "1048576");
    line(s, "repl_backlog_first_byte_offset", "0");
    line(s, "repl_backlog_histlen", "0");
}

void append_cpu(std::string& s, const local_figures& f) {
    s.append("# CPU\r\n");
    line(s, "used_cpu_sys", cpu_seconds(f.used_cpu_sys));
    line(s, "used_cpu_user", cpu_seconds(f.used_cpu_user));
    line(s, "used_cpu_sys_children", cpu_seconds(f.used_cpu_sys_children));
    line(s, "used_cpu_user_children", cpu_seconds(f.used_cpu_user_children));
    line(s, "used_cpu_sys_main_thread", cpu_seconds(f.used_cpu_sys_main_thread));
    line(s, "used_cpu_user_main_thread", cpu_seconds(f.used_cpu_user_main_thread));
}

void append_commandstats(std::string& s, const local_figures& f) {
    // The local store counts calls, not their time; it refuses no call it counts.
    s.append("# Commandstats\r\n");
    for (const auto& [command, calls] : f.command_calls)
        line(s, "cmdstat_" + safe_info_name(command),
             "calls=" + std::to_string(calls) + ",usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0");
}

void append_errorstats(std::string& s, const local_figures& f) {
    s.append("# Errorstats\r\n");
    for (const auto& [code, count] : f.error_counts)
        line(s, "errorstat_" + safe_info_name(code), "count=" + std::to_string(count));
}

void append_keyspace(std::string& s, const local_figures& f) {
    // Database 0 is the only one served while down; Redis lists a database once it has keys.
    s.append("# Keyspace\r\n");
    if (f.keys > 0 || f.keys_with_expiry > 0)
        line(s, "db0",
             "keys=" + std::to_string(f.keys) + ",expires=" + std::to_string(f.keys_with_expiry) + ",avg_ttl=0");
}

}  // namespace

std::string human_bytes(std::uint64_t n) {
    static constexpr std::array<char, 5> units = {'K', 'M', 'G', 'T', 'P'};
    char text[64];
    double scaled = static_cast<double>(n);
    if (n < 1024) {
        std::snprintf(text, sizeof text, "%lluB", static_cast<unsigned long long>(n));
        return text;
    }
    // Redis's bytesToHuman: the largest unit under which the value stays below 1024, up to P;
    // from 1024P on, plain bytes again.
    for (std::size_t unit = 0; unit < units.size(); ++unit) {
        scaled /= 1024;
        if (n < (1ULL << (10 * (unit + 2)))) {
            std::snprintf(text, sizeof text, "%.2f%c", scaled, units[unit]);
            return text;
        }
    }
    std::snprintf(text, sizeof text, "%lluB", static_cast<unsigned long long>(n));
    return text;
}

std::string format_local_info(std::span<const std::string_view> sections, const local_figures& f,
                              std::string_view sidecar_section) {
    const unsigned wanted = requested_sections(sections);
    std::string out;
    if (wanted & server_section) append_server(next_section(out), f);
    if (wanted & clients_section) append_clients(next_section(out), f);
    if (wanted & memory_section) append_memory(next_section(out), f);
    if (wanted & persistence_section) append_persistence(next_section(out), f);
    if (wanted & stats_section) append_stats(next_section(out), f);
    if (wanted & replication_section) append_replication(next_section(out), f);
    if (wanted & cpu_section) append_cpu(next_section(out), f);
    if (wanted & modules_section) next_section(out).append("# Modules\r\n");
    if (wanted & commandstats_section) append_commandstats(next_section(out), f);
    if (wanted & errorstats_section) append_errorstats(next_section(out), f);
    // Per-command latency is not tracked locally: the section is empty, as Redis's with
    // latency-tracking off.
    if (wanted & latencystats_section) next_section(out).append("# Latencystats\r\n");
    if (wanted & cluster_section) next_section(out).append("# Cluster\r\ncluster_enabled:0\r\n");
    if (wanted & keyspace_section) append_keyspace(next_section(out), f);
    if (wanted & sidecar_section_bit) next_section(out).append(sidecar_section);
    return out;
}

}  // namespace redis_sidecar::server
