#pragma once
/// The sidecar's own INFO section, and how it joins Redis's INFO reply.

#include <cstdint>
#include <string>
#include <string_view>

namespace redis_sidecar::server {

/// The figures the "# Sidecar" section shows.
struct sidecar_figures {
    bool upstream_up = false;
    std::string upstream_address;
    std::string redis_version;
    std::uint64_t upstream_connections = 0;
    std::uint64_t upstream_connections_ready = 0;
    std::uint64_t upstream_connection_failures = 0;
    std::uint64_t connected_clients = 0;
    std::uint64_t total_connections = 0;
    std::uint64_t rejected_connections = 0;
    std::uint64_t pinned_connections = 0;
    std::uint64_t pinned_sessions_total = 0;
    std::uint64_t requests_forwarded = 0;
    std::uint64_t requests_local = 0;
    std::uint64_t requests_failed = 0;
    std::uint64_t protocol_errors = 0;
    unsigned threads = 1;
};

/// "# Sidecar\r\nkey:value\r\n..." in INFO's format.
std::string format_sidecar_section(const sidecar_figures& figures);

/// Appends to `out` Redis's INFO reply `redis_reply` (one whole RESP reply) with `section` added
/// as a last section. An error reply passes unchanged.
void append_sidecar_section(std::string_view redis_reply, std::string_view section, std::string& out);

}  // namespace redis_sidecar::server
