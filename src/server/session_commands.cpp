// The session's side of the commands the sidecar answers itself (connection_commands.hpp decides;
// this carries the verdicts out), and of INFO.
#include <algorithm>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/info.hpp"
#include "redis_sidecar/server/local_info.hpp"
#include "redis_sidecar/server/session.hpp"
#include "session_support.hpp"

namespace redis_sidecar::server {

using namespace session_support;

// Commands about the client's own connection (QUIT, PING, HELLO, CLIENT, INFO) are answered by
// the sidecar the same way whether Redis is up or not; AUTH and RESET too when requirepass is
// set. False for every other command.
bool session::answer_for_connection(command_route route, std::span<const std::string_view> args) {
    std::string& out = replies_.local_reply_destination();
    connection_verdict verdict;
    switch (route) {
        case command_route::quit:
            verdict = answer_quit(out);
            break;
        case command_route::ping:
            verdict = answer_ping(args, out);
            break;
        case command_route::hello:
            verdict = answer_hello(client_, args, context_.password, context_.pool->redis_version(), out);
            break;
        case command_route::client:
            verdict = answer_client(client_, args, out, serving_redis());
            break;
        case command_route::info:
            answer_info(args);
            return true;
        case command_route::auth:
            if (!context_.password.required()) return false;
            verdict = answer_auth(client_, args, context_.password, out);
            break;
        case command_route::reset:
            if (!context_.password.required()) return false;
            verdict = answer_reset(client_, args, out);
            break;
        default:
            return false;
    }
    carry_out(verdict, args);
    return true;
}

void session::carry_out(connection_verdict verdict, std::span<const std::string_view> args) {
    parser_.set_authenticated(client_.authenticated);
    switch (verdict) {
        case connection_verdict::replied:
            break;
        case connection_verdict::replied_then_close:
            close_after_replies_ = true;
            break;
        case connection_verdict::auth_failed:
            count_auth_failure();
            break;
        case connection_verdict::pin:
            pin_.requested = true;
            return;
        case connection_verdict::pin_hello_without_auth:
            pin_.requested = true;
            pin_.strip_auth = true;
            return;
        case connection_verdict::pass_on:
            // Nothing may wait on Redis while the local store answers: replies would lose their order.
            if (serving_redis())
                forward_args(args, reply_action::pass);
            else
                answer_locally(args);
            return;
    }
    ++batch_local_;
    replies_.answered_locally();
}

void session::answer_info(std::span<const std::string_view> args) {
    switch (route_info(args, serving_redis())) {
        case info_route::local:
            answer_local_info(args.subspan(1));
            return;
        case info_route::sidecar_alone: {
            std::string out;
            protocol::write_bulk(out, context_.sidecar_info());
            reply(out);
            return;
        }
        case info_route::forward:
            forward_args(info_for_redis(args), reply_action::pass);
            return;
        case info_route::forward_appending_sidecar:
            // Redis is asked for the other sections; the Sidecar one is the sidecar's own.
            forward_args(info_for_redis(args), reply_action::append_sidecar_info);
            return;
    }
}

void session::answer_local_info(std::span<const std::string_view> sections) {
    local_figures figures;
    fill_process_figures(figures);
    figures.redis_version = context_.pool->redis_version().empty() ? "7.0.0" : context_.pool->redis_version();
    figures.tcp_port = context_.settings.listen.port;
    figures.uptime_seconds = context_.uptime_seconds();
    figures.connected_clients = server_stats::get(context_.stats.connected_clients);
    figures.maxclients = context_.settings.maxclients;
    figures.total_connections = server_stats::get(context_.stats.total_connections);
    figures.rejected_connections = server_stats::get(context_.stats.rejected_connections);
    context_.local.fill(figures);
    std::string out;
    protocol::write_bulk(out, format_local_info(sections, figures, context_.sidecar_info()));
    reply(out);
}

void session::count_auth_failure() {
    server_stats::add(context_.stats.auth_failures);
    if (log_allowed(log_topic::auth_failure))
        spdlog::warn("client {} ({}): AUTH failed: wrong user or password ({} failures so far)", client_.id, peer(),
                     server_stats::get(context_.stats.auth_failures));
}

// HELLO 3 AUTH default <password> pins: Redis gets "HELLO 3" alone (the name, if any, is set when
// the pinned connection opens), since the password is the sidecar's and not Redis's.
void session::strip_auth_from_pin_command(std::span<const std::string_view> args) {
    pin_.strip_auth = false;
    std::string command;
    protocol::write_array_header(command, 2);
    protocol::write_bulk(command, args[0]);
    protocol::write_bulk(command, args[1]);
    // `args` point into rx_, which is rebuilt here: they are not used after this.
    protocol::byte_buffer rebuilt(std::max(read_chunk, command.size() + rx_.size()));
    rebuilt.append(command);
    rebuilt.append(rx_.readable().substr(pin_.command_length));
    rx_ = std::move(rebuilt);
    pin_.command_length = command.size();
}

}  // namespace redis_sidecar::server
