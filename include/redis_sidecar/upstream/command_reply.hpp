#pragma once
/// Redis's COMMAND reply as the command catalogue's description of each command. Parsed with
/// hiredis's reader: a tree is what this reply (and the other control-plane replies) needs, while
/// the forwarding path never builds one. No Asio here, so the parser is fuzzed on its own.

#include <optional>
#include <string_view>
#include <vector>

#include "redis_sidecar/catalogue/command_catalogue.hpp"

namespace redis_sidecar::upstream {

/// Redis's COMMAND reply (RESP2 bytes, one whole reply) as the catalogue's description of each
/// command and subcommand; nothing when the bytes are not such a reply (an error, e.g. COMMAND
/// refused by an ACL, or another shape). Entries it cannot read are skipped.
std::optional<std::vector<catalogue::command_info>> parse_command_reply(std::string_view reply);

}  // namespace redis_sidecar::upstream
