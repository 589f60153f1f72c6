#include "redis_sidecar/catalogue/command_catalogue.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

#include "redis_sidecar/protocol/numbers.hpp"

namespace redis_sidecar::catalogue {

namespace {

constexpr std::string_view builtin_table =
#include "builtin_commands.inc"
    ;

using protocol::equals_lower;
using protocol::lowercase_copy;

// Redis's flag names, as COMMAND prints them, for the flags the sidecar reads.
struct named_flag {
    std::string_view name;
    std::uint32_t flag;
};
constexpr named_flag redis_flags[] = {
    {"write", write},     {"readonly", readonly}, {"blocking", blocking}, {"pubsub", pubsub},
    {"movablekeys", movablekeys}, {"admin", admin}, {"noscript", noscript}, {"no_auth", no_auth},
};

struct named_key_flag {
    std::string_view name;
    std::uint16_t flag;
};
constexpr named_key_flag key_flags[] = {
    {"RO", key_ro},          {"RW", key_rw},         {"OW", key_ow},
    {"RM", key_rm},          {"access", key_access}, {"update", key_update},
    {"insert", key_insert},  {"delete", key_delete}, {"not_key", key_not_key},
    {"incomplete", key_incomplete}, {"variable_flags", key_variable_flags},
};

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(separator, start), text.size());
        if (end > start) parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

int to_int(std::string_view text, std::string_view line) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        throw std::invalid_argument("command table: not a number '" + std::string(text) + "' in: " + std::string(line));
    return value;
}

std::array<int, 3> three_ints(std::string_view text, std::string_view line) {
    const std::vector<std::string_view> parts = split(text, ',');
    if (parts.size() != 3) throw std::invalid_argument("command table: expected three numbers in: " + std::string(line));
    return {to_int(parts[0], line), to_int(parts[1], line), to_int(parts[2], line)};
}

// `keyflags/begin/find`, see generate_builtin.py.
key_spec parse_key_spec(std::string_view text, std::string_view line) {
    const std::vector<std::string_view> parts = split(text, '/');
    if (parts.size() != 3) throw std::invalid_argument("command table: bad key spec in: " + std::string(line));
    key_spec spec;
    for (std::string_view name : split(parts[0], ','))
        spec.flags |= key_flag_named(name);
    const std::string_view begin = parts[1];
    if (begin.starts_with('i')) {
        spec.begin = key_spec::begin_kind::index;
        spec.index = to_int(begin.substr(1), line);
    } else if (begin.starts_with('k')) {
        const std::size_t comma = begin.rfind(',');
        if (comma == std::string_view::npos) throw std::invalid_argument("command table: bad keyword in: " + std::string(line));
        spec.begin = key_spec::begin_kind::keyword;
        spec.keyword = lowercase_copy(begin.substr(1, comma - 1));
        spec.startfrom = to_int(begin.substr(comma + 1), line);
    }
    const std::string_view find = parts[2];
    if (find.starts_with('r')) {
        const auto [lastkey, keystep, limit] = three_ints(find.substr(1), line);
        spec.find = key_spec::find_kind::range;
        spec.lastkey = lastkey;
        spec.keystep = keystep;
        spec.limit = limit;
    } else if (find.starts_with('n')) {
        const auto [keynumidx, firstkey, keystep] = three_ints(find.substr(1), line);
        spec.find = key_spec::find_kind::keynum;
        spec.keynumidx = keynumidx;
        spec.firstkey = firstkey;
        spec.keystep = keystep;
    }
    return spec;
}

// The arguments Redis's keyword search looks at: from `startfrom` forwards, or from the end
// backwards when it is negative; the keyword's position, or 0.
std::size_t find_keyword(const key_spec& spec, std::span<const std::string_view> args) {
    const auto argc = static_cast<long>(args.size());
    const bool forwards = spec.startfrom > 0;
    long i = forwards ? spec.startfrom : argc + spec.startfrom;
    const long end = forwards ? argc - 1 : 0;
    for (; forwards ? i <= end : i > end; i += forwards ? 1 : -1) {
        if (i < 1 || i >= argc) break;
        if (equals_lower(args[static_cast<std::size_t>(i)], spec.keyword)) return static_cast<std::size_t>(i);
    }
    return 0;
}

}  // namespace

std::uint32_t command_flag_named(std::string_view name) {
    for (const named_flag& f : redis_flags)
        if (f.name == name) return f.flag;
    return 0;
}

std::uint16_t key_flag_named(std::string_view name) {
    for (const named_key_flag& f : key_flags)
        if (f.name == name) return f.flag;
    return 0;
}

