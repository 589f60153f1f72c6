// Differential test of the local engine against a real redis-server: every command of a table of
// sequences goes to Redis over a socket and to a second target, and the reply bytes must be
// identical (or, where Redis's own hash order or clock makes bytes differ, equal once normalised).
//
// The second target is, in one test, a fresh in-process local::engine per sequence and, in the
// other, the redis-sidecar binary itself with its upstream down (nothing listens on its upstream
// port), reached over TCP like any client: the product's promise is that the sidecar answers with
// Redis's bytes while Redis is down. A failure names the layer that broke. Further tests, for the
// sidecar only, send raw bytes (inline commands, a pipeline in one write, commands split across
// writes, PING/ECHO/QUIT, protocol errors) to Redis and to the sidecar and compare the replies.
//
// Usage: local_differential_tests [path/to/redis-server [path/to/redis-sidecar]] [gtest flags]
// Without a sidecar binary the sidecar tests are skipped.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "redis_sidecar/local/engine.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"

namespace {

using redis_sidecar::local::engine;
namespace protocol = redis_sidecar::protocol;

// -- How two replies are compared ----------------------------------------------------------------

enum class compare_mode {
    exact,      ///< byte for byte
    unordered,  ///< arrays of bulk strings compared as sorted (Redis's dict order is seeded)
    near,       ///< integers within a small tolerance (PTTL and times read from each one's clock)
    time,       ///< TIME: two bulk integers, seconds within 2 of each other
    own,        ///< an intended difference: Redis is not asked, the reply must be `expected`
};

struct step {
    compare_mode mode;
    std::vector<std::string> args;
    std::string expected = {};  ///< for compare_mode::own only
};

struct sequence {
    std::string name;
    std::vector<step> steps;
};

step X(std::initializer_list<std::string> args) { return {compare_mode::exact, args}; }
step U(std::initializer_list<std::string> args) { return {compare_mode::unordered, args}; }
step N(std::initializer_list<std::string> args) { return {compare_mode::near, args}; }
step T(std::initializer_list<std::string> args) { return {compare_mode::time, args}; }
// The sidecar's own reply, by design not Redis's (README "When Redis is lost"): Redis does not run it.
step O(std::string expected, std::initializer_list<std::string> args) {
    return {compare_mode::own, args, std::move(expected)};
}

namespace down_errors = redis_sidecar::local::down_errors;

std::string error_reply(std::string_view message) { return "-" + std::string(message) + "\r\n"; }
std::string not_served(std::string_view lowercase_name) {
    return error_reply("ERR upstream Redis is unavailable; '" + std::string(lowercase_name) +
                       std::string(down_errors::not_served_suffix));
}
std::string flush_refused(std::string_view lowercase_name) {
    return error_reply("ERR upstream Redis is unavailable; '" + std::string(lowercase_name) +
                       "' is refused by the sidecar while it is down, as it would wipe the local mirror of "
                       "revoked tokens");
}

// A string literal with its embedded NULs.
template <std::size_t n>
std::string B(const char (&text)[n]) {
    return std::string(text, n - 1);
}

// -- The scripts the engine knows (loaded into Redis before each sequence) ------------------------

const std::string release_body =
    "\n        local token = redis.call('get', KEYS[1])\n        if not token or token ~= ARGV[1] then\n"
    "            return 0\n        end\n        redis.call('del', KEYS[1])\n        return 1\n    ";
const std::string extend_body =
    "\n        local token = redis.call('get', KEYS[1])\n        if not token or token ~= ARGV[1] then\n"
    "            return 0\n        end\n        local expiration = redis.call('pttl', KEYS[1])\n"
    "        if not expiration then\n            expiration = 0\n        end\n"
    "        if expiration < 0 then\n            return 0\n        end\n\n        local newttl = ARGV[2]\n"
    "        if ARGV[3] == \"0\" then\n            newttl = ARGV[2] + expiration\n        end\n"
    "        redis.call('pexpire', KEYS[1], newttl)\n        return 1\n    ";
const std::string reacquire_body =
    "\n        local token = redis.call('get', KEYS[1])\n        if not token or token ~= ARGV[1] then\n"
    "            return 0\n        end\n        redis.call('pexpire', KEYS[1], ARGV[2])\n        return 1\n    ";
const std::string redlock_body =
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then return redis.call(\"del\",KEYS[1]) else return 0 end";
const std::string redlock_multiline_body =
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then\n    return redis.call(\"del\",KEYS[1])\nelse\n"
    "    return 0\nend";

const std::string rel = "c3f8721cbb97f72bc19e972846bd7aaf91901658";
const std::string ext = "a4e8783852e6b949f9ef3a97212805108459a890";
const std::string rea = "1cac51482acf5858da00f6d685d68f886cd6b6b2";
const std::string red = "b70c2384248f88e6b75b9f89241a180f856ad852";
const std::string unknown_sha = "0123456789abcdef0123456789abcdef01234567";

// Far-future absolute times (2100-01-01) so that TTL output does not depend on timing.
const std::string future_s = "4102444800";
const std::string future_ms = "4102444800000";

// -- The table -------------------------------------------------------------------------------------

std::vector<sequence> build_table() {
    std::vector<sequence> t;
    t.push_back({"get/set basics",
                 {
                     X({"GET", "k"}),
                     X({"SET", "k", "v"}),
                     X({"GET", "k"}),
                     X({"set", "k", ""}),
                     X({"GET", "k"}),
                     X({"SET", "k", B("bin\0ary\r\nvalue")}),
                     X({"GET", "k"}),
                     X({"STRLEN", "k"}),
                     X({"SET", B("key\0nul"), "x"}),
                     X({"GET", B("key\0nul")}),
                     X({"GET", "key"}),
                     X({"SET", "n", "123"}),
                     X({"GET", "n"}),
                     X({"SET", "n", "-0"}),
                     X({"GET", "n"}),
                     X({"SET", "n", "007"}),
                     X({"GET", "n"}),
                     X({"SET", "n", "9223372036854775808"}),
                     X({"GET", "n"}),
                     X({"SET", "k", "v", "extra"}),
                     X({"SET", "k"}),
                     X({"SET"}),
                     X({"GET"}),
                     X({"GET", "a", "b"}),
                     X({"gEt", "k"}),
                 }});
    t.push_back({"set nx xx",
                 {
                     X({"SET", "k", "v", "NX"}),
                     X({"SET", "k", "v2", "NX"}),
                     X({"GET", "k"}),
                     X({"SET", "k", "v3", "XX"}),
                     X({"GET", "k"}),
                     X({"SET", "m", "v", "XX"}),
                     X({"EXISTS", "m"}),
                     X({"SET", "k", "v", "NX", "XX"}),
                     X({"SET", "k", "v", "XX", "NX"}),
                     X({"SET", "k", "v", "nx"}),
                     X({"SET", "k", "v", "xx", "xx"}),
                     X({"SET", "j", "v", "NX", "NX"}),
                     X({"SET", "k", "v", B("nx\0zz")}),
                     X({"SET", "k", "v", "nxx"}),
                     X({"SET", "k", "v", "n"}),
                 }});
    t.push_back({"set get",
                 {
                     X({"SET", "k", "v", "GET"}),
                     X({"SET", "k", "v2", "GET"}),
                     X({"SET", "k", "v3", "NX", "GET"}),
                     X({"GET", "k"}),
                     X({"SET", "m", "v", "XX", "GET"}),
                     X({"EXISTS", "m"}),
                     X({"SET", "k", "v4", "GET", "GET"}),
                     X({"SET", "k", "v5", "GET", "EX", "100"}),
                     X({"TTL", "k"}),
                     X({"SET", "k", "v6", "GET", "XX", "KEEPTTL"}),
                     X({"TTL", "k"}),
                     X({"GET", "k"}),
                     X({"SET", "k", "v", "GET", "EX", "0"}),
                     X({"SET", "z", "v", "GET", "EX", "x"}),
                     X({"SET", "n", "v", "NX", "GET"}),
                     X({"GET", "n"}),
                     X({"SET", "n", "w", "XX", "GET"}),
                     X({"SET", "n", "x", "GET", "NX", "PX", "100000"}),
                     X({"PTTL", "n"}),
                     X({"SET", "n", "y", "get", "xx", "px", "100000"}),
                     X({"TTL", "n"}),
                     X({"SET", "n", "z", "GET", "NX", "XX"}),
                 }});
    t.push_back({"set expiry options",
                 {
                     X({"SET", "k", "v", "EX", "100"}),
                     X({"TTL", "k"}),
                     N({"PTTL", "k"}),
                     X({"SET", "k", "v", "PX", "100000"}),
                     X({"TTL", "k"}),
                     X({"SET", "k", "v", "EXAT", future_s}),
                     X({"EXPIRETIME", "k"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"SET", "k", "v", "PXAT", "4102444800123"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"EXPIRETIME", "k"}),
                     X({"SET", "k", "v", "ex", "10", "EX", "20"}),
                     X({"TTL", "k"}),
                     X({"SET", "k", "v", "EX", "0"}),
                     X({"SET", "k", "v", "EX", "-1"}),
                     X({"SET", "k", "v", "PX", "0"}),
                     X({"SET", "k", "v", "EXAT", "0"}),
                     X({"SET", "k", "v", "PXAT", "-5"}),
                     X({"SET", "k", "v", "EX", "abc"}),
                     X({"SET", "k", "v", "EX", "1.5"}),
                     X({"SET", "k", "v", "EX", ""}),
                     X({"SET", "k", "v", "EX", " 1"}),
                     X({"SET", "k", "v", "EX", "9223372036854775807"}),
                     X({"SET", "k", "v", "EX", "9223372036854775"}),
                     X({"SET", "k", "v", "EX", "9223372036854774"}),
                     X({"SET", "k", "v", "PX", "9223372036854775807"}),
                     X({"SET", "k", "v", "PX", "9223372036854775808"}),
                     X({"SET", "k", "v", "PXAT", "9223372036854775807"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"SET", "k", "v", "EXAT", "9223372036854775"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"SET", "k", "v", "EXAT", "9223372036854776"}),
                     X({"SET", "k", "v", "EX", "10", "PX", "10"}),
                     X({"SET", "k", "v", "PX", "10", "EXAT", "10"}),
                     X({"SET", "k", "v", "EXAT", "10", "PXAT", "10"}),
                     X({"SET", "k", "v", "EX"}),
                     X({"SET", "k", "v", "PXAT"}),
                     X({"SET", "k", "v", "EX", "10", "KEEPTTL"}),
                     X({"SET", "k", "v", "KEEPTTL", "EX", "10"}),
                     X({"SET", "k", "v", "EX", "abc", "NX", "XX"}),
                     X({"SET", "q", "v", "EX", "0", "GET"}),
                     X({"SET", "k", "v", "PERSIST"}),
                     X({"SET", "k", "v", "px", "100000", "nx"}),
                     X({"SET", "k", "v", "EXAT", "1"}),
                     X({"GET", "k"}),
                     X({"SET", "k", "v", "PXAT", "1"}),
                     X({"TTL", "k"}),
                 }});
    t.push_back({"set keepttl",
                 {
                     X({"SET", "k", "v", "EX", "100"}),
                     X({"SET", "k", "v2", "KEEPTTL"}),
                     X({"TTL", "k"}),
                     X({"GET", "k"}),
                     X({"SET", "k", "v3"}),
                     X({"TTL", "k"}),
                     X({"SET", "new", "v", "KEEPTTL"}),
                     X({"TTL", "new"}),
                     X({"SET", "k", "v", "KEEPTTL", "KEEPTTL"}),
                     X({"SET", "k", "v", "EX", "50"}),
                     X({"SET", "k", "v9", "KEEPTTL", "XX", "GET"}),
                     X({"TTL", "k"}),
                     X({"SET", "k", "v", "keepttl", "px", "5"}),
                 }});
    t.push_back({"setnx setex psetex getset getdel",
                 {
                     X({"SETNX", "k", "v"}),
                     X({"SETNX", "k", "v2"}),
                     X({"GET", "k"}),
                     X({"SETNX", "k"}),
                     X({"SETEX", "k", "100", "v"}),
                     X({"TTL", "k"}),
                     X({"GET", "k"}),
                     X({"SETEX", "k", "0", "v"}),
                     X({"SETEX", "k", "-1", "v"}),
                     X({"SETEX", "k", "abc", "v"}),
                     X({"SETEX", "k", "100"}),
                     X({"SETEX", "k", "9223372036854775807", "v"}),
                     X({"PSETEX", "k", "100000", "v"}),
                     N({"PTTL", "k"}),
                     X({"TTL", "k"}),
                     X({"PSETEX", "k", "0", "v"}),
                     X({"PSETEX", "k", "x", "v"}),
                     X({"PSETEX", "k"}),
                     X({"GETSET", "k", "new"}),
                     X({"TTL", "k"}),
                     X({"GETSET", "missing", "v"}),
                     X({"GET", "missing"}),
                     X({"GETSET", "k"}),
                     X({"GETDEL", "k"}),
                     X({"GETDEL", "k"}),
                     X({"EXISTS", "k"}),
                     X({"GETDEL"}),
                     X({"GETDEL", "a", "b"}),
                     X({"SETEX", "k", "10", "v"}),
                     X({"SETNX", "k", "x"}),
                     X({"TTL", "k"}),
                 }});
    t.push_back({"getex",
                 {
                     X({"GETEX", "missing"}),
                     X({"GETEX", "missing", "EX", "0"}),
                     X({"GETEX", "missing", "EX", "10", "PX", "5"}),
                     X({"SET", "k", "v"}),
                     X({"GETEX", "k"}),
                     X({"TTL", "k"}),
                     X({"GETEX", "k", "EX", "100"}),
                     X({"TTL", "k"}),
                     X({"GETEX", "k", "PERSIST"}),
                     X({"TTL", "k"}),
                     X({"GETEX", "k", "PX", "50000"}),
                     X({"TTL", "k"}),
                     X({"GETEX", "k", "EXAT", future_s}),
                     X({"EXPIRETIME", "k"}),
                     X({"GETEX", "k", "PXAT", future_ms}),
                     X({"PEXPIRETIME", "k"}),
                     X({"GETEX", "k", "EX", "0"}),
                     X({"GETEX", "k", "EX", "abc"}),
                     X({"GETEX", "k", "EX", "10", "PX", "10"}),
                     X({"GETEX", "k", "PERSIST", "EX", "10"}),
                     X({"GETEX", "k", "EX", "10", "PERSIST"}),
                     X({"GETEX", "k", "KEEPTTL"}),
                     X({"GETEX", "k", "NX"}),
                     X({"GETEX", "k", "GET"}),
                     X({"GETEX", "k", "EX"}),
                     X({"GETEX", "k", "PERSIST", "PERSIST"}),
                     X({"GETEX", "k", "PX", "9223372036854775807"}),
                     X({"GETEX", "k", "EXAT", "9223372036854775808"}),
                     X({"GETEX", "k", "persist"}),
                     X({"GETEX", "k", "EXAT", "1"}),
                     X({"EXISTS", "k"}),
                     X({"GETEX"}),
                     X({"SET", "k", "v"}),
                     X({"GETEX", "k", "PXAT", "1"}),
                     X({"GET", "k"}),
                 }});
    t.push_back({"mget mset msetnx",
                 {
                     X({"MSET", "a", "1", "b", "2", "c", "3"}),
                     X({"MGET", "a", "b", "c", "d"}),
                     X({"MSET", "a"}),
                     X({"MSET", "a", "1", "b"}),
                     X({"MSETNX", "x", "1", "y", "2"}),
                     X({"MSETNX", "x", "1", "z", "2"}),
                     X({"EXISTS", "z"}),
                     X({"MSETNX", "x"}),
                     X({"MSETNX", "x", "1", "z"}),
                     X({"MGET"}),
                     X({"MSET", "a", "1", "a", "2"}),
                     X({"GET", "a"}),
                     X({"SET", "t", "v", "EX", "100"}),
                     X({"MSET", "t", "w"}),
                     X({"TTL", "t"}),
                     X({"MGET", "t", "t", "nope"}),
                     X({"MSETNX", "n1", "a", "n1", "b"}),
                     X({"GET", "n1"}),
                     X({"mset", "p", "", "q", B("\0")}),
                     X({"MGET", "p", "q"}),
                 }});
    t.push_back({"del unlink exists",
                 {
                     X({"DEL", "missing"}),
                     X({"MSET", "a", "1", "b", "2", "c", "3"}),
                     X({"DEL", "a", "b", "x"}),
                     X({"EXISTS", "a", "b", "c", "c", "x"}),
                     X({"UNLINK", "c"}),
                     X({"UNLINK", "c", "c"}),
                     X({"DEL"}),
                     X({"EXISTS"}),
                     X({"UNLINK"}),
                     X({"SET", "a", "1"}),
                     X({"DEL", "a", "a"}),
                     X({"SET", "e", "v", "PXAT", "1"}),
                     X({"EXISTS", "e"}),
                     X({"DEL", "e"}),
                 }});
    t.push_back({"expire options",
                 {
                     X({"SET", "k", "v"}),
                     X({"EXPIRE", "k", "100"}),
                     X({"TTL", "k"}),
                     X({"EXPIRE", "missing", "100"}),
                     X({"EXPIRE", "k", "100", "NX"}),
                     X({"EXPIRE", "k", "200", "XX"}),
                     X({"TTL", "k"}),
                     X({"EXPIRE", "k", "100", "GT"}),
                     X({"EXPIRE", "k", "300", "GT"}),
                     X({"TTL", "k"}),
                     X({"EXPIRE", "k", "400", "LT"}),
                     X({"EXPIRE", "k", "100", "LT"}),
                     X({"TTL", "k"}),
                     X({"PERSIST", "k"}),
                     X({"EXPIRE", "k", "100", "XX"}),
                     X({"EXPIRE", "k", "100", "GT"}),
                     X({"EXPIRE", "k", "100", "LT"}),
                     X({"TTL", "k"}),
                     X({"PERSIST", "k"}),
                     X({"EXPIRE", "k", "100", "NX"}),
                     X({"TTL", "k"}),
                     X({"EXPIRE", "k", "100", "NX", "XX"}),
                     X({"EXPIRE", "k", "100", "NX", "GT"}),
                     X({"EXPIRE", "k", "100", "NX", "LT"}),
                     X({"EXPIRE", "k", "100", "GT", "LT"}),
                     X({"EXPIRE", "k", "500", "XX", "GT"}),
                     X({"TTL", "k"}),
                     X({"EXPIRE", "k", "50", "xx", "lt"}),
                     X({"TTL", "k"}),
                     X({"EXPIRE", "k", "10", "foo"}),
                     X({"EXPIRE", "k", "abc"}),
                     X({"EXPIRE", "k", "abc", "foo"}),
                     X({"EXPIRE", "k", "abc", "NX", "XX"}),
                     X({"EXPIRE", "k", "10", B("gt\0x")}),
                     X({"TTL", "k"}),
                     X({"EXPIRE", "k", "10", B("foo\0bar")}),
                     X({"EXPIRE", "k", "10", "a\r\nb"}),
                     X({"EXPIRE", "k", "10", "NX", "NX"}),
                     X({"EXPIRE", "k", "-1", "GT"}),
                     X({"EXISTS", "k"}),
                     X({"EXPIRE", "k", "-1", "LT"}),
                     X({"EXISTS", "k"}),
                     X({"EXPIRE"}),
                     X({"EXPIRE", "k"}),
                     X({"PEXPIRE", "k"}),
                     X({"EXPIREAT", "k"}),
                     X({"PEXPIREAT"}),
                     X({"PEXPIRE", "k", "10", "bar"}),
                     X({"EXPIREAT", "k", "10", "GT", "LT"}),
                 }});
    t.push_back({"expire ranges and deletion",
                 {
                     X({"SET", "k", "v"}),
                     X({"EXPIRE", "k", "9223372036854775807"}),
                     X({"EXPIRE", "k", "-9223372036854775808"}),
                     X({"EXPIRE", "k", "9223372036854775"}),
                     X({"EXPIRE", "k", "9223372036854774"}),
                     X({"PEXPIRE", "k", "9223372036854775807"}),
                     X({"EXPIREAT", "k", "9223372036854775807"}),
                     X({"PEXPIREAT", "k", "9223372036854775807"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"TTL", "k"}),
                     X({"EXPIREAT", "k", future_s}),
                     X({"EXPIRETIME", "k"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"PEXPIREAT", "k", "4102444800999"}),
                     X({"EXPIRETIME", "k"}),
                     X({"EXPIREAT", "k", "9223372036854775808"}),
                     X({"EXPIREAT", "k", "9223372036854775"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"EXPIREAT", "k", "9223372036854776"}),
                     X({"PEXPIRE", "k", "100000"}),
                     N({"PTTL", "k"}),
                     X({"TTL", "k"}),
                     N({"PEXPIRETIME", "k"}),
                     N({"EXPIRETIME", "k"}),
                     X({"EXPIRE", "k", "0"}),
                     X({"EXISTS", "k"}),
                     X({"SET", "k", "v"}),
                     X({"EXPIRE", "k", "-10"}),
                     X({"GET", "k"}),
                     X({"SET", "k", "v"}),
                     X({"PEXPIREAT", "k", "1"}),
                     X({"GET", "k"}),
                     X({"SET", "k", "v"}),
                     X({"EXPIREAT", "k", "0"}),
                     X({"EXISTS", "k"}),
                     X({"SET", "k", "v"}),
                     X({"EXPIREAT", "k", "-9223372036854775"}),
                     X({"EXISTS", "k"}),
                     X({"SET", "k", "v"}),
                     X({"EXPIREAT", "k", "-9223372036854776"}),
                     X({"PEXPIREAT", "k", "-9223372036854775808"}),
                     X({"EXISTS", "k"}),
                     X({"SET", "k", "v"}),
                     // A TTL long enough that no run, however slow (ASan), sees the key
                     // expire between two commands: a 1 ms TTL raced the next EXISTS.
                     X({"pexpire", "k", "100000", "nx"}),
                     X({"pexpire", "k", "1", "nx"}),
                     X({"EXISTS", "k"}),
                 }});
    t.push_back({"persist and ttl",
                 {
                     X({"TTL", "k"}),
                     X({"PTTL", "k"}),
                     X({"EXPIRETIME", "k"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"PERSIST", "k"}),
                     X({"SET", "k", "v"}),
                     X({"TTL", "k"}),
                     X({"PTTL", "k"}),
                     X({"EXPIRETIME", "k"}),
                     X({"PEXPIRETIME", "k"}),
                     X({"PERSIST", "k"}),
                     X({"SET", "k", "v", "PX", "1400"}),
                     X({"TTL", "k"}),
                     X({"SET", "k", "v", "PX", "1700"}),
                     X({"TTL", "k"}),
                     X({"SET", "k", "v", "EX", "3"}),
                     X({"TTL", "k"}),
                     X({"PERSIST", "k"}),
                     X({"TTL", "k"}),
                     X({"PERSIST", "k"}),
                     X({"TTL"}),
                     X({"PTTL", "a", "b"}),
                     X({"EXPIRETIME"}),
                     X({"PEXPIRETIME", "a", "b"}),
                     X({"PERSIST"}),
                 }});
    t.push_back({"incr decr",
                 {
                     X({"INCR", "k"}),
                     X({"INCR", "k"}),
                     X({"DECR", "k"}),
                     X({"INCRBY", "k", "10"}),
                     X({"DECRBY", "k", "20"}),
                     X({"GET", "k"}),
                     X({"INCRBY", "k", "abc"}),
                     X({"INCRBY", "k", "1.5"}),
                     X({"INCRBY", "k", ""}),
                     X({"INCRBY", "k", " 1"}),
                     X({"INCRBY", "k", "+1"}),
                     X({"INCRBY", "k", "-0"}),
                     X({"INCRBY", "k", "0"}),
                     X({"SET", "k", "9223372036854775807"}),
                     X({"INCR", "k"}),
                     X({"INCRBY", "k", "-1"}),
                     X({"SET", "k", "-9223372036854775808"}),
                     X({"DECR", "k"}),
                     X({"DECRBY", "k", "1"}),
                     X({"INCRBY", "k", "-1"}),
                     X({"DECRBY", "x", "-9223372036854775808"}),
                     X({"INCRBY", "x", "-9223372036854775808"}),
                     X({"INCRBY", "x", "9223372036854775807"}),
                     X({"DECRBY", "y", "9223372036854775807"}),
                     X({"DECR", "y"}),
                     X({"DECR", "y"}),
                     X({"SET", "s", "abc"}),
                     X({"INCR", "s"}),
                     X({"SET", "s", "1 "}),
                     X({"INCR", "s"}),
                     X({"SET", "s", "01"}),
                     X({"INCR", "s"}),
                     X({"SET", "s", "+1"}),
                     X({"INCR", "s"}),
                     X({"SET", "s", "-0"}),
                     X({"INCR", "s"}),
                     X({"SET", "s", "12345678901234567890"}),
                     X({"INCR", "s"}),
                     X({"SET", "s", "1.0"}),
                     X({"INCR", "s"}),
                     X({"SET", "s", ""}),
                     X({"INCR", "s"}),
                     X({"SET", "t", "1", "EX", "100"}),
                     X({"INCR", "t"}),
                     X({"TTL", "t"}),
                     X({"DECRBY", "t", "5"}),
                     X({"TTL", "t"}),
                     X({"INCR"}),
                     X({"INCRBY", "k"}),
                     X({"DECRBY", "k", "1", "2"}),
                     X({"DECR", "a", "b"}),
                     X({"SET", "s", "-1"}),
                     X({"INCRBY", "s", "1"}),
                     X({"GET", "s"}),
                     X({"INCRBY", "s", "abc"}),
                     X({"SET", "bad", "x"}),
                     X({"INCRBY", "bad", "abc"}),
                     X({"SET", "e", "5", "PXAT", "1"}),
                     X({"INCR", "e"}),
                     X({"TTL", "e"}),
                 }});
    t.push_back({"incrbyfloat",
                 {
                     X({"INCRBYFLOAT", "f", "10.5"}),
                     X({"INCRBYFLOAT", "f", "0.1"}),
                     X({"INCRBYFLOAT", "f", "-5.0e3"}),
                     X({"GET", "f"}),
                     X({"INCRBYFLOAT", "f", "abc"}),
                     X({"INCRBYFLOAT", "f", ""}),
                     X({"INCRBYFLOAT", "f", " 1"}),
                     X({"INCRBYFLOAT", "f", "1 "}),
                     X({"INCRBYFLOAT", "f", "inf"}),
                     X({"INCRBYFLOAT", "f", "-inf"}),
                     X({"INCRBYFLOAT", "f", "nan"}),
                     X({"INCRBYFLOAT", "f", "1e"}),
                     X({"INCRBYFLOAT", "g", "1e400"}),
                     X({"INCRBYFLOAT", "g2", "1e5000"}),
                     X({"INCRBYFLOAT", "g3", "1e-5000"}),
                     X({"INCRBYFLOAT", "g4", "1e-4940"}),
                     X({"SET", "f", "3.0"}),
                     X({"INCRBYFLOAT", "f", "0"}),
                     X({"SET", "f", "5.0e3"}),
                     X({"INCRBYFLOAT", "f", "2.0e2"}),
                     X({"INCRBYFLOAT", "h", "0x10"}),
                     X({"INCRBYFLOAT", "h", "1.23456789012345678"}),
                     X({"INCRBYFLOAT", "h", "-17.23456789012345678"}),
                     X({"SET", "i", "10"}),
                     X({"INCRBYFLOAT", "i", "0.1"}),
                     X({"INCRBYFLOAT", "j", "3e40"}),
                     X({"INCRBYFLOAT", "j2", "-3e-10"}),
                     X({"INCRBYFLOAT", "j3", ".5"}),
                     X({"INCRBYFLOAT", "j4", "5."}),
                     X({"INCRBYFLOAT", "j5", "-0"}),
                     X({"INCRBYFLOAT", "j6", "-0.0"}),
                     X({"INCRBYFLOAT", "j7", "1.5"}),
                     X({"INCRBYFLOAT", "j7", "-1.5"}),
                     X({"INCRBYFLOAT", "j8", "0.1"}),
                     X({"INCRBYFLOAT", "j8", "0.2"}),
                     X({"INCRBYFLOAT", "j9", "1e17"}),
                     X({"INCRBYFLOAT", "j9", "1"}),
                     X({"INCRBYFLOAT", "j10", "123456789012345678901234567890"}),
                     X({"INCRBYFLOAT", "j11", "1.7976931348623157e308"}),
                     X({"INCRBYFLOAT", "j11", "1.7976931348623157e308"}),
                     X({"INCRBYFLOAT", "j12", B("1\0junk")}),
                     X({"SET", "t", "1", "EX", "100"}),
                     X({"INCRBYFLOAT", "t", "1.5"}),
                     X({"TTL", "t"}),
                     X({"INCRBYFLOAT", "k"}),
                     X({"SET", "s", "abc"}),
                     X({"INCRBYFLOAT", "s", "1"}),
                     X({"INCRBYFLOAT", "s", "abc"}),
                     X({"SET", "s", " 1"}),
                     X({"INCRBYFLOAT", "s", "1"}),
                     X({"SET", "s", "1e3"}),
                     X({"INCRBYFLOAT", "s", "1"}),
                     X({"INCRBYFLOAT", "big", "1e308"}),
                     X({"INCRBYFLOAT", "big", "1e308"}),
                     X({"INCRBYFLOAT", "nan", "inf"}),
                 }});
    t.push_back({"append strlen",
                 {
                     X({"APPEND", "k", ""}),
                     X({"EXISTS", "k"}),
                     X({"STRLEN", "k"}),
                     X({"APPEND", "k", "abc"}),
                     X({"APPEND", "k", "def"}),
                     X({"GET", "k"}),
                     X({"STRLEN", "k"}),
                     X({"STRLEN", "missing"}),
                     X({"SET", "t", "v", "EX", "100"}),
                     X({"APPEND", "t", "x"}),
                     X({"TTL", "t"}),
                     X({"GET", "t"}),
                     X({"APPEND", "k"}),
                     X({"STRLEN"}),
                     X({"STRLEN", "a", "b"}),
                     X({"SET", "n", "10"}),
                     X({"APPEND", "n", "5"}),
                     X({"GET", "n"}),
                     X({"INCR", "n"}),
                     X({"APPEND", "n", B("\0\r\n")}),
                     X({"STRLEN", "n"}),
                     X({"GET", "n"}),
                 }});
    t.push_back({"keys glob",
                 {
                     X({"KEYS", "*"}),
                     X({"MSET",     "hello", "1",     "hallo", "2",     "hxllo", "3",       "hllo",  "4",
                        "heeeello", "5",     "h*llo", "6",     "h?llo", "7",     "h[a]llo", "8",     "h\\llo",
                        "9",        "h]llo", "10",    "-",     "11",    "hbllo", "12",      "Hello", "13"}),
                     U({"KEYS", "h?llo"}),
                     U({"KEYS", "h*llo"}),
                     U({"KEYS", "h[ae]llo"}),
                     U({"KEYS", "h[^e]llo"}),
                     U({"KEYS", "h[a-b]llo"}),
                     U({"KEYS", "h[b-a]llo"}),
                     U({"KEYS", "h\\*llo"}),
                     U({"KEYS", "h\\?llo"}),
                     U({"KEYS", "*"}),
                     U({"KEYS", "nomatch"}),
                     U({"KEYS", ""}),
                     U({"KEYS", "[h"}),
                     U({"KEYS", "h[ae"}),
                     U({"KEYS", "*llo*"}),
                     U({"KEYS", "h\\"}),
                     U({"KEYS", "h\\\\llo"}),
                     U({"KEYS", "h[\\]]llo"}),
                     U({"KEYS", "[\\-]"}),
                     U({"KEYS", "[a\\-z]"}),
                     U({"KEYS", "h[]llo"}),
                     U({"KEYS", "h[^]llo"}),
                     U({"KEYS", "**"}),
                     U({"KEYS", "h**o"}),
                     U({"KEYS", "?"}),
                     U({"KEYS", "[^h]*"}),
                     U({"KEYS", "H*"}),
                     U({"KEYS", "*[l]"}),
                     U({"KEYS", "*o"}),
                     U({"KEYS", "h?*"}),
                     U({"KEYS", "[a-z]*"}),
                     U({"KEYS", "h[a-]llo"}),
                     X({"KEYS"}),
                     X({"KEYS", "a", "b"}),
                     X({"SET", "", "empty"}),
                     U({"KEYS", "*"}),
                     U({"KEYS", "**"}),
                     U({"KEYS", "?*"}),
                     U({"SCAN", "0", "MATCH", "**", "COUNT", "100"}),
                     X({"DEL", ""}),
                     X({"SET", "exp", "v", "PXAT", "1"}),
                     U({"KEYS", "ex*"}),
                 }});
    t.push_back({"scan",
                 {
                     X({"SCAN", "0"}),
                     X({"SCAN", "-1"}),
                     X({"SCAN", ""}),
                     X({"SCAN", "18446744073709551615"}),
                     X({"SCAN", "abc"}),
                     X({"SCAN", " 0"}),
                     X({"SCAN", "0x10"}),
                     X({"SCAN", "18446744073709551616"}),
                     X({"SCAN", "1.5"}),
                     X({"SCAN", "+0"}),
                     X({"SCAN", "-"}),
                     X({"MSET", "a1", "1", "a2", "2", "b1", "3", "b2", "4", "c", "5"}),
                     U({"SCAN", "0"}),
                     U({"SCAN", "0", "COUNT", "100"}),
                     U({"SCAN", "0", "MATCH", "a*", "COUNT", "100"}),
                     U({"SCAN", "0", "match", "*1", "count", "100"}),
                     U({"SCAN", "0", "TYPE", "string", "COUNT", "100"}),
                     U({"SCAN", "0", "TYPE", "STRING", "COUNT", "100"}),
                     U({"SCAN", "0", "TYPE", "hash", "COUNT", "100"}),
                     U({"SCAN", "0", "TYPE", "none", "COUNT", "100"}),
                     U({"SCAN", "0", "MATCH", "*", "COUNT", "100"}),
                     U({"SCAN", "0", "MATCH", "x*", "MATCH", "b*", "COUNT", "100"}),
                     U({"SCAN", "0", "COUNT", "9223372036854775807"}),
                     U({"SCAN", "0", "MATCH", "[ab]2", "TYPE", "string", "COUNT", "100"}),
                     X({"SCAN", "0", "COUNT", "0"}),
                     X({"SCAN", "0", "COUNT", "-1"}),
                     X({"SCAN", "0", "COUNT", "abc"}),
                     X({"SCAN", "0", "COUNT"}),
                     X({"SCAN", "0", "MATCH"}),
                     X({"SCAN", "0", "TYPE"}),
                     X({"SCAN", "0", "FOO", "bar"}),
                     X({"SCAN", "abc", "COUNT", "0"}),
                     X({"SCAN", "0", "COUNT", "0", "FOO"}),
                     X({"SCAN"}),
                 }});
    t.push_back({"type randomkey dbsize",
                 {
                     X({"TYPE", "k"}),
                     X({"RANDOMKEY"}),
                     X({"DBSIZE"}),
                     X({"SET", "k", "v"}),
                     X({"TYPE", "k"}),
                     X({"RANDOMKEY"}),
                     X({"DBSIZE"}),
                     X({"DEL", "k"}),
                     X({"RANDOMKEY"}),
                     X({"DBSIZE"}),
                     X({"MSET", "a", "1", "b", "2"}),
                     X({"DBSIZE"}),
                     X({"TYPE"}),
                     X({"TYPE", "a", "b"}),
                     X({"RANDOMKEY", "x"}),
                     X({"DBSIZE", "x"}),
                     X({"SET", "e", "v", "PXAT", "1"}),
                     X({"TYPE", "e"}),
                 }});
    t.push_back({"ping echo select time command",
                 {
                     X({"PING"}),
                     X({"PING", "hi"}),
                     X({"PING", ""}),
                     X({"PING", "a", "b"}),
                     X({"ping"}),
                     X({"ECHO", "x"}),
                     X({"ECHO", ""}),
                     X({"ECHO", B("a\0b")}),
                     X({"ECHO"}),
                     X({"ECHO", "a", "b"}),
                     X({"SELECT", "0"}),
                     X({"SELECT", "16"}),
                     X({"SELECT", "-1"}),
                     X({"SELECT", "abc"}),
                     X({"SELECT", "4294967296"}),
                     X({"SELECT", "2147483648"}),
                     X({"SELECT", "-2147483649"}),
                     X({"SELECT", "2147483647"}),
                     X({"SELECT"}),
                     X({"SELECT", "0", "1"}),
                     X({"SELECT", "00"}),
                     T({"TIME"}),
                     X({"TIME", "x"}),
                     X({"COMMAND", "COUNT"}),
                     X({"command", "count"}),
                     X({"COMMAND", "COUNT", "x"}),
                     X({"COMMAND", "nosuch"}),
                 }});
    t.push_back({"script load exists",
                 {
                     X({"SCRIPT", "LOAD", release_body}),
                     X({"SCRIPT", "LOAD", redlock_body}),
                     X({"SCRIPT", "EXISTS", rel, "C3F8721CBB97F72BC19E972846BD7AAF91901658", "nope", unknown_sha}),
                     X({"SCRIPT"}),
                     X({"SCRIPT", "LOAD"}),
                     X({"SCRIPT", "LOAD", "a", "b"}),
                     X({"SCRIPT", "EXISTS"}),
                     X({"SCRIPT", "foo"}),
                     X({"SCRIPT", "a\r\nb"}),
                     X({"script", "load", "return 1"}),
                     X({"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", ext, rea, red}),
                 }});
    t.push_back({"evalsha release",
                 {
                     X({"SET", "lock", "tok"}),
                     X({"EVALSHA", rel, "1", "lock", "bad"}),
                     X({"EVALSHA", rel, "1", "lock", "tok"}),
                     X({"GET", "lock"}),
                     X({"EVALSHA", rel, "1", "lock", "tok"}),
                     X({"EVALSHA", rel, "0"}),
                     X({"SET", "lock", "tok"}),
                     X({"EVALSHA", rel, "1", "lock"}),
                     X({"EVALSHA", rel, "x"}),
                     X({"EVALSHA", rel, "-1"}),
                     X({"EVALSHA", rel, "2", "a"}),
                     X({"EVALSHA", "abc", "0"}),
                     X({"EVALSHA", "abc", "x"}),
                     X({"EVALSHA", unknown_sha, "x"}),
                     X({"EVALSHA", unknown_sha, "0"}),
                     X({"EVALSHA", unknown_sha, "3", "a"}),
                     X({"EVALSHA"}),
                     X({"EVALSHA", rel}),
                     X({"EVALSHA", "C3F8721CBB97F72BC19E972846BD7AAF91901658", "1", "lock", "tok"}),
                     X({"EXISTS", "lock"}),
                     X({"SET", "lock", "tok"}),
                     X({"EVALSHA", rel, "2", "lock", "other", "tok"}),
                     X({"EXISTS", "lock"}),
                     X({"SET", "lock", B("t\0k")}),
                     X({"EVALSHA", rel, "1", "lock", "t"}),
                     X({"EVALSHA", rel, "1", "lock", B("t\0k")}),
                     X({"EVALSHA", rel, "1", "lock", "tok", "extra"}),
                 }});
    t.push_back({"evalsha extend",
                 {
                     X({"SET", "lock", "tok", "PX", "100000"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "50000", "0"}),
                     N({"PTTL", "lock"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "50000", "1"}),
                     N({"PTTL", "lock"}),
                     X({"EVALSHA", ext, "1", "lock", "bad", "1", "1"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "abc", "0"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "abc", "1"}),
                     X({"EVALSHA", ext, "1", "lock", "tok"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "1e20", "0"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "1.5", "1"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "", "0"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", " 100 ", "0"}),
                     N({"PTTL", "lock"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "0x10", "0"}),
                     N({"PTTL", "lock"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "10.5", "0"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "100", "2"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "60000"}),
                     N({"PTTL", "lock"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "9223372036854775807", "1"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "-200000", "0"}),
                     X({"EXISTS", "lock"}),
                     X({"SET", "lock", "tok"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "100", "0"}),
                     X({"EVALSHA", ext, "0"}),
                     X({"EVALSHA", ext, "1", "missing", "tok", "100", "0"}),
                 }});
    t.push_back({"evalsha reacquire",
                 {
                     X({"SET", "lock", "tok"}),
                     X({"EVALSHA", rea, "1", "lock", "tok", "30000"}),
                     N({"PTTL", "lock"}),
                     X({"EVALSHA", rea, "1", "lock", "bad", "30000"}),
                     X({"EVALSHA", rea, "1", "lock", "tok"}),
                     X({"EVALSHA", rea, "1", "lock", "tok", "abc"}),
                     X({"EVALSHA", rea, "1", "lock", "tok", "1.0"}),
                     X({"EVALSHA", rea, "1", "lock", "tok", "9223372036854775807"}),
                     X({"EVALSHA", rea, "1", "lock", "tok", "0"}),
                     X({"EXISTS", "lock"}),
                     X({"EVALSHA", rea, "0"}),
                     X({"EVALSHA", rea, "1", "missing", "tok", "1000"}),
                 }});
    t.push_back({"redlock unlock and eval",
                 {
                     X({"SET", "r", "x"}),
                     X({"EVALSHA", red, "1", "r", "y"}),
                     X({"EVALSHA", red, "1", "r", "x"}),
                     X({"EVALSHA", red, "1", "r", "x"}),
                     X({"EVALSHA", red, "0"}),
                     X({"SET", "r", "x"}),
                     X({"EVALSHA", red, "1", "r"}),
                     X({"EVAL", redlock_body, "1", "r", "x"}),
                     X({"EXISTS", "r"}),
                     X({"SET", "r", "x"}),
                     X({"EVAL", redlock_multiline_body, "1", "r", "x"}),
                     X({"EVAL", redlock_multiline_body, "0"}),
                     X({"EVAL", release_body, "1", "r", "x"}),
                     X({"SET", "lock", "tok", "EX", "100"}),
                     X({"EVAL", extend_body, "1", "lock", "tok", "100000", "1"}),
                     X({"TTL", "lock"}),
                     X({"EVAL", reacquire_body, "1", "lock", "tok", "200000"}),
                     X({"TTL", "lock"}),
                     X({"EVAL", release_body, "x"}),
                     X({"EVAL", release_body, "5", "a"}),
                     X({"EVAL", release_body, "-1"}),
                     X({"EVAL", release_body}),
                     X({"EVAL"}),
                     X({"eval", release_body, "1", "lock", "tok"}),
                     X({"EXISTS", "lock"}),
                 }});
    t.push_back({"expired keys behave as missing",
                 {
                     X({"SET", "k", "v", "PXAT", "1"}),
                     X({"GET", "k"}),
                     X({"SET", "k", "v", "PXAT", "1"}),
                     X({"TTL", "k"}),
                     X({"SET", "k", "v", "EXAT", "1"}),
                     X({"EXISTS", "k"}),
                     X({"SET", "k", "v", "PXAT", "1"}),
                     X({"SET", "k", "v", "NX"}),
                     X({"SET", "k", "v", "PXAT", "1"}),
                     X({"SET", "k", "v2", "XX"}),
                     X({"GET", "k"}),
                     X({"SET", "i", "5", "PXAT", "1"}),
                     X({"INCR", "i"}),
                     X({"SET", "a", "x", "PXAT", "1"}),
                     X({"APPEND", "a", "y"}),
                     X({"GET", "a"}),
                     X({"SET", "g", "x", "PXAT", "1"}),
                     X({"GETSET", "g", "y"}),
                     X({"SET", "m", "x", "PXAT", "1"}),
                     X({"MSETNX", "m", "1"}),
                     X({"SET", "e", "x", "PXAT", "1"}),
                     X({"EXPIRE", "e", "100"}),
                     X({"SET", "p", "x", "PXAT", "1"}),
                     X({"PERSIST", "p"}),
                     X({"SET", "s", "x", "PXAT", "1"}),
                     X({"STRLEN", "s"}),
                     X({"SET", "t", "x", "PXAT", "1"}),
                     X({"TYPE", "t"}),
                     X({"SET", "d", "x", "PXAT", "1"}),
                     X({"DEL", "d"}),
                     X({"SET", "gd", "x", "PXAT", "1"}),
                     X({"GETDEL", "gd"}),
                     X({"SET", "ge", "x", "PXAT", "1"}),
                     X({"GETEX", "ge", "PERSIST"}),
                     X({"SET", "mg", "x", "PXAT", "1"}),
                     X({"MGET", "mg", "k"}),
                     X({"SET", "f", "1.5", "PXAT", "1"}),
                     X({"INCRBYFLOAT", "f", "1"}),
                     X({"SET", "sg", "old", "PXAT", "1"}),
                     X({"SET", "sg", "new", "GET"}),
                     X({"SET", "lock", "tok", "PXAT", "1"}),
                     X({"EVALSHA", rel, "1", "lock", "tok"}),
                     X({"SET", "lock", "tok", "PXAT", "1"}),
                     X({"EVALSHA", ext, "1", "lock", "tok", "100", "1"}),
                     X({"SET", "lock", "tok", "PXAT", "1"}),
                     X({"EVALSHA", red, "1", "lock", "tok"}),
                 }});
    // What the sidecar refuses by design while Redis is down. Redis never sees the O steps, so
    // the X steps around them check that nothing else changed (still database 0, nothing wiped).
    // The script loaded here stays in the sidecar's script state: the sidecar target restarts.
    const std::string select_refused = error_reply(down_errors::select_other_db);
    const std::string script_refused = error_reply(down_errors::unknown_script);
    t.push_back({"intended differences while down",
                 {
                     X({"SET", "k", "v"}),
                     O(select_refused, {"SELECT", "1"}),
                     O(select_refused, {"select", "15"}),
                     X({"SELECT", "16"}),
                     X({"GET", "k"}),
                     O(flush_refused("flushall"), {"FLUSHALL"}),
                     O(flush_refused("flushall"), {"flushall", "ASYNC"}),
                     O(flush_refused("flushdb"), {"FLUSHDB"}),
                     X({"GET", "k"}),
                     X({"DBSIZE"}),
                     O(script_refused, {"EVAL", "return 1", "0"}),
                     O(script_refused, {"EVAL", "return redis.call('get', KEYS[1])", "1", "k"}),
                     X({"SCRIPT", "LOAD", "return 1"}),
                     O(script_refused, {"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}),
                     O(not_served("hset"), {"HSET", "h", "f", "v"}),
                     O(not_served("lpush"), {"LPush", "l", "x"}),
                     X({"EXISTS", "h", "l"}),
                 }});
    return t;
}

// -- A minimal RESP client -------------------------------------------------------------------------

std::string encode(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
}

// One TCP connection; replies are framed with protocol::reply_framer. Reads give up after a few
// seconds, so a server that never answers fails the test instead of hanging it.
class redis_client {
public:
    redis_client() = default;
    redis_client(const redis_client&) = delete;
    redis_client& operator=(const redis_client&) = delete;
    ~redis_client() { disconnect(); }

    bool connect_to(int port) {
        disconnect();
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            disconnect();
            return false;
        }
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        timeval timeout{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        return true;
    }

    void disconnect() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        buffer_.clear();
        framer_.reset();
        eof_ = false;
    }

    bool send_raw(std::string_view bytes) {
        for (std::size_t sent = 0; sent < bytes.size();) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    // The next complete reply; nothing when the connection closed, timed out or is not RESP.
    std::optional<std::string> read_reply() {
        for (;;) {
            const protocol::frame_result r = framer_.next(buffer_);
            if (r.status == protocol::frame_status::complete) {
                std::string reply = buffer_.substr(0, r.length);
                buffer_.erase(0, r.length);
                return reply;
            }
            if (r.status == protocol::frame_status::error || !receive()) return std::nullopt;
        }
    }

    // Sends one command and returns the complete reply bytes; empty on a broken connection.
    std::string command(const std::vector<std::string>& args) {
        if (!send_raw(encode(args))) return {};
        return read_reply().value_or("");
    }

    // True when the peer closed the connection with nothing more to read.
    bool closed_by_peer() {
        while (buffer_.empty() && !eof_ && receive()) {
        }
        return buffer_.empty() && eof_;
    }

    // Bytes received but not framed as a reply.
    const std::string& pending() const { return buffer_; }

private:
    bool receive() {
        char chunk[16384];
        ssize_t n;
        do {
            n = ::recv(fd_, chunk, sizeof(chunk), 0);
        } while (n < 0 && errno == EINTR);
        // A server that closes with input still unread (after QUIT, say) resets the connection.
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) eof_ = true;
        if (n <= 0) return false;
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool eof_ = false;
    std::string buffer_;
    protocol::reply_framer framer_;
};

// -- Child processes on free ports, each in a temporary directory ---------------------------------

// True when nothing is bound to `port` on 127.0.0.1 (0: any port; `port` then says which).
bool bind_loopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    port = ntohs(addr.sin_port);
    return bound;
}

// A port below the kernel's ephemeral range, as tests/integration/harness.py's free_port picks
// them: bind(0) draws from the range every outgoing connection of the tests running in parallel
// takes its local port from, so such a port can be taken before the server binds it.
int free_port() {
    int ephemeral_low = 32768;
    if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> ephemeral_low;
    static std::set<int> handed_out;
    static unsigned seed = static_cast<unsigned>(::getpid());
    const int first = 10000, span = ephemeral_low - first;
    for (int attempt = 0; span > 1000 && attempt < 200; ++attempt) {
        int port = first + static_cast<int>(::rand_r(&seed) % static_cast<unsigned>(span));
        if (handed_out.count(port) == 0 && bind_loopback(port)) {
            handed_out.insert(port);
            return port;
        }
    }
    int any = 0;
    bind_loopback(any);
    return any;
}

class child_process {
public:
    child_process() = default;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() { stop(); }

    // Runs `argv` with its output in `<dir>/<log_name>`; `{dir}` in an argument is replaced by
    // the temporary directory.
    bool start(std::vector<std::string> argv, const std::string& log_name) {
        stop();
        char dir_template[] = "/tmp/local_differential_XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) return false;
        dir_ = dir_template;
        log_ = dir_ + "/" + log_name;
        for (std::string& a : argv)
            if (a == "{dir}") a = dir_;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test binary that crashed
            const int log = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (log >= 0) {
                ::dup2(log, 1);
                ::dup2(log, 2);
            }
            std::vector<char*> raw;
            for (std::string& a : argv) raw.push_back(a.data());
            raw.push_back(nullptr);
            ::execv(raw[0], raw.data());
            std::_Exit(127);
        }
        return pid_ > 0;
    }

    bool running() {
        if (pid_ <= 0) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
        exit_status_ = status;
        pid_ = -1;
        return false;
    }

    // How the process ended, for the report of a crash.
    std::string exit_description() const {
        if (WIFSIGNALED(exit_status_)) return "killed by signal " + std::to_string(WTERMSIG(exit_status_));
        return "exited with status " + std::to_string(WEXITSTATUS(exit_status_));
    }

    std::string log_tail() const {
        std::ifstream in(log_);
        std::stringstream text;
        text << in.rdbuf();
        const std::string all = text.str();
        return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
    }

    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            for (int i = 0; i < 300 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (pid_ > 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, nullptr, 0);
            }
            pid_ = -1;
        }
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
            dir_.clear();
        }
    }

private:
    pid_t pid_ = -1;
    int exit_status_ = 0;
    std::string dir_;
    std::string log_;
};

// Connects `client` to `port`, retrying while the process starts.
bool connect_when_ready(redis_client& client, int port, child_process& process) {
    for (int attempt = 0; attempt < 250; ++attempt) {
        if (client.connect_to(port) && client.command({"PING"}) == "+PONG\r\n") return true;
        if (!process.running()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// -- Comparison ----------------------------------------------------------------------------------

std::string printable(const std::string& bytes) {
    std::string out;
    for (unsigned char c : bytes) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c >= 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "\\x%02x", c);
            out += hex;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

// Parses one RESP2 element at `pos` into a canonical text where arrays made only of bulk strings
// are sorted; false when the bytes are not RESP2.
bool canonical(const std::string& s, std::size_t& pos, std::string& out) {
    const std::size_t eol = s.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    const char type = s[pos];
    const std::string line = s.substr(pos + 1, eol - pos - 1);
    pos = eol + 2;
    if (type == '$') {
        const long long n = std::atoll(line.c_str());
        if (n < 0) {
            out += "nil;";
            return true;
        }
        out += "$" + s.substr(pos, static_cast<std::size_t>(n)) + ";";
        pos += static_cast<std::size_t>(n) + 2;
        return true;
    }
    if (type == '*') {
        const long long n = std::atoll(line.c_str());
        std::vector<std::string> items;
        bool all_bulk = true;
        for (long long i = 0; i < n; ++i) {
            std::string item;
            all_bulk = all_bulk && s[pos] == '$';
            if (!canonical(s, pos, item)) return false;
            items.push_back(item);
        }
        if (all_bulk) std::sort(items.begin(), items.end());
        out += "[";
        for (const std::string& item : items) out += item;
        out += "]";
        return true;
    }
    out += std::string(1, type) + line + ";";
    return true;
}

bool parse_integer_reply(const std::string& reply, long long& value) {
    if (reply.size() < 4 || reply[0] != ':') return false;
    value = std::atoll(reply.c_str() + 1);
    return true;
}

bool time_seconds(const std::string& reply, long long& seconds) {
    std::size_t pos = 0;
    std::string text;
    if (reply.rfind("*2\r\n$", 0) != 0 || !canonical(reply, pos, text)) return false;
    const std::size_t first = reply.find("\r\n", 4) + 2;
    seconds = std::atoll(reply.c_str() + first);
    return pos == reply.size() && seconds > 0;
}

bool replies_match(compare_mode mode, const std::string& expected, const std::string& actual) {
    switch (mode) {
        case compare_mode::exact:
        case compare_mode::own:
            return expected == actual;
        case compare_mode::unordered: {
            std::size_t p1 = 0;
            std::size_t p2 = 0;
            std::string c1;
            std::string c2;
            return canonical(expected, p1, c1) && canonical(actual, p2, c2) && c1 == c2;
        }
        case compare_mode::near: {
            long long a = 0;
            long long b = 0;
            if (!parse_integer_reply(expected, a) || !parse_integer_reply(actual, b)) return expected == actual;
            return (a < 0) == (b < 0) && std::llabs(a - b) <= 250;
        }
        case compare_mode::time: {
            long long a = 0;
            long long b = 0;
            return time_seconds(expected, a) && time_seconds(actual, b) && std::llabs(a - b) <= 2;
        }
    }
    return false;
}

// printable(), cut to a readable length for reports.
std::string shown(const std::string& bytes) {
    if (bytes.size() <= 400) return printable(bytes);
    return printable(bytes.substr(0, 300)) + "... (" + std::to_string(bytes.size()) + " bytes)";
}

std::string describe(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& a : args) out += (out.empty() ? "" : " ") + ("'" + printable(a) + "'");
    return out;
}

// The bulk strings of a flat array reply (KEYS); false when it is not one.
bool bulk_array(const std::string& reply, std::vector<std::string>& items) {
    if (reply.empty() || reply[0] != '*') return false;
    std::size_t eol = reply.find("\r\n");
    const long n = std::atol(reply.c_str() + 1);
    std::size_t pos = eol + 2;
    for (long i = 0; i < n; ++i) {
        if (pos >= reply.size() || reply[pos] != '$') return false;
        eol = reply.find("\r\n", pos);
        const std::size_t len = std::strtoul(reply.c_str() + pos + 1, nullptr, 10);
        items.push_back(reply.substr(eol + 2, len));
        pos = eol + 2 + len + 2;
    }
    return pos == reply.size();
}

// -- The shared redis-server, and what the table runs against ------------------------------------

std::string redis_binary = "/usr/bin/redis-server";
std::string sidecar_binary;  // empty: the sidecar tests are skipped

child_process* redis_process = nullptr;
int redis_port = 0;
redis_client* redis = nullptr;

// Every known script is loaded into Redis so that EVALSHA finds it, as it would have been before
// the outage; the engine knows them by heart.
bool reset_redis() {
    bool ok = redis->command({"FLUSHALL"}) == "+OK\r\n" && redis->command({"SCRIPT", "FLUSH"}) == "+OK\r\n";
    for (const std::string* body :
         {&release_body, &extend_body, &reacquire_body, &redlock_body, &redlock_multiline_body}) {
        ok = ok && redis->command({"SCRIPT", "LOAD", *body}).rfind("$40\r\n", 0) == 0;
    }
    return ok;
}

/// What Redis's replies are compared with.
class target {
public:
    virtual ~target() = default;
    virtual const char* label() const = 0;
    /// Before each sequence: an empty store, known scripts only. False (with `why`) on failure.
    virtual bool reset(std::string& why) = 0;
    /// The complete reply; empty when none came (the connection broke).
    virtual std::string command(const std::vector<std::string>& args) = 0;
};

/// A fresh in-process engine per sequence.
class engine_target final : public target {
public:
    const char* label() const override { return "engine"; }
    bool reset(std::string&) override {
        engine_ = std::make_unique<engine>();
        return true;
    }
    std::string command(const std::vector<std::string>& args) override {
        const std::vector<std::string_view> views(args.begin(), args.end());
        std::string out;
        engine_->execute(views, out);
        return out;
    }

private:
    std::unique_ptr<engine> engine_ = std::make_unique<engine>();
};

bool equals_ci(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

/// The redis-sidecar binary with its upstream down, over one client connection. Between sequences
/// every key is deleted (FLUSHALL is refused while down); after a sequence that loaded or ran a
/// script the process restarts, since its script state has no reset.
class sidecar_target final : public target {
public:
    const char* label() const override { return "sidecar"; }

    bool start(std::string& why) {
        client_.disconnect();
        port_ = free_port();
        if (dead_upstream_port_ == 0) dead_upstream_port_ = free_port();
        while (dead_upstream_port_ == port_) dead_upstream_port_ = free_port();
        ++starts_;
        if (!process_.start({sidecar_binary, "--listen", "127.0.0.1:" + std::to_string(port_), "--upstream",
                             "127.0.0.1:" + std::to_string(dead_upstream_port_), "--data-dir", "{dir}",
                             // The table's keys are of no class: answered locally, as Redis would.
                             "--default-keys-while-down", "ephemeral", "--log-level", "warn"},
                            "sidecar.log")) {
            why = "cannot start " + sidecar_binary;
            return false;
        }
        if (!connect_when_ready(client_, port_, process_)) {
            why = "the sidecar does not answer PING on port " + std::to_string(port_) + status();
            return false;
        }
        const std::string info = client_.command({"INFO", "sidecar"});
        if (info.find("mode:down\r\n") == std::string::npos) {
            why = "the sidecar does not say its upstream is down: " + printable(info);
            return false;
        }
        restart_ = false;
        return true;
    }

    bool reset(std::string& why) override {
        if (restart_ || !process_.running()) return start(why);
        for (int attempt = 0;; ++attempt) {
            std::vector<std::string> keys;
            const std::string listed = client_.command({"KEYS", "*"});
            if (!bulk_array(listed, keys)) {
                why = "KEYS * answered " + printable(listed) + status();
                return false;
            }
            for (std::size_t first = 0; first < keys.size(); first += 200) {
                std::vector<std::string> del{"DEL"};
                const std::size_t last = std::min(keys.size(), first + 200);
                del.insert(del.end(), keys.begin() + static_cast<std::ptrdiff_t>(first),
                           keys.begin() + static_cast<std::ptrdiff_t>(last));
                const std::string deleted = client_.command(del);
                if (deleted.empty() || deleted[0] != ':') {
                    why = "DEL answered " + printable(deleted) + status();
                    return false;
                }
            }
            // Keys expired but not yet reclaimed still count in DBSIZE, as in Redis: the active
            // expiry cycle (10 a second) reclaims them.
            const std::string size = client_.command({"DBSIZE"});
            if (size == ":0\r\n") return true;
            if (attempt == 20) {
                why = "DBSIZE is still " + printable(size) + " after deleting every key";
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    std::string command(const std::vector<std::string>& args) override {
        if (!args.empty() && (equals_ci(args[0], "script") || equals_ci(args[0], "eval"))) restart_ = true;
        std::string reply = client_.command(args);
        if (reply.empty()) restart_ = true;  // the next sequence gets a new process
        return reply;
    }

    int port() const { return port_; }
    int starts() const { return starts_; }

    // Whether the process still runs, and its log: for failure reports.
    std::string status() {
        if (process_.running()) return "";
        return " (the sidecar " + process_.exit_description() + "; log: " + process_.log_tail() + ")";
    }

private:
    child_process process_;
    redis_client client_;
    int port_ = 0;
    int dead_upstream_port_ = 0;
    int starts_ = 0;
    bool restart_ = true;
};

sidecar_target* the_sidecar(std::string& why) {
    static std::unique_ptr<sidecar_target> instance;
    static std::string start_error;
    if (!instance && start_error.empty()) {
        auto candidate = std::make_unique<sidecar_target>();
        if (candidate->start(start_error))
            instance = std::move(candidate);
        else if (start_error.empty())
            start_error = "cannot start the sidecar";
    }
    why = start_error;
    return instance.get();
}

// -- Running the table -----------------------------------------------------------------------------

struct run_totals {
    int commands = 0;
    int mismatches = 0;
};

void report_mismatch(const target& other, const std::string& where, const std::vector<std::string>& args,
                     const std::string& expected, const std::string& actual, bool own) {
    const std::string label = std::string(other.label()) + ":";
    ADD_FAILURE() << "MISMATCH [" << where << "] " << describe(args) << "\n  " << (own ? "intended: " : "redis:    ")
                  << shown(expected) << "\n  " << label << std::string(10 - label.size(), ' ')
                  << (actual.empty() ? "(no reply: connection closed or timed out)" : shown(actual));
}

void run_table(target& other, run_totals& totals) {
    for (const sequence& seq : build_table()) {
        ASSERT_TRUE(reset_redis()) << "cannot reset redis before '" << seq.name << "'";
        std::string why;
        ASSERT_TRUE(other.reset(why)) << "cannot reset the " << other.label() << " before '" << seq.name
                                      << "': " << why;
        for (const step& s : seq.steps) {
            std::string expected = s.expected;
            if (s.mode != compare_mode::own) {
                expected = redis->command(s.args);
                ASSERT_FALSE(expected.empty()) << "lost the connection to redis at " << describe(s.args);
            }
            const std::string actual = other.command(s.args);
            ++totals.commands;
            if (!replies_match(s.mode, expected, actual)) {
                ++totals.mismatches;
                report_mismatch(other, seq.name, s.args, expected, actual, s.mode == compare_mode::own);
                if (actual.empty()) break;  // the rest of the sequence has no connection to run on
            }
        }
    }
}

// SCAN loops with small COUNTs against a larger keyspace: the cursors differ (hash order), but the
// set of keys returned must be the same.
void scan_loops_agree(target& other, run_totals& totals) {
    ASSERT_TRUE(reset_redis());
    std::string why;
    ASSERT_TRUE(other.reset(why)) << why;
    auto run_both = [&](const std::vector<std::string>& args) {
        ++totals.commands;
        std::string expected = redis->command(args);
        return std::make_pair(std::move(expected), other.command(args));
    };
    for (int i = 0; i < 600; ++i) {
        const std::string key = "k:" + std::to_string(i);
        const auto replies = run_both({"SET", key, "v"});
        ASSERT_EQ(replies.first, "+OK\r\n");
        ASSERT_EQ(replies.second, "+OK\r\n") << other.label() << " at SET " << key;
    }
    for (const auto& [pattern, count] : {std::pair{"*", "7"}, std::pair{"k:1*", "3"}, std::pair{"k:?5", "50"}}) {
        std::set<std::string> seen[2];
        for (int side = 0; side < 2; ++side) {
            std::string cursor = "0";
            int rounds = 0;
            do {
                const auto replies = run_both({"SCAN", cursor, "MATCH", pattern, "COUNT", count});
                const std::string& reply = side == 0 ? replies.first : replies.second;
                // [cursor, [keys...]]
                ASSERT_EQ(reply.rfind("*2\r\n$", 0), 0u) << (side == 0 ? "redis" : other.label())
                                                          << " answered SCAN with " << printable(reply);
                std::size_t pos = 4;
                std::size_t eol = reply.find("\r\n", pos);
                const std::size_t len = std::stoul(reply.substr(pos + 1, eol - pos - 1));
                cursor = reply.substr(eol + 2, len);
                pos = eol + 2 + len + 2;
                std::vector<std::string> keys;
                ASSERT_TRUE(bulk_array(reply.substr(pos), keys)) << printable(reply);
                seen[side].insert(keys.begin(), keys.end());
                ASSERT_LT(++rounds, 10000) << "SCAN never returns cursor 0";
            } while (cursor != "0");
        }
        if (seen[0] != seen[1] || seen[0].empty()) {
            ++totals.mismatches;
            ADD_FAILURE() << "MISMATCH scan loop MATCH " << pattern << ": redis returned " << seen[0].size()
                          << " keys, " << other.label() << " " << seen[1].size();
        }
    }
    const auto keys = run_both({"KEYS", "k:2?"});
    if (!replies_match(compare_mode::unordered, keys.first, keys.second)) {
        ++totals.mismatches;
        report_mismatch(other, "KEYS over 600 keys", {"KEYS", "k:2?"}, keys.first, keys.second, false);
    }
}

void run_everything(target& other) {
    run_totals totals;
    const std::size_t sequences = build_table().size();
    run_table(other, totals);
    if (!::testing::Test::HasFatalFailure()) scan_loops_agree(other, totals);
    std::cout << other.label() << ": " << sequences << " sequences + scan loops, " << totals.commands
              << " commands compared, " << totals.mismatches << " mismatches\n";
}

#define REQUIRE_SIDECAR(name)                                  \
    if (sidecar_binary.empty()) GTEST_SKIP() << "no sidecar binary given"; \
    std::string start_error;                                   \
    sidecar_target* name = the_sidecar(start_error);           \
    ASSERT_NE(name, nullptr) << start_error

// -- Raw exchanges: the same bytes to Redis and to the sidecar --------------------------------------

struct exchange_result {
    std::vector<std::string> replies;
    bool closed = false;  ///< the server closed the connection after the replies
    std::string leftover;  ///< bytes after the last reply that are not a complete reply
};

// Connects to `port`, sends `writes` one after another (pausing `pause` between them), then reads
// `replies` replies and, when `check_close`, whether the server then closes the connection.
exchange_result exchange(int port, const std::vector<std::string>& writes, std::size_t replies, bool check_close,
                         std::chrono::microseconds pause = std::chrono::microseconds(0)) {
    exchange_result result;
    redis_client client;
    if (!client.connect_to(port)) return result;
    // Written from a thread of its own, so that a server that answers a large pipeline while it
    // still arrives never waits for a client that is still writing.
    std::thread writer([&] {
        for (const std::string& w : writes) {
            if (!client.send_raw(w)) break;
            if (pause.count() > 0) std::this_thread::sleep_for(pause);
        }
    });
    struct joiner {
        std::thread& t;
        ~joiner() { t.join(); }
    } join_writer{writer};
    for (std::size_t i = 0; i < replies; ++i) {
        std::optional<std::string> reply = client.read_reply();
        if (!reply) break;
        result.replies.push_back(std::move(*reply));
    }
    if (check_close) result.closed = client.closed_by_peer();
    result.leftover = client.pending();
    return result;
}

// Both servers start from an empty keyspace.
void reset_both(sidecar_target& sidecar) {
    ASSERT_TRUE(reset_redis());
    std::string why;
    ASSERT_TRUE(sidecar.reset(why)) << why;
}

void expect_same_exchange(const std::string& name, const exchange_result& redis_side,
                          const exchange_result& sidecar_side, std::size_t replies) {
    EXPECT_EQ(redis_side.replies.size(), replies) << name << ": redis itself did not answer as expected";
    const std::size_t n = std::max(redis_side.replies.size(), sidecar_side.replies.size());
    for (std::size_t i = 0; i < n; ++i) {
        const std::string r = i < redis_side.replies.size() ? redis_side.replies[i] : "(none)";
        const std::string s = i < sidecar_side.replies.size() ? sidecar_side.replies[i] : "(none)";
        EXPECT_TRUE(r == s) << "MISMATCH [" << name << "] reply " << i << "\n  redis:   " << shown(r)
                            << "\n  sidecar: " << shown(s);
        if (r != s) break;  // the rest would only repeat the shift
    }
    EXPECT_EQ(redis_side.closed, sidecar_side.closed)
        << name << ": redis " << (redis_side.closed ? "closed" : "kept") << " the connection, the sidecar "
        << (sidecar_side.closed ? "closed" : "kept") << " it";
    EXPECT_EQ(shown(redis_side.leftover), shown(sidecar_side.leftover)) << name << ": bytes after the replies";
}

void compare_exchange(sidecar_target& sidecar, const std::string& name, const std::vector<std::string>& writes,
                      std::size_t replies, bool check_close,
                      std::chrono::microseconds pause = std::chrono::microseconds(0)) {
    reset_both(sidecar);
    if (::testing::Test::HasFatalFailure()) return;
    const exchange_result from_redis = exchange(redis_port, writes, replies, check_close, pause);
    const exchange_result from_sidecar = exchange(sidecar.port(), writes, replies, check_close, pause);
    expect_same_exchange(name, from_redis, from_sidecar, replies);
}

}  // namespace

// -- The tests -------------------------------------------------------------------------------------

TEST(LocalDifferential, EngineMatchesRedis) {
    engine_target local;
    run_everything(local);
}

TEST(LocalDifferential, SidecarDownMatchesRedis) {
    REQUIRE_SIDECAR(sidecar);
    run_everything(*sidecar);
    std::cout << "sidecar: " << sidecar->starts() << " process start(s)\n";
}

TEST(SidecarDownProtocol, InlineCommands) {
    REQUIRE_SIDECAR(sidecar);
    compare_exchange(*sidecar, "inline commands",
                     {"SET a b\r\n",
                      "GET a\r\n",
                      "set   spaced    out  \r\n",
                      "GET spaced\n",
                      "SET q \"hello world\"\r\n",
                      "GET q\r\n",
                      "SET e \"a\\x41\\n\\t\\\\\\\"z\"\r\n",
                      "GET e\r\n",
                      "SET s 'single \"quoted\"'\r\n",
                      "GET s\r\n",
                      "\r\n\n   \r\nPING\r\n",
                      "ECHO \"\"\r\n",
                      "INCR n\r\nINCR n\r\nincrby n 40\r\nGET n\r\n",
                      "EXPIRE a 100\r\nTTL a\r\n",
                      "get a b\r\n",
                      "GET a\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\nSTRLEN a\r\n",
                      "MGET a q missing\r\n",
                      "DEL a q e s\r\n",
                      "ECHO \"\\xzz\\q\\x4\"\r\n",
                      "SET 'it\\'s' \"\\x41\\x6a\"\r\n",
                      "GET \"it's\"\r\n",
                      "PING\r\r\n",
                      "\tECHO\t\tab\t\r\n",
                      "*0\r\n*-1\r\nPING\r\n"},
                     30, false);
}

TEST(SidecarDownProtocol, ProtocolErrorsClose) {
    REQUIRE_SIDECAR(sidecar);
    compare_exchange(*sidecar, "unbalanced quotes", {"PING\r\nSET a \"b\r\nPING\r\n"}, 2, true);
    compare_exchange(*sidecar, "closing quote not followed by a space", {"SET a \"b\"c\r\n"}, 1, true);
    compare_exchange(*sidecar, "invalid multibulk length", {"PING\r\n*abc\r\n"}, 2, true);
    compare_exchange(*sidecar, "invalid bulk length", {"*1\r\n$-2\r\n"}, 1, true);
    compare_exchange(*sidecar, "expected $", {"*2\r\n$3\r\nGET\r\n:1\r\n"}, 1, true);
    compare_exchange(*sidecar, "non-numeric bulk length", {"*1\r\n$abc\r\n"}, 1, true);
    compare_exchange(*sidecar, "multibulk length over INT_MAX", {"*2147483648\r\n"}, 1, true);
    compare_exchange(*sidecar, "bulk length over proto-max-bulk-len", {"*1\r\n$536870913\r\n"}, 1, true);
    compare_exchange(*sidecar, "inline request over 64 KB", {"ECHO " + std::string(70000, 'a')}, 1, true);
    compare_exchange(*sidecar, "multibulk count line over 64 KB", {"*" + std::string(70000, '1')}, 1, true);
    compare_exchange(*sidecar, "bulk count line over 64 KB", {"*1\r\n$" + std::string(70000, '1')}, 1, true);
}

TEST(SidecarDownProtocol, LargeValuesAndPipelines) {
    REQUIRE_SIDECAR(sidecar);
    std::string big(3 * 1024 * 1024, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
    compare_exchange(*sidecar, "megabyte values",
                     {encode({"SET", "big", big}) + encode({"GET", "big"}) +
                      encode({"APPEND", "big", std::string(1024 * 1024, 'y')}) + encode({"STRLEN", "big"}) +
                      encode({"GET", "big"}) + encode({"GETDEL", "big"}) + encode({"EXISTS", "big"})},
                     7, false);
    // 20 MB of replies to 20,000 requests in one write: the sidecar pauses reading while a slow
    // client has much output pending, and must lose nothing.
    std::string payload = encode({"SET", "v", std::string(1000, 'v')});
    for (int i = 0; i < 20000; ++i) payload += i % 2 == 0 ? encode({"GET", "v"}) : "INCR n\r\n";
    compare_exchange(*sidecar, "20000 commands in one write", {payload}, 20001, false);
}

TEST(SidecarDownProtocol, PipelineInOneWrite) {
    REQUIRE_SIDECAR(sidecar);
    std::string payload;
    for (int i = 0; i < 200; ++i) {
        const std::string n = std::to_string(i);
        const std::string k = "k" + std::to_string(i % 5);
        switch (i % 20) {
            case 0: payload += encode({"SET", k, "v" + n}); break;
            case 1: payload += encode({"GET", "k" + std::to_string((i + 1) % 5)}); break;
            case 2: payload += encode({"INCR", "ctr"}); break;
            case 3: payload += encode({"APPEND", k, B("x\0\r\n")}); break;
            case 4: payload += encode({"MGET", "k0", "k1", "k2", "nokey"}); break;
            case 5: payload += encode({"DEL", "k" + std::to_string((i + 2) % 5)}); break;
            case 6: payload += encode({"EXISTS", "k0", "k1", "k2", "k3", "k4"}); break;
            case 7: payload += encode({"PING"}); break;
            case 8: payload += encode({"ECHO", "e" + n}); break;
            case 9: payload += encode({"SET", "t" + std::to_string(i % 3), "v", "EX", "100"}); break;
            case 10: payload += encode({"TTL", "t" + std::to_string(i % 3)}); break;
            case 11: payload += encode({"GET"}); break;
            case 12: payload += encode({"INCR", k}); break;
            case 13: payload += "ECHO inline" + n + "\r\n"; break;
            case 14: payload += encode({"STRLEN", k}); break;
            case 15: payload += encode({"DBSIZE"}); break;
            case 16: payload += encode({"PING", "p" + n}); break;
            case 17: payload += encode({"GETSET", k, n}); break;
            case 18: payload += encode({"SELECT", "0"}); break;
            default: payload += encode({"INCRBYFLOAT", "f", "0.5"}); break;
        }
    }
    compare_exchange(*sidecar, "200 commands in one write", {payload}, 200, false);
}

// The payload's replies are the same every time it runs, so every split can be compared with one
// run against Redis.
static const std::string split_payload = encode({"SET", "sp", B("v\r\n\0$*")}) + "GET sp\r\n" + encode({"ECHO", "hi"}) +
                                  encode({"DEL", "sp"}) + "PING\r\n" + encode({"PING", "x"});
constexpr std::size_t split_replies = 6;

TEST(SidecarDownProtocol, ByteByByte) {
    REQUIRE_SIDECAR(sidecar);
    std::vector<std::string> bytes;
    for (int round = 0; round < 3; ++round)
        for (char c : split_payload) bytes.push_back(std::string(1, c));
    compare_exchange(*sidecar, "one byte per write", bytes, 3 * split_replies, false, std::chrono::microseconds(200));
}

TEST(SidecarDownProtocol, SplitAtEveryPosition) {
    REQUIRE_SIDECAR(sidecar);
    reset_both(*sidecar);
    if (HasFatalFailure()) return;
    const exchange_result from_redis = exchange(redis_port, {split_payload}, split_replies, false);
    ASSERT_EQ(from_redis.replies.size(), split_replies);
    for (std::size_t at = 1; at < split_payload.size(); ++at) {
        const exchange_result from_sidecar =
            exchange(sidecar->port(), {split_payload.substr(0, at), split_payload.substr(at)}, split_replies, false,
                     std::chrono::microseconds(1000));
        expect_same_exchange("split at byte " + std::to_string(at), from_redis, from_sidecar, split_replies);
        if (HasFailure()) break;
    }
}

TEST(SidecarDownProtocol, PingEchoQuit) {
    REQUIRE_SIDECAR(sidecar);
    compare_exchange(*sidecar, "ping echo",
                     {"PING\r\n", encode({"PING", "hi"}), encode({"ping", ""}), encode({"ECHO", B("a\0b")}),
                      "ECHO \"a b\"\r\n", encode({"PING", "a", "b"}), encode({"ECHO"}), "echo\r\n"},
                     8, false);
    compare_exchange(*sidecar, "quit then more", {"PING\r\nQUIT\r\nPING\r\n"}, 2, true);
    compare_exchange(*sidecar, "quit multibulk", {encode({"QUIT"}), encode({"PING"})}, 1, true);
    compare_exchange(*sidecar, "quit with an argument", {encode({"quit", "extra"})}, 1, true);
    compare_exchange(*sidecar, "inline quit", {"quit\r\n"}, 1, true);
    compare_exchange(*sidecar, "client name",
                     {encode({"CLIENT", "GETNAME"}) + encode({"CLIENT", "SETNAME", "worker-1"}) +
                      encode({"CLIENT", "GETNAME"}) + encode({"CLIENT", "SETNAME", "a b"}) +
                      encode({"client", "setname", ""}) + encode({"CLIENT", "GETNAME"}) + encode({"CLIENT", "SETNAME"})},
                     7, false);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (argc > 1) redis_binary = argv[1];
    if (argc > 2) sidecar_binary = argv[2];
    child_process server;
    const int port = free_port();
    if (!server.start({redis_binary, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--dir", "{dir}", "--daemonize", "no"},
                      "redis.log")) {
        std::cerr << "cannot start " << redis_binary << "\n";
        return 2;
    }
    redis_client client;
    if (!connect_when_ready(client, port, server)) {
        std::cerr << "cannot connect to redis-server on port " << port << ": " << server.log_tail() << "\n";
        return 2;
    }
    redis_process = &server;
    redis = &client;
    redis_port = port;
    return RUN_ALL_TESTS();
}
