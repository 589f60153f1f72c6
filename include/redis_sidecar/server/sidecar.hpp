#pragma once
/// The whole server: one event loop per thread, each with its own listeners (sharing the port),
/// upstream pool and sessions; counters shared across them.

#include <boost/asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "redis_sidecar/config/config.hpp"
#include "redis_sidecar/server/client_auth.hpp"
#include "redis_sidecar/server/local_service.hpp"
#include "redis_sidecar/server/recovery.hpp"
#include "redis_sidecar/server/server_stats.hpp"
#include "redis_sidecar/upstream/mirror_feed.hpp"

namespace redis_sidecar::server {

class sidecar {
public:
    /// Binds every listener; throws std::runtime_error when one cannot be bound.
    explicit sidecar(const config::settings& settings);
    ~sidecar();

    /// Serves until `stop`; runs event loop 0 on the calling thread and the others on their own.
    void run();
    /// Stops accepting, closes every client and upstream connection. Safe from any thread.
    void stop();

    /// The event loop of the calling thread in `run` (for signal handling).
    boost::asio::io_context& main_context();

    /// The "# Sidecar" INFO section.
    std::string info_section() const;

    std::uint64_t uptime_seconds() const;

    /// True while every event loop has at least one ready upstream connection.
    bool upstream_up() const;

    /// Where clients can connect, for the start-up log line.
    std::vector<std::string> listening_on() const;

private:
    struct worker;
    void start_mirror_feed();
    const config::settings& settings_;
    server_stats stats_;
    std::unique_ptr<local_service> local_;
    std::unique_ptr<recovery> recovery_;
    upstream::mirror_feed_options mirror_options_;
    std::atomic<bool> stopping_{false};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<worker>> workers_;
    /// requirepass, as a digest; every event loop's sessions check AUTH against it.
    client_password password_{settings_.requirepass};
};

}  // namespace redis_sidecar::server
