#pragma once
/// What the sidecar knows about every Redis command: its arity, Redis's flags, where its keys
/// are, and the sidecar's own flags (does it pin the client, may it run again after a failure, is
/// it answered locally, may it take long...). Every component that must know something about a
/// command asks here; no other list of command names exists.
///
/// The catalogue starts from a built-in table, Redis 7.0's own COMMAND reply (so the sidecar knows
/// every key of every command before it has ever reached Redis), and learns from the upstream's
/// COMMAND reply when it connects: commands of modules and of newer Redis versions, with their key
/// positions. A catalogue is immutable once built: a learned one replaces the one in use.
/// Standard library only, so it is unit testable without sockets.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/protocol/pinned_request_scanner.hpp"

namespace redis_sidecar::catalogue {

/// Command flags: Redis's (as COMMAND gives them) in the low half, the sidecar's in the high half.
enum command_flag : std::uint32_t {
    write = 1u << 0,        ///< may modify the keyspace
    readonly = 1u << 1,     ///< only reads keys
    blocking = 1u << 2,     ///< may block the client (in Redis's sense)
    pubsub = 1u << 3,       ///< a pub/sub command
    movablekeys = 1u << 4,  ///< key positions depend on the arguments
    admin = 1u << 5,        ///< an administrative command
    noscript = 1u << 6,     ///< not allowed in scripts
    no_auth = 1u << 7,      ///< runs before authentication

    // The sidecar's own, from its built-in knowledge (never from Redis):
    pins = 1u << 16,                ///< leaves state on the connection: the client gets a dedicated one
    pins_when_blocking = 1u << 17,  ///< pins only with a BLOCK option (XREAD, XREADGROUP)
    replay_safe = 1u << 18,         ///< running it again gives the same state and a true reply
    answered_locally = 1u << 19,    ///< the local store serves it while Redis is down
    may_take_long = 1u << 20,       ///< Redis may legitimately work on it for long (scripts, KEYS...)
    large_reply = 1u << 21,         ///< its reply may be large (a whole collection or keyspace)
    fail_closed_read = 1u << 22,    ///< a read that falls back to the local copy of durable keys
    opens_transaction = 1u << 23,   ///< MULTI
    closes_transaction = 1u << 24,  ///< EXEC, DISCARD
    unpairs_replies = 1u << 25,     ///< after it, a reply no longer answers exactly one request
    writes_keys = 1u << 26,         ///< a write, or a key spec that may write (scripts: EVAL, FCALL)
    rescues_busy = 1u << 27,        ///< ends a busy or stuck Redis's work: always tried on a connection of its own
};

/// The sidecar's own commands about the client's connection: answered without Redis, up or down.
enum class connection_role : std::uint8_t {
    none,    ///< any other command
    quit,    ///< QUIT: +OK, then close
    ping,    ///< PING [message]
    select,  ///< SELECT: db 0 locally, any other db pins
    hello,   ///< HELLO: protocol 2 locally, 3 or AUTH pins
    client,  ///< CLIENT: some subcommands locally, some pin, the rest forwarded
    info,    ///< INFO: forwarded with the sidecar's section added
    auth,    ///< AUTH: the sidecar's with requirepass; otherwise pins (Redis decides)
    reset,   ///< RESET: the sidecar's with requirepass; otherwise pins
};

/// Flags of a key specification, as Redis names them.
enum key_flag : std::uint16_t {
    key_ro = 1u << 0,
    key_rw = 1u << 1,
    key_ow = 1u << 2,
    key_rm = 1u << 3,
    key_access = 1u << 4,
    key_update = 1u << 5,
    key_insert = 1u << 6,
    key_delete = 1u << 7,
    key_not_key = 1u << 8,
    key_incomplete = 1u << 9,
    key_variable_flags = 1u << 10,
};

/// True when a key with these flags may be written (created, changed or deleted).
constexpr bool key_may_be_written(std::uint16_t flags) {
    return (flags & (key_rw | key_ow | key_rm | key_update | key_insert | key_delete)) != 0;
}

/// Where a key specification's keys are, as Redis's COMMAND describes it.
struct key_spec {
    enum class begin_kind : std::uint8_t { index, keyword, unknown };
    enum class find_kind : std::uint8_t { range, keynum, unknown };

