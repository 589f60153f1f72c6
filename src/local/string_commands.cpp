// String commands with Redis 7.0's semantics (t_string.c): option parsing order, which check comes
// first, and the exact error strings.

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "commands.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::local::detail {

namespace {

constexpr std::int64_t max_string_length = 512LL * 1024 * 1024;  // proto-max-bulk-len
constexpr std::size_t max_long_double_chars = 5 * 1024;          // MAX_LONG_DOUBLE_CHARS

// The extended options of SET and GETEX (Redis's OBJ_* flags).
struct string_options {
    bool nx = false;
    bool xx = false;
    bool get = false;
    bool keepttl = false;
    bool persist = false;
    bool ex = false;
    bool px = false;
    bool exat = false;
    bool pxat = false;
    const std::string_view* expire = nullptr;

    bool any_expire() const { return ex || px || exat || pxat; }
    bool relative() const { return ex || px; }
    bool seconds() const { return ex || exat; }
};

enum class option_mode { set, get };

// parseExtendedStringArgumentsOrReply: each option is accepted only when it does not conflict
// with one seen before; anything else, including a missing expire value, is a syntax error.
bool parse_string_options(command_context& ctx, option_mode mode, string_options& o) {
    const bool set = mode == option_mode::set;
    const auto& args = ctx.args;
    for (std::size_t j = set ? 3 : 2; j < args.size(); ++j) {
        const std::string_view opt = args[j];
        const bool has_next = j + 1 < args.size();
        if (option_is(opt, "nx") && !o.xx && set) {
            o.nx = true;
        } else if (option_is(opt, "xx") && !o.nx && set) {
            o.xx = true;
        } else if (option_is(opt, "get") && set) {
            o.get = true;
        } else if (option_is(opt, "keepttl") && !o.persist && !o.any_expire() && set) {
            o.keepttl = true;
        } else if (option_is(opt, "persist") && !set && !o.any_expire() && !o.keepttl) {
            o.persist = true;
        } else if (option_is(opt, "ex") && !o.keepttl && !o.persist && !o.exat && !o.px && !o.pxat && has_next) {
            o.ex = true;
            o.expire = &args[++j];
        } else if (option_is(opt, "px") && !o.keepttl && !o.persist && !o.ex && !o.exat && !o.pxat && has_next) {
            o.px = true;
            o.expire = &args[++j];
        } else if (option_is(opt, "exat") && !o.keepttl && !o.persist && !o.ex && !o.px && !o.pxat && has_next) {
            o.exat = true;
            o.expire = &args[++j];
        } else if (option_is(opt, "pxat") && !o.keepttl && !o.persist && !o.ex && !o.exat && !o.px && has_next) {
            o.pxat = true;
            o.expire = &args[++j];
        } else {
            reply_syntax_error(ctx.out);
            return false;
        }
    }
    return true;
}

// getExpireMillisecondsOrReply: the absolute expiry in ms. Redis adds the current time with C
// signed overflow, which wraps in practice; the wrapped result is then rejected as <= 0.
bool expire_ms_or_reply(command_context& ctx, std::string_view arg, const string_options& o, std::int64_t& when) {
    std::int64_t ms;
    if (!parse_integer_or_reply(ctx.out, arg, ms)) return false;
    if (ms <= 0 || (o.seconds() && ms > LLONG_MAX / 1000)) {
        reply_invalid_expire(ctx);
        return false;
    }
    if (o.seconds()) ms *= 1000;
    if (o.relative()) {
        ms = static_cast<std::int64_t>(static_cast<std::uint64_t>(ms) + static_cast<std::uint64_t>(ctx.now_ms));
    }
    if (ms <= 0) {
        reply_invalid_expire(ctx);
        return false;
    }
    when = ms;
    return true;
}

void reply_value(std::string& out, const keyspace::entry* e) {
    if (e == nullptr) {
        protocol::write_null_bulk(out);
    } else {
        protocol::write_bulk(out, e->value());
    }
}

// setGenericCommand. `ok` / `abort` are the replies for done / not done because of NX or XX;
// empty views mean +OK and a null bulk.
void set_generic(command_context& ctx, const string_options& o, std::string_view key, std::string_view value,
                 std::string_view ok = {}, std::string_view abort = {}) {
    std::int64_t when = 0;
    if (o.expire != nullptr && !expire_ms_or_reply(ctx, *o.expire, o, when)) return;
    if (o.get) reply_value(ctx.out, ctx.keys.find(key, ctx.now_ms));

    keyspace::entry* existing = ctx.keys.find(key, ctx.now_ms);
    if ((o.nx && existing != nullptr) || (o.xx && existing == nullptr)) {
        if (!o.get) {
            if (abort.empty()) {
                protocol::write_null_bulk(ctx.out);
            } else {
                ctx.out.append(abort);
            }
        }
        return;
    }
    const std::int64_t expire_at = o.expire != nullptr ? when : no_expiry;
    if (existing == nullptr) {
        ctx.keys.set(key, value, expire_at);
    } else if (o.keepttl) {
        ctx.keys.set_value(*existing, value);
    } else {
        ctx.keys.overwrite(*existing, value, expire_at);
    }
    if (o.get) return;
    if (ok.empty()) {
        reply_ok(ctx.out);
    } else {
        ctx.out.append(ok);
    }
}

// Stores an integer result, keeping the key's expiry as Redis's dbOverwrite does.
void store_keep_ttl(command_context& ctx, keyspace::entry* e, std::string_view key, std::string_view value) {
    if (e != nullptr) {
        ctx.keys.set_value(*e, value);
    } else {
        ctx.keys.set(key, value);
    }
}

void incr_decr(command_context& ctx, std::int64_t incr) {
    const std::string_view key = ctx.args[1];
    keyspace::entry* e = ctx.keys.find(key, ctx.now_ms);
    std::int64_t value = 0;
    if (e != nullptr && !parse_integer_or_reply(ctx.out, e->value(), value)) return;
    if ((incr < 0 && value < 0 && incr < (LLONG_MIN - value)) ||
        (incr > 0 && value > 0 && incr > (LLONG_MAX - value))) {
        protocol::write_error(ctx.out, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    char buffer[24];
    const std::string_view digits = format_integer(value, buffer);
    store_keep_ttl(ctx, e, key, digits);
    // The reply is ":<the same digits>\r\n": formatted once for both.
    ctx.out.push_back(':');
    ctx.out.append(digits);
    ctx.out.append("\r\n", 2);
}

// string2ld: strtold over a NUL-terminated copy, which must consume every byte.
bool parse_long_double(std::string_view s, long double& value) {
    if (s.empty() || s.size() >= max_long_double_chars) return false;
    char buffer[max_long_double_chars];
    std::memcpy(buffer, s.data(), s.size());
    buffer[s.size()] = '\0';
    errno = 0;
    char* end = nullptr;
    const long double parsed = std::strtold(buffer, &end);
    const bool range_error =
        errno == ERANGE && (parsed == HUGE_VAL || parsed == -HUGE_VAL || std::fpclassify(parsed) == FP_ZERO);
    // The end must be the end of the argument: an embedded NUL is not a number's end here.
    const bool whole = *end == '\0' && static_cast<std::size_t>(end - buffer) == s.size();
    if (std::isspace(static_cast<unsigned char>(buffer[0])) || !whole || range_error || errno == EINVAL ||
        std::isnan(parsed)) {
        return false;
    }
    value = parsed;
    return true;
}

// ld2string in LD_STR_HUMAN mode: %.17Lf, trailing zeros (and a bare '.') removed, "-0" -> "0".
std::string format_long_double(long double value) {
    char buffer[max_long_double_chars];
    const int written = std::snprintf(buffer, sizeof(buffer), "%.17Lf", value);
    if (written < 0 || static_cast<std::size_t>(written) + 1 > sizeof(buffer)) return {};
    std::size_t length = static_cast<std::size_t>(written);
    if (std::memchr(buffer, '.', length) != nullptr) {
        while (buffer[length - 1] == '0') --length;
        if (buffer[length - 1] == '.') --length;
    }
    if (length == 2 && buffer[0] == '-' && buffer[1] == '0') return "0";
    return std::string(buffer, length);
}

void reply_not_float(std::string& out) { protocol::write_error(out, "ERR value is not a valid float"); }

}  // namespace

void get_command(command_context& ctx) { reply_value(ctx.out, ctx.keys.find(ctx.args[1], ctx.now_ms)); }

void set_command(command_context& ctx) {
    string_options o;
    if (!parse_string_options(ctx, option_mode::set, o)) return;
    set_generic(ctx, o, ctx.args[1], ctx.args[2]);
}

void setnx_command(command_context& ctx) {
    string_options o;
    o.nx = true;
    set_generic(ctx, o, ctx.args[1], ctx.args[2], ":1\r\n", ":0\r\n");
}

void setex_command(command_context& ctx) {
    string_options o;
    o.ex = true;
    o.expire = &ctx.args[2];
    set_generic(ctx, o, ctx.args[1], ctx.args[3]);
}

void psetex_command(command_context& ctx) {
    string_options o;
    o.px = true;
    o.expire = &ctx.args[2];
    set_generic(ctx, o, ctx.args[1], ctx.args[3]);
}

void getset_command(command_context& ctx) {
    const std::string_view key = ctx.args[1];
    reply_value(ctx.out, ctx.keys.find(key, ctx.now_ms));
    ctx.keys.set(key, ctx.args[2]);
}

void getdel_command(command_context& ctx) {
    keyspace::entry* e = ctx.keys.find(ctx.args[1], ctx.now_ms);
    reply_value(ctx.out, e);
    if (e != nullptr) ctx.keys.erase(*e);
}

void getex_command(command_context& ctx) {
    string_options o;
    if (!parse_string_options(ctx, option_mode::get, o)) return;
    keyspace::entry* e = ctx.keys.find(ctx.args[1], ctx.now_ms);
    if (e == nullptr) {
        protocol::write_null_bulk(ctx.out);
        return;
    }
    std::int64_t when = 0;
    if (o.expire != nullptr && !expire_ms_or_reply(ctx, *o.expire, o, when)) return;
    protocol::write_bulk(ctx.out, e->value());
    if ((o.exat || o.pxat) && when <= ctx.now_ms) {
        // An absolute time already past deletes the key, as checkAlreadyExpired decides.
        ctx.keys.erase(*e);
    } else if (o.expire != nullptr) {
        ctx.keys.set_expiry(*e, when);
    } else if (o.persist) {
        ctx.keys.set_expiry(*e, no_expiry);
    }
}

void mget_command(command_context& ctx) {
    protocol::write_array_header(ctx.out, static_cast<std::int64_t>(ctx.args.size() - 1));
    for (std::size_t j = 1; j < ctx.args.size(); ++j) reply_value(ctx.out, ctx.keys.find(ctx.args[j], ctx.now_ms));
}

void mset_command(command_context& ctx) {
    if (ctx.args.size() % 2 == 0) {
        reply_arity_error(ctx.out, ctx.name);
        return;
    }
    for (std::size_t j = 1; j < ctx.args.size(); j += 2) ctx.keys.set(ctx.args[j], ctx.args[j + 1]);
    reply_ok(ctx.out);
}

void msetnx_command(command_context& ctx) {
    if (ctx.args.size() % 2 == 0) {
        reply_arity_error(ctx.out, ctx.name);
        return;
    }
    for (std::size_t j = 1; j < ctx.args.size(); j += 2) {
        if (ctx.keys.find(ctx.args[j], ctx.now_ms) != nullptr) {
            protocol::write_integer(ctx.out, 0);
            return;
        }
    }
    for (std::size_t j = 1; j < ctx.args.size(); j += 2) ctx.keys.set(ctx.args[j], ctx.args[j + 1]);
    protocol::write_integer(ctx.out, 1);
}

void incr_command(command_context& ctx) { incr_decr(ctx, 1); }

void decr_command(command_context& ctx) { incr_decr(ctx, -1); }

void incrby_command(command_context& ctx) {
    std::int64_t incr;
    if (!parse_integer_or_reply(ctx.out, ctx.args[2], incr)) return;
    incr_decr(ctx, incr);
}

void decrby_command(command_context& ctx) {
    std::int64_t incr;
    if (!parse_integer_or_reply(ctx.out, ctx.args[2], incr)) return;
    if (incr == LLONG_MIN) {
        // Its negation does not fit.
        protocol::write_error(ctx.out, "ERR decrement would overflow");
        return;
    }
    incr_decr(ctx, -incr);
}

void incrbyfloat_command(command_context& ctx) {
    const std::string_view key = ctx.args[1];
    keyspace::entry* e = ctx.keys.find(key, ctx.now_ms);
    long double value = 0;
    long double incr = 0;
    if ((e != nullptr && !parse_long_double(e->value(), value)) || !parse_long_double(ctx.args[2], incr)) {
        reply_not_float(ctx.out);
        return;
    }
    value += incr;
    if (std::isnan(value) || std::isinf(value)) {
        protocol::write_error(ctx.out, "ERR increment would produce NaN or Infinity");
        return;
    }
    const std::string text = format_long_double(value);
    store_keep_ttl(ctx, e, key, text);
    protocol::write_bulk(ctx.out, text);
}

void append_command(command_context& ctx) {
    const std::string_view key = ctx.args[1];
    const std::string_view suffix = ctx.args[2];
    keyspace::entry* e = ctx.keys.find(key, ctx.now_ms);
    if (e == nullptr) {
        ctx.keys.set(key, suffix);
        protocol::write_integer(ctx.out, static_cast<std::int64_t>(suffix.size()));
        return;
    }
    const auto total = static_cast<std::int64_t>(e->value().size() + suffix.size());
    if (total > max_string_length) {
        protocol::write_error(ctx.out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    ctx.keys.append_value(*e, suffix);
    protocol::write_integer(ctx.out, total);
}

void strlen_command(command_context& ctx) {
    const keyspace::entry* e = ctx.keys.find(ctx.args[1], ctx.now_ms);
    protocol::write_integer(ctx.out, e == nullptr ? 0 : static_cast<std::int64_t>(e->value().size()));
}

}  // namespace redis_sidecar::local::detail
