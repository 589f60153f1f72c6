#include "redis_sidecar/server/command_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

using redis_sidecar::server::command_route;
using redis_sidecar::server::is_replay_safe;
using redis_sidecar::server::route_command;

namespace {
const redis_sidecar::catalogue::command_catalogue& commands() {
    return *redis_sidecar::catalogue::command_catalogue::builtin();
}
command_route route(std::vector<std::string_view> args) { return route_command(commands(), args).route; }
bool safe(std::vector<std::string_view> args) { return is_replay_safe(commands(), args); }
}  // namespace

TEST(command_table, stateless_commands_share_the_pool) {
    EXPECT_EQ(route({"LPUSH", "l", "x"}), command_route::forward_write);
    EXPECT_EQ(route({"hgetall", "h"}), command_route::forward);
    EXPECT_EQ(route({"XREAD", "COUNT", "1", "STREAMS", "s", "0"}), command_route::forward);
    // Unknown to the catalogue: forwarded as it is, for Redis to judge.
    EXPECT_EQ(route({"averyveryverylongcommand"}), command_route::forward);
    EXPECT_EQ(route({std::string(100, 'x')}), command_route::forward);
}

TEST(command_table, stateful_commands_pin_in_any_case) {
    for (std::string_view name : {"MULTI", "exec", "Watch", "BLPOP", "brpoplpush", "bzmpop", "SUBSCRIBE",
                                  "sunsubscribe", "MONITOR", "WAIT"})
        EXPECT_EQ(route({name, "x"}), command_route::pin) << name;
    // XREAD blocks only with BLOCK, which must come before STREAMS.
    EXPECT_EQ(route({"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}), command_route::pin);
    EXPECT_EQ(route({"xreadgroup", "GROUP", "g", "c", "block", "10", "STREAMS", "s", ">"}), command_route::pin);
    EXPECT_EQ(route({"XREAD", "STREAMS", "block", "0"}), command_route::forward);
}

TEST(command_table, client_kill_routes_as_client_and_is_known_as_a_rescue) {
    const std::vector<std::string_view> kill{"CLIENT", "KILL", "ID", "5"};
    const redis_sidecar::server::routed_command routed = route_command(commands(), kill);
    EXPECT_EQ(routed.route, command_route::client);
    ASSERT_NE(routed.command, nullptr);
    EXPECT_TRUE(routed.command->has(redis_sidecar::catalogue::rescues_busy));
}

TEST(command_table, connection_commands_are_the_sidecars) {
    EXPECT_EQ(route({"QUIT"}), command_route::quit);
    EXPECT_EQ(route({"ping"}), command_route::ping);
    EXPECT_EQ(route({"SELECT", "0"}), command_route::select);
    EXPECT_EQ(route({"HELLO", "2"}), command_route::hello);
    EXPECT_EQ(route({"CLIENT", "SETNAME", "a"}), command_route::client);
    EXPECT_EQ(route({"INFO"}), command_route::info);
}

TEST(command_table, writes_the_mirror_follows_and_gets) {
    // Every write: the mirror follows each durable key it writes, in whatever position.
    for (std::string_view name : {"SET", "mset", "RENAME", "copy", "setrange", "APPEND", "incr", "sort", "zunionstore"})
        EXPECT_EQ(route({name, "k", "v"}), command_route::forward_write) << name;
    EXPECT_EQ(route({"SET", "k", "v"}), command_route::forward_write);
    EXPECT_EQ(route({"evalsha", "sha", "1", "k"}), command_route::forward_write);
    EXPECT_EQ(route({"GET", "k"}), command_route::forward_get);
}

TEST(command_table, replay_safety_of_requests_whose_fate_is_unknown) {
    EXPECT_TRUE(safe({"GET", "k"}));
    EXPECT_TRUE(safe({"set", "k", "v"}));
    EXPECT_TRUE(safe({"SET", "k", "v", "EX", "10"}));
    EXPECT_TRUE(safe({"DEL", "a", "b"}));
    EXPECT_TRUE(safe({"MSET", "a", "1"}));
    // Applied twice, these would differ: a counter counted twice, a lock taken from its owner.
    EXPECT_FALSE(safe({"INCR", "k"}));
    EXPECT_FALSE(safe({"GETSET", "k", "v"}));
    EXPECT_FALSE(safe({"SET", "k", "v", "NX"}));
    EXPECT_FALSE(safe({"SET", "k", "v", "xx"}));
    EXPECT_FALSE(safe({"SET", "k", "v", "GET"}));
    EXPECT_FALSE(safe({"APPEND", "k", "v"}));
    EXPECT_FALSE(safe({"EVALSHA", "sha", "1", "k"}));
    EXPECT_FALSE(safe({"averyveryverylongcommand"}));
}

namespace {
// Every name the sidecar routes other than to the pool, with its route: the lookup table must find
// each one, whatever its case, and nothing else.
const std::map<std::string, command_route>& routed_names() {
    using enum command_route;
    static const std::map<std::string, command_route> names = {
        {"multi", pin},       {"exec", pin},          {"discard", pin},      {"watch", pin},
        {"unwatch", pin},     {"blpop", pin},         {"brpop", pin},        {"blmove", pin},
        {"brpoplpush", pin},  {"bzpopmin", pin},      {"bzpopmax", pin},     {"blmpop", pin},
        {"bzmpop", pin},      {"wait", pin},          {"waitaof", pin},      {"subscribe", pin},
        {"psubscribe", pin},  {"ssubscribe", pin},    {"unsubscribe", pin},  {"punsubscribe", pin},
        {"sunsubscribe", pin}, {"monitor", pin},      {"sync", pin},         {"psync", pin},
        {"replconf", pin},    {"reset", reset},       {"auth", auth},        {"quit", quit},
        {"ping", ping},       {"select", select},     {"hello", hello},      {"client", client},
        {"info", info},       {"get", forward_get},   {"set", forward_write}, {"setnx", forward_write},
        {"setex", forward_write}, {"psetex", forward_write}, {"getset", forward_write},
        {"getdel", forward_write}, {"getex", forward_write}, {"del", forward_write},
        {"unlink", forward_write}, {"expire", forward_write}, {"pexpire", forward_write},
        {"expireat", forward_write}, {"pexpireat", forward_write}, {"persist", forward_write},
        {"evalsha", forward_write}, {"eval", forward_write},
    };
    return names;
}

std::string upper(std::string name) {
    for (char& c : name) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    return name;
}
}  // namespace

TEST(command_table, every_routed_name_is_found_in_any_case) {
    for (const auto& [name, expected] : routed_names()) {
        EXPECT_EQ(route({name}), expected) << name;
        EXPECT_EQ(route({upper(name)}), expected) << name;
    }
}

TEST(command_table, names_near_a_routed_one_go_to_the_pool) {
    const auto& names = routed_names();
    for (const auto& [name, expected] : names) {
        std::string middle_changed = name;
        middle_changed[name.size() / 2] = 'q';
        for (const std::string& near : {name.substr(0, name.size() - 1), name + "x", "x" + name, middle_changed}) {
            if (names.contains(near) || commands().find_name(near) != nullptr) continue;  // a command of its own
            EXPECT_EQ(route({near}), command_route::forward) << near;
        }
    }
    EXPECT_EQ(route({""}), command_route::forward);
    EXPECT_EQ(route({std::string_view("g\0t", 3)}), command_route::forward);
}
