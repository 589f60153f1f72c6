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
    for (auto& connection : connections_) connection->stop();
}

pooled_connection* pool::pick(std::size_t affinity) {
    const std::size_t n = connections_.size();
    for (std::size_t i = 0; i < n; ++i) {
        pooled_connection* candidate = connections_[(affinity + i) % n].get();
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
    if (ready_connections_ == 0)
        spdlog::info("upstream {}:{} is up (Redis {})", settings_.host, settings_.port, redis_version);
    ++ready_connections_;
    if (!redis_version.empty()) {
        std::lock_guard lock(version_mutex_);
        redis_version_ = redis_version;
    }
    last_failure_.clear();
}

void pool::on_connection_failed(const std::string& reason, bool /*refused*/) {
    ++connection_failures_;
    // Called both when a ready connection breaks and when a (re)connect attempt fails.
    std::size_t ready = 0;
    for (const auto& connection : connections_) ready += connection->ready() ? 1 : 0;
    const bool was_up = up();
    ready_connections_ = static_cast<unsigned>(ready);
    if (was_up && ready == 0) {
        spdlog::warn("upstream {}:{} is down: {}", settings_.host, settings_.port, reason);
    } else if (reason != last_failure_) {
        // Retries repeat the same failure every backoff period: log each distinct one once.
        spdlog::debug("upstream {}:{}: {}", settings_.host, settings_.port, reason);
    }
    last_failure_ = reason;
}

}  // namespace redis_sidecar::upstream
