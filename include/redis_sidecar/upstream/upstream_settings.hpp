#pragma once
/// What the upstream component needs to know of the configuration.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "redis_sidecar/upstream/busy_tracker.hpp"

namespace redis_sidecar::upstream {

class tls_client;

struct upstream_settings {
    /// Redis's address.
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    /// AUTH sent on every new connection when `password` is not empty.
    std::string user;
    std::string password;
    /// Shared pipelined connections in a pool.
    unsigned connections = 2;
    /// Clients spread over the connections (by client id) when true; otherwise every client uses
    /// the first ready connection and the others stand by.
    bool spread = false;
    /// Requests are held this long before a write, unless 16 KB are waiting (zero: written at the
    /// end of the event loop's turn).
    std::chrono::microseconds batch_delay{0};
    /// An unanswered request older than this fails its connection; also the connect timeout.
    std::chrono::milliseconds timeout{500};
    /// The same limit while a command that can legitimately take long is in flight (busy_tracker.hpp).
    std::chrono::milliseconds busy_timeout{5000};
    /// Slow commands in flight on every connection to this Redis; shared by every pool.
    std::shared_ptr<busy_tracker> busy = std::make_shared<busy_tracker>();
    /// While Redis is down, how often a reconnect is tried (doubling up to 4x after failures);
    /// while up, an idle connection is PINGed this often, so a hung Redis is found before a
    /// client waits on it.
    std::chrono::milliseconds probe_interval{250};
    /// Dedicated connections for stateful clients.
    unsigned max_pinned = 1000;
    /// Every connection to Redis goes over TLS with this set-up when set (built once at start-up,
    /// shared read-only by every connection on every thread); plain TCP when null.
    std::shared_ptr<tls_client> tls;
};

}  // namespace redis_sidecar::upstream