    std::uint16_t flags = 0;  ///< key_flag bits
    begin_kind begin = begin_kind::unknown;
    int index = 0;            ///< begin_kind::index: the first key's argument
    std::string keyword;      ///< begin_kind::keyword: the keys follow this (lowercase) word...
    int startfrom = 0;        ///< ... searched from this argument (negative: from the end, backwards)
    find_kind find = find_kind::unknown;
    int lastkey = 0;          ///< range: the last key, relative to the first (negative: from the end)
    int keystep = 1;          ///< range and keynum: arguments from one key to the next
    int limit = 0;            ///< range with lastkey -1: only the first 1/limit of the rest
    int keynumidx = 0;        ///< keynum: the argument holding the count, relative to the begin
    int firstkey = 0;         ///< keynum: the first key, relative to the begin
};

/// One command or subcommand.
struct command_info {
    std::string name;  ///< lowercase; a subcommand as "container|sub"
    int arity = 0;     ///< n exactly, or -n for at least n (the subcommand's own for a subcommand)
    std::uint32_t flags = 0;
    connection_role role = connection_role::none;
    std::vector<key_spec> keys;
    std::vector<command_info> subcommands;

    bool has(std::uint32_t flag) const { return (flags & flag) != 0; }
    /// True when `argc` arguments (the name included) satisfy the arity.
    bool arity_allows(std::size_t argc) const {
        const auto n = static_cast<std::size_t>(arity < 0 ? -arity : arity);
        return arity >= 0 ? argc == n : argc >= n;
    }
};

/// A key of a request: its argument's index, and the flags of the key specification that found it.
struct key_position {
    std::size_t index;
    std::uint16_t flags;
};

/// Where one key specification's keys lie in a request: `first`, `first + step`, ... up to
/// `last`; empty when the arguments do not fit it (a syntax error Redis will report).
struct key_range {
    std::size_t first = 1;
    std::size_t last = 0;
    std::size_t step = 1;
    bool empty() const { return last < first; }
};

/// The keys `spec` finds in `args`, as Redis's own key extraction finds them.
key_range keys_of(const key_spec& spec, std::span<const std::string_view> args);

/// SORT's and SORT_RO's STORE destination (its specification says "unknown": Redis walks the
/// options itself); 0 when there is none.
std::size_t sort_store_key(std::span<const std::string_view> args);

/// MIGRATE's key argument left empty because its KEYS option names the keys: no key, as Redis's
/// own walk of MIGRATE's arguments says.
inline bool is_migrate_placeholder(const command_info& command, std::span<const std::string_view> args,
                                   std::size_t index) {
    return index == 3 && args[3].empty() && command.name == "migrate";
}

/// Calls `visit(key_position)` for every key `args` names according to `command`'s key
/// specifications, in specification order. In line: the forwarding path asks it of every write.
template <typename Visit>
void for_each_key(const command_info& command, std::span<const std::string_view> args, Visit&& visit) {
    for (const key_spec& spec : command.keys) {
        if (spec.begin == key_spec::begin_kind::unknown) {
            // Only SORT's STORE is described so in Redis 7.0; a module's gets Redis's own
            // COMMAND GETKEYS treatment nowhere here, so its keys are not known.
            if (key_may_be_written(spec.flags))
                if (const std::size_t store = sort_store_key(args); store != 0) visit(key_position{store, spec.flags});
            continue;
        }
        const key_range range = keys_of(spec, args);
        if (range.empty()) continue;
        for (std::size_t i = range.first; i <= range.last && i < args.size(); i += range.step)
            if (!is_migrate_placeholder(command, args, i)) visit(key_position{i, spec.flags});
    }
}

/// The keys of `args` that `command` may write, each once, in argument order of discovery.
std::vector<std::string_view> written_keys(const command_info& command, std::span<const std::string_view> args);

class command_catalogue {
public:
    /// The built-in catalogue: Redis 7.0's commands with the sidecar's flags.
    static std::shared_ptr<const command_catalogue> builtin();

