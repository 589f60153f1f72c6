#include "redis_sidecar/server/info.hpp"

#include "redis_sidecar/local/key_classes.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/command_table.hpp"

namespace redis_sidecar::server {

namespace {
void line(std::string& out, std::string_view key, std::string_view value) {
    out.append(key);
    out.push_back(':');
    out.append(value);
    out.append("\r\n");
}
void line(std::string& out, std::string_view key, std::uint64_t value) { line(out, key, std::to_string(value)); }
}  // namespace

std::string format_sidecar_section(const sidecar_figures& f) {
    std::string out = "# Sidecar\r\n";
    line(out, "sidecar_version", REDIS_SIDECAR_VERSION);
    line(out, "mode", f.upstream_up ? "up" : "down");
    line(out, "upstream", f.upstream_address);
    line(out, "upstream_redis_version", f.redis_version);
    line(out, "upstream_connections", f.upstream_connections);
    line(out, "upstream_connections_ready", f.upstream_connections_ready);
    line(out, "upstream_connection_failures", f.upstream_connection_failures);
    line(out, "mode_transitions", f.mode_transitions);
    line(out, "threads", f.threads);
    line(out, "connected_clients", f.connected_clients);
    line(out, "total_connections_received", f.total_connections);
    line(out, "rejected_connections", f.rejected_connections);
    line(out, "pinned_connections", f.pinned_connections);
    line(out, "pinned_sessions_total", f.pinned_sessions_total);
    line(out, "requests_forwarded", f.requests_forwarded);
    line(out, "requests_local", f.requests_local);
    line(out, "requests_failed", f.requests_failed);
    line(out, "protocol_errors", f.protocol_errors);
    line(out, "auth_failures", f.auth_failures);
    line(out, "client_query_buffer_limit_disconnections", f.query_buffer_limit_disconnections);
    line(out, "client_output_buffer_limit_disconnections", f.output_buffer_limit_disconnections);
    line(out, "client_idle_timeout_disconnections", f.idle_timeout_disconnections);
    line(out, "requests_pinned", f.requests_pinned);
    // Upper bounds from the histogram's buckets (as /metrics has them), in microseconds.
    line(out, "latency_forwarded_p50_us", f.latency_forwarded.quantile_bound_us(0.50));
    line(out, "latency_forwarded_p99_us", f.latency_forwarded.quantile_bound_us(0.99));
    line(out, "latency_local_p50_us", f.latency_local.quantile_bound_us(0.50));
    line(out, "latency_local_p99_us", f.latency_local.quantile_bound_us(0.99));
    const recovery_figures& r = f.recovery;
    line(out, "serving", r.serving);
    line(out, "recovery_runs", r.runs);
    line(out, "recovery_failures", r.failures);
    line(out, "recovery_backlog", r.backlog);
    line(out, "recovery_blacklist_written", r.blacklist_written);
    line(out, "recovery_cache_keys_deleted", r.cache_keys_deleted);
    line(out, "recovery_locks_written", r.locks_written);
    line(out, "recovery_lock_conflicts", r.lock_conflicts);
    line(out, "recovery_default_keys_dropped", r.default_keys_dropped);
    const local_store_figures& l = f.local;
    for (const local::key_class c : reported_key_classes)
        line(out, "local_keys_" + std::string(local::key_class_name(c)), l.keys_by_class[static_cast<std::size_t>(c)]);
    line(out, "journal_bytes", l.journal_bytes);
    line(out, "journal_records", l.journal_records);
    line(out, "journal_write_failures", l.journal_write_failures);
    line(out, "journal_failing", l.journal_failing);
    line(out, "owed_cache_invalidations", l.owed_cache_invalidations);
    line(out, "owed_locks", l.owed_locks);
    line(out, "owed_default_keys_to_drop", l.owed_default_keys_to_drop);
    line(out, "mirror_readbacks", l.mirror_readbacks);
    line(out, "mirror_readback_corrections", l.mirror_readback_corrections);
    line(out, "mirror_readbacks_pending", l.mirror_readbacks_pending);
    line(out, "mirror_readbacks_dropped", l.mirror_readbacks_dropped);
    line(out, "mirror_lock_invalidations", l.mirror_lock_invalidations);
    return out;
}

std::optional<std::string_view> info_reply_text(std::string_view redis_reply) {
    const auto header_end = redis_reply.find("\r\n");
    std::int64_t length = 0;
    if (redis_reply.empty() || redis_reply[0] != '$' || header_end == std::string_view::npos ||
        !protocol::parse_int64(redis_reply.substr(1, header_end - 1), length) || length < 0)
        return std::nullopt;
    return redis_reply.substr(header_end + 2, static_cast<std::size_t>(length));
}

void append_with_sidecar_section(std::string_view redis_text, std::string_view section, std::string& out) {
    // INFO separates sections with an empty line.
    const std::string_view separator = redis_text.empty() ? "" : "\r\n";
    out.push_back('$');
    out.append(std::to_string(redis_text.size() + separator.size() + section.size()));
    out.append("\r\n");
    out.append(redis_text);
    out.append(separator);
    out.append(section);
    out.append("\r\n");
}

void append_sidecar_section(std::string_view redis_reply, std::string_view section, std::string& out) {
    if (const auto text = info_reply_text(redis_reply))
        append_with_sidecar_section(*text, section, out);
    else
        out.append(redis_reply);
}

sidecar_section_use sidecar_section_in_info(std::span<const std::string_view> sections) {
    bool asked_sidecar = false;
    bool asked_other = false;
    bool includes_all = sections.empty();
    for (const std::string_view section : sections) {
        if (equals_lower(section, "sidecar")) {
            asked_sidecar = true;
            continue;
        }
        asked_other = true;
        if (equals_lower(section, "default") || equals_lower(section, "all") || equals_lower(section, "everything"))
            includes_all = true;
    }
    if (asked_sidecar && !asked_other) return sidecar_section_use::alone;
    return (asked_sidecar || includes_all) ? sidecar_section_use::appended : sidecar_section_use::absent;
}

}  // namespace redis_sidecar::server

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstdio>

