#pragma once
/// The upstream pool of one event loop: a few shared pipelined connections, and the budget of
/// pinned (dedicated) connections for stateful clients.

#include <atomic>
#include <chrono>
#include <boost/asio/any_io_executor.hpp>
#include <mutex>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "redis_sidecar/upstream/pooled_connection.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

class pool : public connection_observer, public std::enable_shared_from_this<pool> {
public:
    pool(boost::asio::any_io_executor executor, upstream_settings settings);

    void start();
    /// Closes every connection; waiting requests fail. Idempotent. Not a change of mode: nothing
    /// is logged or counted, no callback runs.
    void stop();

    /// SIGHUP: new timeouts and pinned budget, read by the connections from the next request,
    /// heartbeat or reconnect on. On the pool's event loop only.
    void reconfigure(std::chrono::milliseconds timeout, std::chrono::milliseconds busy_timeout,
                     std::chrono::milliseconds probe_interval, unsigned max_pinned);

    /// A ready connection for a client with this affinity (its id); nullptr when none is ready.
    /// Without `spread`, the first ready connection, whatever the affinity: requests of all
    /// clients then leave in one write and Redis reads them in one read, and the other
    /// connections stand by, so losing one (CLIENT KILL, a reset) does not leave the pool empty.
    /// With `spread`, the connection at `affinity` modulo the pool's size when it is ready.
    pooled_connection* pick(std::size_t affinity);

    /// False until the first connection attempt has decided whether Redis is up: until then a
    /// request can be answered neither by Redis nor, without risk of losing a write, locally.
    bool verdict_known() const { return verdict_known_.load(std::memory_order_relaxed); }

    /// Called each time Redis is found down (e.g. to close pinned clients, whose dedicated
    /// connections would otherwise hang on a stalled Redis).
    void set_on_down(std::function<void()> callback) { on_down_ = std::move(callback); }
    /// Called each time Redis is found up (including the first time).
    void set_on_up(std::function<void()> callback) { on_up_ = std::move(callback); }

    /// True while at least one shared connection is ready. Like every getter below, safe to call
    /// from another event loop's thread (for INFO).
    bool up() const { return ready_connections() > 0; }
    unsigned ready_connections() const { return ready_connections_.load(std::memory_order_relaxed); }

    const upstream_settings& settings() const { return settings_; }
    boost::asio::any_io_executor executor() const { return executor_; }
    /// Redis's version as its INFO says (empty before the first connection).
    std::string redis_version() const;

    /// Takes one pinned-connection slot; false when max_pinned are in use.
    bool try_acquire_pinned();
    void release_pinned();
    unsigned pinned() const { return pinned_.load(std::memory_order_relaxed); }

    std::uint64_t connection_failures() const { return connection_failures_.load(std::memory_order_relaxed); }
    /// Changes between up (some connection ready) and down (none).
    std::uint64_t mode_transitions() const { return mode_transitions_.load(std::memory_order_relaxed); }
    std::size_t size() const { return connections_.size(); }

private:
    void on_connection_ready(const std::string& redis_version) override;
    void on_connection_failed(const std::string& reason, failure_kind kind, bool was_ready) override;
    void update_mode(const std::string& reason);

    boost::asio::any_io_executor executor_;
    upstream_settings settings_;
    std::vector<std::shared_ptr<pooled_connection>> connections_;
    mutable std::mutex version_mutex_;
    std::string redis_version_;
    std::atomic<unsigned> ready_connections_{0};
    std::atomic<unsigned> pinned_{0};
    std::atomic<std::uint64_t> connection_failures_{0};
    std::atomic<std::uint64_t> mode_transitions_{0};
    bool failing_all_ = false;
    bool stopping_ = false;
    std::atomic<bool> verdict_known_{false};
    std::function<void()> on_down_;
    std::function<void()> on_up_;
    std::string last_failure_;
};

}  // namespace redis_sidecar::upstream
