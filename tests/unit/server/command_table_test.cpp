#include "redis_sidecar/server/command_table.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

using redis_sidecar::server::command_route;
using redis_sidecar::server::is_replay_safe;
using redis_sidecar::server::route_command;

namespace {
command_route route(std::vector<std::string_view> args) { return route_command(args); }
bool safe(std::vector<std::string_view> args) { return is_replay_safe(args); }
}  // namespace

TEST(command_table, stateless_commands_share_the_pool) {
    EXPECT_EQ(route({"LPUSH", "l", "x"}), command_route::forward);
    EXPECT_EQ(route({"hgetall", "h"}), command_route::forward);
    EXPECT_EQ(route({"XREAD", "COUNT", "1", "STREAMS", "s", "0"}), command_route::forward);
    // A name longer than any routed one is forwarded without a lookup.
    EXPECT_EQ(route({"averyveryverylongcommand"}), command_route::forward);
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

TEST(command_table, connection_commands_are_the_sidecars) {
    EXPECT_EQ(route({"QUIT"}), command_route::quit);
    EXPECT_EQ(route({"ping"}), command_route::ping);
    EXPECT_EQ(route({"SELECT", "0"}), command_route::select);
    EXPECT_EQ(route({"HELLO", "2"}), command_route::hello);
    EXPECT_EQ(route({"CLIENT", "SETNAME", "a"}), command_route::client);
    EXPECT_EQ(route({"INFO"}), command_route::info);
}

TEST(command_table, writes_the_mirror_follows_and_gets) {
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
