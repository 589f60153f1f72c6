#include "redis_sidecar/server/command_table.hpp"

namespace redis_sidecar::server {

namespace {

using catalogue::command_catalogue;
using catalogue::command_info;
using catalogue::connection_role;

command_route route_of_role(connection_role role) {
    switch (role) {
        case connection_role::quit: return command_route::quit;
        case connection_role::ping: return command_route::ping;
        case connection_role::select: return command_route::select;
        case connection_role::hello: return command_route::hello;
        case connection_role::client: return command_route::client;
        case connection_role::info: return command_route::info;
        case connection_role::auth: return command_route::auth;
        case connection_role::reset: return command_route::reset;
        case connection_role::none: break;
    }
    return command_route::forward;
}

}  // namespace

routed_command route_command(const command_catalogue& commands, std::span<const std::string_view> args) {
    const command_info* top = commands.find_name(args[0]);
    if (top == nullptr) return {command_route::forward, nullptr};
    const command_info* command = top;
    if (!top->subcommands.empty() && args.size() > 1)
        if (const command_info* sub = command_catalogue::find_subcommand(*top, args[1])) command = sub;
    // CLIENT's routes are the container's; what the subcommand is (CLIENT KILL rescues) is its own.
    if (top->role != connection_role::none) return {route_of_role(top->role), command};
    if (command_catalogue::pins(*command, args)) return {command_route::pin, command};
    if (command->has(catalogue::fail_closed_read)) return {command_route::forward_get, command};
    if (command->has(catalogue::writes_keys)) return {command_route::forward_write, command};
    return {command_route::forward, command};
}

bool is_replay_safe(const command_catalogue& commands, std::span<const std::string_view> args) {
    const command_info* command = commands.find(args);
    return command != nullptr && command_catalogue::replay_safe(*command, args);
}

}  // namespace redis_sidecar::server
