#include "redis_sidecar/local/engine.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>

#include "commands.hpp"
#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::local {

namespace detail {

namespace {

constexpr command_spec command_table[] = {
    {"get", 2, get_command, false},
    {"set", -3, set_command, true},
    {"setnx", 3, setnx_command, true},
    {"setex", 4, setex_command, true},
    {"psetex", 4, psetex_command, true},
    {"getset", 3, getset_command, true},
    {"getdel", 2, getdel_command, false},
    {"getex", -2, getex_command, false},
    {"mget", -2, mget_command, false},
    {"mset", -3, mset_command, true},
    {"msetnx", -3, msetnx_command, true},
    {"incr", 2, incr_command, true},
    {"decr", 2, decr_command, true},
    {"incrby", 3, incrby_command, true},
    {"decrby", 3, decrby_command, true},
    {"incrbyfloat", 3, incrbyfloat_command, true},
    {"append", 3, append_command, true},
    {"strlen", 2, strlen_command, false},
    {"del", -2, del_command, false},
    {"unlink", -2, del_command, false},
    {"exists", -2, exists_command, false},
    {"expire", -3, expire_command, false},
    {"pexpire", -3, pexpire_command, false},
    {"expireat", -3, expireat_command, false},
    {"pexpireat", -3, pexpireat_command, false},
    {"persist", 2, persist_command, false},
    {"ttl", 2, ttl_command, false},
    {"pttl", 2, pttl_command, false},
    {"expiretime", 2, expiretime_command, false},
    {"pexpiretime", 2, pexpiretime_command, false},
    {"type", 2, type_command, false},
    {"randomkey", 1, randomkey_command, false},
    {"keys", 2, keys_command, false},
    {"scan", -2, scan_command, false},
    {"dbsize", 1, dbsize_command, false},
    {"ping", -1, ping_command, false},
    {"echo", 2, echo_command, false},
    {"select", 2, select_command, false},
    {"time", 1, time_command, false},
    {"eval", -3, eval_command, false},
    {"evalsha", -3, evalsha_command, false},
};

// Container commands: every subcommand Redis 7.0 has, so unknown ones get Redis's error and
// known but unserved ones get ours. A null handler means "not served locally".
struct container_spec {
    std::string_view name;
    std::string_view upper_name;
    int arity;
    std::span<const command_spec> subcommands;
};

constexpr command_spec script_subcommands[] = {
    {"script|debug", -3, nullptr, false}, {"script|exists", -3, script_exists_command, false},
    {"script|flush", -2, nullptr, false}, {"script|help", 2, nullptr, false},
    {"script|kill", 2, nullptr, false},   {"script|load", 3, script_load_command, false},
};

constexpr command_spec command_subcommands[] = {
    {"command|count", 2, command_count_command, false},
    {"command|docs", -2, nullptr, false},
    {"command|getkeys", -3, nullptr, false},
    {"command|getkeysandflags", -3, nullptr, false},
    {"command|help", 2, nullptr, false},
    {"command|info", -2, nullptr, false},
    {"command|list", -2, nullptr, false},
};

constexpr container_spec container_table[] = {
    {"script", "SCRIPT", -2, script_subcommands},
    {"command", "COMMAND", -1, command_subcommands},
};

// FLUSHALL/FLUSHDB are answered, but only with a refusal: they would wipe the blacklist mirror.
constexpr command_spec flush_table[] = {
    {"flushall", -1, flush_command, false},
    {"flushdb", -1, flush_command, false},
};

// The commands whose calls are counted, numbered in this order (FLUSHALL/FLUSHDB are only ever
// refused). An array per engine is indexed by that number: no name lookup to count a call.
constexpr std::span<const command_spec> counted_tables[] = {command_table, script_subcommands, command_subcommands};

constexpr std::string_view not_served_prefix = "ERR upstream Redis is unavailable; '";
constexpr std::size_t max_name_length = 32;

const container_spec* find_container(std::string_view lowercase_name) {
    for (const container_spec& c : container_table) {
        if (c.name == lowercase_name) return &c;
    }
    return nullptr;
}

bool arity_ok(int arity, std::size_t argc) {
    const auto n = static_cast<std::size_t>(arity < 0 ? -arity : arity);
    return arity > 0 ? argc == n : argc >= n;
}

void reply_not_served(std::string& out, std::string_view name) {
    std::string message(not_served_prefix);
    // Lowercase like Redis 7.0's own errors name commands; bounded like its unknown-command error.
    for (char c : name.substr(0, 128)) {
        message.push_back(protocol::ascii_lower(c));
    }
    message.append(down_errors::not_served_suffix);
    reply_error_sanitized(out, message);
}

void reply_unknown_subcommand(std::string& out, const container_spec& container, std::string_view sub) {
    std::string message = "ERR unknown subcommand '";
    message.append(c_string(sub).substr(0, 128));
    message.append("'. Try ");
    message.append(container.upper_name);
    message.append(" HELP.");
    reply_error_sanitized(out, message);
}

const command_spec* find_subcommand(const container_spec& container, std::string_view sub) {
    std::array<char, max_name_length> buffer;
    const std::string_view lower = protocol::lowercase_into(sub, buffer);
    if (lower.empty()) return nullptr;
    for (const command_spec& spec : container.subcommands) {
        if (spec.name.substr(container.name.size() + 1) == lower) return &spec;
    }
    return nullptr;
}

// Resolves a container command to the subcommand to run; writes the reply itself (an error)
// and returns nullptr when there is nothing to run.
const command_spec* resolve_container(const container_spec& container, std::span<const std::string_view> args,
                                      std::string& out) {
    if (args.size() == 1) {
        if (arity_ok(container.arity, 1)) {
            reply_not_served(out, container.name);
        } else {
            reply_arity_error(out, container.name);
        }
        return nullptr;
    }
    const command_spec* spec = find_subcommand(container, args[1]);
    if (spec == nullptr) {
        reply_unknown_subcommand(out, container, args[1]);
        return nullptr;
    }
    if (spec->handler == nullptr) {
        reply_not_served(out, spec->name);
        return nullptr;
    }
    return spec;
}

// What counter_of returns for a command whose calls are not counted.
constexpr std::size_t not_counted = static_cast<std::size_t>(-1);

std::size_t counted_commands() {
    std::size_t n = 0;
    for (std::span<const command_spec> table : counted_tables) n += table.size();
    return n;
}

std::size_t counter_of(const command_spec* spec) {
    std::size_t first = 0;
    for (std::span<const command_spec> table : counted_tables) {
        // std::less: a total order even for pointers into different arrays.
        if (!std::less<>{}(spec, table.data()) && std::less<>{}(spec, table.data() + table.size()))
            return first + static_cast<std::size_t>(spec - table.data());
        first += table.size();
    }
    return not_counted;
}

template <typename Visit>
void for_each_counted(Visit visit) {
    std::size_t counter = 0;
    for (std::span<const command_spec> table : counted_tables)
        for (const command_spec& spec : table) visit(spec, counter++);
}

}  // namespace

const command_spec* find_command(std::string_view lowercase_name) {
    static const protocol::name_table<const command_spec*> table = [] {
        protocol::name_table<const command_spec*> names;
        for (const command_spec& spec : command_table) names.insert({spec.name, &spec});
        for (const command_spec& spec : flush_table) names.insert({spec.name, &spec});
        return names;
    }();
    const command_spec* const* found = table.find(lowercase_name);
    return found == nullptr ? nullptr : *found;
}

void call(command_context& ctx, std::span<const std::string_view> args, std::string& out) {
    std::array<char, max_name_length> buffer;
    const command_spec* spec = find_command(protocol::lowercase_into(args[0], buffer));
    command_context nested{ctx.keys, ctx.loaded_scripts, args, out, ctx.now_ms, spec->name};
    spec->handler(nested);
}

// -- Shared helpers ----------------------------------------------------------------------------

void reply_error_sanitized(std::string& out, std::string_view message) {
    const std::size_t start = out.size();
    protocol::write_error(out, message);
    // Only the message, not the trailing CRLF.
    std::replace_if(
        out.begin() + static_cast<std::ptrdiff_t>(start), out.end() - 2, [](char c) { return c == '\r' || c == '\n'; },
        ' ');
}

void reply_arity_error(std::string& out, std::string_view name) {
    std::string message = "ERR wrong number of arguments for '";
    message.append(name);
    message.append("' command");
    protocol::write_error(out, message);
}

void reply_syntax_error(std::string& out) { protocol::write_error(out, "ERR syntax error"); }

void reply_not_integer(std::string& out) { protocol::write_error(out, "ERR value is not an integer or out of range"); }

void reply_ok(std::string& out) { protocol::write_simple(out, "OK"); }

void reply_invalid_expire(command_context& ctx) {
    std::string message = "ERR invalid expire time in '";
    message.append(ctx.name);
    message.append("' command");
    protocol::write_error(ctx.out, message);
}

std::string_view c_string(std::string_view arg) {
    const std::size_t nul = arg.find('\0');
    return nul == std::string_view::npos ? arg : arg.substr(0, nul);
}

bool option_is(std::string_view arg, std::string_view lowercase) {
    const std::string_view text = c_string(arg);
    if (text.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (protocol::ascii_lower(text[i]) != lowercase[i]) return false;
    return true;
}

bool parse_integer_or_reply(std::string& out, std::string_view arg, std::int64_t& value) {
    if (protocol::parse_int64(arg, value)) return true;
    reply_not_integer(out);
    return false;
}

std::string_view format_integer(std::int64_t value, char (&buffer)[24]) {
    return {buffer, protocol::format_int64(value, buffer)};
}

}  // namespace detail

std::int64_t system_clock_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

engine::engine(clock_function clock)
    : clock_(clock ? std::move(clock) : clock_function(system_clock_ms)), calls_(detail::counted_commands(), 0) {}

bool engine::supports(std::string_view command_name) {
    std::array<char, detail::max_name_length> buffer;
    const std::string_view lower = protocol::lowercase_into(command_name, buffer);
    if (lower.empty()) return false;
    if (detail::find_container(lower) != nullptr) return true;
    const detail::command_spec* spec = detail::find_command(lower);
    return spec != nullptr && spec->handler != detail::flush_command;
}

std::string_view engine::execute(std::span<const std::string_view> args, std::string& out, call_origin origin) {
    if (args.empty()) return {};  // the request parser never produces an empty command
    std::array<char, detail::max_name_length> buffer;
    const std::string_view lower = protocol::lowercase_into(args[0], buffer);
    const detail::command_spec* spec = detail::find_command(lower);
    if (spec == nullptr) {
        const detail::container_spec* container = lower.empty() ? nullptr : detail::find_container(lower);
        if (container == nullptr) {
            detail::reply_not_served(out, args[0]);
            return {};
        }
        spec = detail::resolve_container(*container, args, out);
        if (spec == nullptr) return {};
    }
    if (!detail::arity_ok(spec->arity, args.size())) {
        detail::reply_arity_error(out, spec->name);
        return {};
    }
    detail::command_context ctx{keyspace_, loaded_scripts_, args, out, clock_(), spec->name};
    spec->handler(ctx);
    if (spec->may_grow && keyspace_.maxmemory() != 0) keyspace_.evict_if_needed(ctx.now_ms);
    if (origin == call_origin::client) {
        const std::size_t counter = detail::counter_of(spec);
        if (counter != detail::not_counted) ++calls_[counter];
    }
    return spec->name;
}

std::vector<std::pair<std::string, std::uint64_t>> engine::command_calls() const {
    std::vector<std::pair<std::string, std::uint64_t>> calls;
    detail::for_each_counted([&](const detail::command_spec& spec, std::size_t counter) {
        if (calls_[counter] != 0) calls.emplace_back(spec.name, calls_[counter]);
    });
    std::sort(calls.begin(), calls.end());
    return calls;
}

}  // namespace redis_sidecar::local
