#pragma once
/// What every session of one event loop shares: its upstream pool, the settings, the counters,
/// and the registry that can stop them all.

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/config/config.hpp"
#include "redis_sidecar/server/client_auth.hpp"
#include "redis_sidecar/store/durable_commits.hpp"
#include "redis_sidecar/server/info.hpp"
#include "redis_sidecar/store/local_service.hpp"
#include "redis_sidecar/store/recovery.hpp"
#include "redis_sidecar/server/server_stats.hpp"
#include "redis_sidecar/upstream/pinned_spares.hpp"
#include "redis_sidecar/upstream/pool.hpp"

namespace redis_sidecar::server {

class session;

/// The live sessions of one event loop, so shutdown can stop them all.
class session_registry {
public:
    void add(const std::shared_ptr<session>& s);
    void remove(std::uint64_t id);
    /// Stops every session; each removes itself as it closes.
    void stop_all();
    /// Asks every session to finish what it has read and close (graceful shutdown).
    void drain_all();
    /// Stops the sessions that have a pinned connection.
    void stop_pinned();
    std::size_t size() const { return sessions_.size(); }

    /// Seconds on the steady clock as of the last sweep (or start): a "now" that costs no clock read.
    std::uint64_t clock() const { return clock_; }
    /// Advances the clock, then lets every session check its idle time and output limit.
    void sweep();

private:
    std::vector<std::shared_ptr<session>> live_sessions() const;

    std::unordered_map<std::uint64_t, std::weak_ptr<session>> sessions_;
    std::uint64_t clock_ = steady_seconds();

    static std::uint64_t steady_seconds();
};

struct session_context {
    std::shared_ptr<upstream::pool> pool;
    const config::settings& settings;
    server_stats& stats;
    session_registry& sessions;
    /// Answers while Redis is down; shared by every event loop.
    store::local_service& local;
    /// Whether clients are served by Redis or by the local store; shared by every event loop.
    store::recovery& serving;
    /// This event loop's group commit of durable local writes.
    store::durable_commits& commits;
    /// This event loop's request latency histograms.
    request_latency& latency;
    /// The "# Sidecar" INFO section, built from every event loop's state.
    std::function<std::string()> sidecar_info;
    /// Seconds since the sidecar started.
    std::function<std::uint64_t()> uptime_seconds;
    /// requirepass: what AUTH is checked against.
    const client_password& password;
    /// This event loop's command catalogue: built in, replaced on this loop's thread when the
    /// sidecar learns Redis's commands (a request's lookup never sees it change mid-way).
    const std::shared_ptr<const catalogue::command_catalogue>& commands;
    /// This event loop's dedicated connections kept open ahead.
    upstream::pinned_spares& spares;
};

}  // namespace redis_sidecar::server