    /// The built-in catalogue updated with what Redis said of its commands (its COMMAND reply as
    /// parsed by the upstream): Redis's arity, flags and key specifications win, the sidecar's
    /// own flags stay; commands the built-in table lacks (modules, newer versions) are added, and
    /// pin when Redis calls them blocking.
    static std::shared_ptr<const command_catalogue> learned(std::vector<command_info> from_redis);

    /// The command `args` names (its subcommand for container commands such as CLIENT or
    /// SCRIPT, when the second argument names a known one), or null when unknown. Any case.
    const command_info* find(std::span<const std::string_view> args) const;
    /// The command (not subcommand) named `name`, in any case; null when unknown.
    const command_info* find_name(std::string_view name) const;
    /// The subcommand `sub` (any case) of `container`; null when unknown.
    static const command_info* find_subcommand(const command_info& container, std::string_view sub);

    /// True when the client must be pinned for `args` (XREAD's BLOCK decided from the arguments).
    static bool pins(const command_info& command, std::span<const std::string_view> args);
    /// True when Redis may legitimately work on `args` for long: a command flagged so (scripts,
    /// KEYS, SORT, the *STORE set operations, FLUSHALL, DEBUG, SAVE, MIGRATE...), or a SCAN with a
    /// COUNT large enough to walk much of the keyspace in one call.
    static bool may_take_long(const command_info& command, std::span<const std::string_view> args);
    /// True when a request whose fate is unknown (Redis failed before replying) may be run again
    /// on the local store: replay-safe commands, and SET only as a plain overwrite.
    static bool replay_safe(const command_info& command, std::span<const std::string_view> args);

    /// Every command, in name order.
    const std::vector<command_info>& commands() const { return commands_; }
    /// How many commands came from Redis's own COMMAND reply rather than the built-in table only.
    std::size_t learned_count() const { return learned_count_; }

    command_catalogue(const command_catalogue&) = delete;
    command_catalogue& operator=(const command_catalogue&) = delete;

private:
    // The longest command name looked up; a longer name is unknown.
    static constexpr std::size_t longest_name = 64;

    explicit command_catalogue(std::vector<command_info> commands, std::size_t learned_count);

    std::vector<command_info> commands_;
    std::size_t learned_count_ = 0;
    // Names point into commands_, which never changes after construction.
    protocol::name_table<std::uint32_t, 4096> index_;
};

/// The pinned request scanner's classifier: what a request named `lowercase_name` changes in how
/// replies pair with requests (MULTI, EXEC/DISCARD, subscriptions, MONITOR, CLIENT, HELLO...).
protocol::request_effect pinned_request_effect(std::string_view lowercase_name);

/// The command_flag Redis names `name` in COMMAND's reply (0 for a flag the sidecar does not read).
std::uint32_t command_flag_named(std::string_view name);
/// The key_flag Redis names `name` in a key specification (0 for one the sidecar does not read).
std::uint16_t key_flag_named(std::string_view name);

/// Parses the built-in table's text (see generate_builtin.py): one command or subcommand a line.
/// Throws std::invalid_argument naming the line on a malformed one.
std::vector<command_info> parse_command_table(std::string_view text);

/// Adds the sidecar's own flags and connection roles to `commands` (Redis's description).
void add_sidecar_knowledge(std::vector<command_info>& commands);

}  // namespace redis_sidecar::catalogue
