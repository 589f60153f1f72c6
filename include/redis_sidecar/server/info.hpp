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
    std::uint64_t mode_transitions = 0;
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
    std::uint64_t auth_failures = 0;
    std::uint64_t query_buffer_limit_disconnections = 0;
    std::uint64_t output_buffer_limit_disconnections = 0;
    std::uint64_t idle_timeout_disconnections = 0;
};

/// "# Sidecar\r\nkey:value\r\n..." in INFO's format.
std::string format_sidecar_section(const sidecar_figures& figures);

/// Appends to `out` Redis's INFO reply `redis_reply` (one whole RESP reply) with `section` added
/// as a last section. An error reply passes unchanged.
void append_sidecar_section(std::string_view redis_reply, std::string_view section, std::string& out);

}  // namespace redis_sidecar::server

#include <span>
#include <utility>
#include <vector>

namespace redis_sidecar::server {

/// What the local INFO shows while Redis is down.
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

/// The body of INFO's reply for `sections` (the arguments after INFO) as Redis 7.0 would shape
/// it, from the local store's figures; `sidecar_section` is included for sidecar, all and
/// everything, and for INFO with no argument or default.
std::string format_local_info(std::span<const std::string_view> sections, const local_figures& figures,
                              std::string_view sidecar_section);

}  // namespace redis_sidecar::server
