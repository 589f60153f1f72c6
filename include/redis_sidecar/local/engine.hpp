#pragma once
/// The local command engine: answers the subset of Redis commands the sidecar serves while Redis
/// is down, with replies byte-identical to Redis 7.0's for the same input.
///
/// Standard library only (plus the protocol library's reply writer). Not thread-safe: the owner
/// serialises calls. Replies are RESP2.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "redis_sidecar/local/keyspace.hpp"

namespace redis_sidecar::local {

/// Returns the current absolute unix time in milliseconds.
using clock_function = std::function<std::int64_t()>;

/// The real clock: unix time in milliseconds.
std::int64_t system_clock_ms();

/// Error replies of the sidecar's own (not Redis's), for callers that answer on their own.
namespace down_errors {
/// After `ERR upstream Redis is unavailable; '` comes the command name, then this.
inline constexpr std::string_view not_served_suffix = "' is not served by the sidecar while it is down";
/// SELECT of a database other than 0.
inline constexpr std::string_view select_other_db =
    "ERR upstream Redis is unavailable; only database 0 is served by the sidecar while it is down";
/// EVAL/EVALSHA of a script that is not one of the known lock scripts.
inline constexpr std::string_view unknown_script =
    "ERR upstream Redis is unavailable; the sidecar runs only known lock scripts while it is down, "
    "not this one";
/// A command naming a key outside the blacklist, lock and cache classes, with
/// default-keys-while-down refuse: after `ERR upstream Redis is unavailable; '` and the command.
inline constexpr std::string_view default_key_refused_suffix =
    "' of a key outside the blacklist, lock and cache classes is refused while it is down: the sidecar "
    "neither holds such keys nor keeps writes of them (default-keys-while-down refuse)";
}  // namespace down_errors

/// Who asked for a command: a client (counted in INFO commandstats) or the sidecar, replaying a
/// write Redis already made (not counted: no client asked the local store for it).
enum class call_origin : std::uint8_t { client, replay };

/// Local command engine over its own keyspace.
class engine {
public:
    /// An engine with an empty keyspace, reading time from `clock` (the system clock if empty).
    explicit engine(clock_function clock = {});

    /// Appends to `out` exactly the reply Redis 7.0 would send for `args` (args[0] is the command
    /// name, any case). Commands outside the local subset get an error naming the command.
    /// Returns the name of the command that ran, lowercase as Redis's commandstats spell it
    /// ("get", "script|load"), or an empty view when none did (not served, an unknown
    /// subcommand, a wrong number of arguments).
    std::string_view execute(std::span<const std::string_view> args, std::string& out,
                             call_origin origin = call_origin::client);

    /// How often clients ran each command since construction, by the name `execute` returns, in
    /// name order; commands never run are left out. FLUSHALL and FLUSHDB, only ever refused,
    /// are not counted.
    std::vector<std::pair<std::string, std::uint64_t>> command_calls() const;

    /// True when the engine serves `command_name` (any case) itself; for the others `execute`
    /// replies with an error that says Redis is down.
    static bool supports(std::string_view command_name);
    /// The commands the engine runs itself, as the command catalogue names them ("script|load"):
    /// the catalogue's `answered_locally` flag says the same (a unit test holds them together).
    static std::vector<std::string_view> served_commands();

    /// The keyspace the commands work on (for mirroring, warm-up, expiry and eviction settings).
    keyspace& keys() { return keyspace_; }
    /// The keyspace the commands work on.
    const keyspace& keys() const { return keyspace_; }

    /// The engine's current time in unix ms.
    std::int64_t now_ms() const { return clock_(); }

    /// Runs active expiry on the keyspace with the engine's clock (see keyspace).
    std::size_t active_expire_cycle(std::size_t budget) { return keyspace_.active_expire_cycle(now_ms(), budget); }

private:
    clock_function clock_;
    keyspace keyspace_;
    // SHA1s of scripts loaded with SCRIPT LOAD that the sidecar cannot run: SCRIPT EXISTS knows
    // them, EVALSHA says clearly why they do not run rather than NOSCRIPT.
    std::unordered_set<std::string> loaded_scripts_;
    std::vector<std::uint64_t> calls_;  // per counted command (engine.cpp numbers them)
};

}  // namespace redis_sidecar::local
