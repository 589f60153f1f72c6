#include "redis_sidecar/catalogue/command_catalogue.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace redis_sidecar::catalogue {
namespace {

using args_t = std::vector<std::string_view>;

const command_catalogue& builtin() { return *command_catalogue::builtin(); }

// Every key of `args`, by the catalogue's description of its command.
std::vector<std::string> keys_of_request(const command_catalogue& catalogue, const args_t& args) {
    const command_info* command = catalogue.find(args);
    EXPECT_NE(command, nullptr) << args[0];
    std::vector<std::string> keys;
    if (command == nullptr) return keys;
    for_each_key(*command, args, [&](key_position k) { keys.emplace_back(args[k.index]); });
    return keys;
}

std::vector<std::string> written(const args_t& args) {
    const command_info* command = builtin().find(args);
    EXPECT_NE(command, nullptr) << args[0];
    std::vector<std::string> keys;
    for (std::string_view k : written_keys(*command, args)) keys.emplace_back(k);
    return keys;
}

using strings = std::vector<std::string>;

TEST(command_catalogue, knows_every_redis_7_0_command_in_any_case) {
    EXPECT_GE(builtin().commands().size(), 240u);
    for (std::string_view name : {"get", "GET", "Set", "xreadgroup", "FUNCTION", "zrangestore"})
        EXPECT_NE(builtin().find_name(name), nullptr) << name;
    EXPECT_EQ(builtin().find_name("nosuchcommand"), nullptr);
    EXPECT_EQ(builtin().find_name(""), nullptr);
    EXPECT_EQ(builtin().find_name(std::string(200, 'g')), nullptr);
}

TEST(command_catalogue, arity_and_redis_flags_come_from_the_table) {
    const command_info* set = builtin().find_name("set");
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->arity, -3);
    EXPECT_TRUE(set->has(write));
    EXPECT_FALSE(set->arity_allows(2));
    EXPECT_TRUE(set->arity_allows(3));
    EXPECT_TRUE(set->arity_allows(7));
    const command_info* get = builtin().find_name("get");
    ASSERT_NE(get, nullptr);
    EXPECT_TRUE(get->has(readonly));
    EXPECT_TRUE(get->arity_allows(2));
    EXPECT_FALSE(get->arity_allows(3));
}

TEST(command_catalogue, subcommands_are_found_by_their_second_argument) {
    const command_info* kill = builtin().find(args_t{"CLIENT", "Kill", "ID", "7"});
    ASSERT_NE(kill, nullptr);
    EXPECT_EQ(kill->name, "client|kill");
    EXPECT_TRUE(kill->has(pins));
    // An unknown subcommand: the container itself, for Redis to judge.
    const command_info* unknown = builtin().find(args_t{"client", "frobnicate"});
    ASSERT_NE(unknown, nullptr);
    EXPECT_EQ(unknown->name, "client");
    const command_info* encoding = builtin().find(args_t{"object", "encoding", "k"});
    ASSERT_NE(encoding, nullptr);
    EXPECT_EQ(keys_of_request(builtin(), {"object", "encoding", "k"}), strings{"k"});
}

