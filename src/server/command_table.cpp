#include "redis_sidecar/server/command_table.hpp"

#include <array>
#include <string>
#include <initializer_list>

namespace redis_sidecar::server {

namespace {

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// No command looked up here has a longer name.
constexpr std::size_t longest_name = 12;
using name_buffer = std::array<char, longest_name>;

// The command name in lowercase, in `buffer`; empty when it is too long to be one looked up.
std::string_view lowercase_name(std::string_view name, name_buffer& buffer) {
    if (name.size() > longest_name) return {};
    for (std::size_t i = 0; i < name.size(); ++i) buffer[i] = to_lower(name[i]);
    return {buffer.data(), name.size()};
}

// A fixed open-addressing table of lowercase command names. Routing looks a name up on every
// request; std::hash of a string_view (a murmur over the bytes) plus the bucket walk cost 2.3 % of
// the sidecar's CPU at -P 16, where the length and three letters tell these names apart at once.
template <typename Value>
class name_table {
public:
    struct entry {
        std::string_view name;
        Value value{};
    };

    name_table(std::initializer_list<entry> entries) {
        for (const entry& e : entries) {
            std::size_t slot = slot_of(e.name);
            while (!slots_[slot].name.empty()) slot = (slot + 1) % slot_count;
            slots_[slot] = e;
        }
    }

    /// The value of `name` (lowercase, not empty), or null when it is not in the table.
    const Value* find(std::string_view name) const {
        for (std::size_t slot = slot_of(name);; slot = (slot + 1) % slot_count) {
            const entry& e = slots_[slot];
            if (e.name.empty()) return nullptr;
            if (e.name == name) return &e.value;
        }
    }

private:
    // Four times the entries of the largest table: probes stay short and a free slot always ends them.
    static constexpr std::size_t slot_count = 256;

    static std::size_t slot_of(std::string_view name) {
        const auto letter = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(name[i])); };
        return (name.size() * 97 + letter(0) * 31 + letter(name.size() / 2) * 7 + letter(name.size() - 1)) % slot_count;
    }

    std::array<entry, slot_count> slots_{};
};

// Commands whose effect outlives the command on the connection that ran it, so sharing that
// connection with other clients would leak state between them or break the reply order.
const name_table<command_route>& routes() {
    static const name_table<command_route> table = {
        {"multi", command_route::pin},       {"exec", command_route::pin},
        {"discard", command_route::pin},     {"watch", command_route::pin},
        {"unwatch", command_route::pin},     {"blpop", command_route::pin},
        {"brpop", command_route::pin},       {"blmove", command_route::pin},
        {"brpoplpush", command_route::pin},  {"bzpopmin", command_route::pin},
        {"bzpopmax", command_route::pin},    {"blmpop", command_route::pin},
        {"bzmpop", command_route::pin},      {"wait", command_route::pin},
        {"waitaof", command_route::pin},     {"subscribe", command_route::pin},
        {"psubscribe", command_route::pin},  {"ssubscribe", command_route::pin},
        // Unsubscribing answers once per channel: one request, several replies.
        {"unsubscribe", command_route::pin}, {"punsubscribe", command_route::pin},
        {"sunsubscribe", command_route::pin}, {"monitor", command_route::pin},
        {"reset", command_route::reset},     {"auth", command_route::auth},
        {"sync", command_route::pin},        {"psync", command_route::pin},
        {"replconf", command_route::pin},
        {"quit", command_route::quit},       {"ping", command_route::ping},
        {"select", command_route::select},   {"hello", command_route::hello},
        {"client", command_route::client},   {"info", command_route::info},
        {"get", command_route::forward_get},
        // Writes the local store can follow, so blacklist and lock keys have a local copy.
        {"set", command_route::forward_write},      {"setnx", command_route::forward_write},
        {"setex", command_route::forward_write},    {"psetex", command_route::forward_write},
        {"getset", command_route::forward_write},   {"getdel", command_route::forward_write},
        {"getex", command_route::forward_write},    {"del", command_route::forward_write},
        {"unlink", command_route::forward_write},   {"expire", command_route::forward_write},
        {"pexpire", command_route::forward_write},  {"expireat", command_route::forward_write},
        {"pexpireat", command_route::forward_write}, {"persist", command_route::forward_write},
        {"evalsha", command_route::forward_write},  {"eval", command_route::forward_write},
    };
    return table;
}

// XREAD and XREADGROUP block only with a BLOCK option, which comes before STREAMS.
bool has_block_option(std::span<const std::string_view> args) {
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (equals_lower(args[i], "streams")) return false;
        if (equals_lower(args[i], "block")) return true;
    }
    return false;
}

// SET is replay-safe only as a plain overwrite: NX/XX/GET make its reply or effect depend on
// what was there, and a first run that Redis applied changes that.
bool is_plain_set(std::span<const std::string_view> args) {
    for (std::size_t i = 3; i < args.size(); ++i)
        if (equals_lower(args[i], "nx") || equals_lower(args[i], "xx") || equals_lower(args[i], "get")) return false;
    return true;
}

}  // namespace

bool is_replay_safe(std::span<const std::string_view> args) {
    static const name_table<bool> safe = {
        {"get", true},       {"mget", true},      {"exists", true},      {"ttl", true},
        {"pttl", true},      {"expiretime", true}, {"pexpiretime", true}, {"strlen", true},
        {"type", true},      {"keys", true},      {"scan", true},        {"dbsize", true},
        {"randomkey", true}, {"ping", true},      {"echo", true},        {"time", true},
        {"mset", true},      {"del", true},       {"unlink", true},      {"persist", true},
        {"setex", true},     {"psetex", true},    {"pexpireat", true},   {"expireat", true},
        {"set", true},
    };
    name_buffer buffer;
    const std::string_view key = lowercase_name(args[0], buffer);
    if (key.empty() || safe.find(key) == nullptr) return false;
    return key != "set" || is_plain_set(args);
}

bool equals_lower(std::string_view text, std::string_view lowercase) {
    if (text.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (to_lower(text[i]) != lowercase[i]) return false;
    return true;
}

command_route route_command(std::span<const std::string_view> args) {
    name_buffer buffer;
    const std::string_view key = lowercase_name(args[0], buffer);
    if (key.empty()) return command_route::forward;
    if (key == "xread" || key == "xreadgroup")
        return has_block_option(args) ? command_route::pin : command_route::forward;
    const command_route* found = routes().find(key);
    return found == nullptr ? command_route::forward : *found;
}

}  // namespace redis_sidecar::server
