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
#include "redis_sidecar/metrics/http_endpoint.hpp"
#include "redis_sidecar/server/info.hpp"
#include "redis_sidecar/server/client_auth.hpp"
#include "redis_sidecar/store/local_service.hpp"
#include "redis_sidecar/store/recovery.hpp"
#include "redis_sidecar/server/server_stats.hpp"
#include "redis_sidecar/upstream/mirror_feed.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::server {

class sidecar {
public:
    /// Binds every listener and loads the upstream TLS files; throws std::runtime_error when a
    /// listener cannot be bound or a TLS file cannot be used.
    explicit sidecar(const config::settings& settings);

    /// SIGHUP with the configuration read again: applies what can change in a running sidecar
    /// (config::copy_reloadable) and logs each change, and each change that needs a restart.
    /// On the main event loop's thread.
    void reload(const config::settings& fresh);
    ~sidecar();

    /// Serves until `stop`; runs event loop 0 on the calling thread and the others on their own.
    void run();
    /// Graceful shutdown: stops accepting, answers the requests already read, closes every
    /// connection, writes the journal's last records; then `run` returns. Safe from any thread.
    void stop();

    /// The event loop of the calling thread in `run` (for signal handling).
    boost::asio::io_context& main_context();

    /// Everything the sidecar reports about itself, gathered from every event loop.
    sidecar_figures figures() const;
    /// The "# Sidecar" INFO section.
    std::string info_section() const;
    /// GET of `path` on the metrics endpoint: /metrics or /healthz.
    metrics::http_response answer_http(std::string_view path) const;

    std::uint64_t uptime_seconds() const;

    /// One line on what the sidecar is doing (systemd's STATUS=): starting, forwarding,
    /// answering locally, recovering or stopping.
    std::string status_line() const;

    /// True while every event loop has at least one ready upstream connection.
    bool upstream_up() const;

    /// Where clients can connect, for the start-up log line.
    std::vector<std::string> listening_on() const;

private:
    struct worker;
    void start_mirror_feed();
    void adopt_commands(std::shared_ptr<const catalogue::command_catalogue> learned);
    metrics::http_response health() const;
    config::settings settings_;  // as running; changed by reload on the main loop's thread
    /// What every upstream connection needs (the TLS context included), built once; reload
    /// updates its timeouts.
    upstream::upstream_settings upstream_;
    server_stats stats_;
    std::unique_ptr<store::local_service> local_;
    /// Lock keys to read back after mirrored writes: asked for by every event loop's sessions,
    /// served by the mirror feed on event loop 0 (whichever feed is current after a reload).
    std::shared_ptr<upstream::readback_queue> readbacks_ = std::make_shared<upstream::readback_queue>();
    std::atomic<std::uint64_t> lock_invalidations_{0};
    std::unique_ptr<store::recovery> recovery_;
    std::uint64_t mirror_generation_ = 0;  // on the main loop's thread
    std::atomic<bool> stopping_{false};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<worker>> workers_;
    std::shared_ptr<metrics::http_endpoint> metrics_endpoint_;
};

}  // namespace redis_sidecar::server