std::vector<command_info> parse_command_table(std::string_view text) {
    std::vector<command_info> commands;
    for (std::string_view line : split(text, '\n')) {
        const std::vector<std::string_view> fields = split(line, ' ');
        if (fields.size() < 3) throw std::invalid_argument("command table: too few fields in: " + std::string(line));
        command_info info;
        info.name = lowercase_copy(fields[0]);
        info.arity = to_int(fields[1], line);
        for (std::string_view name : split(fields[2], ',')) info.flags |= command_flag_named(name);
        for (std::size_t i = 3; i < fields.size(); ++i) info.keys.push_back(parse_key_spec(fields[i], line));
        const std::size_t bar = info.name.find('|');
        if (bar == std::string::npos) {
            commands.push_back(std::move(info));
            continue;
        }
        const std::string_view container = std::string_view(info.name).substr(0, bar);
        if (commands.empty() || commands.back().name != container)
            throw std::invalid_argument("command table: subcommand before its command: " + std::string(line));
        commands.back().subcommands.push_back(std::move(info));
    }
    return commands;
}

key_range keys_of(const key_spec& spec, std::span<const std::string_view> args) {
    const auto argc = static_cast<long>(args.size());
    long first = 0;
    switch (spec.begin) {
        case key_spec::begin_kind::index: first = spec.index; break;
        case key_spec::begin_kind::keyword: {
            const std::size_t at = find_keyword(spec, args);
            if (at == 0) return {};
            first = static_cast<long>(at) + 1;
            break;
        }
        case key_spec::begin_kind::unknown: return {};
    }
    long last = 0;
    long step = spec.keystep;
    switch (spec.find) {
        case key_spec::find_kind::range:
            if (spec.lastkey >= 0)
                last = first + spec.lastkey;
            else if (spec.limit == 0)
                last = argc + spec.lastkey;
            else
                last = first + ((argc - first) / spec.limit + spec.lastkey);
            break;
        case key_spec::find_kind::keynum: {
            const long count_at = first + spec.keynumidx;
            std::int64_t count = 0;
            if (count_at >= argc || !protocol::parse_int64(args[static_cast<std::size_t>(count_at)], count) ||
                count < 0 || count > argc)
                return {};
            first += spec.firstkey;
            last = first + static_cast<long>(count) * step - step;
            break;
        }
        case key_spec::find_kind::unknown: return {};
    }
    if (first < 1 || step < 1 || last < first || last >= argc) return {};
    return {static_cast<std::size_t>(first), static_cast<std::size_t>(last), static_cast<std::size_t>(step)};
}

// Redis's own walk of SORT's options: LIMIT takes two arguments, BY and GET one, STORE names
// the destination (the last one counts).
std::size_t sort_store_key(std::span<const std::string_view> args) {
    std::size_t store = 0;
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::size_t left = args.size() - i - 1;
        if (equals_lower(args[i], "limit") && left >= 2) {
            i += 2;
        } else if ((equals_lower(args[i], "get") || equals_lower(args[i], "by")) && left >= 1) {
            ++i;
        } else if (equals_lower(args[i], "store") && left >= 1) {
            store = ++i;
        }
    }
    return store;
}

std::vector<std::string_view> written_keys(const command_info& command, std::span<const std::string_view> args) {
    std::vector<std::string_view> keys;
    for_each_key(command, args, [&](key_position key) {
        if (!key_may_be_written(key.flags)) return;
        if (std::find(keys.begin(), keys.end(), args[key.index]) == keys.end()) keys.push_back(args[key.index]);
    });
    return keys;
}

command_catalogue::command_catalogue(std::vector<command_info> commands, std::size_t learned_count)
    : commands_(std::move(commands)), learned_count_(learned_count) {
    for (std::size_t i = 0; i < commands_.size(); ++i)
        if (!commands_[i].name.empty() && commands_[i].name.size() <= longest_name &&
            index_.find(commands_[i].name) == nullptr)
            index_.insert({commands_[i].name, static_cast<std::uint32_t>(i)});
}

std::shared_ptr<const command_catalogue> command_catalogue::builtin() {
    static const std::shared_ptr<const command_catalogue> built = [] {
        std::vector<command_info> commands = parse_command_table(builtin_table);
        add_sidecar_knowledge(commands);
        return std::shared_ptr<const command_catalogue>(new command_catalogue(std::move(commands), 0));
    }();
    return built;
}

