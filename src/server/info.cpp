#include "redis_sidecar/server/info.hpp"

#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

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
    return out;
}

void append_sidecar_section(std::string_view redis_reply, std::string_view section, std::string& out) {
    const auto header_end = redis_reply.find("\r\n");
    std::int64_t length = 0;
    if (redis_reply.empty() || redis_reply[0] != '$' || header_end == std::string_view::npos ||
        !protocol::parse_int64(redis_reply.substr(1, header_end - 1), length) || length < 0) {
        out.append(redis_reply);
        return;
    }
    const std::string_view body = redis_reply.substr(header_end + 2, static_cast<std::size_t>(length));
    std::string combined(body);
    // INFO separates sections with an empty line.
    if (!combined.empty()) combined.append("\r\n");
    combined.append(section);
    protocol::write_bulk(out, combined);
}

}  // namespace redis_sidecar::server
