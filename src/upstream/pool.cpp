#include "redis_sidecar/upstream/pool.hpp"

#include <spdlog/spdlog.h>

namespace redis_sidecar::upstream {

pool::pool(boost::asio::any_io_executor executor, upstream_settings settings)
    : executor_(executor), settings_(std::move(settings)) {}

void pool::start() {
    for (unsigned i = 0; i < settings_.connections; ++i) {
        connections_.push_back(std::make_shared<pooled_connection>(executor_, settings_, *this));
        connections_.back()->start();
    }
}

void pool::stop() {
    stopping_ = true;
    for (auto& connection : connections_) connection->stop();
}

void pool::reconfigure(std::chrono::milliseconds timeout, std::chrono::milliseconds busy_timeout,
                       std::chrono::milliseconds probe_interval, unsigned max_pinned) {
    settings_.timeout = timeout;
    settings_.busy_timeout = busy_timeout;
    settings_.probe_interval = probe_interval;
    settings_.max_pinned = max_pinned;
}

pooled_connection* pool::pick(std::size_t affinity) {
    const std::size_t n = connections_.size();
    const std::size_t first = settings_.spread ? affinity : 0;
    for (std::size_t i = 0; i < n; ++i) {
        pooled_connection* candidate = connections_[(first + i) % n].get();
        if (candidate->ready()) return candidate;
    }
    return nullptr;
}

std::string pool::redis_version() const {
    std::lock_guard lock(version_mutex_);
    return redis_version_;
}

bool pool::try_acquire_pinned() {
    if (pinned_ >= settings_.max_pinned) return false;
    ++pinned_;
    return true;
}

void pool::release_pinned() { --pinned_; }

void pool::on_connection_ready(const std::string& redis_version) {
    if (!redis_version.empty()) {
        std::lock_guard lock(version_mutex_);
        redis_version_ = redis_version;
    }
    last_failure_.clear();
    update_mode("");
}

void pool::on_connection_failed(const std::string& reason, failure_kind kind, bool was_ready) {
    ++connection_failures_;
    // Redis runs commands one at a time: when it does not answer one connection it answers none,
    // and when it refuses a new one the others are about to break. Waiting for each to find out
    // alone would make clients wait a timeout per connection.
    if ((kind == failure_kind::timeout || kind == failure_kind::refused) && !failing_all_) {
        failing_all_ = true;
        for (auto& connection : connections_)
            if (connection->ready()) connection->abort(reason);
        failing_all_ = false;
    }
    if (!was_ready && reason != last_failure_) {
        // Retries repeat the same failure every probe: log each distinct one once.
        spdlog::debug("upstream {}:{}: {}", settings_.host, settings_.port, reason);
    }
    last_failure_ = reason;
    update_mode(reason);
}

void pool::update_mode(const std::string& reason) {
    if (stopping_) return;
    unsigned ready = 0;
    for (const auto& connection : connections_) ready += connection->ready() ? 1 : 0;
    const bool was_up = up();
    ready_connections_ = ready;
    const bool first_verdict = !verdict_known();
    if (!first_verdict && was_up == (ready > 0)) return;
    // The first verdict is logged but is no transition: the sidecar was neither up nor down before.
    if (first_verdict)
        verdict_known_.store(true, std::memory_order_relaxed);
    else
        ++mode_transitions_;
    if (ready > 0) {
        spdlog::info("upstream {}:{} is up (Redis {})", settings_.host, settings_.port, redis_version());
        if (on_up_) on_up_();
    } else {
        spdlog::warn("upstream {}:{} is down: {}; answering from the local store", settings_.host, settings_.port,
                     reason);
        if (on_down_) on_down_();
    }
}

}  // namespace redis_sidecar::upstream
