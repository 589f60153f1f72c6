#pragma once
// Internal to the local component: the command table, the context a command runs in, and the
// helpers the command implementations share.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "redis_sidecar/local/keyspace.hpp"

namespace redis_sidecar::local::detail {

/// What a command implementation works with.
struct command_context {
    keyspace& keys;
    std::unordered_set<std::string>& loaded_scripts;
    std::span<const std::string_view> args;
    std::string& out;
    std::int64_t now_ms;
    std::string_view name;  ///< the command's full name as Redis prints it, e.g. "set", "script|load"
};

using command_handler = void (*)(command_context&);

/// One entry of the command table.
struct command_spec {
    std::string_view name;  ///< lowercase, as the command catalogue names it ("script|load")
    command_handler handler;
    bool may_grow;  ///< may add memory (eviction runs after it when a budget is set)
};

/// The command `lowercase_name`, or nullptr when it is not served locally.
const command_spec* find_command(std::string_view lowercase_name);

/// Runs `args` as a nested command (as redis.call does inside a script); the reply goes to
/// `out`. Only for commands known to be in the table.
void call(command_context& ctx, std::span<const std::string_view> args, std::string& out);

// -- Replies and parsing shared by the commands ---------------------------------------------------

/// `-<message>\r\n` with CR and LF replaced by spaces, as addReplyErrorFormat does for messages
/// that quote user input.
void reply_error_sanitized(std::string& out, std::string_view message);
/// "ERR wrong number of arguments for '<name>' command"
void reply_arity_error(std::string& out, std::string_view name);
void reply_syntax_error(std::string& out);
void reply_not_integer(std::string& out);
void reply_ok(std::string& out);
/// "ERR invalid expire time in '<name>' command"
void reply_invalid_expire(command_context& ctx);

/// `arg` as Redis sees it where it treats arguments as C strings: up to the first NUL.
std::string_view c_string(std::string_view arg);
/// Case-insensitive (ASCII) comparison of the C-string view of `arg` with `lowercase`, as
/// strcasecmp does in Redis's option parsing.
bool option_is(std::string_view arg, std::string_view lowercase);
/// Parses a 64-bit integer argument; on failure writes Redis's "not an integer" error.
bool parse_integer_or_reply(std::string& out, std::string_view arg, std::int64_t& value);

/// The decimal text of `value`.
std::string_view format_integer(std::int64_t value, char (&buffer)[24]);

// -- Command implementations (one per command; names as in Redis) ---------------------------------

// string commands (string_commands.cpp)
void get_command(command_context& ctx);
void set_command(command_context& ctx);
void setnx_command(command_context& ctx);
void setex_command(command_context& ctx);
void psetex_command(command_context& ctx);
void getset_command(command_context& ctx);
void getdel_command(command_context& ctx);
void getex_command(command_context& ctx);
void mget_command(command_context& ctx);
void mset_command(command_context& ctx);
void msetnx_command(command_context& ctx);
void incr_command(command_context& ctx);
void decr_command(command_context& ctx);
void incrby_command(command_context& ctx);
void decrby_command(command_context& ctx);
void incrbyfloat_command(command_context& ctx);
void append_command(command_context& ctx);
void strlen_command(command_context& ctx);

// keyspace and expiry commands (key_commands.cpp)
void del_command(command_context& ctx);
void exists_command(command_context& ctx);
void expire_command(command_context& ctx);
void pexpire_command(command_context& ctx);
void expireat_command(command_context& ctx);
void pexpireat_command(command_context& ctx);
void persist_command(command_context& ctx);
void ttl_command(command_context& ctx);
void pttl_command(command_context& ctx);
void expiretime_command(command_context& ctx);
void pexpiretime_command(command_context& ctx);
void type_command(command_context& ctx);
void randomkey_command(command_context& ctx);
void keys_command(command_context& ctx);
void scan_command(command_context& ctx);
void dbsize_command(command_context& ctx);

// connection and server commands (server_commands.cpp)
void ping_command(command_context& ctx);
void echo_command(command_context& ctx);
void select_command(command_context& ctx);
void time_command(command_context& ctx);
void command_count_command(command_context& ctx);
void flush_command(command_context& ctx);

// scripts (script_commands.cpp)
void eval_command(command_context& ctx);
void evalsha_command(command_context& ctx);
void script_load_command(command_context& ctx);
void script_exists_command(command_context& ctx);

/// True when `sha1_hex_lowercase` names one of the lock scripts run natively; for tests.
bool is_known_script(std::string_view sha1_hex_lowercase);

}  // namespace redis_sidecar::local::detail
