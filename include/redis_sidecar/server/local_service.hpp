#pragma once
/// The local store shared by every event loop: the sidecar's answers while Redis is down.
/// One engine behind a mutex; with one thread (the default) the lock is never contended.

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "redis_sidecar/config/config.hpp"
#include "redis_sidecar/local/engine.hpp"
#include "redis_sidecar/local/key_classes.hpp"
#include "redis_sidecar/server/info.hpp"

namespace redis_sidecar::server {

class local_service {
public:
    explicit local_service(const config::settings& settings);

    /// Appends to `out` the reply Redis 7.0 would give `args`, run on the local store.
    void execute(std::span<const std::string_view> args, std::string& out);

    /// Expires keys whose time has come (Redis's active expiry) and evicts past the memory bound.
    void background_cycle();

    /// The local store's part of INFO's figures.
    void fill(local_figures& figures);

    std::uint64_t keys();

private:
    void count_call(std::string_view command);

    std::mutex mutex_;
    local::key_classifier classes_;
    local::engine engine_;
    std::uint64_t maxmemory_;
    std::uint64_t total_commands_ = 0;
    std::map<std::string, std::uint64_t, std::less<>> command_calls_;
};

}  // namespace redis_sidecar::server
