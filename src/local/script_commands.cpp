// EVAL, EVALSHA, SCRIPT LOAD and SCRIPT EXISTS for the lock scripts of common clients, which are
// recognised by their SHA1 and run natively with the replies (errors included) that Redis 7.0's
// Lua gives for them.

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "commands.hpp"
#include "redis_sidecar/local/engine.hpp"
#include "redis_sidecar/local/sha1.hpp"
#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::local::detail {

namespace {

// The scripts' text, byte for byte, because their SHA1 is what clients send.
// redis-py 4.x redis/lock.py, Lock.LUA_RELEASE_SCRIPT.
constexpr std::string_view redis_py_release =
    "\n"
    "        local token = redis.call('get', KEYS[1])\n"
    "        if not token or token ~= ARGV[1] then\n"
    "            return 0\n"
    "        end\n"
    "        redis.call('del', KEYS[1])\n"
    "        return 1\n"
    "    ";

// redis-py 4.x, Lock.LUA_EXTEND_SCRIPT.
constexpr std::string_view redis_py_extend =
    "\n"
    "        local token = redis.call('get', KEYS[1])\n"
    "        if not token or token ~= ARGV[1] then\n"
    "            return 0\n"
    "        end\n"
    "        local expiration = redis.call('pttl', KEYS[1])\n"
    "        if not expiration then\n"
    "            expiration = 0\n"
    "        end\n"
    "        if expiration < 0 then\n"
    "            return 0\n"
    "        end\n"
    "\n"
    "        local newttl = ARGV[2]\n"
    "        if ARGV[3] == \"0\" then\n"
    "            newttl = ARGV[2] + expiration\n"
    "        end\n"
    "        redis.call('pexpire', KEYS[1], newttl)\n"
    "        return 1\n"
    "    ";

// redis-py 4.x, Lock.LUA_REACQUIRE_SCRIPT.
constexpr std::string_view redis_py_reacquire =
    "\n"
    "        local token = redis.call('get', KEYS[1])\n"
    "        if not token or token ~= ARGV[1] then\n"
    "            return 0\n"
    "        end\n"
    "        redis.call('pexpire', KEYS[1], ARGV[2])\n"
    "        return 1\n"
    "    ";

// The Redlock unlock script (redis.io "Distributed locks"), on one line and as the docs lay it out.
constexpr std::string_view redlock_unlock =
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then return redis.call(\"del\",KEYS[1]) else return 0 end";
constexpr std::string_view redlock_unlock_multiline =
    "if redis.call(\"get\",KEYS[1]) == ARGV[1] then\n"
    "    return redis.call(\"del\",KEYS[1])\n"
    "else\n"
    "    return 0\n"
    "end";

constexpr std::string_view nil_argument_error = "ERR Lua redis lib command arguments must be strings or integers";

// One script run: its SHA1 (for error messages), KEYS and ARGV.
struct script_run {
    command_context& ctx;
    std::string_view sha;
    std::span<const std::string_view> keys;
    std::span<const std::string_view> argv;
};

using script_function = void (*)(script_run&);

struct known_script {
    std::string_view body;
    script_function run;
    sha1_hex sha;
};

// A Lua error raised at `line`: Redis appends where it happened to the message.
void script_error(script_run& r, std::string_view message, int line) {
    std::string text(message);
    text.append(" script: ");
    text.append(r.sha);
    text.append(", on @user_script:");
    text.append(std::to_string(line));
    text.append(".");
    protocol::write_error(r.ctx.out, text);
}

// redis.call('pexpire', key, ttl) at `line`; false (with the error written) when it raised.
bool call_pexpire(script_run& r, std::string_view key, std::string_view ttl, int line) {
    const std::array<std::string_view, 3> args{"pexpire", key, ttl};
    std::string reply;
    call(r.ctx, args, reply);
    if (reply.empty() || reply[0] != '-') return true;
    // The command's error, without '-' and CRLF, becomes the script's error.
    script_error(r, std::string_view(reply).substr(1, reply.size() - 3), line);
    return false;
}

// `local token = redis.call('get', KEYS[1]); if not token or token ~= ARGV[1]` at line `line`:
// true when the key holds ARGV[1]; otherwise the reply (0, or the error) is written.
bool token_matches(script_run& r, int line) {
    if (r.keys.empty()) {
        script_error(r, nil_argument_error, line);
        return false;
    }
    const keyspace::entry* e = r.ctx.keys.find(r.keys[0], r.ctx.now_ms);
    if (e == nullptr || r.argv.empty() || e->value() != r.argv[0]) {
        protocol::write_integer(r.ctx.out, 0);
        return false;
    }
    return true;
}

// Lua 5.1's luaO_str2d: strtod over the C string, a hex fallback, trailing spaces allowed.
bool lua_string_to_number(std::string_view s, double& value) {
    const std::string text(c_string(s));
    const char* begin = text.c_str();
    char* end = nullptr;
    double parsed = std::strtod(begin, &end);
    if (end == begin) return false;
    if (*end == 'x' || *end == 'X') parsed = static_cast<double>(std::strtoul(begin, &end, 16));
    while (*end != '\0' && std::isspace(static_cast<unsigned char>(*end))) ++end;
    if (*end != '\0') return false;
    value = parsed;
    return true;
}

// Redis passes a Lua number to a command as "%.17g".
std::string lua_number_argument(double value) {
    char buffer[64];
    const int n = std::snprintf(buffer, sizeof(buffer), "%.17g", value);
    return std::string(buffer, static_cast<std::size_t>(n));
}

void run_release(script_run& r) {
    if (!token_matches(r, 2)) return;
    r.ctx.keys.erase(r.keys[0], r.ctx.now_ms);
    protocol::write_integer(r.ctx.out, 1);
}

void run_extend(script_run& r) {
    if (!token_matches(r, 2)) return;
    const keyspace::entry* e = r.ctx.keys.find(r.keys[0], r.ctx.now_ms, false);
    if (e == nullptr || !e->has_expiry()) {
        protocol::write_integer(r.ctx.out, 0);  // PTTL < 0: no TTL to extend
        return;
    }
    const std::int64_t expiration = std::max<std::int64_t>(e->expire_at() - r.ctx.now_ms, 0);
    if (r.argv.size() < 2) {
        script_error(r, nil_argument_error, 18);  // pexpire with newttl = nil
        return;
    }
    std::string newttl(r.argv[1]);
    if (r.argv.size() >= 3 && r.argv[2] == "0") {
        double base;
        if (!lua_string_to_number(r.argv[1], base)) {
            script_error(r, "ERR user_script:16: attempt to perform arithmetic on field '?' (a string value)", 16);
            return;
        }
        newttl = lua_number_argument(base + static_cast<double>(expiration));
    }
    if (!call_pexpire(r, r.keys[0], newttl, 18)) return;
    protocol::write_integer(r.ctx.out, 1);
}

void run_reacquire(script_run& r) {
    if (!token_matches(r, 2)) return;
    if (r.argv.size() < 2) {
        script_error(r, nil_argument_error, 6);
        return;
    }
    if (!call_pexpire(r, r.keys[0], r.argv[1], 6)) return;
    protocol::write_integer(r.ctx.out, 1);
}

void run_redlock_unlock(script_run& r) {
    if (r.keys.empty()) {
        script_error(r, nil_argument_error, 1);
        return;
    }
    const keyspace::entry* e = r.ctx.keys.find(r.keys[0], r.ctx.now_ms);
    if (e == nullptr || r.argv.empty() || e->value() != r.argv[0]) {
        protocol::write_integer(r.ctx.out, 0);
        return;
    }
    const bool deleted = r.ctx.keys.erase(r.keys[0], r.ctx.now_ms);
    protocol::write_integer(r.ctx.out, deleted ? 1 : 0);
}

const std::array<known_script, 5>& known_scripts() {
    static const std::array<known_script, 5> scripts = {
        known_script{redis_py_release, run_release, sha1_to_hex(redis_py_release)},
        known_script{redis_py_extend, run_extend, sha1_to_hex(redis_py_extend)},
        known_script{redis_py_reacquire, run_reacquire, sha1_to_hex(redis_py_reacquire)},
        known_script{redlock_unlock, run_redlock_unlock, sha1_to_hex(redlock_unlock)},
        known_script{redlock_unlock_multiline, run_redlock_unlock, sha1_to_hex(redlock_unlock_multiline)},
    };
    return scripts;
}

// Redis lowercases A-Z only when it names a script by SHA1.
std::string lowercase_sha(std::string_view sha) {
    std::string lower(sha);
    for (char& c : lower) c = protocol::ascii_lower(c);
    return lower;
}

const known_script* find_known(std::string_view lowercase) {
    for (const known_script& s : known_scripts()) {
        if (to_string_view(s.sha) == lowercase) return &s;
    }
    return nullptr;
}

// The numkeys checks evalGenericCommand makes before it looks for the script.
bool parse_numkeys(command_context& ctx, std::int64_t& numkeys) {
    if (!parse_integer_or_reply(ctx.out, ctx.args[2], numkeys)) return false;
    if (numkeys > static_cast<std::int64_t>(ctx.args.size()) - 3) {
        protocol::write_error(ctx.out, "ERR Number of keys can't be greater than number of args");
        return false;
    }
    if (numkeys < 0) {
        protocol::write_error(ctx.out, "ERR Number of keys can't be negative");
        return false;
    }
    return true;
}

void run_known(command_context& ctx, const known_script& script, std::int64_t numkeys) {
    const auto first_arg = static_cast<std::size_t>(3 + numkeys);
    script_run r{ctx, to_string_view(script.sha), ctx.args.subspan(3, static_cast<std::size_t>(numkeys)),
                 ctx.args.subspan(first_arg)};
    script.run(r);
}

}  // namespace

bool is_known_script(std::string_view sha1_hex_lowercase) { return find_known(sha1_hex_lowercase) != nullptr; }

void eval_command(command_context& ctx) {
    std::int64_t numkeys;
    if (!parse_numkeys(ctx, numkeys)) return;
    const sha1_hex sha = sha1_to_hex(ctx.args[1]);
    const known_script* script = find_known(to_string_view(sha));
    if (script == nullptr) {
        protocol::write_error(ctx.out, down_errors::unknown_script);
        return;
    }
    run_known(ctx, *script, numkeys);
}

void evalsha_command(command_context& ctx) {
    // Redis answers a SHA of the wrong length before it looks at numkeys.
    if (ctx.args[1].size() != 40) {
        protocol::write_error(ctx.out, "NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    std::int64_t numkeys;
    if (!parse_numkeys(ctx, numkeys)) return;
    const std::string sha = lowercase_sha(ctx.args[1]);
    if (const known_script* script = find_known(sha)) {
        run_known(ctx, *script, numkeys);
    } else if (ctx.loaded_scripts.contains(sha)) {
        protocol::write_error(ctx.out, down_errors::unknown_script);
    } else {
        protocol::write_error(ctx.out, "NOSCRIPT No matching script. Please use EVAL.");
    }
}

void script_load_command(command_context& ctx) {
    const sha1_hex sha = sha1_to_hex(ctx.args[2]);
    const std::string_view text = to_string_view(sha);
    // A script the sidecar cannot run is still remembered, so that a client loading its scripts
    // at start-up works and only running it fails, with a clear error.
    if (find_known(text) == nullptr) ctx.loaded_scripts.emplace(text);
    protocol::write_bulk(ctx.out, text);
}

void script_exists_command(command_context& ctx) {
    protocol::write_array_header(ctx.out, static_cast<std::int64_t>(ctx.args.size() - 2));
    for (std::size_t j = 2; j < ctx.args.size(); ++j) {
        const std::string sha = lowercase_sha(ctx.args[j]);
        const bool exists = find_known(sha) != nullptr || ctx.loaded_scripts.contains(sha);
        protocol::write_integer(ctx.out, exists ? 1 : 0);
    }
}

}  // namespace redis_sidecar::local::detail
