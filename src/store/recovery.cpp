#include "redis_sidecar/store/recovery.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "redis_sidecar/local/engine.hpp"
#include "redis_sidecar/upstream/command_discovery.hpp"
#include "redis_sidecar/upstream/reconciler.hpp"

namespace asio = boost::asio;

namespace redis_sidecar::store {

namespace {
std::uint64_t size_of(const upstream::reconciliation_work& w) {
    return w.blacklist.size() + w.locks.size() + w.cache_keys.size() + w.cache_patterns.size();
}
}  // namespace

recovery::recovery(upstream::upstream_settings settings, local_service& local, local::key_classifier classes)
    : settings_(std::move(settings)), local_(local), classes_(std::move(classes)) {}

void recovery::attach(asio::io_context& io) {
    io_ = &io;
    retry_ = std::make_unique<asio::steady_timer>(io);
}

void recovery::detach() {
    retry_.reset();
    io_ = nullptr;
}

void recovery::stop() {
    upstream_up_.store(false, std::memory_order_release);
    asio::post(*io_, [this] { retry_->cancel(); });
}

void recovery::on_upstream_up() {
    upstream_up_.store(true, std::memory_order_release);
    asio::post(*io_, [this] {
        if (running_) {
            run_again_ = true;
            return;
        }
        running_ = true;
        asio::co_spawn(*io_, run(), asio::detached);
    });
}

void recovery::on_upstream_down() {
    upstream_up_.store(false, std::memory_order_release);
    forwarding_.store(false, std::memory_order_release);
    draining_.store(false, std::memory_order_release);
    settled_.store(true, std::memory_order_release);
}

// Rounds until one finds nothing left to apply: writes the local store took while a round ran
// are applied by the next one, and only then does forwarding resume.
asio::awaitable<void> recovery::run() {
    // The first round writes every blacklist entry known (Redis may have come back empty) while
    // the local store still answers; later rounds only what was written locally meanwhile, with
    // requests held, so they catch up however busy the clients are (a round that had to run
    // alongside writes, SCAN invalidations walking all of Redis, might never find nothing left).
    bool first_round = true;
    co_await learn_commands();
    while (upstream_up_.load(std::memory_order_acquire)) {
        run_again_ = false;
        const upstream::reconciliation_work work = local_.pending_reconciliation(first_round);
        if (work.empty() && work.default_keys.empty()) {
            local_.handover();
            forwarding_.store(true, std::memory_order_release);
            draining_.store(false, std::memory_order_release);
            break;
        }
        ++runs_;
        backlog_ = size_of(work);
        upstream::reconciler_options options;
        options.is_cache_key = [this](std::string_view key) { return classes_.classify(key) == local::key_class::cache; };
        options.now_ms = local::system_clock_ms;
        const auto report = co_await upstream::async_reconcile(settings_, work, options);
        if (!report.error.empty()) {
            ++failures_;
            draining_.store(false, std::memory_order_release);
            first_round = true;  // Redis failed again: it may come back empty
            spdlog::warn("recovery: {}; applied so far: {} blacklist, {} cache deletions, {} locks; will retry",
                         report.error, report.blacklist_written, report.cache_keys_deleted, report.locks_written);
            retry_->expires_after(settings_.probe_interval);
            co_await retry_->async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        local_.reconciled(work);
        first_round = false;
        draining_.store(true, std::memory_order_release);
        blacklist_replayed_ += report.blacklist_written;
        cache_keys_deleted_ += report.cache_keys_deleted;
        locks_replayed_ += report.locks_written;
        lock_conflicts_ += report.lock_conflicts;
        default_keys_dropped_ += work.default_keys.size();
        backlog_ = 0;
        spdlog::info("recovery: {} blacklist entries written ({} already expired), {} cache keys deleted "
                     "({} keys, {} patterns), {} locks written, {} lock conflicts, {} default keys dropped",
                     report.blacklist_written, report.blacklist_expired, report.cache_keys_deleted,
                     work.cache_keys.size(), work.cache_patterns.size(), report.locks_written,
                     report.lock_conflicts, work.default_keys.size());
        if (report.lock_conflicts > 0)
            spdlog::warn("recovery: {} locks were held in Redis by another client while held here: "
                         "Redis's holder stands",
                         report.lock_conflicts);
    }
    running_ = false;
    draining_.store(false, std::memory_order_release);
    settled_.store(true, std::memory_order_release);
    if (run_again_ && upstream_up_.load(std::memory_order_acquire) && !forwarding())
        on_upstream_up();
}

// Before forwarding resumes, so every forwarded request is routed and mirrored with what this
// Redis says of its commands. A Redis that refuses COMMAND (an ACL) leaves the catalogue as it was.
asio::awaitable<void> recovery::learn_commands() {
    if (!on_commands_learned_) co_return;
    auto learned = co_await upstream::async_learn_commands(settings_);
    if (!learned) {
        spdlog::warn("catalogue: Redis did not describe its commands (COMMAND); the command catalogue in use "
                     "stays (the built-in Redis 7.0 table, or what an earlier recovery learned)");
        co_return;
    }
    auto catalogue = catalogue::command_catalogue::learned(std::move(*learned));
    spdlog::info("catalogue: learned {} commands from Redis ({} known in all)", catalogue->learned_count(),
                 catalogue->commands().size());
    on_commands_learned_(std::move(catalogue));
}

void recovery::reconfigure(std::chrono::milliseconds timeout, std::chrono::milliseconds probe_interval,
                           local::key_classifier classes) {
    settings_.timeout = timeout;
    settings_.probe_interval = probe_interval;
    classes_ = std::move(classes);
}

recovery_figures recovery::figures() const {
    recovery_figures f;
    f.serving = forwarding() ? "redis" : (upstream_up_.load() ? "local (recovering)" : "local");
    f.runs = runs_;
    f.failures = failures_;
    f.backlog = backlog_;
    f.blacklist_written = blacklist_replayed_;
    f.cache_keys_deleted = cache_keys_deleted_;
    f.locks_written = locks_replayed_;
    f.lock_conflicts = lock_conflicts_;
    f.default_keys_dropped = default_keys_dropped_;
    return f;
}

}  // namespace redis_sidecar::store
