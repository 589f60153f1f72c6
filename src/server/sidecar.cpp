#include "redis_sidecar/server/sidecar.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <thread>

#include "redis_sidecar/server/info.hpp"
#include "redis_sidecar/server/listener.hpp"
#include "redis_sidecar/server/session_context.hpp"
#include "redis_sidecar/upstream/pool.hpp"

namespace redis_sidecar::server {

namespace {
upstream::upstream_settings upstream_settings_from(const config::settings& s) {
    upstream::upstream_settings u;
    u.host = s.upstream.host;
    u.port = s.upstream.port;
    u.user = s.upstream_user;
    u.password = s.upstream_password;
    u.connections = s.upstream_connections;
    u.timeout = std::chrono::milliseconds(s.upstream_timeout_ms);
    u.probe_interval = std::chrono::milliseconds(s.probe_interval_ms);
    u.max_pinned = s.max_pinned;
    return u;
}
}  // namespace

struct sidecar::worker {
    worker(const config::settings& settings, server_stats& stats, local_service& local, recovery& serving,
           const sidecar& owner)
        : io(1),
          pool(std::make_shared<upstream::pool>(io.get_executor(), upstream_settings_from(settings))),
          commits(io.get_executor(), local),
          context{pool,    settings, stats, sessions, local, serving, commits,
                  [&owner] { return owner.info_section(); }, [&owner] { return owner.uptime_seconds(); }} {
        pool->set_on_down([this, &serving] {
            serving.on_upstream_down();
            // A pinned connection has no request timeout of its own (BLPOP 0 may wait for ever),
            // so it would hang on a stalled Redis: pinned clients are closed, and their libraries
            // reconnect to local answers.
            sessions.stop_pinned();
        });
        pool->set_on_up([&serving] { serving.on_upstream_up(); });
    }

    // Recovery outlives the workers but keeps a timer in this loop's services: it lets go of the
    // loop before the io_context is destroyed (also when the sidecar's constructor throws).
    ~worker() {
        if (hosted_recovery != nullptr) hosted_recovery->detach();
    }

    /// Recovery runs on this event loop (event loop 0).
    void host(recovery& r) {
        r.attach(io);
        hosted_recovery = &r;
    }

    void stop() {
        stopped = true;
        background_timer.cancel();
        for (auto& l : listeners) l->stop();
        sessions.stop_all();
        pool->stop();
    }

    boost::asio::io_context io;
    std::shared_ptr<upstream::pool> pool;
    session_registry sessions;
    durable_commits commits;
    session_context context;
    std::vector<std::shared_ptr<listener>> listeners;
    boost::asio::steady_timer background_timer{io};
    bool stopped = false;  // on this worker's thread only
    recovery* hosted_recovery = nullptr;
};

namespace {
// Redis runs active expiry 10 times a second (hz 10); the local store does the same.
constexpr std::chrono::milliseconds background_period{100};

// `stopped` is checked as well as the error: a timer that already fired when stop() cancelled it
// still runs its handler with success, and re-arming then would keep the event loop alive for ever.
void schedule_background(boost::asio::steady_timer& timer, local_service& local, const bool& stopped) {
    timer.expires_after(background_period);
    timer.async_wait([&timer, &local, &stopped](boost::system::error_code ec) {
        if (ec || stopped) return;
        local.background_cycle();
        schedule_background(timer, local, stopped);
    });
}
}  // namespace

sidecar::sidecar(const config::settings& settings)
    : settings_(settings),
      local_(std::make_unique<local_service>(settings)),
      recovery_(std::make_unique<recovery>(
          upstream_settings_from(settings), *local_,
          local::key_classifier(settings.blacklist_prefixes, settings.lock_prefixes, settings.cache_prefixes))) {
    for (unsigned i = 0; i < settings.threads; ++i) {
        auto w = std::make_unique<worker>(settings, stats_, *local_, *recovery_, *this);
        if (i == 0) w->host(*recovery_);
        w->listeners.push_back(listener::bind_tcp(w->io, settings.listen, settings.threads > 1, w->context));
        // One loop serves the unix socket: a path cannot be shared the way a port can.
        if (i == 0 && !settings.unixsocket.empty())
            w->listeners.push_back(
                listener::bind_unix(w->io, settings.unixsocket, settings.unixsocketperm, w->context));
        workers_.push_back(std::move(w));
    }
}

sidecar::~sidecar() = default;

void sidecar::run() {
    for (auto& w : workers_) {
        w->pool->start();
        for (auto& l : w->listeners) l->start();
    }
    schedule_background(workers_[0]->background_timer, *local_, workers_[0]->stopped);
    start_mirror_feed();
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers_.size(); ++i) threads.emplace_back([w = workers_[i].get()] { w->io.run(); });
    workers_[0]->io.run();
    for (auto& t : threads) t.join();
}

// Revocations made elsewhere reach the local mirror through Redis's tracking pushes.
void sidecar::start_mirror_feed() {
    mirror_options_.prefixes = settings_.blacklist_prefixes;
    mirror_options_.on_entry = [this](std::string_view key, std::string_view value, std::int64_t expire_at_ms) {
        local_->mirror_entry(key, value, expire_at_ms);
    };
    mirror_options_.on_warm = [](std::uint64_t entries) {
        spdlog::info("mirror: {} blacklist entries read from Redis", entries);
    };
    mirror_options_.running = [this] { return !stopping_.load(std::memory_order_relaxed); };
    boost::asio::co_spawn(workers_[0]->io,
                          upstream::async_follow_mirror(upstream_settings_from(settings_), mirror_options_),
                          boost::asio::detached);
}

void sidecar::stop() {
    stopping_.store(true, std::memory_order_relaxed);
    recovery_->stop();
    for (auto& w : workers_) boost::asio::post(w->io, [w = w.get()] { w->stop(); });
}

std::uint64_t sidecar::uptime_seconds() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
}

boost::asio::io_context& sidecar::main_context() { return workers_[0]->io; }

bool sidecar::upstream_up() const {
    for (const auto& w : workers_)
        if (!w->pool->up()) return false;
    return true;
}

std::vector<std::string> sidecar::listening_on() const {
    std::vector<std::string> out;
    for (const auto& l : workers_[0]->listeners) out.push_back(l->description());
    return out;
}

std::string sidecar::info_section() const {
    sidecar_figures f;
    f.upstream_up = upstream_up() && recovery_->forwarding();
    f.upstream_address = settings_.upstream.host + ":" + std::to_string(settings_.upstream.port);
    for (const auto& w : workers_) {
        f.upstream_connections += w->pool->size();
        f.upstream_connections_ready += w->pool->ready_connections();
        f.upstream_connection_failures += w->pool->connection_failures();
        f.mode_transitions += w->pool->mode_transitions();
        if (f.redis_version.empty()) f.redis_version = w->pool->redis_version();
    }
    f.threads = settings_.threads;
    f.connected_clients = server_stats::get(stats_.connected_clients);
    f.total_connections = server_stats::get(stats_.total_connections);
    f.rejected_connections = server_stats::get(stats_.rejected_connections);
    f.pinned_connections = server_stats::get(stats_.pinned_connections);
    f.pinned_sessions_total = server_stats::get(stats_.pinned_sessions_total);
    f.requests_forwarded = server_stats::get(stats_.requests_forwarded);
    f.requests_local = server_stats::get(stats_.requests_local);
    f.requests_failed = server_stats::get(stats_.requests_failed);
    f.protocol_errors = server_stats::get(stats_.protocol_errors);
    return format_sidecar_section(f) + recovery_->info_lines() + local_->info_lines();
}

}  // namespace redis_sidecar::server
