// Routing each request a session reads (forwarded over the shared pool, answered by the sidecar,
// or pinned), and the replies that come back from Redis or the journal.
#include <cassert>
#include <chrono>
#include <string>

#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/client_auth.hpp"
#include "redis_sidecar/server/info.hpp"
#include "redis_sidecar/server/session.hpp"
#include "session_support.hpp"

namespace redis_sidecar::server {

using namespace session_support;

namespace {

// The routes of commands about the client's own connection (session_commands.cpp); checked here
// first, so a forwarded command pays no call for them.
bool about_the_connection(command_route route) {
    switch (route) {
        case command_route::quit:
        case command_route::ping:
        case command_route::hello:
        case command_route::client:
        case command_route::info:
        case command_route::auth:
        case command_route::reset:
            return true;
        default:
            return false;
    }
}

}  // namespace

void session::process_input() {
    follow_reloaded_parser_limits();
    replies_.start_batch(std::chrono::steady_clock::now());
    while (!stopped_ && !close_after_replies_ && !pin_.requested &&
           replies_.inflight() < context_.settings.max_inflight) {
        const std::string_view input = rx_.readable();
        if (input.empty()) break;
        const protocol::parse_result parsed = parser_.parse(input);
        if (parsed.status == protocol::parse_status::need_more) break;
        if (parsed.status == protocol::parse_status::empty) {
            rx_.consume(parsed.consumed);
            continue;
        }
        if (parsed.status == protocol::parse_status::error) {
            // As Redis does: the error after the replies before it, then the connection closes.
            server_stats::add(context_.stats.protocol_errors);
            reply_error(std::string("ERR ") + std::string(parser_.error()));
            close_after_replies_ = true;
            rx_.clear();
            break;
        }
        const auto& args = parser_.args();
        execute(args, input.substr(0, parsed.consumed));
        if (pin_.requested) {
            // The command stays in rx_: it is the first one the pinned connection carries.
            pin_.command_name = args[0];
            pin_.command_length = parsed.consumed;
            if (pin_.strip_auth) strip_auth_from_pin_command(args);
            break;
        }
        rx_.consume(parsed.consumed);
    }
    if (rx_.empty()) rx_.shrink_to(keep_capacity);
    wait_for_journal();
    if (batch_forwarded_ > 0) server_stats::add(context_.stats.requests_forwarded, batch_forwarded_);
    if (batch_local_ > 0) server_stats::add(context_.stats.requests_local, batch_local_);
    batch_forwarded_ = batch_local_ = 0;
    replies_.finish_batch();
    flush();
}

void session::execute(std::span<const std::string_view> args, std::string_view raw) {
    const routed_command routed = route_command(*context_.commands, args);
    const command_route route = routed.route;
    if (!client_.authenticated && route != command_route::auth && route != command_route::hello &&
        route != command_route::quit && route != command_route::reset) [[unlikely]] {
        // Redis 7.0 runs only its no-auth commands (AUTH, HELLO, QUIT, RESET) before AUTH, whether
        // Redis is up or not: nothing reaches Redis or the local store.
        reply_error(equals_lower(args[0], "exec") ? auth_replies::exec_noauth : auth_replies::noauth);
        return;
    }
    const bool redis = serving_redis();
    // SCRIPT KILL, CLIENT KILL...: tried on a connection of their own even while Redis seems down.
    const bool rescue = routed.command != nullptr && routed.command->has(catalogue::rescues_busy);
    if (about_the_connection(route) && answer_for_connection(route, args)) {
        if (pin_.requested && !redis && !rescue) {
            // HELLO 3, CLIENT TRACKING...: nothing to pin to; the local store says what it serves.
            pin_ = {};
            answer_locally(args);
        }
        return;
    }
    if (!redis && !rescue) {
        answer_locally(args);
        return;
    }
    switch (route) {
        case command_route::forward:
        case command_route::forward_write:
        case command_route::forward_get: {
            reply_action action = reply_action::pass;
            if (route == command_route::forward_write && context_.local.mirrors(*routed.command, args))
                action = reply_action::mirror;
            else if (route == command_route::forward_get && args.size() == 2 && context_.local.fails_closed(args[1]))
                action = reply_action::fail_closed_get;
            const bool slow = may_take_long(routed.command, args);
            if (parser_.last_was_inline())
                forward_args(args, action, slow);
            else
                forward(raw, action, slow);
            return;
        }
        case command_route::pin:
        case command_route::auth:   // without requirepass: Redis judges the client's AUTH
        case command_route::reset:  // without requirepass: Redis resets the pinned connection
            pin_.requested = true;
            return;
        case command_route::select:
            // Only db 0, the pool's own, is answered here; anything else (errors included) goes
            // to Redis on a connection of the client's own.
            if (args.size() == 2 && args[1] == "0")
                reply("+OK\r\n");
            else
                pin_.requested = true;
            return;
        default:
            assert(false && "connection commands are answered above");
            return;
    }
}

// Redis serves clients once it is up and recovery has applied what the sidecar owed it.
bool session::serving_redis() const { return context_.serving.forwarding() && context_.pool->up(); }

void session::answer_locally(std::span<const std::string_view> args) {
    // The engine appends its reply where replies go, behind the replies it must follow: no buffer
    // of its own per request, no copy.
    std::string& destination = replies_.local_reply_destination();
    const std::size_t reply_start = destination.size();
    const store::local_result result = context_.local.execute(args, destination);
    ++batch_local_;
    if (!result) {
        replies_.answered_locally();
        return;
    }
    // A durable write (a revoked token, a lock): its reply waits, in its place among the client's
    // replies, for the journal commit at the end of this turn of the event loop (durable_commits).
    replies_.answered_durably(reply_start, result.refusals_before);
}

// Held replies go out once the event loop's group commit has stored them (on_journal_committed).
void session::wait_for_journal() {
    if (!replies_.has_uncommitted() || awaiting_commit_) return;
    awaiting_commit_ = true;
    context_.commits.wait(shared_from_this(), replies_.uncommitted_refusals_before());
}

// The journal commit that covers this session's durable replies is done: they go out in their
// turn, or as errors if the disk refused (reply_sequencer).
void session::on_journal_committed(std::error_code ec) {
    awaiting_commit_ = false;
    replies_.journal_committed(ec);
    wake_reader();
    flush();
}

// ---------------------------------------------------------------------------------------------
// Forwarding over the shared pool

// A command Redis may legitimately work on for long: the catalogue's, or one the configuration
// names (slow-command).
bool session::may_take_long(const catalogue::command_info* command, std::span<const std::string_view> args) const {
    if (command != nullptr && catalogue::command_catalogue::may_take_long(*command, args)) return true;
    const std::vector<std::string>& configured = context_.settings.slow_commands;
    return !configured.empty() && std::any_of(configured.begin(), configured.end(), [&](const std::string& name) {
               return equals_lower(args[0], name);
           });
}

void session::forward(std::string_view raw, reply_action action, bool may_take_long) {
    upstream::pooled_connection* connection = pick_connection();
    if (connection == nullptr) {
        // Redis went down while this batch was being read: the rest is answered locally.
        const protocol::parse_result parsed = replay_parser_.parse(raw);
        if (parsed.status == protocol::parse_status::complete) answer_locally(replay_parser_.args());
        return;
    }
    // Replies from Redis go to the front run: a durable answer ahead of this request must be
    // stored (and so releasable) before Redis can answer. Rare: only when forwarding resumes
    // within the turn that answered locally.
    if (replies_.has_uncommitted()) [[unlikely]] {
        wait_for_journal();
        context_.commits.commit_now();
    }
    replies_.forwarded(action);
    ++batch_forwarded_;
    // A large request read from the client goes out of rx_ as it is, instead of being copied.
    const auto started = replies_.batch_started();
    if (raw.size() >= upstream::request_blocks::share_from_bytes && rx_.holds(raw))
        connection->send_shared(shared_from_this(), raw, rx_.storage(), started, may_take_long);
    else
        connection->send(shared_from_this(), raw, started, may_take_long);
}

// Replies are matched to requests by their order, which only one connection keeps: while this
// client has requests in flight, the next ones follow them over the same connection, even if its
// preferred one is back after a failure (Redis would answer a request there first). A connection
// that failed has answered all of its requests (with errors or local replays) before it is ready
// again, so leaving it then is safe.
upstream::pooled_connection* session::pick_connection() {
    if (replies_.inflight() > 0 && connection_ != nullptr && connection_->ready()) return connection_;
    connection_ = context_.pool->pick(affinity_);
    return connection_;
}

void session::forward_args(std::span<const std::string_view> args, reply_action action, bool may_take_long) {
    encode_scratch_.clear();
    protocol::write_array_header(encode_scratch_, static_cast<std::int64_t>(args.size()));
    for (std::string_view arg : args) protocol::write_bulk(encode_scratch_, arg);
    forward(encode_scratch_, action, may_take_long);
}

void session::reply_error(std::string_view message) {
    std::string line;
    protocol::write_error(line, message);
    reply(line);
}

// ---------------------------------------------------------------------------------------------
// Replies from Redis

void session::on_reply_bytes(std::string_view bytes, bool complete, std::string_view request) {
    const reply_action action = replies_.upstream_action();
    if (action == reply_action::pass)
        replies_.upstream_reply(bytes);
    else
        transform_buffer_.append(bytes);
    if (complete) {
        if (action != reply_action::pass) complete_transformed_reply(request);
        replies_.upstream_reply_done();
        wake_reader();
    }
}

void session::on_replies_delivered() { flush(); }

// The reply in transform_buffer_ is complete; `request` is the oldest in flight.
void session::complete_transformed_reply(std::string_view request) {
    switch (replies_.upstream_action()) {
        case reply_action::append_sidecar_info: {
            std::string with_section;
            append_sidecar_section(transform_buffer_, context_.sidecar_info(), with_section);
            transform_buffer_.swap(with_section);
            break;
        }
        case reply_action::mirror:
            if (!transform_buffer_.starts_with('-') &&
                replay_parser_.parse(request).status == protocol::parse_status::complete)
                if (const catalogue::command_info* command = context_.commands->find(replay_parser_.args()))
                    context_.local.mirror(*command, replay_parser_.args(), transform_buffer_);
            break;
        case reply_action::fail_closed_get:
            if (transform_buffer_ == "$-1\r\n" &&
                replay_parser_.parse(request).status == protocol::parse_status::complete) {
                if (auto revoked = context_.local.durable_value(replay_parser_.args()[1])) {
                    transform_buffer_.clear();
                    protocol::write_bulk(transform_buffer_, *revoked);
                }
            }
            break;
        case reply_action::pass:
            break;
    }
    replies_.upstream_reply(transform_buffer_);
    transform_buffer_.clear();
}

void session::on_reply_failed(std::string_view reason, bool partial, std::string_view request) {
    if (partial) {
        // Part of the reply is already on its way to the client: nothing can complete it.
        stop();
    }
    transform_buffer_.clear();
    const protocol::parse_result parsed = replay_parser_.parse(request);
    if (parsed.status == protocol::parse_status::complete && is_replay_safe(*context_.commands, replay_parser_.args())) {
        // Whether or not Redis ran it, running it here gives the same state and a true answer;
        // a durable write's answer waits for the group commit like any durable local answer.
        std::string answer;
        const store::local_result result = context_.local.execute(replay_parser_.args(), answer);
        server_stats::add(context_.stats.requests_local);
        if (result) {
            replies_.upstream_failed_durably(std::move(answer), result.refusals_before);
            wait_for_journal();
        } else {
            replies_.upstream_failed(answer);
        }
    } else {
        server_stats::add(context_.stats.requests_failed);
        std::string error;
        protocol::write_error(error, "ERR upstream Redis failed before replying, the command's outcome is unknown: " +
                                         single_line(reason));
        replies_.upstream_failed(error);
    }
    wake_reader();
    schedule_flush();
}

}  // namespace redis_sidecar::server
