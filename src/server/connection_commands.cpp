#include "redis_sidecar/server/connection_commands.hpp"

#include <cctype>

#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/command_table.hpp"
#include "redis_sidecar/server/info.hpp"

namespace redis_sidecar::server {

namespace {

bool is_valid_client_name(std::string_view name) {
    for (char c : name)
        if (c < '!' || c > '~') return false;
    return true;
}

std::string wrong_arity(std::string_view name) {
    std::string message = "ERR wrong number of arguments for '";
    for (char c : name) message.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    message += "' command";
    return message;
}

connection_verdict reply(std::string& out, std::string_view bytes) {
    out.append(bytes);
    return connection_verdict::replied;
}

connection_verdict reply_error(std::string& out, std::string_view message) {
    protocol::write_error(out, message);
    return connection_verdict::replied;
}

// HELLO 2's reply: the map Redis 7.0 sends, as a flat array.
void write_hello_reply(std::uint64_t id, std::string_view redis_version, std::string& out) {
    protocol::write_array_header(out, 14);
    protocol::write_bulk(out, "server");
    protocol::write_bulk(out, "redis");
    protocol::write_bulk(out, "version");
    protocol::write_bulk(out, redis_version.empty() ? "7.0.0" : redis_version);
    protocol::write_bulk(out, "proto");
    protocol::write_integer(out, 2);
    protocol::write_bulk(out, "id");
    protocol::write_integer(out, static_cast<std::int64_t>(id));
    protocol::write_bulk(out, "mode");
    protocol::write_bulk(out, "standalone");
    protocol::write_bulk(out, "role");
    protocol::write_bulk(out, "master");
    protocol::write_bulk(out, "modules");
    protocol::write_array_header(out, 0);
}

}  // namespace

connection_verdict answer_ping(std::span<const std::string_view> args, std::string& out) {
    if (args.size() == 1) return reply(out, "+PONG\r\n");
    if (args.size() > 2) return reply_error(out, wrong_arity(args[0]));
    protocol::write_bulk(out, args[1]);
    return connection_verdict::replied;
}

connection_verdict answer_quit(std::string& out) {
    out.append("+OK\r\n");
    return connection_verdict::replied_then_close;
}

connection_verdict answer_hello(client_state& client, std::span<const std::string_view> args,
                                const client_password& password, std::string_view redis_version, std::string& out) {
    std::int64_t version = 2;
    if (args.size() >= 2) {
        if (!protocol::parse_int64(args[1], version))
            return reply_error(out, "ERR Protocol version is not an integer or out of range");
        if (version < 2 || version > 3) return reply_error(out, "NOPROTO unsupported protocol version");
    }
    bool authenticated_here = false;
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::size_t more = args.size() - 1 - i;
        if (equals_lower(args[i], "auth") && more >= 2) {
            // Without requirepass, authentication is Redis's business, on the client's own connection.
            if (!password.required()) return connection_verdict::pin;
            if (!password.matches(args[i + 1], args[i + 2])) {
                protocol::write_error(out, auth_replies::wrongpass);
                return connection_verdict::auth_failed;
            }
            client.authenticated = true;
            authenticated_here = true;
            i += 2;
            continue;
        }
        if (equals_lower(args[i], "setname") && more >= 1) {
            if (!is_valid_client_name(args[i + 1]))
                return reply_error(out, "ERR Client names cannot contain spaces, newlines or special characters.");
            client.name = args[++i];
            continue;
        }
        return reply_error(out, "ERR Syntax error in HELLO option '" + std::string(args[i]) + "'");
    }
    if (!client.authenticated) return reply_error(out, auth_replies::hello_noauth);
    if (version == 3) {
        // RESP3 replies and push messages: a connection of its own. A password given here was the
        // sidecar's; the pinned connection is already authenticated to Redis.
        return authenticated_here ? connection_verdict::pin_hello_without_auth : connection_verdict::pin;
    }
    write_hello_reply(client.id, redis_version, out);
    return connection_verdict::replied;
}

