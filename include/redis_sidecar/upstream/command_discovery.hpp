#pragma once
/// Learning Redis's commands from Redis itself, as cluster-aware clients do: `COMMAND` on a
/// connection of its own, its reply parsed (upstream/command_reply.hpp) into the catalogue's
/// description. The catalogue then knows the key positions of module commands and of commands
/// newer than its built-in table.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <vector>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

/// Connects to Redis (as every connection of the sidecar, with AUTH and TLS as configured), asks
/// `COMMAND` and parses the reply; nothing when any step fails.
boost::asio::awaitable<std::optional<std::vector<catalogue::command_info>>> async_learn_commands(
    upstream_settings settings);

}  // namespace redis_sidecar::upstream
