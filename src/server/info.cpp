#include "redis_sidecar/server/info.hpp"

#include "redis_sidecar/local/key_classes.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/command_table.hpp"
#include "info_lines.hpp"

namespace redis_sidecar::server {

using info_text::line;

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
    line(out, "busy_replies", f.busy_replies);
    line(out, "slow_commands_waited_on", f.slow_commands_waited_on);
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
