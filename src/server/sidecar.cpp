#include "redis_sidecar/server/sidecar.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <thread>

#include "redis_sidecar/server/info.hpp"
#include "redis_sidecar/server/listener.hpp"
#include "redis_sidecar/server/metrics_text.hpp"
#include "redis_sidecar/server/session_context.hpp"
#include "redis_sidecar/upstream/pool.hpp"
#include "redis_sidecar/upstream/tls.hpp"

namespace redis_sidecar::server {

namespace {
local::key_classifier key_classes_of(const config::settings& s) {
    return local::key_classifier(s.blacklist_prefixes, s.lock_prefixes, s.cache_prefixes);
}

// Builds the TLS context too, once for every connection: throws, naming the option, when a file of
// it cannot be used.
upstream::upstream_settings upstream_settings_from(const config::settings& s) {
    upstream::upstream_settings u;
    u.host = s.upstream.host;
    u.port = s.upstream.port;
    u.user = s.upstream_user;
    u.password = s.upstream_password;
    u.connections = s.upstream_connections;
    u.spread = s.upstream_spread;
    u.batch_delay = std::chrono::microseconds(s.upstream_batch_delay_us);
    u.timeout = std::chrono::milliseconds(s.upstream_timeout_ms);
    u.busy_timeout = std::chrono::milliseconds(s.upstream_busy_timeout_ms);
    u.probe_interval = std::chrono::milliseconds(s.probe_interval_ms);
    u.max_pinned = s.max_pinned;
    if (s.upstream_tls) {
        upstream::tls_options tls;
        tls.ca_file = s.upstream_tls_ca_file;
        tls.cert_file = s.upstream_tls_cert_file;
        tls.key_file = s.upstream_tls_key_file;
        tls.server_name = s.upstream_tls_server_name.empty() ? s.upstream.host : s.upstream_tls_server_name;
        tls.verify = s.upstream_tls_verify;
        u.tls = std::make_shared<upstream::tls_client>(tls);
    }
    return u;
}
}  // namespace

struct sidecar::worker {
    worker(const config::settings& initial, const upstream::upstream_settings& upstream, server_stats& stats,
           store::local_service& local, store::recovery& serving, const sidecar& owner)
        : settings(initial),
          // One thread runs this loop and only it touches its sockets: no locking around each
          // socket operation (posts from other threads, e.g. a reload, stay safe).
          io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
          pool(std::make_shared<upstream::pool>(io.get_executor(), upstream)),
          spares(std::make_shared<upstream::pinned_spares>(pool, initial.pinned_spares)),
          commits(io.get_executor(), local),
          context{pool,    settings, stats, sessions, local, serving, commits, latency,
                  [&owner] { return owner.info_section(); }, [&owner] { return owner.uptime_seconds(); },
                  password, commands, *spares} {
        pool->set_on_down([this, &serving] {
            serving.on_upstream_down();
            // A pinned connection has no request timeout of its own (BLPOP 0 may wait for ever),
            // so it would hang on a stalled Redis: pinned clients are closed, and their libraries
            // reconnect to local answers.
            sessions.stop_pinned();
            spares->clear();
        });
        pool->set_on_up([this, &serving] {
            serving.on_upstream_up();
            spares->refill();
        });
    }

    // Recovery outlives the workers but keeps a timer in this loop's services: it lets go of the
    // loop before the io_context is destroyed (also when the sidecar's constructor throws).
    ~worker() {
        if (hosted_recovery != nullptr) hosted_recovery->detach();
    }

    /// Recovery runs on this event loop (event loop 0).
    void host(store::recovery& r) {
        r.attach(io);
        hosted_recovery = &r;
    }

    void stop() {
        stopped = true;
        background_timer.cancel();
        drain_timer.cancel();
        client_sweep_timer.cancel();
        for (auto& l : listeners) l->stop();
        sessions.stop_all();
        spares->clear();
        pool->stop();
    }

    // Graceful shutdown of this loop: no new clients, no new requests; the pool stays up so
    // requests already forwarded get Redis's replies. Once every session has closed (or at
    // `deadline`), the loop stops and `drained` runs.
    void drain(std::chrono::steady_clock::time_point deadline, std::function<void()> drained) {
        for (auto& l : listeners) l->stop();
        sessions.drain_all();
        wait_for_sessions(deadline, std::move(drained));
    }

