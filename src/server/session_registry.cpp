#include "redis_sidecar/server/session.hpp"
#include "redis_sidecar/server/session_context.hpp"

#include <chrono>
#include <vector>

namespace redis_sidecar::server {

void session_registry::add(const std::shared_ptr<session>& s) { sessions_[s->id()] = s; }

void session_registry::remove(std::uint64_t id) { sessions_.erase(id); }

void session_registry::stop_all() {
    for (auto& s : live_sessions()) s->stop();
}

void session_registry::drain_all() {
    for (auto& s : live_sessions()) s->drain();
}

void session_registry::stop_pinned() {
    for (auto& s : live_sessions())
        if (s->pinned()) s->stop();
}

void session_registry::sweep() {
    clock_ = steady_seconds();
    for (auto& s : live_sessions()) s->on_sweep(clock_);
}

std::uint64_t session_registry::steady_seconds() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

// stop() removes each session from the map, so callers walk this copy.
std::vector<std::shared_ptr<session>> session_registry::live_sessions() const {
    std::vector<std::shared_ptr<session>> live;
    live.reserve(sessions_.size());
    for (const auto& [id, weak] : sessions_)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    return live;
}

}  // namespace redis_sidecar::server
