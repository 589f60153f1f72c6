#include "redis_sidecar/local/engine.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>

#include "commands.hpp"
#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::local {

namespace detail {

namespace {

// The commands the local store runs, and how. Their arity, their subcommands and Redis's names for
// them come from the command catalogue (Redis 7.0's own description): only what is ours is here.
constexpr command_spec command_table[] = {
    {"get", get_command, false},
    {"set", set_command, true},
    {"setnx", setnx_command, true},
    {"setex", setex_command, true},
    {"psetex", psetex_command, true},
    {"getset", getset_command, true},
    {"getdel", getdel_command, false},
    {"getex", getex_command, false},
    {"mget", mget_command, false},
    {"mset", mset_command, true},
    {"msetnx", msetnx_command, true},
    {"incr", incr_command, true},
    {"decr", decr_command, true},
    {"incrby", incrby_command, true},
    {"decrby", decrby_command, true},
    {"incrbyfloat", incrbyfloat_command, true},
    {"append", append_command, true},
    {"strlen", strlen_command, false},
    {"del", del_command, false},
    {"unlink", del_command, false},
    {"exists", exists_command, false},
    {"expire", expire_command, false},
    {"pexpire", pexpire_command, false},
    {"expireat", expireat_command, false},
    {"pexpireat", pexpireat_command, false},
    {"persist", persist_command, false},
    {"ttl", ttl_command, false},
    {"pttl", pttl_command, false},
    {"expiretime", expiretime_command, false},
    {"pexpiretime", pexpiretime_command, false},
    {"type", type_command, false},
    {"randomkey", randomkey_command, false},
    {"keys", keys_command, false},
    {"scan", scan_command, false},
    {"dbsize", dbsize_command, false},
    {"ping", ping_command, false},
    {"echo", echo_command, false},
    {"select", select_command, false},
    {"time", time_command, false},
    {"eval", eval_command, false},
    {"evalsha", evalsha_command, false},
    {"script|exists", script_exists_command, false},
    {"script|load", script_load_command, false},
    {"command|count", command_count_command, false},
};

// FLUSHALL/FLUSHDB are answered, but only with a refusal: they would wipe the blacklist mirror.
constexpr command_spec flush_table[] = {
    {"flushall", flush_command, false},
    {"flushdb", flush_command, false},
};

// The commands whose calls are counted, numbered in table order (FLUSHALL/FLUSHDB are only ever
// refused). An array per engine is indexed by that number: no name lookup to count a call.
constexpr std::span<const command_spec> counted_tables[] = {command_table};

constexpr std::string_view not_served_prefix = "ERR upstream Redis is unavailable; '";
constexpr std::size_t max_name_length = 32;

void reply_not_served(std::string& out, std::string_view name) {
    std::string message(not_served_prefix);
    // Lowercase like Redis 7.0's own errors name commands; bounded like its unknown-command error.
    for (char c : name.substr(0, 128)) {
        message.push_back(protocol::ascii_lower(c));
    }
    message.append(down_errors::not_served_suffix);
    reply_error_sanitized(out, message);
}

void reply_unknown_subcommand(std::string& out, std::string_view container, std::string_view sub) {
    std::string message = "ERR unknown subcommand '";
    message.append(c_string(sub).substr(0, 128));
    message.append("'. Try ");
    for (char c : container) message.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    message.append(" HELP.");
    reply_error_sanitized(out, message);
}

// A container command (SCRIPT, COMMAND...) is answered subcommand by subcommand only when the
// local store runs one of them; any other container is not served as a whole.
bool serves_a_subcommand(const catalogue::command_info& container) {
    return std::any_of(container.subcommands.begin(), container.subcommands.end(),
                       [](const catalogue::command_info& sub) { return find_command(sub.name) != nullptr; });
}

// What Redis 7.0 would run for `args`: the command, or its subcommand for a container the local
// store answers. Writes the reply itself (an error) and returns null when there is nothing to run.
const catalogue::command_info* resolve(std::span<const std::string_view> args, std::string& out) {
    static const std::shared_ptr<const catalogue::command_catalogue> redis_7_0 = catalogue::command_catalogue::builtin();
    const catalogue::command_info* command = redis_7_0->find_name(args[0]);
    if (command == nullptr) {
        reply_not_served(out, args[0]);
        return nullptr;
    }
    if (command->subcommands.empty() || !serves_a_subcommand(*command)) return command;
    if (args.size() == 1) {
        if (command->arity_allows(1))
            reply_not_served(out, command->name);
        else
            reply_arity_error(out, command->name);
        return nullptr;
    }
    const catalogue::command_info* sub = catalogue::command_catalogue::find_subcommand(*command, args[1]);
    if (sub == nullptr) reply_unknown_subcommand(out, command->name, args[1]);
    return sub;
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
    const catalogue::command_info* command = catalogue::command_catalogue::builtin()->find_name(command_name);
    if (command == nullptr) return false;
    if (!command->subcommands.empty() && detail::serves_a_subcommand(*command)) return true;
    const detail::command_spec* spec = detail::find_command(command->name);
    return spec != nullptr && spec->handler != detail::flush_command;
}

std::vector<std::string_view> engine::served_commands() {
    std::vector<std::string_view> names;
    for (const detail::command_spec& spec : detail::command_table) names.push_back(spec.name);
    return names;
}

std::string_view engine::execute(std::span<const std::string_view> args, std::string& out, call_origin origin) {
    if (args.empty()) return {};  // the request parser never produces an empty command
    const catalogue::command_info* command = detail::resolve(args, out);
    if (command == nullptr) return {};
    const detail::command_spec* spec = detail::find_command(command->name);
    if (spec == nullptr) {
        detail::reply_not_served(out, command->name);
        return {};
    }
    if (!command->arity_allows(args.size())) {
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
