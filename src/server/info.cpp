#include "redis_sidecar/server/info.hpp"

#include "redis_sidecar/local/key_classes.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/command_table.hpp"
#include "info_lines.hpp"

namespace redis_sidecar::server {

using detail::info_line;

std::string format_sidecar_section(const sidecar_figures& f) {
    std::string out = "# Sidecar\r\n";
    info_line(out, "sidecar_version", REDIS_SIDECAR_VERSION);
    info_line(out, "mode", f.upstream_up ? "up" : "down");
    info_line(out, "upstream", f.upstream_address);
    info_line(out, "upstream_redis_version", f.redis_version);
    info_line(out, "upstream_connections", f.upstream_connections);
    info_line(out, "upstream_connections_ready", f.upstream_connections_ready);
    info_line(out, "upstream_connection_failures", f.upstream_connection_failures);
    info_line(out, "mode_transitions", f.mode_transitions);
    info_line(out, "threads", f.threads);
    info_line(out, "connected_clients", f.connected_clients);
    info_line(out, "total_connections_received", f.total_connections);
    info_line(out, "rejected_connections", f.rejected_connections);
    info_line(out, "pinned_connections", f.pinned_connections);
    info_line(out, "pinned_sessions_total", f.pinned_sessions_total);
    info_line(out, "requests_forwarded", f.requests_forwarded);
    info_line(out, "requests_local", f.requests_local);
    info_line(out, "requests_failed", f.requests_failed);
    info_line(out, "protocol_errors", f.protocol_errors);
    info_line(out, "auth_failures", f.auth_failures);
    info_line(out, "client_query_buffer_limit_disconnections", f.query_buffer_limit_disconnections);
    info_line(out, "client_output_buffer_limit_disconnections", f.output_buffer_limit_disconnections);
    info_line(out, "client_idle_timeout_disconnections", f.idle_timeout_disconnections);
    info_line(out, "requests_pinned", f.requests_pinned);
    // Upper bounds from the histogram's buckets (as /metrics has them), in microseconds.
    info_line(out, "latency_forwarded_p50_us", f.latency_forwarded.quantile_bound_us(0.50));
    info_line(out, "latency_forwarded_p99_us", f.latency_forwarded.quantile_bound_us(0.99));
    info_line(out, "latency_local_p50_us", f.latency_local.quantile_bound_us(0.50));
    info_line(out, "latency_local_p99_us", f.latency_local.quantile_bound_us(0.99));
    const recovery_figures& r = f.recovery;
    info_line(out, "serving", r.serving);
    info_line(out, "recovery_runs", r.runs);
    info_line(out, "recovery_failures", r.failures);
    info_line(out, "recovery_backlog", r.backlog);
    info_line(out, "recovery_blacklist_written", r.blacklist_written);
    info_line(out, "recovery_cache_keys_deleted", r.cache_keys_deleted);
    info_line(out, "recovery_locks_written", r.locks_written);
    info_line(out, "recovery_lock_conflicts", r.lock_conflicts);
    info_line(out, "recovery_default_keys_dropped", r.default_keys_dropped);
    const local_store_figures& l = f.local;
    for (const local::key_class c : reported_key_classes)
        info_line(out, "local_keys_" + std::string(local::key_class_name(c)), l.keys_by_class[static_cast<std::size_t>(c)]);
    info_line(out, "journal_bytes", l.journal_bytes);
    info_line(out, "journal_records", l.journal_records);
    info_line(out, "journal_write_failures", l.journal_write_failures);
    info_line(out, "journal_failing", l.journal_failing);
    info_line(out, "owed_cache_invalidations", l.owed_cache_invalidations);
    info_line(out, "owed_locks", l.owed_locks);
    info_line(out, "owed_default_keys_to_drop", l.owed_default_keys_to_drop);
    info_line(out, "mirror_readbacks", l.mirror_readbacks);
    info_line(out, "mirror_readback_corrections", l.mirror_readback_corrections);
    info_line(out, "mirror_readbacks_pending", l.mirror_readbacks_pending);
    info_line(out, "mirror_readbacks_dropped", l.mirror_readbacks_dropped);
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

