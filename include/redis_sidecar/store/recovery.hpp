#pragma once
/// Decides whether clients are served by Redis or by the local store, and runs recovery between
/// the two: when Redis comes back, what the sidecar promised while it was down is applied to Redis
/// (upstream/reconciler) before forwarding resumes. Until then the local store keeps answering.

#include <atomic>
#include <chrono>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/local/key_classes.hpp"
#include "redis_sidecar/store/figures.hpp"
#include "redis_sidecar/store/local_service.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::store {

class recovery {
public:
    recovery(upstream::upstream_settings settings, local_service& local, local::key_classifier classes);

    /// The event loop recovery runs on (event loop 0); before the loops run.
    void attach(boost::asio::io_context& io);
    /// Lets go of that event loop (its timer lives in the loop's services): before the loop's
    /// io_context is destroyed, which the recovery outlives.
    void detach();

    /// Redis answers again (from any event loop): recovery starts, or runs again when it is running.
    void on_upstream_up();
    /// Redis is down: the local store answers from now on.
    void on_upstream_down();
    /// Ends a recovery waiting to retry (shutdown).
    void stop();
    /// SIGHUP: timeouts and key classes for the next round. On recovery's event loop only.
    void reconfigure(std::chrono::milliseconds timeout, std::chrono::milliseconds probe_interval,
                     local::key_classifier classes);

    /// True while clients are served by Redis (recovery done, Redis up).
    bool forwarding() const { return forwarding_.load(std::memory_order_acquire); }
    /// False until start-up has decided between Redis (after the first recovery) and the local
    /// store; requests wait until then, so none is answered locally only to be dropped later.
    bool settled() const { return settled_.load(std::memory_order_acquire); }
    /// True while the last recovery rounds run: requests wait (briefly) instead of being answered
    /// locally, so those rounds catch up with the local store and forwarding can resume.
    bool draining() const { return draining_.load(std::memory_order_acquire); }

    /// Its figures for INFO sidecar and /metrics.
    recovery_figures figures() const;

    /// Told, on recovery's event loop, the catalogue learned from Redis's COMMAND reply at the
    /// start of each recovery (Redis may have been upgraded or loaded modules while away). Set
    /// before the loops run.
    void set_on_commands_learned(std::function<void(std::shared_ptr<const catalogue::command_catalogue>)> hook) {
        on_commands_learned_ = std::move(hook);
    }

private:
    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> learn_commands();

    std::function<void(std::shared_ptr<const catalogue::command_catalogue>)> on_commands_learned_;

    boost::asio::io_context* io_ = nullptr;
    upstream::upstream_settings settings_;
    local_service& local_;
    local::key_classifier classes_;
    std::atomic<bool> forwarding_{false};
    std::atomic<bool> settled_{false};
    std::atomic<bool> draining_{false};
    std::atomic<bool> upstream_up_{false};
    std::unique_ptr<boost::asio::steady_timer> retry_;
    bool running_ = false;       // on io_'s thread only
    bool run_again_ = false;

    std::atomic<std::uint64_t> runs_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> blacklist_replayed_{0};
    std::atomic<std::uint64_t> cache_keys_deleted_{0};
    std::atomic<std::uint64_t> locks_replayed_{0};
    std::atomic<std::uint64_t> lock_conflicts_{0};
    std::atomic<std::uint64_t> default_keys_dropped_{0};
    std::atomic<std::uint64_t> backlog_{0};  // entries of the recovery in progress not yet applied
};

}  // namespace redis_sidecar::store
