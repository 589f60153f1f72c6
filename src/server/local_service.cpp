#include "redis_sidecar/server/local_service.hpp"

#include <cctype>

namespace redis_sidecar::server {

namespace {
// Keys examined per active-expiry cycle, as Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP order.
constexpr std::size_t expire_budget = 200;
}  // namespace

local_service::local_service(const config::settings& settings)
    : classes_(settings.blacklist_prefixes, settings.lock_prefixes, settings.cache_prefixes),
      maxmemory_(settings.local_maxmemory) {
    engine_.keys().set_maxmemory(settings.local_maxmemory);
    // Only cache and default keys may be evicted: a forgotten revoked token or a held lock would
    // be a security or correctness hole, a forgotten cache entry just a miss.
    engine_.keys().set_evictable([this](std::string_view key) {
        const local::key_class c = classes_.classify(key);
        return c == local::key_class::cache || c == local::key_class::default_class;
    });
}

void local_service::execute(std::span<const std::string_view> args, std::string& out) {
    std::lock_guard lock(mutex_);
    engine_.execute(args, out);
    count_call(args[0]);
}

// For INFO commandstats: calls of the commands the store serves, as Redis counts them.
void local_service::count_call(std::string_view command) {
    ++total_commands_;
    if (!local::engine::supports(command) || command.size() > 32) return;
    char lower[32];
    for (std::size_t i = 0; i < command.size(); ++i)
        lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(command[i])));
    const std::string_view name(lower, command.size());
    if (auto found = command_calls_.find(name); found != command_calls_.end())
        ++found->second;
    else
        command_calls_.emplace(std::string(name), 1);
}

void local_service::background_cycle() {
    std::lock_guard lock(mutex_);
    engine_.active_expire_cycle(expire_budget);
    engine_.keys().evict_if_needed(engine_.now_ms());
}

std::uint64_t local_service::keys() {
    std::lock_guard lock(mutex_);
    return engine_.keys().size();
}

void local_service::fill(local_figures& figures) {
    std::lock_guard lock(mutex_);
    const local::keyspace& keys = engine_.keys();
    figures.used_memory = keys.used_memory();
    figures.maxmemory = maxmemory_;
    figures.keys = keys.size();
    figures.keys_with_expiry = keys.volatile_count();
    figures.expired_keys = keys.expired_keys();
    figures.evicted_keys = keys.evicted_keys();
    figures.total_commands = total_commands_;
    figures.command_calls.assign(command_calls_.begin(), command_calls_.end());
}

}  // namespace redis_sidecar::server
