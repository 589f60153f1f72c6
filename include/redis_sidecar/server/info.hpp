#pragma once
/// The sidecar's own INFO section, and how it joins Redis's INFO reply.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "redis_sidecar/local/key_classes.hpp"
#include "redis_sidecar/metrics/histogram.hpp"
#include "redis_sidecar/store/figures.hpp"

namespace redis_sidecar::server {

// The local store's and recovery's figures, which INFO and /metrics format.
using store::local_figures;
using store::local_store_figures;
using store::recovery_figures;
using store::reported_key_classes;

/// Request latency as the sidecar sees it: from reading a request to its reply being ready to
/// write. One per event loop, written by that loop only.
struct request_latency {
    metrics::latency_histogram forwarded;  ///< answered by Redis over the pool
    metrics::latency_histogram local;      ///< answered by the sidecar (durable ones wait for the disk)
};

/// Everything the sidecar reports about itself, for INFO sidecar and /metrics alike.
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
    /// -BUSY replies from Redis (a script past its busy-reply-threshold: alive, not down).
    std::uint64_t busy_replies = 0;
    /// Replies that came later than upstream-timeout while a slow command kept Redis busy.
    std::uint64_t slow_commands_waited_on = 0;
    /// Requests sent by clients on pinned connections (the command that pinned them included).
    std::uint64_t requests_pinned = 0;
    unsigned threads = 1;
    std::uint64_t uptime_seconds = 0;
    metrics::histogram_snapshot latency_forwarded;
    metrics::histogram_snapshot latency_local;
    local_store_figures local;
    recovery_figures recovery;
    std::uint64_t auth_failures = 0;
    std::uint64_t query_buffer_limit_disconnections = 0;
    std::uint64_t output_buffer_limit_disconnections = 0;
    std::uint64_t idle_timeout_disconnections = 0;
};

/// "# Sidecar\r\nkey:value\r\n..." in INFO's format.
std::string format_sidecar_section(const sidecar_figures& figures);

/// The text of INFO's reply `redis_reply` (one whole RESP reply): the body of a bulk string;
/// nothing for anything else (an error).
std::optional<std::string_view> info_reply_text(std::string_view redis_reply);

/// Appends to `out` the bulk string of INFO's text `redis_text` with `section` added as a last
/// section.
void append_with_sidecar_section(std::string_view redis_text, std::string_view section, std::string& out);

/// Appends to `out` Redis's INFO reply `redis_reply` (one whole RESP reply) with `section` added
/// as a last section. An error reply passes unchanged.
void append_sidecar_section(std::string_view redis_reply, std::string_view section, std::string& out);

/// What the `# Sidecar` section is in the reply to INFO with `sections` (its arguments after the
/// name) while Redis serves, for pinned and unpinned clients alike: the whole reply (every
/// section asked is `sidecar`), appended to Redis's (none asked, `default`, `all`, `everything`,
/// or `sidecar` among others), or absent.
enum class sidecar_section_use : std::uint8_t { absent, alone, appended };
sidecar_section_use sidecar_section_in_info(std::span<const std::string_view> sections);

}  // namespace redis_sidecar::server