connection_verdict answer_client(client_state& client, std::span<const std::string_view> args, std::string& out,
                                 bool redis_up) {
    if (args.size() < 2) return reply_error(out, wrong_arity(args[0]));
    const std::string_view sub = args[1];
    auto arity_error = [&] {
        std::string full(args[0]);
        full += '|';
        full += sub;
        return reply_error(out, wrong_arity(full));
    };
    if (equals_lower(sub, "setname")) {
        if (args.size() != 3) return arity_error();
        if (!is_valid_client_name(args[2]))
            return reply_error(out, "ERR Client names cannot contain spaces, newlines or special characters.");
        client.name = args[2];
        return reply(out, "+OK\r\n");
    }
    if (equals_lower(sub, "getname")) {
        if (args.size() != 2) return arity_error();
        if (client.name.empty())
            protocol::write_null_bulk(out);
        else
            protocol::write_bulk(out, client.name);
        return connection_verdict::replied;
    }
    if (equals_lower(sub, "id")) {
        if (args.size() != 2) return arity_error();
        if (redis_up) return connection_verdict::pin;
        protocol::write_integer(out, static_cast<std::int64_t>(client.id));
        return connection_verdict::replied;
    }
    if (equals_lower(sub, "setinfo")) {
        // Client libraries send this on connect (Redis 7.2): accepted, with Redis's checks.
        if (args.size() != 4) return arity_error();
        if (!equals_lower(args[2], "lib-name") && !equals_lower(args[2], "lib-ver"))
            return reply_error(out, "ERR Unrecognized option '" + std::string(args[2]) + "'");
        if (!is_valid_client_name(args[3]))
            return reply_error(out, "ERR " + std::string(equals_lower(args[2], "lib-name") ? "lib-name" : "lib-ver") +
                                        " cannot contain spaces, newlines or special characters.");
        return reply(out, "+OK\r\n");
    }
    // Which subcommands leave state on the connection is the sidecar's own knowledge, the same in
    // every catalogue: the built-in one answers.
    static const std::shared_ptr<const catalogue::command_catalogue> commands = catalogue::command_catalogue::builtin();
    if (const catalogue::command_info* command = commands->find(args); command != nullptr && command->has(catalogue::pins))
        return connection_verdict::pin;
    return connection_verdict::pass_on;
}

connection_verdict answer_auth(client_state& client, std::span<const std::string_view> args,
                               const client_password& password, std::string& out) {
    switch (check_auth(args, password)) {
        case auth_verdict::ok:
            client.authenticated = true;
            return reply(out, "+OK\r\n");
        case auth_verdict::wrong_password:
            protocol::write_error(out, auth_replies::wrongpass);
            return connection_verdict::auth_failed;
        case auth_verdict::wrong_arity:
            return reply_error(out, wrong_arity(args[0]));
        case auth_verdict::syntax_error:
            break;
    }
    return reply_error(out, auth_replies::syntax_error);
}

connection_verdict answer_reset(client_state& client, std::span<const std::string_view> args, std::string& out) {
    if (args.size() != 1) return reply_error(out, wrong_arity(args[0]));
    client.name.clear();
    client.authenticated = false;
    return reply(out, "+RESET\r\n");
}

info_route route_info(std::span<const std::string_view> args, bool serving_redis) {
    if (!serving_redis) return info_route::local;
    switch (sidecar_section_in_info(args.subspan(1))) {
        case sidecar_section_use::alone: return info_route::sidecar_alone;
        case sidecar_section_use::appended: return info_route::forward_appending_sidecar;
        case sidecar_section_use::absent: break;
    }
    return info_route::forward;
}

std::vector<std::string_view> info_for_redis(std::span<const std::string_view> args) {
    std::vector<std::string_view> forwarded{args[0]};
    for (const std::string_view a : args.subspan(1))
        if (!equals_lower(a, "sidecar")) forwarded.push_back(a);
    return forwarded;
}

}  // namespace redis_sidecar::server