TEST(command_catalogue, key_positions_of_every_form) {
    const command_catalogue& c = builtin();
    EXPECT_EQ(keys_of_request(c, {"get", "a"}), strings{"a"});
    EXPECT_EQ(keys_of_request(c, {"set", "a", "1", "EX", "5"}), strings{"a"});
    // range to the end
    EXPECT_EQ(keys_of_request(c, {"del", "a", "b", "c"}), (strings{"a", "b", "c"}));
    // range with a step: keys and values alternate
    EXPECT_EQ(keys_of_request(c, {"mset", "a", "1", "b", "2"}), (strings{"a", "b"}));
    // two specifications
    EXPECT_EQ(keys_of_request(c, {"rename", "a", "b"}), (strings{"a", "b"}));
    // keynum: EVAL numkeys
    EXPECT_EQ(keys_of_request(c, {"eval", "return 1", "2", "a", "b", "argv1"}), (strings{"a", "b"}));
    EXPECT_EQ(keys_of_request(c, {"evalsha", "abc", "0", "argv1"}), strings{});
    EXPECT_EQ(keys_of_request(c, {"eval", "s", "3", "a"}), strings{});  // numkeys past the end
    EXPECT_EQ(keys_of_request(c, {"eval", "s", "x", "a"}), strings{});  // not a number
    // destination and keynum
    EXPECT_EQ(keys_of_request(c, {"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"}), (strings{"d", "a", "b"}));
    // keyword: XREAD ... STREAMS k1 k2 id1 id2 (the first half)
    EXPECT_EQ(keys_of_request(c, {"xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}), (strings{"s1", "s2"}));
    EXPECT_EQ(keys_of_request(c, {"xreadgroup", "GROUP", "g", "c", "BLOCK", "0", "streams", "s1", ">"}), strings{"s1"});
    // keyword from the end: MIGRATE ... KEYS k1 k2
    EXPECT_EQ(keys_of_request(c, {"migrate", "h", "1", "", "0", "5000", "KEYS", "a", "b"}), (strings{"a", "b"}));
    EXPECT_EQ(keys_of_request(c, {"migrate", "h", "1", "k", "0", "5000"}), strings{"k"});
    // keyword with a start: GEORADIUS ... STORE dest
    EXPECT_EQ(keys_of_request(c, {"georadius", "g", "0", "0", "1", "km", "STORE", "dest"}), (strings{"g", "dest"}));
    // SORT's STORE: Redis's own walk of the options
    EXPECT_EQ(keys_of_request(c, {"sort", "l", "LIMIT", "0", "10", "GET", "store", "STORE", "dest"}),
              (strings{"l", "dest"}));
    EXPECT_EQ(keys_of_request(c, {"sort", "l", "BY", "store"}), strings{"l"});
    // LMPOP numkeys
    EXPECT_EQ(keys_of_request(c, {"lmpop", "2", "a", "b", "LEFT"}), (strings{"a", "b"}));
    // Arguments that do not fit give no key rather than a wrong one.
    EXPECT_EQ(keys_of_request(c, {"rename", "a"}), strings{"a"});
    EXPECT_EQ(keys_of_request(c, {"xread", "COUNT", "2"}), strings{});
}

TEST(command_catalogue, written_keys_leave_out_the_keys_only_read) {
    EXPECT_EQ(written({"copy", "src", "dst"}), strings{"dst"});
    EXPECT_EQ(written({"rename", "a", "b"}), (strings{"a", "b"}));
    EXPECT_EQ(written({"mset", "a", "1", "a", "2"}), strings{"a"});  // each key once
    EXPECT_EQ(written({"sort", "l", "STORE", "d"}), strings{"d"});
    EXPECT_EQ(written({"get", "a"}), strings{});
    EXPECT_EQ(written({"sunionstore", "d", "a", "b"}), strings{"d"});
    EXPECT_EQ(written({"setrange", "k", "0", "x"}), strings{"k"});
    EXPECT_EQ(written({"incr", "k"}), strings{"k"});
}

TEST(command_catalogue, the_sidecars_flags) {
    const command_catalogue& c = builtin();
    EXPECT_TRUE(command_catalogue::pins(*c.find_name("multi"), args_t{"multi"}));
    EXPECT_TRUE(command_catalogue::pins(*c.find_name("blpop"), args_t{"blpop", "l", "0"}));
    EXPECT_FALSE(command_catalogue::pins(*c.find_name("lpop"), args_t{"lpop", "l"}));
    EXPECT_TRUE(command_catalogue::pins(*c.find_name("xread"), args_t{"xread", "block", "0", "streams", "s", "$"}));
    EXPECT_FALSE(command_catalogue::pins(*c.find_name("xread"), args_t{"xread", "streams", "block", "0"}));
    EXPECT_TRUE(command_catalogue::pins(*c.find_name("waitaof"), args_t{"waitaof", "0", "0", "0"}));
    EXPECT_EQ(c.find_name("hello")->role, connection_role::hello);
    EXPECT_EQ(c.find_name("QUIT")->role, connection_role::quit);
    EXPECT_TRUE(c.find_name("eval")->has(may_take_long));
    EXPECT_TRUE(c.find_name("keys")->has(large_reply));
    EXPECT_TRUE(c.find_name("get")->has(fail_closed_read));
    EXPECT_TRUE(c.find_name("exec")->has(closes_transaction));
    EXPECT_TRUE(c.find_name("subscribe")->has(unpairs_replies));
}

TEST(command_catalogue, what_may_take_long) {
    const command_catalogue& c = builtin();
    const auto slow = [&](const args_t& args) { return command_catalogue::may_take_long(*c.find(args), args); };
    EXPECT_TRUE(slow({"EVAL", "return 1", "0"}));
    EXPECT_TRUE(slow({"evalsha", "abc", "0"}));
    EXPECT_TRUE(slow({"FCALL", "f", "0"}));
    EXPECT_TRUE(slow({"KEYS", "*"}));
    EXPECT_TRUE(slow({"FLUSHALL"}));
    EXPECT_TRUE(slow({"DEBUG", "SLEEP", "2"}));
    EXPECT_TRUE(slow({"SUNIONSTORE", "d", "a"}));
    EXPECT_TRUE(slow({"SCAN", "0", "COUNT", "1000000"}));
    EXPECT_FALSE(slow({"SCAN", "0", "MATCH", "cache:*", "COUNT", "100"}));
    EXPECT_FALSE(slow({"GET", "k"}));
    EXPECT_FALSE(slow({"SET", "k", "v"}));
    EXPECT_FALSE(slow({"INCR", "k"}));
}

TEST(command_catalogue, replay_safety) {
    const command_catalogue& c = builtin();
    const auto safe = [&](const args_t& args) { return command_catalogue::replay_safe(*c.find(args), args); };
    EXPECT_TRUE(safe({"get", "k"}));
    EXPECT_TRUE(safe({"set", "k", "v", "EX", "5"}));
    EXPECT_FALSE(safe({"set", "k", "v", "NX"}));
    EXPECT_FALSE(safe({"set", "k", "v", "get"}));
    EXPECT_FALSE(safe({"incr", "k"}));
    EXPECT_FALSE(safe({"getset", "k", "v"}));
    EXPECT_TRUE(safe({"del", "k"}));
}

TEST(command_catalogue, learning_takes_redis_description_and_keeps_the_sidecars_flags) {
    std::vector<command_info> from_redis;
    command_info set;
    set.name = "set";
    set.arity = -3;
    set.flags = write;
    key_spec k;
    k.flags = key_rw | key_update;
    k.begin = key_spec::begin_kind::index;
    k.index = 1;
    k.find = key_spec::find_kind::range;
    set.keys.push_back(k);
    from_redis.push_back(set);
    command_info module_command;
    module_command.name = "mymodule.bpop";
    module_command.arity = 3;
    module_command.flags = write | blocking;
    module_command.keys.push_back(k);
    from_redis.push_back(module_command);
    const auto learned = command_catalogue::learned(from_redis);
    EXPECT_EQ(learned->learned_count(), 2u);
    const command_info* learned_set = learned->find_name("SET");
    ASSERT_NE(learned_set, nullptr);
    EXPECT_TRUE(learned_set->has(answered_locally));  // the sidecar's own flag stays
    EXPECT_TRUE(learned_set->has(replay_safe));
    const command_info* module = learned->find_name("MyModule.BPop");
    ASSERT_NE(module, nullptr);
    EXPECT_TRUE(module->has(pins));  // blocking, as Redis says: a connection of its own
    EXPECT_EQ(keys_of_request(*learned, {"mymodule.bpop", "q", "0"}), strings{"q"});
    // Commands Redis did not describe keep the built-in description.
    EXPECT_NE(learned->find_name("getset"), nullptr);
}

TEST(command_catalogue, a_malformed_table_line_is_refused_with_the_line) {
    EXPECT_THROW(parse_command_table("get two readonly\n"), std::invalid_argument);
    EXPECT_THROW(parse_command_table("get 2\n"), std::invalid_argument);
    EXPECT_THROW(parse_command_table("get 2 readonly RO/i1\n"), std::invalid_argument);
    EXPECT_THROW(parse_command_table("client|kill -3 admin\n"), std::invalid_argument);
    try {
        parse_command_table("get 2 readonly RO/i1/rX,1,0\n");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("get 2 readonly"), std::string::npos);
    }
}

}  // namespace
}  // namespace redis_sidecar::catalogue
