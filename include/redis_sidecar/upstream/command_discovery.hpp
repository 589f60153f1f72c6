#pragma once
/// Learning Redis's commands from Redis itself, as cluster-aware clients do: `COMMAND` on a
/// connection of its own, its reply parsed (with hiredis's reader: a tree is what this reply, and
/// the other control-plane replies, need) into the catalogue's description. The catalogue then
/// knows the key positions of module commands and of commands newer than its built-in table.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

/// Redis's COMMAND reply (RESP2 bytes, one whole reply) as the catalogue's description of each
/// command and subcommand; nothing when the bytes are not such a reply (an error, e.g. COMMAND
/// refused by an ACL, or another shape). Entries it cannot read are skipped.
std::optional<std::vector<catalogue::command_info>> parse_command_reply(std::string_view reply);

/// Connects to Redis (as every connection of the sidecar, with AUTH and TLS as configured), asks
/// `COMMAND` and parses the reply; nothing when any step fails.
boost::asio::awaitable<std::optional<std::vector<catalogue::command_info>>> async_learn_commands(
    upstream_settings settings);

}  // namespace redis_sidecar::upstream