    void wait_for_sessions(std::chrono::steady_clock::time_point deadline, std::function<void()> drained) {
        if (drain_finished) return;  // a poll cancelled by stop() still runs its handler
        if (sessions.size() == 0 || std::chrono::steady_clock::now() >= deadline || stopped) {
            drain_finished = true;
            if (sessions.size() > 0)
                spdlog::warn("shutdown: closing {} clients still waiting for replies", sessions.size());
            stop();
            drained();
            return;
        }
        drain_timer.expires_after(drain_poll);
        drain_timer.async_wait([this, deadline, drained = std::move(drained)](boost::system::error_code) mutable {
            wait_for_sessions(deadline, std::move(drained));
        });
    }

    // This loop's copy: its sessions read it without locks; a reload updates it on this thread.
    config::settings settings;
    // requirepass as a digest, for this loop's sessions; a reload replaces it on this thread.
    client_password password{settings.requirepass};
    boost::asio::io_context io;
    std::shared_ptr<upstream::pool> pool;
    std::shared_ptr<upstream::pinned_spares> spares;
    session_registry sessions;
    store::durable_commits commits;
    request_latency latency;
    std::shared_ptr<const catalogue::command_catalogue> commands = catalogue::command_catalogue::builtin();
    session_context context;
    std::vector<std::shared_ptr<listener>> listeners;
    boost::asio::steady_timer background_timer{io};
    boost::asio::steady_timer drain_timer{io};
    static constexpr std::chrono::milliseconds drain_poll{10};
    bool stopped = false;         // on this worker's thread only
    bool drain_finished = false;  // `drained` ran: it must run once per loop
    boost::asio::steady_timer client_sweep_timer{io};
    store::recovery* hosted_recovery = nullptr;
};

namespace {
// Redis runs active expiry 10 times a second (hz 10); the local store does the same.
constexpr std::chrono::milliseconds background_period{100};

// `stopped` is checked as well as the error: a timer that already fired when stop() cancelled it
// still runs its handler with success, and re-arming then would keep the event loop alive for ever.
void schedule_background(boost::asio::steady_timer& timer, store::local_service& local, const bool& stopped) {
    timer.expires_after(background_period);
    timer.async_wait([&timer, &local, &stopped](boost::system::error_code ec) {
        if (ec || stopped) return;
        local.background_cycle();
        schedule_background(timer, local, stopped);
    });
}
// Idle clients (timeout) and soft output limits are checked once a second, as Redis's clientsCron
// does: no timer per client, nothing per read but a timestamp. `stopped`: see schedule_background.
void schedule_client_sweep(boost::asio::steady_timer& timer, session_registry& sessions, const bool& stopped) {
    timer.expires_after(std::chrono::seconds(1));
    timer.async_wait([&timer, &sessions, &stopped](boost::system::error_code ec) {
        if (ec || stopped) return;
        sessions.sweep();
        schedule_client_sweep(timer, sessions, stopped);
    });
}
}  // namespace

sidecar::sidecar(const config::settings& settings)
    : settings_(settings),
      upstream_(upstream_settings_from(settings)),
      local_(std::make_unique<store::local_service>(settings)),
      recovery_(std::make_unique<store::recovery>(upstream_, *local_, key_classes_of(settings))) {
    local_->set_readbacks(readbacks_);
    recovery_->set_on_commands_learned([this](std::shared_ptr<const catalogue::command_catalogue> learned) {
        adopt_commands(std::move(learned));
    });
    for (unsigned i = 0; i < settings.threads; ++i) {
        auto w = std::make_unique<worker>(settings, upstream_, stats_, *local_, *recovery_, *this);
        if (i == 0) w->host(*recovery_);
        w->listeners.push_back(listener::bind_tcp(w->io, settings.listen, settings.threads > 1, w->context));
        // One loop serves the unix socket: a path cannot be shared the way a port can.
        if (i == 0 && !settings.unixsocket.empty())
            w->listeners.push_back(
                listener::bind_unix(w->io, settings.unixsocket, settings.unixsocketperm, w->context));
        workers_.push_back(std::move(w));
    }
    if (settings.metrics_listen)
        metrics_endpoint_ = metrics::http_endpoint::bind(
            workers_[0]->io, settings.metrics_listen->host, settings.metrics_listen->port,
            [this](std::string_view path) { return answer_http(path); }, "metrics-listen");
}

sidecar::~sidecar() = default;

// Each event loop takes the new catalogue on its own thread, between two of its handlers: no request
// is routed with one and mirrored with the other half-way through a lookup.
void sidecar::adopt_commands(std::shared_ptr<const catalogue::command_catalogue> learned) {
    for (auto& w : workers_)
        boost::asio::post(w->io, [worker = w.get(), learned] { worker->commands = learned; });
}

void sidecar::run() {
    for (auto& w : workers_) {
        w->pool->start();
        for (auto& l : w->listeners) l->start();
    }
    if (metrics_endpoint_) metrics_endpoint_->start();
    schedule_background(workers_[0]->background_timer, *local_, workers_[0]->stopped);
    // Always on, so a reload can set a timeout or a soft output limit: one wake-up a second.
    for (auto& w : workers_) schedule_client_sweep(w->client_sweep_timer, w->sessions, w->stopped);
    start_mirror_feed();
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers_.size(); ++i) threads.emplace_back([w = workers_[i].get()] { w->io.run(); });
    workers_[0]->io.run();
    for (auto& t : threads) t.join();
}

