// Keyspace and expiry commands with Redis 7.0's semantics (db.c, expire.c).

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"
#include "redis_sidecar/local/glob.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::local::detail {

namespace {

// -- EXPIRE family -------------------------------------------------------------------------------

struct expire_flags {
    bool nx = false;
    bool xx = false;
    bool gt = false;
    bool lt = false;
    bool any() const { return nx || xx || gt || lt; }
};

// parseExtendedExpireArgumentsOrReply: all options are read before conflicts are checked.
bool parse_expire_flags(command_context& ctx, expire_flags& f) {
    for (std::size_t j = 3; j < ctx.args.size(); ++j) {
        const std::string_view opt = ctx.args[j];
        if (option_is(opt, "nx")) {
            f.nx = true;
        } else if (option_is(opt, "xx")) {
            f.xx = true;
        } else if (option_is(opt, "gt")) {
            f.gt = true;
        } else if (option_is(opt, "lt")) {
            f.lt = true;
        } else {
            std::string message = "ERR Unsupported option ";
            message.append(c_string(opt));
            reply_error_sanitized(ctx.out, message);
            return false;
        }
    }
    if (f.nx && (f.xx || f.gt || f.lt)) {
        protocol::write_error(ctx.out, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if (f.gt && f.lt) {
        protocol::write_error(ctx.out, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

// False when a flag forbids setting `when` over the key's current expiry.
bool flags_allow(const expire_flags& f, std::int64_t current, std::int64_t when) {
    if (f.nx && current != no_expiry) return false;
    if (f.xx && current == no_expiry) return false;
    // No expiry counts as an infinite TTL: never less than, never greater than.
    if (f.gt && (current == no_expiry || when <= current)) return false;
    if (f.lt && current != no_expiry && when >= current) return false;
    return true;
}

// expireGenericCommand; `basetime` is now for relative forms and 0 for absolute ones.
void expire_generic(command_context& ctx, std::int64_t basetime, bool seconds) {
    expire_flags flags;
    if (!parse_expire_flags(ctx, flags)) return;
    std::int64_t when;
    if (!parse_integer_or_reply(ctx.out, ctx.args[2], when)) return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            reply_invalid_expire(ctx);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        reply_invalid_expire(ctx);
        return;
    }
    when += basetime;

    keyspace::entry* e = ctx.keys.find(ctx.args[1], ctx.now_ms);
    if (e == nullptr || (flags.any() && !flags_allow(flags, e->expire_at(), when))) {
        protocol::write_integer(ctx.out, 0);
        return;
    }
    if (when <= ctx.now_ms) {
        ctx.keys.erase(*e);  // checkAlreadyExpired: a time already past deletes the key
    } else {
        ctx.keys.set_expiry(*e, when);
    }
    protocol::write_integer(ctx.out, 1);
}

// ttlGenericCommand.
void ttl_generic(command_context& ctx, bool milliseconds, bool absolute) {
    const keyspace::entry* e = ctx.keys.find(ctx.args[1], ctx.now_ms, false);
    if (e == nullptr) {
        protocol::write_integer(ctx.out, -2);
        return;
    }
    if (!e->has_expiry()) {
        protocol::write_integer(ctx.out, -1);
        return;
    }
    std::int64_t ttl = absolute ? e->expire_at() : e->expire_at() - ctx.now_ms;
    if (ttl < 0) ttl = 0;
    protocol::write_integer(ctx.out, milliseconds ? ttl : (ttl + 500) / 1000);
}

// -- SCAN ----------------------------------------------------------------------------------------

// parseScanCursorOrReply: strtoul semantics, so "-1" wraps and "" is 0, but a leading space,
// trailing bytes or overflow are errors.
bool parse_scan_cursor(std::string_view arg, std::uint64_t& cursor) {
    const std::string text(arg);  // NUL-terminated; an embedded NUL ends the number, as in Redis
    if (!text.empty() && std::isspace(static_cast<unsigned char>(text[0]))) return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE) return false;
    cursor = value;
    return true;
}

struct scan_options {
    std::int64_t count = 10;
    std::string_view pattern;
    bool use_pattern = false;
    std::string_view type;
    bool use_type = false;
};

bool parse_scan_options(command_context& ctx, scan_options& o) {
    const auto& args = ctx.args;
    for (std::size_t i = 2; i < args.size();) {
        const bool has_value = args.size() - i >= 2;
        if (option_is(args[i], "count") && has_value) {
            if (!parse_integer_or_reply(ctx.out, args[i + 1], o.count)) return false;
            if (o.count < 1) {
                reply_syntax_error(ctx.out);
                return false;
            }
        } else if (option_is(args[i], "match") && has_value) {
            o.pattern = args[i + 1];
            // The pattern may be disabled if it is the literal "*".
            o.use_pattern = o.pattern != "*";
        } else if (option_is(args[i], "type") && has_value) {
            o.type = c_string(args[i + 1]);
            o.use_type = true;
        } else {
            reply_syntax_error(ctx.out);
            return false;
        }
        i += 2;
    }
    return true;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

void del_command(command_context& ctx) {
    std::int64_t deleted = 0;
    for (std::size_t j = 1; j < ctx.args.size(); ++j) {
        if (ctx.keys.erase(ctx.args[j], ctx.now_ms)) ++deleted;
    }
    protocol::write_integer(ctx.out, deleted);
}

void exists_command(command_context& ctx) {
    std::int64_t count = 0;
    for (std::size_t j = 1; j < ctx.args.size(); ++j) {
        if (ctx.keys.find(ctx.args[j], ctx.now_ms, false) != nullptr) ++count;
    }
    protocol::write_integer(ctx.out, count);
}

void expire_command(command_context& ctx) { expire_generic(ctx, ctx.now_ms, true); }

void pexpire_command(command_context& ctx) { expire_generic(ctx, ctx.now_ms, false); }

void expireat_command(command_context& ctx) { expire_generic(ctx, 0, true); }

void pexpireat_command(command_context& ctx) { expire_generic(ctx, 0, false); }

void persist_command(command_context& ctx) {
    keyspace::entry* e = ctx.keys.find(ctx.args[1], ctx.now_ms);
    if (e == nullptr || !e->has_expiry()) {
        protocol::write_integer(ctx.out, 0);
        return;
    }
    ctx.keys.set_expiry(*e, no_expiry);
    protocol::write_integer(ctx.out, 1);
}

void ttl_command(command_context& ctx) { ttl_generic(ctx, false, false); }

void pttl_command(command_context& ctx) { ttl_generic(ctx, true, false); }

void expiretime_command(command_context& ctx) { ttl_generic(ctx, false, true); }

void pexpiretime_command(command_context& ctx) { ttl_generic(ctx, true, true); }

void type_command(command_context& ctx) {
    const bool found = ctx.keys.find(ctx.args[1], ctx.now_ms, false) != nullptr;
    protocol::write_simple(ctx.out, found ? "string" : "none");
}

void randomkey_command(command_context& ctx) {
    const keyspace::entry* e = ctx.keys.random_entry(ctx.now_ms);
    if (e == nullptr) {
        protocol::write_null_bulk(ctx.out);
    } else {
        protocol::write_bulk(ctx.out, e->key());
    }
}

void keys_command(command_context& ctx) {
    const std::string_view pattern = ctx.args[1];
    const bool all = pattern == "*";
    std::vector<std::string_view> matched;
    // Expired keys are skipped but, as in Redis, not deleted here.
    ctx.keys.for_each([&](const keyspace::entry& e) {
        if ((all || glob_match(pattern, e.key())) && !keyspace::is_expired(e, ctx.now_ms)) {
            matched.push_back(e.key());
        }
    });
    protocol::write_array_header(ctx.out, static_cast<std::int64_t>(matched.size()));
    for (std::string_view key : matched) protocol::write_bulk(ctx.out, key);
}

void scan_command(command_context& ctx) {
    std::uint64_t cursor;
    if (!parse_scan_cursor(ctx.args[1], cursor)) {
        protocol::write_error(ctx.out, "ERR invalid cursor");
        return;
    }
    scan_options o;
    if (!parse_scan_options(ctx, o)) return;

    std::vector<const keyspace::entry*> found;
    const auto count = static_cast<std::size_t>(o.count);
    // Redis bounds the buckets visited at count*10 so a sparse table cannot block it.
    std::uint64_t max_iterations = o.count > LLONG_MAX / 10 ? static_cast<std::uint64_t>(LLONG_MAX) : count * 10;
    do {
        cursor = ctx.keys.scan(cursor, found);
    } while (cursor != 0 && max_iterations-- != 0 && found.size() < count);

    // Filter in Redis's order: pattern, then type, then expiry. Entries stay at their address when
    // others are erased, so the keys kept can be referenced until the reply is written.
    std::vector<const keyspace::entry*> expired;
    std::vector<std::string_view> keys;
    for (const keyspace::entry* e : found) {
        if (o.use_pattern && !glob_match(o.pattern, e->key())) continue;
        const bool is_expired = keyspace::is_expired(*e, ctx.now_ms);
        if (o.use_type) {
            // Redis looks the key up for its type, which deletes an expired key; it is then
            // "none" and, being gone, no longer counts as expired below.
            if (is_expired) expired.push_back(e);
            if (!iequals_ascii(o.type, is_expired ? "none" : "string")) continue;
        } else if (is_expired) {
            expired.push_back(e);
            continue;
        }
        keys.push_back(e->key());
    }

    char digits[24];
    const std::string_view cursor_text{
        digits, static_cast<std::size_t>(
                    std::snprintf(digits, sizeof(digits), "%llu", static_cast<unsigned long long>(cursor)))};
    protocol::write_array_header(ctx.out, 2);
    protocol::write_bulk(ctx.out, cursor_text);
    protocol::write_array_header(ctx.out, static_cast<std::int64_t>(keys.size()));
    for (std::string_view key : keys) protocol::write_bulk(ctx.out, key);
    // A lookup deletes an expired key and counts it as expired.
    for (const keyspace::entry* e : expired) ctx.keys.find(e->key(), ctx.now_ms, false);
}

void dbsize_command(command_context& ctx) {
    protocol::write_integer(ctx.out, static_cast<std::int64_t>(ctx.keys.size()));
}

}  // namespace redis_sidecar::local::detail