namespace redis_sidecar::server {

namespace {

enum section : unsigned {
    server_section = 1 << 0,
    clients_section = 1 << 1,
    memory_section = 1 << 2,
    persistence_section = 1 << 3,
    stats_section = 1 << 4,
    replication_section = 1 << 5,
    cpu_section = 1 << 6,
    commandstats_section = 1 << 7,
    keyspace_section = 1 << 8,
    sidecar_section_bit = 1 << 9,
};

constexpr unsigned default_sections = server_section | clients_section | memory_section | persistence_section |
                                      stats_section | replication_section | cpu_section | keyspace_section |
                                      sidecar_section_bit;
constexpr unsigned all_sections = default_sections | commandstats_section;

// Which sections the arguments ask for, as Redis 7.0's genInfoSectionDict decides it.
unsigned requested_sections(std::span<const std::string_view> arguments) {
    if (arguments.empty()) return default_sections;
    static constexpr std::array<std::pair<std::string_view, unsigned>, 13> names = {{
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
        {"commandstats", commandstats_section},
        {"keyspace", keyspace_section},
        {"sidecar", sidecar_section_bit},
    }};
    unsigned wanted = 0;
    for (std::string_view argument : arguments)
        for (const auto& [name, bits] : names)
            if (equals_lower(argument, name)) wanted |= bits;
    return wanted;
}

std::string human_bytes(std::uint64_t n) {
    char text[32];
    const double d = static_cast<double>(n);
    if (n < 1024)
        std::snprintf(text, sizeof text, "%lluB", static_cast<unsigned long long>(n));
    else if (n < 1024ULL * 1024)
        std::snprintf(text, sizeof text, "%.2fK", d / 1024);
    else if (n < 1024ULL * 1024 * 1024)
        std::snprintf(text, sizeof text, "%.2fM", d / (1024 * 1024));
    else
        std::snprintf(text, sizeof text, "%.2fG", d / (1024.0 * 1024 * 1024));
    return text;
}

std::string seconds_text(const timeval& t) {
    char text[48];
    std::snprintf(text, sizeof text, "%ld.%06ld", static_cast<long>(t.tv_sec), static_cast<long>(t.tv_usec));
    return text;
}

void add_section(std::string& out, std::string_view body) {
    if (!out.empty()) out.append("\r\n");
    out.append(body);
}

}  // namespace

std::string format_local_info(std::span<const std::string_view> sections, const local_figures& f,
                              std::string_view sidecar_section) {
    const unsigned wanted = requested_sections(sections);
    std::string out;
    std::string s;
    if (wanted & server_section) {
        utsname name{};
        ::uname(&name);
        s = "# Server\r\n";
        line(s, "redis_version", f.redis_version);
        line(s, "redis_mode", "standalone");
        line(s, "os", std::string(name.sysname) + " " + name.release + " " + name.machine);
        line(s, "arch_bits", std::to_string(sizeof(void*) * 8));
        line(s, "process_id", static_cast<std::uint64_t>(::getpid()));
        line(s, "tcp_port", f.tcp_port);
        line(s, "uptime_in_seconds", f.uptime_seconds);
        line(s, "uptime_in_days", f.uptime_seconds / 86400);
        line(s, "served_by", "redis-sidecar local store (upstream Redis is down)");
        add_section(out, s);
    }
    if (wanted & clients_section) {
        s = "# Clients\r\n";
        line(s, "connected_clients", f.connected_clients);
        line(s, "blocked_clients", std::uint64_t{0});
        add_section(out, s);
    }
    if (wanted & memory_section) {
        s = "# Memory\r\n";
        line(s, "used_memory", f.used_memory);
        line(s, "used_memory_human", human_bytes(f.used_memory));
        line(s, "maxmemory", f.maxmemory);
        line(s, "maxmemory_human", human_bytes(f.maxmemory));
        line(s, "maxmemory_policy", "allkeys-lru");
        add_section(out, s);
    }
    if (wanted & persistence_section) {
        s = "# Persistence\r\n";
        line(s, "loading", std::uint64_t{0});
        add_section(out, s);
    }
    if (wanted & stats_section) {
        s = "# Stats\r\n";
        line(s, "total_connections_received", f.total_connections);
        line(s, "total_commands_processed", f.total_commands);
        line(s, "expired_keys", f.expired_keys);
        line(s, "evicted_keys", f.evicted_keys);
        add_section(out, s);
    }
    if (wanted & replication_section) {
        s = "# Replication\r\n";
        line(s, "role", "master");
        line(s, "connected_slaves", std::uint64_t{0});
        add_section(out, s);
    }
    if (wanted & cpu_section) {
        rusage usage{};
        ::getrusage(RUSAGE_SELF, &usage);
        s = "# CPU\r\n";
        line(s, "used_cpu_sys", seconds_text(usage.ru_stime));
        line(s, "used_cpu_user", seconds_text(usage.ru_utime));
        add_section(out, s);
    }
    if (wanted & commandstats_section) {
        s = "# Commandstats\r\n";
        for (const auto& [command, calls] : f.command_calls)
            line(s, "cmdstat_" + command,
                 "calls=" + std::to_string(calls) + ",usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0");
        add_section(out, s);
    }
    if (wanted & keyspace_section) {
        s = "# Keyspace\r\n";
        if (f.keys > 0)
            line(s, "db0",
                 "keys=" + std::to_string(f.keys) + ",expires=" + std::to_string(f.keys_with_expiry) + ",avg_ttl=0");
        add_section(out, s);
    }
    if (wanted & sidecar_section_bit) add_section(out, sidecar_section);
    return out;
}

}  // namespace redis_sidecar::server
