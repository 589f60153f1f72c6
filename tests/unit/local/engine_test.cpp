#include "redis_sidecar/local/engine.hpp"

#include "redis_sidecar/catalogue/command_catalogue.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <string>
#include <vector>

namespace redis_sidecar::local {
namespace {

constexpr std::string_view release_sha = "c3f8721cbb97f72bc19e972846bd7aaf91901658";
constexpr std::string_view extend_sha = "a4e8783852e6b949f9ef3a97212805108459a890";
constexpr std::string_view reacquire_sha = "1cac51482acf5858da00f6d685d68f886cd6b6b2";
constexpr std::string_view redlock_sha = "b70c2384248f88e6b75b9f89241a180f856ad852";

// An engine on a clock the test moves by hand.
class engine_test : public ::testing::Test {
protected:
    std::int64_t now_ = 1'700'000'000'000;
    engine engine_{[this] { return now_; }};

    std::string run(std::initializer_list<std::string_view> args) {
        const std::vector<std::string_view> argv(args);
        std::string out;
        engine_.execute(argv, out);
        return out;
    }
};

TEST_F(engine_test, expiry_follows_the_injected_clock) {
    EXPECT_EQ(run({"SET", "k", "v", "EX", "10"}), "+OK\r\n");
    EXPECT_EQ(run({"TTL", "k"}), ":10\r\n");
    now_ += 4'400;
    EXPECT_EQ(run({"TTL", "k"}), ":6\r\n");
    EXPECT_EQ(run({"PTTL", "k"}), ":5600\r\n");
    now_ += 5'600;
    EXPECT_EQ(run({"GET", "k"}), "$1\r\nv\r\n");  // expires only once now > expire time
    now_ += 1;
    EXPECT_EQ(run({"GET", "k"}), "$-1\r\n");
    EXPECT_EQ(run({"TTL", "k"}), ":-2\r\n");
}

TEST_F(engine_test, active_expiry_uses_the_engine_clock) {
    run({"SET", "a", "1", "PX", "100"});
    run({"SET", "b", "1"});
    EXPECT_EQ(engine_.active_expire_cycle(100), 0u);
    now_ += 101;
    EXPECT_EQ(engine_.active_expire_cycle(100), 1u);
    EXPECT_EQ(run({"DBSIZE"}), ":1\r\n");
}

TEST_F(engine_test, time_comes_from_the_clock) {
    now_ = 1'700'000'000'123;
    EXPECT_EQ(run({"TIME"}), "*2\r\n$10\r\n1700000000\r\n$6\r\n123000\r\n");
}

TEST_F(engine_test, execute_names_the_command_that_ran) {
    std::string out;
    const auto name_of = [&](std::initializer_list<std::string_view> args) {
        const std::vector<std::string_view> argv(args);
        return std::string(engine_.execute(argv, out));
    };
    EXPECT_EQ(name_of({"SeT", "k", "v"}), "set");
    EXPECT_EQ(name_of({"del", "k"}), "del");
    EXPECT_EQ(name_of({"SCRIPT", "load", "return 1"}), "script|load");
    EXPECT_EQ(name_of({"FLUSHALL"}), "flushall");  // ran, and refused
    // Nothing ran: the caller must not take the arguments for that command's.
    EXPECT_EQ(name_of({"GET"}), "");
    EXPECT_EQ(name_of({"HSET", "h", "f", "v"}), "");
    EXPECT_EQ(name_of({"SCRIPT", "NOSUCH"}), "");
    EXPECT_EQ(name_of({"SCRIPT", "FLUSH"}), "");  // known to Redis, not served here
}

TEST_F(engine_test, command_calls_count_what_clients_ran_by_redis_name) {
    run({"SET", "k", "v"});
    run({"get", "k"});
    run({"GET", "k"});
    run({"SCRIPT", "LOAD", "return 1"});
    run({"GET"});         // wrong number of arguments: Redis rejects it before the call
    run({"FLUSHALL"});    // only refused here
    run({"HSET", "h", "f", "v"});  // not served
    const std::vector<std::string_view> replayed{"SET", "k", "w"};
    std::string ignored;
    engine_.execute(replayed, ignored, call_origin::replay);  // a write Redis made: no client asked
    const std::vector<std::pair<std::string, std::uint64_t>> expected{{"get", 2}, {"script|load", 1}, {"set", 1}};
    EXPECT_EQ(engine_.command_calls(), expected);
    EXPECT_EQ(run({"GET", "k"}), "$1\r\nw\r\n");  // the replay did run
}

TEST_F(engine_test, command_names_are_case_insensitive) {
    EXPECT_EQ(run({"sEt", "k", "v"}), "+OK\r\n");
    EXPECT_EQ(run({"get", "k"}), "$1\r\nv\r\n");
    EXPECT_EQ(run({"GeT"}), "-ERR wrong number of arguments for 'get' command\r\n");
}

TEST_F(engine_test, unserved_commands_name_the_command) {
    EXPECT_EQ(run({"HSET", "h", "f", "v"}),
              "-ERR upstream Redis is unavailable; 'hset' is not served by the sidecar while it is down\r\n");
    EXPECT_EQ(run({"SCRIPT", "FLUSH"}),
              "-ERR upstream Redis is unavailable; 'script|flush' is not served by the sidecar while it is down\r\n");
    EXPECT_EQ(run({"COMMAND"}),
              "-ERR upstream Redis is unavailable; 'command' is not served by the sidecar while it is down\r\n");
    EXPECT_EQ(run({"SCRIPT", "nope"}), "-ERR unknown subcommand 'nope'. Try SCRIPT HELP.\r\n");
    EXPECT_EQ(run({"bad\r\nname"}),
              "-ERR upstream Redis is unavailable; 'bad  name' is not served by the sidecar while it is down\r\n");
}

TEST_F(engine_test, flush_and_other_databases_are_refused) {
    run({"SET", "k", "v"});
    const std::string flushall = run({"FLUSHALL"});
    EXPECT_EQ(flushall.rfind("-ERR upstream Redis is unavailable; 'flushall' is refused", 0), 0u) << flushall;
    EXPECT_EQ(run({"FLUSHDB", "ASYNC"}).rfind("-ERR upstream Redis is unavailable; 'flushdb'", 0), 0u);
    EXPECT_EQ(run({"DBSIZE"}), ":1\r\n");
    EXPECT_EQ(run({"SELECT", "0"}), "+OK\r\n");
    EXPECT_EQ(run({"SELECT", "3"}), "-" + std::string(down_errors::select_other_db) + "\r\n");
    EXPECT_EQ(run({"SELECT", "16"}), "-ERR DB index is out of range\r\n");
}

TEST_F(engine_test, supports_lists_the_local_subset) {
    for (std::string_view name : {"get", "SET", "getex", "incrbyfloat", "scan", "evalsha", "eval", "script", "ping",
                                  "select", "command", "unlink", "pexpiretime"}) {
        EXPECT_TRUE(engine::supports(name)) << name;
    }
    for (std::string_view name : {"hset", "flushall", "flushdb", "multi", "subscribe", "", "info"}) {
        EXPECT_FALSE(engine::supports(name)) << name;
    }
}

TEST_F(engine_test, redis_py_lock_cycle) {
    // acquire (SET NX PX), extend, reacquire, release, as redis-py's Lock does it.
    EXPECT_EQ(run({"SET", "lock", "tok", "NX", "PX", "10000"}), "+OK\r\n");
    EXPECT_EQ(run({"SET", "lock", "other", "NX", "PX", "10000"}), "$-1\r\n");
    EXPECT_EQ(run({"EVALSHA", extend_sha, "1", "lock", "tok", "5000", "0"}), ":1\r\n");
    EXPECT_EQ(run({"PTTL", "lock"}), ":15000\r\n");
    EXPECT_EQ(run({"EVALSHA", extend_sha, "1", "lock", "tok", "3000", "1"}), ":1\r\n");
    EXPECT_EQ(run({"PTTL", "lock"}), ":3000\r\n");
    EXPECT_EQ(run({"EVALSHA", reacquire_sha, "1", "lock", "tok", "10000"}), ":1\r\n");
    EXPECT_EQ(run({"PTTL", "lock"}), ":10000\r\n");
    EXPECT_EQ(run({"EVALSHA", release_sha, "1", "lock", "wrong"}), ":0\r\n");
    EXPECT_EQ(run({"EVALSHA", release_sha, "1", "lock", "tok"}), ":1\r\n");
    EXPECT_EQ(run({"EXISTS", "lock"}), ":0\r\n");
    EXPECT_EQ(run({"EVALSHA", release_sha, "1", "lock", "tok"}), ":0\r\n");
}

TEST_F(engine_test, lock_expires_with_the_clock) {
    run({"SET", "lock", "tok", "NX", "PX", "100"});
    now_ += 101;
    EXPECT_EQ(run({"SET", "lock", "tok2", "NX", "PX", "100"}), "+OK\r\n");
    EXPECT_EQ(run({"EVALSHA", release_sha, "1", "lock", "tok"}), ":0\r\n");
}

TEST_F(engine_test, redlock_unlock_by_eval_and_evalsha) {
    const std::string_view body =
        "if redis.call(\"get\",KEYS[1]) == ARGV[1] then return redis.call(\"del\",KEYS[1]) else return 0 end";
    run({"SET", "r", "x"});
    EXPECT_EQ(run({"SCRIPT", "LOAD", body}), "$40\r\n" + std::string(redlock_sha) + "\r\n");
    EXPECT_EQ(run({"EVALSHA", redlock_sha, "1", "r", "y"}), ":0\r\n");
    EXPECT_EQ(run({"EVAL", body, "1", "r", "x"}), ":1\r\n");
    EXPECT_EQ(run({"GET", "r"}), "$-1\r\n");
}

TEST_F(engine_test, unknown_scripts) {
    EXPECT_EQ(run({"EVALSHA", "0123456789012345678901234567890123456789", "0"}),
              "-NOSCRIPT No matching script. Please use EVAL.\r\n");
    const std::string unknown = "-" + std::string(down_errors::unknown_script) + "\r\n";
    EXPECT_EQ(run({"EVAL", "return 1", "0"}), unknown);
    // A script loaded while down is known to SCRIPT EXISTS, but does not run.
    EXPECT_EQ(run({"SCRIPT", "LOAD", "return 1"}), "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n");
    EXPECT_EQ(run({"SCRIPT", "EXISTS", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", release_sha, "nope"}),
              "*3\r\n:1\r\n:1\r\n:0\r\n");
    EXPECT_EQ(run({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}), unknown);
}

TEST_F(engine_test, eviction_runs_after_writes_and_spares_protected_keys) {
    engine_.keys().set_evictable([](std::string_view key) { return key.starts_with("cache:"); });
    for (int i = 0; i < 100; ++i) {
        const std::string key = "jwt_token_blacklist_" + std::to_string(i);
        run({"SET", key, "1", "EX", "3600"});
    }
    engine_.keys().set_maxmemory(engine_.keys().used_memory() + 20'000);
    const std::string big(1000, 'x');
    for (int i = 0; i < 200; ++i) {
        const std::string key = "cache:" + std::to_string(i);
        run({"SET", key, big});
    }
    EXPECT_LE(engine_.keys().used_memory(), engine_.keys().maxmemory());
    EXPECT_GT(engine_.keys().evicted_keys(), 0u);
    for (int i = 0; i < 100; ++i) {
        const std::string key = "jwt_token_blacklist_" + std::to_string(i);
        EXPECT_EQ(run({"EXISTS", key}), ":1\r\n") << key;
    }
}

TEST_F(engine_test, scan_with_type_and_match) {
    run({"MSET", "a1", "1", "a2", "2", "b1", "3"});
    EXPECT_EQ(run({"SCAN", "0", "MATCH", "zz*", "COUNT", "100"}), "*2\r\n$1\r\n0\r\n*0\r\n");
    EXPECT_EQ(run({"SCAN", "0", "TYPE", "hash", "COUNT", "100"}), "*2\r\n$1\r\n0\r\n*0\r\n");
    const std::string all = run({"SCAN", "0", "MATCH", "a*", "TYPE", "STRING", "COUNT", "100"});
    EXPECT_NE(all.find("$2\r\na1\r\n"), std::string::npos);
    EXPECT_NE(all.find("$2\r\na2\r\n"), std::string::npos);
    EXPECT_EQ(all.find("b1"), std::string::npos);
}

}  // namespace
}  // namespace redis_sidecar::local

// The command catalogue's `answered_locally` flag and the engine's own table name the same commands.
TEST(engine_catalogue, the_catalogue_says_what_the_engine_runs) {
    std::set<std::string> flagged;
    for (const auto& command : redis_sidecar::catalogue::command_catalogue::builtin()->commands()) {
        if (command.has(redis_sidecar::catalogue::answered_locally)) flagged.insert(command.name);
        for (const auto& sub : command.subcommands)
            if (sub.has(redis_sidecar::catalogue::answered_locally)) flagged.insert(sub.name);
    }
    std::set<std::string> served;
    for (std::string_view name : redis_sidecar::local::engine::served_commands()) served.emplace(name);
    EXPECT_EQ(flagged, served);
}
