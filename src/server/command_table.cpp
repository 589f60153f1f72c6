#include "redis_sidecar/server/command_table.hpp"

#include <array>

#include "redis_sidecar/protocol/name_table.hpp"

namespace redis_sidecar::server {

namespace {

using protocol::name_table;

// No command looked up here has a longer name.
constexpr std::size_t longest_name = 12;
using name_buffer = std::array<char, longest_name>;

// Commands whose effect outlives the command on the connection that ran it, so sharing that
// connection with other clients would leak state between them or break the reply order.
constexpr name_table<command_route> routes = {
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
    {"reset", command_route::reset},     {"auth", command_route::auth},
    {"sync", command_route::pin},        {"psync", command_route::pin},
    {"replconf", command_route::pin},
    {"quit", command_route::quit},       {"ping", command_route::ping},
    {"select", command_route::select},   {"hello", command_route::hello},
    {"client", command_route::client},   {"info", command_route::info},
    {"get", command_route::forward_get},
    // Writes the local store can follow, so blacklist and lock keys have a local copy.
    {"set", command_route::forward_write},      {"setnx", command_route::forward_write},
    {"setex", command_route::forward_write},    {"psetex", command_route::forward_write},
    {"getset", command_route::forward_write},   {"getdel", command_route::forward_write},
    {"getex", command_route::forward_write},    {"del", command_route::forward_write},
    {"unlink", command_route::forward_write},   {"expire", command_route::forward_write},
    {"pexpire", command_route::forward_write},  {"expireat", command_route::forward_write},
    {"pexpireat", command_route::forward_write}, {"persist", command_route::forward_write},
    {"evalsha", command_route::forward_write},  {"eval", command_route::forward_write},
};

// XREAD and XREADGROUP block only with a BLOCK option, which comes before STREAMS.
bool has_block_option(std::span<const std::string_view> args) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (equals_lower(args[i], "streams")) return false;
        if (equals_lower(args[i], "block")) return true;
    }
    return false;
}

// SET is replay-safe only as a plain overwrite: NX/XX/GET make its reply or effect depend on
// what was there, and a first run that Redis applied changes that.
bool is_plain_set(std::span<const std::string_view> args) {
    for (std::size_t i = 3; i < args.size(); ++i)
        if (equals_lower(args[i], "nx") || equals_lower(args[i], "xx") || equals_lower(args[i], "get")) return false;
    return true;
}

}  // namespace

bool is_replay_safe(std::span<const std::string_view> args) {
    static constexpr name_table<bool> safe = {
        {"get", true},       {"mget", true},      {"exists", true},      {"ttl", true},
        {"pttl", true},      {"expiretime", true}, {"pexpiretime", true}, {"strlen", true},
        {"type", true},      {"keys", true},      {"scan", true},        {"dbsize", true},
        {"randomkey", true}, {"ping", true},      {"echo", true},        {"time", true},
        {"mset", true},      {"del", true},       {"unlink", true},      {"persist", true},
        {"setex", true},     {"psetex", true},    {"pexpireat", true},   {"expireat", true},
        {"set", true},
    };
    name_buffer buffer;
    const std::string_view key = protocol::lowercase_into(args[0], buffer);
    if (key.empty() || safe.find(key) == nullptr) return false;
    return key != "set" || is_plain_set(args);
}

command_route route_command(std::span<const std::string_view> args) {
    name_buffer buffer;
    const std::string_view key = protocol::lowercase_into(args[0], buffer);
    if (key.empty()) return command_route::forward;
    if (key == "xread" || key == "xreadgroup")
        return has_block_option(args) ? command_route::pin : command_route::forward;
    const command_route* found = routes.find(key);
    return found == nullptr ? command_route::forward : *found;
}

}  // namespace redis_sidecar::server
