#include "redis_sidecar/server/command_table.hpp"

#include <array>
#include <string>
#include <unordered_map>

namespace redis_sidecar::server {

namespace {

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// Commands whose effect outlives the command on the connection that ran it, so sharing that
// connection with other clients would leak state between them or break the reply order.
const std::unordered_map<std::string_view, command_route>& routes() {
    static const std::unordered_map<std::string_view, command_route> table = {
        {"multi", command_route::pin},       {"exec", command_route::pin},
        {"discard", command_route::pin},     {"watch", command_route::pin},
        {"unwatch", command_route::pin},     {"blpop", command_route::pin},
        {"brpop", command_route::pin},       {"blmove", command_route::pin},
        {"brpoplpush", command_route::pin},  {"bzpopmin", command_route::pin},
        {"bzpopmax", command_route::pin},    {"blmpop", command_route::pin},
        {"bzmpop", command_route::pin},      {"wait", command_route::pin},
        {"waitaof", command_route::pin},     {"subscribe", command_route::pin},
        {"psubscribe", command_route::pin},  {"ssubscribe", command_route::pin},
        // Unsubscribing answers once per channel: one request, several replies.
        {"unsubscribe", command_route::pin}, {"punsubscribe", command_route::pin},
        {"sunsubscribe", command_route::pin}, {"monitor", command_route::pin},
        {"reset", command_route::pin},       {"auth", command_route::pin},
        {"sync", command_route::pin},        {"psync", command_route::pin},
        {"replconf", command_route::pin},
        {"quit", command_route::quit},       {"ping", command_route::ping},
        {"select", command_route::select},   {"hello", command_route::hello},
        {"client", command_route::client},   {"info", command_route::info},
    };
    return table;
}

// XREAD and XREADGROUP block only with a BLOCK option, which comes before STREAMS.
bool has_block_option(std::span<const std::string_view> args) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (equals_lower(args[i], "streams")) return false;
        if (equals_lower(args[i], "block")) return true;
    }
    return false;
}

}  // namespace

bool equals_lower(std::string_view text, std::string_view lowercase) {
    if (text.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (to_lower(text[i]) != lowercase[i]) return false;
    return true;
}

command_route route_command(std::span<const std::string_view> args) {
    const std::string_view name = args[0];
    // No routed command has a longer name; longer names are forwarded without a lookup.
    constexpr std::size_t longest = 12;
    if (name.size() > longest) return command_route::forward;
    std::array<char, longest> lower{};
    for (std::size_t i = 0; i < name.size(); ++i) lower[i] = to_lower(name[i]);
    const std::string_view key(lower.data(), name.size());
    if (key == "xread" || key == "xreadgroup")
        return has_block_option(args) ? command_route::pin : command_route::forward;
    const auto& table = routes();
    const auto found = table.find(key);
    return found == table.end() ? command_route::forward : found->second;
}

}  // namespace redis_sidecar::server
