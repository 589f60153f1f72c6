// The sidecar's own knowledge of commands, which no COMMAND reply gives: what pins a client, what
// may run again after a failure, what the local store answers, what may take long. Added to
// Redis's description of each command, built-in or learned.

#include <algorithm>

#include "redis_sidecar/catalogue/command_catalogue.hpp"

namespace redis_sidecar::catalogue {

namespace {

struct knowledge {
    std::string_view name;
    std::uint32_t flags;
    connection_role role = connection_role::none;
};

// Shorthands for the table below.
constexpr std::uint32_t pin = pins;
constexpr std::uint32_t safe = replay_safe;
constexpr std::uint32_t local = answered_locally;
constexpr std::uint32_t slow = may_take_long;
constexpr std::uint32_t large = large_reply;
constexpr std::uint32_t unpairs = unpairs_replies;
constexpr std::uint32_t rescue = rescues_busy;

// Why each entry pins: its effect outlives the command on the connection that ran it (a
// transaction, a blocked pop, subscriptions, tracking), so sharing that connection with other
// clients would leak state between them or break the reply order. Unsubscribing answers once per
// channel. Replay-safe: reads, and writes whose effect is the same however often they run (INCR,
// GETSET, SET NX are not; SET only as a plain overwrite, see replay_safe()).
constexpr knowledge table[] = {
    // Transactions.
    {"multi", pin | opens_transaction},
    {"exec", pin | closes_transaction},
    {"discard", pin | closes_transaction},
    {"watch", pin},
    {"unwatch", pin},
    // Blocking commands.
    {"blpop", pin},
    {"brpop", pin},
    {"blmove", pin},
    {"brpoplpush", pin},
    {"bzpopmin", pin},
    {"bzpopmax", pin},
    {"blmpop", pin},
    {"bzmpop", pin},
    {"wait", pin},
    {"waitaof", pin},
    {"xread", pins_when_blocking},
    {"xreadgroup", pins_when_blocking},
    // Pub/sub, MONITOR, replication: the connection becomes a feed.
    {"subscribe", pin | unpairs},
    {"psubscribe", pin | unpairs},
    {"ssubscribe", pin | unpairs},
    {"unsubscribe", pin | unpairs},
    {"punsubscribe", pin | unpairs},
    {"sunsubscribe", pin | unpairs},
    {"monitor", pin | unpairs},
    {"sync", pin | unpairs},
    {"psync", pin | unpairs},
    {"replconf", pin | unpairs},
    // The client's own connection (CLIENT REPLY, HELLO 3 and RESET change how replies pair up).
    {"quit", 0, connection_role::quit},
    {"ping", safe | local, connection_role::ping},
    {"select", local, connection_role::select},
    {"hello", unpairs, connection_role::hello},
    {"client", unpairs, connection_role::client},
    {"info", 0, connection_role::info},
    {"auth", 0, connection_role::auth},
    {"reset", unpairs, connection_role::reset},
    {"client|tracking", pin},
    {"client|reply", pin},
    // Commands that rescue a busy Redis (a script past its busy-reply-threshold, a blocked
    // client): each leaves on a connection of its own, never queued behind the request Redis is
    // busy with, and is tried even while Redis is suspected down.
    {"client|kill", pin | rescue},
    {"client|unblock", pin | rescue},
    {"script|kill", pin | rescue},
    {"function|kill", pin | rescue},
    {"shutdown", pin | rescue},
    {"client|caching", pin},
    {"client|getredir", pin},
    {"client|trackinginfo", pin},
    {"client|no-evict", pin},
    {"client|no-touch", pin},
    {"client|list", large},
    // Strings.
    {"get", safe | local | fail_closed_read},
    {"set", safe | local},
    {"setnx", local},
    {"setex", safe | local},
    {"psetex", safe | local},
    {"getset", local},
    {"getdel", local},
    {"getex", local},
    {"mget", safe | local | large},
    {"mset", safe | local},
    {"msetnx", local},
    {"incr", local},
    {"decr", local},
    {"incrby", local},
    {"decrby", local},
    {"incrbyfloat", local},
    {"append", local},
    {"strlen", safe | local},
    // Keys and expiry.
    {"del", safe | local},
    {"unlink", safe | local},
    {"exists", safe | local},
    {"expire", local},
    {"pexpire", local},
    {"expireat", safe | local},
    {"pexpireat", safe | local},
    {"persist", safe | local},
    {"ttl", safe | local},
    {"pttl", safe | local},
    {"expiretime", safe | local},
    {"pexpiretime", safe | local},
    {"type", safe | local},
    {"randomkey", safe | local},
    {"keys", safe | local | slow | large},
    {"scan", safe | local},
    {"dbsize", safe | local},
    {"echo", safe | local},
    {"time", safe | local},
    {"command|count", local},
    // Scripts: the lock scripts of common clients are run natively while Redis is down.
    {"eval", local | slow},
    {"evalsha", local | slow},
    {"eval_ro", slow},
    {"evalsha_ro", slow},
    {"fcall", slow},
    {"fcall_ro", slow},
    {"script|load", local},
    {"script|exists", local},
    // Other commands Redis may legitimately work on for long.
    {"sort", slow | large},
    {"sort_ro", slow | large},
    {"sunionstore", slow},
    {"sinterstore", slow},
    {"sdiffstore", slow},
    {"zunionstore", slow},
    {"zinterstore", slow},
    {"zdiffstore", slow},
    {"zrangestore", slow},
    {"flushall", slow},
    {"flushdb", slow},
    {"debug", slow},
    {"save", slow},
    {"migrate", slow},
    // Whole collections.
    {"hgetall", large},
    {"hkeys", large},
    {"hvals", large},
    {"smembers", large},
    {"sunion", large},
    {"sinter", large},
    {"sdiff", large},
    {"lrange", large},
    {"zrange", large},
    {"zrangebyscore", large},
    {"zrangebylex", large},
    {"zrevrange", large},
    {"zrevrangebyscore", large},
    {"zrevrangebylex", large},
    {"xrange", large},
    {"xrevrange", large},
};

command_info* find_or_add(std::vector<command_info>& commands, std::string_view name) {
    const std::size_t bar = name.find('|');
    if (bar != std::string_view::npos) {
        command_info* container = find_or_add(commands, name.substr(0, bar));
        for (command_info& sub : container->subcommands)
            if (sub.name == name) return &sub;
        command_info& added = container->subcommands.emplace_back();
        added.name = std::string(name);
        added.arity = -2;
        return &added;
    }
    for (command_info& c : commands)
        if (c.name == name) return &c;
    // Known to the sidecar but not to this Redis (e.g. WAITAOF before 7.2): it keeps its meaning.
    command_info& added = commands.emplace_back();
    added.name = std::string(name);
    added.arity = -1;
    return &added;
}

// Scripts carry no `write` flag (Redis cannot know what they do) but say their keys may be written.
void mark_key_writers(command_info& c) {
    const bool writes = c.has(write) || std::any_of(c.keys.begin(), c.keys.end(), [](const key_spec& k) {
                            return key_may_be_written(k.flags);
                        });
    if (writes) c.flags |= writes_keys;
    for (command_info& sub : c.subcommands) mark_key_writers(sub);
}

}  // namespace

void add_sidecar_knowledge(std::vector<command_info>& commands) {
    for (const knowledge& k : table) {
        command_info* c = find_or_add(commands, k.name);
        c->flags |= k.flags;
        c->role = k.role;
    }
    for (command_info& c : commands) {
        // Commands of modules and newer Redis versions that block pin, as the known blocking ones do.
        if (c.has(blocking) && !c.has(pins_when_blocking) && c.role == connection_role::none) c.flags |= pins;
        mark_key_writers(c);
    }
    std::sort(commands.begin(), commands.end(), [](const command_info& a, const command_info& b) { return a.name < b.name; });
}

}  // namespace redis_sidecar::catalogue