// Revocations made elsewhere reach the local mirror through Redis's tracking pushes, and lock
// keys written through this sidecar are read back in Redis's order. A reload that changes the
// blacklist prefixes starts a new feed; the old one ends at its next check (and applies no
// readback after the new one started).
void sidecar::start_mirror_feed() {
    const std::uint64_t generation = ++mirror_generation_;
    upstream::mirror_feed_options options;
    options.prefixes = settings_.blacklist_prefixes;
    options.readbacks = readbacks_;
    options.on_entry = [this](std::string_view key, std::string_view value, std::int64_t expire_at_ms) {
        local_->mirror_entry(key, value, expire_at_ms);
    };
    options.on_readback = [this](std::string_view key, std::optional<std::string_view> value,
                                 std::int64_t expire_at_ms, bool asked_again) {
        local_->apply_readback(key, value, expire_at_ms, asked_again);
    };
    options.on_warm = [](std::uint64_t entries) { spdlog::info("mirror: {} blacklist entries read from Redis", entries); };
    options.on_lock_tracking_started = [this] {
        for (const std::string& key : local_->held_lock_keys()) readbacks_->request(key);
    };
    options.on_lock_invalidation = [this] { lock_invalidations_.fetch_add(1, std::memory_order_relaxed); };
    options.running = [this, generation] {
        return !stopping_.load(std::memory_order_relaxed) && generation == mirror_generation_;
    };
    boost::asio::co_spawn(workers_[0]->io,
                          upstream::async_follow_mirror(upstream_, std::move(options)),
                          boost::asio::detached);
}

void sidecar::reload(const config::settings& fresh) {
    const config::reload_plan plan = config::plan_reload(settings_, fresh);
    for (const std::string& name : plan.need_restart)
        spdlog::warn("reload: '{}' changed in the configuration; it takes effect at the next restart", name);
    if (plan.applied.empty()) {
        spdlog::info("reload: configuration read again; nothing to change");
        return;
    }
    for (const std::string& change : plan.applied) spdlog::info("reload: {}", change);
    const bool new_blacklist = fresh.blacklist_prefixes != settings_.blacklist_prefixes;
    config::copy_reloadable(fresh, settings_);
    spdlog::set_level(spdlog::level::from_str(settings_.log_level));
    local_->reconfigure(settings_);
    upstream_.timeout = std::chrono::milliseconds(settings_.upstream_timeout_ms);
    upstream_.busy_timeout = std::chrono::milliseconds(settings_.upstream_busy_timeout_ms);
    upstream_.probe_interval = std::chrono::milliseconds(settings_.probe_interval_ms);
    upstream_.max_pinned = settings_.max_pinned;
    recovery_->reconfigure(std::chrono::milliseconds(settings_.upstream_timeout_ms),
                           std::chrono::milliseconds(settings_.probe_interval_ms), key_classes_of(settings_));
    for (auto& w : workers_)
        boost::asio::post(w->io, [w = w.get(), updated = settings_] {
            config::copy_reloadable(updated, w->settings);
            w->password = client_password(updated.requirepass);
            w->pool->reconfigure(std::chrono::milliseconds(updated.upstream_timeout_ms),
                                 std::chrono::milliseconds(updated.upstream_busy_timeout_ms),
                                 std::chrono::milliseconds(updated.probe_interval_ms), updated.max_pinned);
        });
    if (new_blacklist) start_mirror_feed();
}

// Stops accepting, lets every loop answer what it has read (bounded by most of
// shutdown-timeout, so the journal's last write fits in the rest), then writes the journal's
// last records and lets the loops end.
void sidecar::stop() {
    if (stopping_.exchange(true, std::memory_order_relaxed)) return;
    recovery_->stop();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.shutdown_timeout_ms) * 3 / 4;
    auto loops_left = std::make_shared<std::atomic<std::size_t>>(workers_.size());
    auto on_loop_drained = [this, loops_left] {
        if (loops_left->fetch_sub(1) != 1) return;
        local_->flush_journal_for_shutdown();
        boost::asio::post(workers_[0]->io, [this] {
            if (metrics_endpoint_) metrics_endpoint_->stop();
        });
    };
    for (auto& w : workers_)
        boost::asio::post(w->io, [w = w.get(), deadline, on_loop_drained] { w->drain(deadline, on_loop_drained); });
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
    if (metrics_endpoint_) out.push_back("http://" + metrics_endpoint_->description() + "/metrics");
    return out;
}

