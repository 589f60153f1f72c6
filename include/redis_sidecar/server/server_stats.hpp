#pragma once
/// Counters shared by every event loop, read by INFO sidecar (and later the metrics endpoint).
/// Relaxed atomics: they are statistics, and sessions add to them once per batch, not per request.

#include <atomic>
#include <cstdint>

namespace redis_sidecar::server {

struct server_stats {
    std::atomic<std::uint64_t> connected_clients{0};
    std::atomic<std::uint64_t> total_connections{0};
    std::atomic<std::uint64_t> rejected_connections{0};
    /// Commands sent to Redis over the shared pool.
    std::atomic<std::uint64_t> requests_forwarded{0};
    /// Commands answered by the sidecar itself.
    std::atomic<std::uint64_t> requests_local{0};
    /// Clients moved to a pinned connection.
    std::atomic<std::uint64_t> pinned_sessions_total{0};
    std::atomic<std::uint64_t> pinned_connections{0};
    /// Requests clients sent over their pinned connections (counted as the bytes pass).
    std::atomic<std::uint64_t> requests_pinned{0};
    /// Requests that got an error because Redis failed or could not be reached.
    std::atomic<std::uint64_t> requests_failed{0};
    std::atomic<std::uint64_t> protocol_errors{0};
    /// The sidecar's own client ids (HELLO's `id`, CLIENT ID while Redis is down) start far above
    /// any id Redis gives its connections, so a CLIENT KILL ID or CLIENT UNBLOCK that Redis gets
    /// with one of them never reaches another client by chance.
    std::atomic<std::uint64_t> next_client_id{std::uint64_t{1} << 40};
    /// AUTH / HELLO AUTH with a wrong user or password (requirepass).
    std::atomic<std::uint64_t> auth_failures{0};
    /// Clients closed for client-query-buffer-limit, client-output-buffer-limit and timeout.
    std::atomic<std::uint64_t> query_buffer_limit_disconnections{0};
    std::atomic<std::uint64_t> output_buffer_limit_disconnections{0};
    std::atomic<std::uint64_t> idle_timeout_disconnections{0};

    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
        counter.fetch_add(n, std::memory_order_relaxed);
    }
    static std::uint64_t get(const std::atomic<std::uint64_t>& counter) {
        return counter.load(std::memory_order_relaxed);
    }
};

}  // namespace redis_sidecar::server
