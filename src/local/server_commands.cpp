// Connection and server commands answered locally.

#include <climits>
#include <string>

#include "commands.hpp"
#include "redis_sidecar/local/engine.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::local::detail {

namespace {

constexpr std::int64_t redis_databases = 16;       // Redis's default `databases`
constexpr std::int64_t redis_command_count = 240;  // COMMAND COUNT of Redis 7.0.15

}  // namespace

void ping_command(command_context& ctx) {
    if (ctx.args.size() > 2) {
        reply_arity_error(ctx.out, ctx.name);
    } else if (ctx.args.size() == 2) {
        protocol::write_bulk(ctx.out, ctx.args[1]);
    } else {
        protocol::write_simple(ctx.out, "PONG");
    }
}

void echo_command(command_context& ctx) { protocol::write_bulk(ctx.out, ctx.args[1]); }

void select_command(command_context& ctx) {
    std::int64_t id;
    if (!parse_integer_or_reply(ctx.out, ctx.args[1], id)) return;
    if (id < INT_MIN || id > INT_MAX) {
        protocol::write_error(ctx.out, "ERR value is out of range, value must between -2147483648 and 2147483647");
    } else if (id < 0 || id >= redis_databases) {
        protocol::write_error(ctx.out, "ERR DB index is out of range");
    } else if (id != 0) {
        // A valid database, but the local keyspace is database 0 only.
        protocol::write_error(ctx.out, down_errors::select_other_db);
    } else {
        reply_ok(ctx.out);
    }
}

void time_command(command_context& ctx) {
    char seconds[24];
    char micros[24];
    const std::int64_t now = ctx.now_ms;
    protocol::write_array_header(ctx.out, 2);
    protocol::write_bulk(ctx.out, format_integer(now / 1000, seconds));
    protocol::write_bulk(ctx.out, format_integer((now % 1000) * 1000, micros));
}

void command_count_command(command_context& ctx) { protocol::write_integer(ctx.out, redis_command_count); }

void flush_command(command_context& ctx) {
    std::string message = "ERR upstream Redis is unavailable; '";
    message.append(ctx.name);
    message.append("' is refused by the sidecar while it is down, as it would wipe the local mirror of revoked tokens");
    protocol::write_error(ctx.out, message);
}

}  // namespace redis_sidecar::local::detail
