// Differential test of the local engine against a real redis-server: every command of a table of
// sequences goes to Redis over a socket and through a fresh engine, and the reply bytes must be
// identical (or, where Redis's own hash order or clock makes bytes differ, equal once normalised).
//
// Usage: local_differential_tests [path/to/redis-server]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <set>
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
};

struct step {
    compare_mode mode;
    std::vector<std::string> args;
};

struct sequence {
    std::string name;
    std::vector<step> steps;
};

step X(std::initializer_list<std::string> args) { return {compare_mode::exact, args}; }
step U(std::initializer_list<std::string> args) { return {compare_mode::unordered, args}; }
step N(std::initializer_list<std::string> args) { return {compare_mode::near, args}; }
step T(std::initializer_list<std::string> args) { return {compare_mode::time, args}; }

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
    return t;
}

// -- A minimal RESP client -------------------------------------------------------------------------

std::string encode(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
}

class redis_client {
public:
    bool connect_to(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return true;
        ::close(fd_);
        fd_ = -1;
        return false;
    }
    ~redis_client() {
        if (fd_ >= 0) ::close(fd_);
    }

    // Sends one command and returns the complete reply bytes; empty on a broken connection.
    std::string command(const std::vector<std::string>& args) {
        const std::string request = encode(args);
        for (std::size_t sent = 0; sent < request.size();) {
            const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return {};
            sent += static_cast<std::size_t>(n);
        }
        for (;;) {
            const protocol::frame_result r = framer_.next(buffer_);
            if (r.status == protocol::frame_status::complete) {
                std::string reply = buffer_.substr(0, r.length);
                buffer_.erase(0, r.length);
                return reply;
            }
            if (r.status == protocol::frame_status::error) return {};
            char chunk[16384];
            const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
            if (n <= 0) return {};
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_ = -1;
    std::string buffer_;
    protocol::reply_framer framer_;
};

// -- A redis-server of our own, on a free port in a temporary directory ---------------------------

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

class redis_server {
public:
    bool start(const std::string& binary) {
        char dir_template[] = "/tmp/local_differential_XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) return false;
        dir_ = dir_template;
        port_ = free_port();
        pid_ = ::fork();
        if (pid_ == 0) {
            const std::string port = std::to_string(port_);
            const std::string log = dir_ + "/redis.log";
            ::execl(binary.c_str(), binary.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", log.c_str(), "--daemonize", "no",
                    static_cast<char*>(nullptr));
            std::_Exit(127);
        }
        return pid_ > 0;
    }
    ~redis_server() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }
    int port() const { return port_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    std::string dir_;
};

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

std::string describe(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& a : args) out += (out.empty() ? "" : " ") + ("'" + printable(a) + "'");
    return out;
}

// Every known script is loaded into Redis so that EVALSHA finds it, as it would have been before
// the outage; the engine knows them by heart.
bool reset_redis(redis_client& redis) {
    bool ok = redis.command({"FLUSHALL"}) == "+OK\r\n" && redis.command({"SCRIPT", "FLUSH"}) == "+OK\r\n";
    for (const std::string* body :
         {&release_body, &extend_body, &reacquire_body, &redlock_body, &redlock_multiline_body}) {
        ok = ok && redis.command({"SCRIPT", "LOAD", *body}).rfind("$40\r\n", 0) == 0;
    }
    return ok;
}

// SCAN loops with small COUNTs against a larger keyspace: the cursors differ (hash order), but the
// set of keys returned must be the same.
bool scan_loops_agree(redis_client& redis, int& commands) {
    if (!reset_redis(redis)) return false;
    engine local;
    std::string out;
    auto run_both = [&](const std::vector<std::string>& args) {
        const std::vector<std::string_view> views(args.begin(), args.end());
        out.clear();
        local.execute(views, out);
        ++commands;
        return std::make_pair(redis.command(args), out);
    };
    for (int i = 0; i < 600; ++i) {
        const std::string key = "k:" + std::to_string(i);
        if (run_both({"SET", key, "v"}).first != "+OK\r\n") return false;
    }
    bool ok = true;
    for (const auto& [pattern, count] : {std::pair{"*", "7"}, std::pair{"k:1*", "3"}, std::pair{"k:?5", "50"}}) {
        std::set<std::string> seen[2];
        for (int side = 0; side < 2; ++side) {
            std::string cursor = "0";
            do {
                const auto replies = run_both({"SCAN", cursor, "MATCH", pattern, "COUNT", count});
                const std::string& reply = side == 0 ? replies.first : replies.second;
                // [cursor, [keys...]]
                std::size_t pos = 4;
                std::size_t eol = reply.find("\r\n", pos);
                const std::size_t len = std::stoul(reply.substr(pos + 1, eol - pos - 1));
                cursor = reply.substr(eol + 2, len);
                pos = eol + 2 + len + 2;
                eol = reply.find("\r\n", pos);
                const long n = std::stol(reply.substr(pos + 1, eol - pos - 1));
                pos = eol + 2;
                for (long i = 0; i < n; ++i) {
                    eol = reply.find("\r\n", pos);
                    const std::size_t klen = std::stoul(reply.substr(pos + 1, eol - pos - 1));
                    seen[side].insert(reply.substr(eol + 2, klen));
                    pos = eol + 2 + klen + 2;
                }
            } while (cursor != "0");
        }
        if (seen[0] != seen[1] || seen[0].empty()) {
            std::cout << "MISMATCH scan loop MATCH " << pattern << ": redis returned " << seen[0].size()
                      << " keys, engine " << seen[1].size() << "\n";
            ok = false;
        }
    }
    const auto keys = run_both({"KEYS", "k:2?"});
    if (!replies_match(compare_mode::unordered, keys.first, keys.second)) {
        std::cout << "MISMATCH KEYS k:2? over 600 keys\n";
        ok = false;
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string binary = argc > 1 ? argv[1] : "/usr/bin/redis-server";
    redis_server server;
    if (!server.start(binary)) {
        std::cerr << "cannot start " << binary << "\n";
        return 2;
    }
    redis_client redis;
    bool connected = false;
    for (int attempt = 0; attempt < 100 && !connected; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        connected = redis.connect_to(server.port());
    }
    if (!connected) {
        std::cerr << "cannot connect to redis-server on port " << server.port() << "\n";
        return 2;
    }

    int commands = 0;
    int mismatches = 0;
    const std::vector<sequence> table = build_table();
    for (const sequence& seq : table) {
        if (!reset_redis(redis)) {
            std::cerr << "cannot reset redis before '" << seq.name << "'\n";
            return 2;
        }
        engine local;
        for (const step& s : seq.steps) {
            const std::string expected = redis.command(s.args);
            if (expected.empty()) {
                std::cerr << "lost the connection to redis at " << describe(s.args) << "\n";
                return 2;
            }
            std::string actual;
            const std::vector<std::string_view> views(s.args.begin(), s.args.end());
            local.execute(views, actual);
            ++commands;
            if (!replies_match(s.mode, expected, actual)) {
                ++mismatches;
                std::cout << "MISMATCH [" << seq.name << "] " << describe(s.args)
                          << "\n  redis:  " << printable(expected) << "\n  engine: " << printable(actual) << "\n";
            }
        }
    }
    const bool scans_ok = scan_loops_agree(redis, commands);
    std::cout << table.size() << " sequences, " << commands << " commands compared, " << mismatches << " mismatches"
              << (scans_ok ? "" : ", scan loops disagree") << "\n";
    return mismatches == 0 && scans_ok ? 0 : 1;
}
