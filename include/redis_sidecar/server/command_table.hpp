#pragma once
/// Which path each client command takes while Redis is up: forwarded over the shared pool,
/// answered by the sidecar itself, or moved to a pinned connection because it changes the
/// connection's state in Redis.

#include <cstdint>
#include <span>
#include <string_view>

#include "redis_sidecar/protocol/name_table.hpp"

namespace redis_sidecar::server {

enum class command_route : std::uint8_t {
    forward,  ///< stateless: the shared pool
    forward_write,  ///< forwarded; a write the local mirror may follow (key classes decide)
    forward_get,    ///< forwarded; a GET, answered fail-closed for blacklist keys
    pin,      ///< stateful: a dedicated connection from here on
    quit,     ///< QUIT: +OK, then close
    ping,     ///< PING [message]
    select,   ///< SELECT: db 0 locally, any other db pins
    hello,    ///< HELLO: protocol 2 locally, 3 or AUTH pins
    client,   ///< CLIENT: some subcommands locally, some pin, the rest forwarded
    info,     ///< INFO: forwarded with the sidecar's section added
    auth,     ///< AUTH: checked by the sidecar with requirepass; otherwise pins (Redis decides)
    reset,    ///< RESET: answered by the sidecar with requirepass (it de-authenticates); otherwise pins
};

/// Routes one command (args[0] is its name, in any case). Reads only what the decision needs.
command_route route_command(std::span<const std::string_view> args);

/// True when a request whose fate is unknown (Redis failed before replying) may be run again on
/// the local store without risk of applying it twice: reads, and writes whose effect is the same
/// however often they run. INCR, GETSET, SET NX and the like are not.
bool is_replay_safe(std::span<const std::string_view> args);

/// Case-insensitive comparison with a lowercase literal (protocol/name_table.hpp).
using protocol::equals_lower;

}  // namespace redis_sidecar::server
