#pragma once
/// Which path each client command takes while Redis is up: forwarded over the shared pool,
/// answered by the sidecar itself, or moved to a pinned connection because it changes the
/// connection's state in Redis. What each command is comes from the command catalogue.

#include <cstdint>
#include <span>
#include <string_view>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
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
    reset,    ///< RESET: answered by the sidecar with requirepass; otherwise pins
};

/// A command's route, and what the catalogue knows of it (its subcommand's entry for container
/// commands; null for a command the catalogue does not know, which is forwarded as it is).
struct routed_command {
    command_route route;
    const catalogue::command_info* command;
};

/// Routes one command (args[0] is its name, in any case).
routed_command route_command(const catalogue::command_catalogue& commands, std::span<const std::string_view> args);

/// True when a request whose fate is unknown (Redis failed before replying) may be run again on
/// the local store without risk of applying it twice: reads, and writes whose effect is the same
/// however often they run. INCR, GETSET, SET NX and the like are not.
bool is_replay_safe(const catalogue::command_catalogue& commands, std::span<const std::string_view> args);

/// Case-insensitive comparison with a lowercase literal (protocol/name_table.hpp).
using protocol::equals_lower;

}  // namespace redis_sidecar::server