namespace {
// Redis's description of `into`'s command replaces the built-in one; the sidecar's flags stay.
void take_redis_description(command_info& into, command_info&& from) {
    constexpr std::uint32_t redis_half = 0xffffu;
    into.arity = from.arity;
    into.flags = (into.flags & ~redis_half) | (from.flags & redis_half);
    into.keys = std::move(from.keys);
    for (command_info& sub : from.subcommands) {
        auto known = std::find_if(into.subcommands.begin(), into.subcommands.end(),
                                  [&](const command_info& s) { return s.name == sub.name; });
        if (known == into.subcommands.end())
            into.subcommands.push_back(std::move(sub));
        else
            take_redis_description(*known, std::move(sub));
    }
}
}  // namespace

std::shared_ptr<const command_catalogue> command_catalogue::learned(std::vector<command_info> from_redis) {
    std::vector<command_info> commands = parse_command_table(builtin_table);
    const std::size_t learned_count = from_redis.size();
    for (command_info& c : from_redis) {
        auto known = std::find_if(commands.begin(), commands.end(), [&](const command_info& k) { return k.name == c.name; });
        if (known == commands.end())
            commands.push_back(std::move(c));
        else
            take_redis_description(*known, std::move(c));
    }
    add_sidecar_knowledge(commands);
    return std::shared_ptr<const command_catalogue>(new command_catalogue(std::move(commands), learned_count));
}

const command_info* command_catalogue::find_name(std::string_view name) const {
    std::array<char, longest_name> buffer;
    const std::string_view key = protocol::lowercase_into(name, buffer);
    const std::uint32_t* at = index_.find(key);
    return at == nullptr ? nullptr : &commands_[*at];
}

const command_info* command_catalogue::find_subcommand(const command_info& container, std::string_view sub) {
    const std::size_t prefix = container.name.size() + 1;
    for (const command_info& s : container.subcommands)
        if (s.name.size() == prefix + sub.size() && equals_lower(sub, std::string_view(s.name).substr(prefix))) return &s;
    return nullptr;
}

const command_info* command_catalogue::find(std::span<const std::string_view> args) const {
    if (args.empty()) return nullptr;
    const command_info* command = find_name(args[0]);
    if (command == nullptr || command->subcommands.empty() || args.size() < 2) return command;
    const command_info* sub = find_subcommand(*command, args[1]);
    return sub != nullptr ? sub : command;
}

protocol::request_effect pinned_request_effect(std::string_view lowercase_name) {
    // Flags of the sidecar's own knowledge, the same in every catalogue: the built-in one answers.
    static const std::shared_ptr<const command_catalogue> commands = command_catalogue::builtin();
    const command_info* command = commands->find_name(lowercase_name);
    if (command == nullptr) return protocol::request_effect::none;
    if (command->has(opens_transaction)) return protocol::request_effect::opens_multi;
    if (command->has(closes_transaction)) return protocol::request_effect::closes_multi;
    if (command->has(unpairs_replies)) return protocol::request_effect::unpairs;
    return protocol::request_effect::none;
}

bool command_catalogue::pins(const command_info& command, std::span<const std::string_view> args) {
    if (command.has(catalogue::pins)) return true;
    if (!command.has(pins_when_blocking)) return false;
    // XREAD and XREADGROUP block only with a BLOCK option, which comes before STREAMS.
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (equals_lower(args[i], "streams")) return false;
        if (equals_lower(args[i], "block")) return true;
    }
    return false;
}

bool command_catalogue::may_take_long(const command_info& command, std::span<const std::string_view> args) {
    if (command.has(catalogue::may_take_long)) return true;
    // SCAN cursor [MATCH p] [COUNT n] [TYPE t]: a COUNT past this walks a large part of a big
    // keyspace in one call.
    constexpr std::int64_t large_count = 100000;
    if (command.name != "scan") return false;
    for (std::size_t i = 2; i + 1 < args.size(); ++i) {
        std::int64_t count = 0;
        if (equals_lower(args[i], "count") && protocol::parse_int64(args[i + 1], count) && count >= large_count)
            return true;
    }
    return false;
}

bool command_catalogue::replay_safe(const command_info& command, std::span<const std::string_view> args) {
    if (!command.has(catalogue::replay_safe)) return false;
    if (command.name != "set") return true;
    // NX/XX/GET make SET's reply or effect depend on what was there, and a first run that Redis
    // applied changes that.
    for (std::size_t i = 3; i < args.size(); ++i)
        if (equals_lower(args[i], "nx") || equals_lower(args[i], "xx") || equals_lower(args[i], "get")) return false;
    return true;
}

}  // namespace redis_sidecar::catalogue
