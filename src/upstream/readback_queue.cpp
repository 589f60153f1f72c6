#include "redis_sidecar/upstream/readback_queue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace redis_sidecar::upstream {

bool readback_queue::request(std::string_view key) {
    std::lock_guard lock(mutex_);
    if (waiting_.find(key) != waiting_.end()) return true;
    if (order_.size() >= capacity_) {
        ++dropped_;
        if (!overflowing_)
            spdlog::warn("mirror: {} lock keys wait to be read back from Redis already; further ones are dropped "
                         "until the mirror feed catches up (their local copies may lag Redis's order)",
                         order_.size());
        overflowing_ = true;
        return false;
    }
    const bool was_empty = order_.empty();
    order_.emplace_back(key);
    waiting_.emplace(key);
    // Only the first key of a batch wakes the feed: the others are taken with it.
    if (was_empty && waker_) waker_();
    return true;
}

std::vector<std::string> readback_queue::take() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    keys.swap(order_);
    waiting_.clear();
    overflowing_ = false;
    in_flight_ += keys.size();
    return keys;
}

void readback_queue::finished(std::size_t count) {
    std::lock_guard lock(mutex_);
    in_flight_ -= std::min(count, in_flight_);
}

void readback_queue::give_back(std::span<const std::string> keys) {
    std::lock_guard lock(mutex_);
    in_flight_ -= std::min(keys.size(), in_flight_);
    const bool was_empty = order_.empty();
    std::vector<std::string> order;
    order.reserve(keys.size() + order_.size());
    // A key asked for again since it was taken waits already, in its newer place: once is enough.
    for (const std::string& key : keys)
        if (waiting_.insert(key).second) order.push_back(key);
    for (std::string& key : order_) order.push_back(std::move(key));
    order_.swap(order);
    // The feed that gave them back may have been replaced by one that is asleep.
    if (was_empty && !order_.empty() && waker_) waker_();
}

bool readback_queue::waiting(std::string_view key) const {
    std::lock_guard lock(mutex_);
    return waiting_.find(key) != waiting_.end();
}

std::size_t readback_queue::size() const {
    std::lock_guard lock(mutex_);
    return order_.size();
}

std::size_t readback_queue::pending() const {
    std::lock_guard lock(mutex_);
    return order_.size() + in_flight_;
}

std::uint64_t readback_queue::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

void readback_queue::set_waker(std::function<void()> waker) {
    std::lock_guard lock(mutex_);
    waker_ = std::move(waker);
}

}  // namespace redis_sidecar::upstream