sidecar_figures sidecar::figures() const {
    sidecar_figures f;
    f.upstream_up = upstream_up() && recovery_->forwarding();
    f.upstream_address = settings_.upstream.host + ":" + std::to_string(settings_.upstream.port);
    for (const auto& w : workers_) {
        f.upstream_connections += w->pool->size();
        f.upstream_connections_ready += w->pool->ready_connections();
        f.upstream_connection_failures += w->pool->connection_failures();
        f.mode_transitions += w->pool->mode_transitions();
        if (f.redis_version.empty()) f.redis_version = w->pool->redis_version();
        f.latency_forwarded.add(w->latency.forwarded.snapshot());
        f.latency_local.add(w->latency.local.snapshot());
    }
    f.threads = settings_.threads;
    f.uptime_seconds = uptime_seconds();
    f.connected_clients = server_stats::get(stats_.connected_clients);
    f.total_connections = server_stats::get(stats_.total_connections);
    f.rejected_connections = server_stats::get(stats_.rejected_connections);
    f.pinned_connections = server_stats::get(stats_.pinned_connections);
    f.pinned_sessions_total = server_stats::get(stats_.pinned_sessions_total);
    f.requests_forwarded = server_stats::get(stats_.requests_forwarded);
    f.requests_local = server_stats::get(stats_.requests_local);
    f.requests_pinned = server_stats::get(stats_.requests_pinned);
    f.requests_failed = server_stats::get(stats_.requests_failed);
    f.protocol_errors = server_stats::get(stats_.protocol_errors);
    f.busy_replies = upstream_.busy->busy_replies();
    f.slow_commands_waited_on = upstream_.busy->slow_commands_waited_on();
    f.auth_failures = server_stats::get(stats_.auth_failures);
    f.query_buffer_limit_disconnections = server_stats::get(stats_.query_buffer_limit_disconnections);
    f.output_buffer_limit_disconnections = server_stats::get(stats_.output_buffer_limit_disconnections);
    f.idle_timeout_disconnections = server_stats::get(stats_.idle_timeout_disconnections);
    f.recovery = recovery_->figures();
    f.local = local_->store_figures();
    f.local.mirror_readbacks_pending = readbacks_->pending();
    f.local.mirror_readbacks_dropped = readbacks_->dropped();
    f.local.mirror_lock_invalidations = lock_invalidations_.load(std::memory_order_relaxed);
    return f;
}

std::string sidecar::info_section() const { return format_sidecar_section(figures()); }

std::string sidecar::status_line() const {
    const std::string upstream = settings_.upstream.host + ":" + std::to_string(settings_.upstream.port);
    if (stopping_.load(std::memory_order_relaxed)) return "stopping: answering the requests already read";
    if (!workers_[0]->pool->verdict_known() || !recovery_->settled())
        return "starting: finding out whether Redis at " + upstream + " is up";
    if (recovery_->forwarding() && upstream_up()) return "forwarding to Redis at " + upstream;
    if (upstream_up()) return "Redis at " + upstream + " is back: recovering, the local store answers meanwhile";
    return "Redis at " + upstream + " is down: answering from the local store";
}

// /healthz says whether clients get answers: from Redis or, while it is down, from the local
// store. Only a sidecar still deciding (start-up) or stopping is unhealthy.
metrics::http_response sidecar::health() const {
    metrics::http_response r;
    if (stopping_.load(std::memory_order_relaxed)) {
        r.status = 503;
        r.body = "stopping\n";
    } else if (!workers_[0]->pool->verdict_known() || !recovery_->settled()) {
        r.status = 503;
        r.body = "starting\n";
    } else {
        r.body = recovery_->forwarding() && upstream_up() ? "ok: serving from redis\n"
                                                          : "ok: serving from the local store (redis down or recovering)\n";
    }
    return r;
}

metrics::http_response sidecar::answer_http(std::string_view path) const {
    if (path == "/metrics") {
        metrics::http_response r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = format_prometheus(figures());
        return r;
    }
    if (path == "/healthz") return health();
    metrics::http_response r;
    r.status = 404;
    r.body = "not found: try /metrics or /healthz\n";
    return r;
}

}  // namespace redis_sidecar::server
