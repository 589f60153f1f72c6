#include "redis_sidecar/server/session.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/client_auth.hpp"
#include "redis_sidecar/server/info.hpp"
#include "redis_sidecar/asio_ext/socket_read_buffer.hpp"

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace redis_sidecar::server {

namespace {

// Reading pauses while this much output waits for a slow client.
constexpr std::size_t output_pause_bytes = 4 * 1024 * 1024;
constexpr std::size_t read_chunk = 16 * 1024;
// Buffers that grew past this for one large message are released afterwards.
constexpr std::size_t keep_capacity = 1024 * 1024;

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

protocol::parser_limits parser_limits_from(const config::settings& settings) {
    protocol::parser_limits limits;
    limits.max_bulk_length = static_cast<std::int64_t>(settings.proto_max_bulk_len);
    return limits;
}

enum class log_topic : std::uint8_t { auth_failure, query_buffer, output_buffer, count };

// At most one line a second per topic, across every event loop: a flood of clients failing AUTH or
// hitting a limit costs a counter each (INFO sidecar), not a log line each.
bool log_allowed(log_topic topic) {
    static std::atomic<std::int64_t> last_logged[static_cast<std::size_t>(log_topic::count)];
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::atomic<std::int64_t>& last = last_logged[static_cast<std::size_t>(topic)];
    std::int64_t seen = last.load(std::memory_order_relaxed);
    return seen != now && last.compare_exchange_strong(seen, now, std::memory_order_relaxed);
}

// Reasons go into one error line: no CR or LF may reach the client.
std::string single_line(std::string_view text) {
    std::string line(text);
    for (char& c : line)
        if (c == '\r' || c == '\n') c = ' ';
    return line;
}

}  // namespace

session::session(socket_type socket, session_context& context)
    : socket_(std::move(socket)),
      context_(context),
      id_(context.stats.next_client_id.fetch_add(1, std::memory_order_relaxed)),
      affinity_(static_cast<std::size_t>(id_)),
      rx_(read_chunk),
      parser_(parser_limits_from(context.settings)),
      replay_parser_(parser_limits_from(context.settings)),
      wakeup_(socket_.get_executor()),
      authenticated_(!context.password.required()),
      last_active_(context.sessions.clock()) {
    // Before AUTH, Redis's tighter request limits apply (10 arguments, 16 KB each).
    parser_.set_authenticated(authenticated_);
    server_stats::add(context_.stats.connected_clients);
    server_stats::add(context_.stats.total_connections);
}

session::~session() {
    context_.stats.connected_clients.fetch_sub(1, std::memory_order_relaxed);
    if (pinned_) context_.stats.pinned_connections.fetch_sub(1, std::memory_order_relaxed);
}

void session::start() {
    context_.sessions.add(shared_from_this());
    // flush() writes synchronously first; it must never block the event loop.
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->read_requests(); },
                   asio::detached);
}

void session::stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (pinned_) pinned_->socket().close(ignored);
    wakeup_.cancel();
    context_.sessions.remove(id_);
}

// Shutting the receiving side makes the pending read end as at a client's half-close (EOF):
// the replies to everything read so far still go out, then the connection closes.
void session::drain() {
    if (stopped_) return;
    if (pinned_) {
        stop();
        return;
    }
    boost::system::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_receive, ignored);
}

// ---------------------------------------------------------------------------------------------
// Reading and routing

asio::awaitable<void> session::read_requests() {
    for (;;) {
        // Checked here first: calling the coroutine costs a frame allocation per read.
        if (!decided()) co_await wait_while_undecided();
        process_input();
        if (stopped_ || close_after_replies_) co_return;
        if (pin_requested_) {
            if (!co_await wait_until(&session::drained)) co_return;
            if (co_await become_pinned()) {
                co_await pipe_client_to_pinned();
                co_return;
            }
            continue;
        }
        if (!may_read()) {
            if (!co_await wait_until(&session::may_read)) co_return;
            continue;
        }
        if (rx_.size() > context_.settings.client_query_buffer_limit) {
            // As Redis: closed without a reply.
            server_stats::add(context_.stats.query_buffer_limit_disconnections);
            if (log_allowed(log_topic::query_buffer))
                spdlog::warn("Closing client that reached max query buffer length: client {} ({}), {} bytes pending "
                             "(client-query-buffer-limit {}; {} such clients so far)",
                             id_, peer(), rx_.size(), context_.settings.client_query_buffer_limit,
                             server_stats::get(context_.stats.query_buffer_limit_disconnections));
            stop();
            co_return;
        }
        rx_.prepare_read(read_chunk);
        reading_ = true;
        auto [ec, n] = co_await socket_.async_read_some(
            asio_ext::socket_read_buffer(rx_.writable(), rx_.writable_size()), as_tuple(use_awaitable));
        reading_ = false;
        eof_probed_ = false;
        if (ec == asio::error::eof || (ec == asio::error::operation_aborted && eof_found_ && !stopped_)) {
            // A client that shut down only its sending side (`nc -N`, a batch job) still gets
            // the replies to everything it sent, as from Redis; then the connection closes.
            close_after_replies_ = true;
            flush();
            co_return;
        }
        if (ec) {
            stop();
            co_return;
        }
        rx_.commit(n);
        last_active_ = context_.sessions.clock();
    }
}

// Right after start-up nobody knows yet whether Redis is up. A write answered locally then would
// never reach Redis, so requests wait for the first verdict (at most the upstream timeout), and
// when Redis is up, for the first recovery of what the journal holds. They also wait while the
// last rounds of a recovery catch up before forwarding resumes.
bool session::decided() const {
    return context_.pool->verdict_known() && context_.serving.settled() && !context_.serving.draining();
}

asio::awaitable<void> session::wait_while_undecided() {
    asio::steady_timer poll(socket_.get_executor());
    while (!decided() && !stopped_) {
        poll.expires_after(std::chrono::milliseconds(5));
        co_await poll.async_wait(as_tuple(use_awaitable));
    }
}

asio::awaitable<bool> session::wait_until(bool (session::*condition)() const) {
    while (!(this->*condition)()) {
        if (stopped_) co_return false;
        reader_waiting_ = true;
        wakeup_.expires_at(asio::steady_timer::time_point::max());
        co_await wakeup_.async_wait(as_tuple(use_awaitable));
        reader_waiting_ = false;
    }
    co_return !stopped_;
}

void session::wake_reader() {
    if (reader_waiting_) wakeup_.cancel();
}

bool session::may_read() const {
    return inflight_ < context_.settings.max_inflight && out_.size() + writing_buffer_.size() < output_pause_bytes;
}

bool session::drained() const { return runs_.empty() && !writing_ && out_.empty(); }

// proto-max-bulk-len comes from this loop's settings, which a reload updates: the clients already
// connected get the new limit from their next read on, as with Redis's CONFIG SET.
void session::follow_reloaded_parser_limits() {
    const protocol::parser_limits limits = parser_limits_from(context_.settings);
    if (limits.max_bulk_length == parser_.limits().max_bulk_length) [[likely]]
        return;
    parser_.set_limits(limits);
    replay_parser_.set_limits(limits);
}

void session::process_input() {
    follow_reloaded_parser_limits();
    batch_started_ = std::chrono::steady_clock::now();
    while (!stopped_ && !close_after_replies_ && !pin_requested_ && inflight_ < context_.settings.max_inflight) {
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
        if (pin_requested_) {
            // The command stays in rx_: it is the first one the pinned connection carries.
            pin_command_name_ = args[0];
            pin_command_length_ = parsed.consumed;
            if (hello_auth_pin_) strip_auth_from_pin_command(args);
            break;
        }
        rx_.consume(parsed.consumed);
    }
    if (rx_.empty()) rx_.shrink_to(keep_capacity);
    if (has_uncommitted_answers() && !awaiting_commit_) {
        awaiting_commit_ = true;
        context_.commits.wait(shared_from_this(), uncommitted_refusals_before_);
    }
    if (batch_forwarded_ > 0) server_stats::add(context_.stats.requests_forwarded, batch_forwarded_);
    if (batch_local_ > 0) server_stats::add(context_.stats.requests_local, batch_local_);
    batch_forwarded_ = batch_local_ = 0;
    if (batch_replied_now_ > 0) note_ready(batch_started_, batch_replied_now_, true);
    batch_replied_now_ = 0;
    flush();
}

void session::execute(std::span<const std::string_view> args, std::string_view raw) {
    const command_route route = route_command(args);
    if (!authenticated_ && route != command_route::auth && route != command_route::hello &&
        route != command_route::quit && route != command_route::reset) [[unlikely]] {
        // Redis 7.0 runs only its no-auth commands (AUTH, HELLO, QUIT, RESET) before AUTH, whether
        // Redis is up or not: nothing reaches Redis or the local store.
        reply_error(equals_lower(args[0], "exec") ? auth_replies::exec_noauth : auth_replies::noauth);
        return;
    }
    const bool redis = serving_redis();
    if (answer_for_connection(route, args)) {
        if (pin_requested_ && !redis) {
            // HELLO 3, CLIENT TRACKING...: nothing to pin to; the local store says what it serves.
            pin_requested_ = false;
            hello_auth_pin_ = false;
            answer_locally(args);
        }
        return;
    }
    if (!redis) {
        answer_locally(args);
        return;
    }
    switch (route) {
        case command_route::forward:
        case command_route::forward_write:
        case command_route::forward_get: {
            reply_action action = reply_action::pass;
            if (route == command_route::forward_write && context_.local.mirrors(args))
                action = reply_action::mirror;
            else if (route == command_route::forward_get && args.size() == 2 && context_.local.fails_closed(args[1]))
                action = reply_action::fail_closed_get;
            if (parser_.last_was_inline())
                forward_args(args, action);
            else
                forward(raw, action);
            return;
        }
        case command_route::pin:
        case command_route::auth:   // without requirepass: Redis judges the client's AUTH
        case command_route::reset:  // without requirepass: Redis resets the pinned connection
            pin_requested_ = true;
            return;
        case command_route::select:
            if (wants_pin_for_select(args))
                pin_requested_ = true;
            else
                reply("+OK\r\n");
            return;
        default:
            assert(false && "connection commands are answered above");
            return;
    }
}

// Redis serves clients once it is up and recovery has applied what the sidecar owed it.
bool session::serving_redis() const { return context_.serving.forwarding() && context_.pool->up(); }

// Commands about the client's own connection (QUIT, PING, HELLO, CLIENT, INFO) are answered by
// the sidecar the same way whether Redis is up or not; false for every other command.
bool session::answer_for_connection(command_route route, std::span<const std::string_view> args) {
    switch (route) {
        case command_route::quit:
            reply("+OK\r\n");
            close_after_replies_ = true;
            return true;
        case command_route::ping:
            answer_ping(args);
            return true;
        case command_route::hello:
            answer_hello(args);
            return true;
        case command_route::client:
            answer_client(args);
            return true;
        case command_route::info:
            answer_info(args);
            return true;
        case command_route::auth:
            if (!context_.password.required()) return false;
            answer_auth(args);
            return true;
        case command_route::reset:
            if (!context_.password.required()) return false;
            answer_reset(args);
            return true;
        default:
            return false;
    }
}

void session::answer_locally(std::span<const std::string_view> args) {
    // The engine appends its reply where reply() would put it, behind the replies it must follow:
    // no buffer of its own per request, no copy.
    std::string& destination = runs_.empty() ? out_ : runs_.back().local_after;
    const std::size_t reply_start = destination.size();
    const store::local_result result = context_.local.execute(args, destination);
    if (!result) {
        ++batch_local_;
        ++batch_replied_now_;
        return;
    }
    // A durable write (a revoked token, a lock): its reply waits, in its place among the client's
    // replies, for the journal commit at the end of this turn of the event loop (durable_commits).
    std::string held = destination.substr(reply_start);
    destination.resize(reply_start);
    if (!has_uncommitted_answers()) uncommitted_refusals_before_ = result.refusals_before;
    runs_.push_back(reply_run{1, reply_action::pass, true, batch_started_, {}});
    ++inflight_;
    ++batch_local_;
    durable_replies_.push_back(std::move(held));
}

// The journal commit that covers this session's durable writes is done: their replies may go out;
// if the disk refused, each of them gets an error instead: nothing is acknowledged that is not
// stored. Each still waits for its turn: a request forwarded before it (Redis was up on another
// event loop, or came back) may not have its reply yet.
void session::on_journal_committed(std::error_code ec) {
    awaiting_commit_ = false;
    if (ec) {
        std::string failure;
        protocol::write_error(failure, "ERR the sidecar could not store this write durably: " + ec.message());
        for (std::size_t i = committed_answers_; i < durable_replies_.size(); ++i) durable_replies_[i] = failure;
    }
    committed_answers_ = durable_replies_.size();
    release_committed_answers();
    flush();
}

// Delivers the stored durable answers whose runs have reached the front, with the local replies
// queued behind each.
void session::release_committed_answers() {
    while (committed_answers_ > 0 && !runs_.empty() && runs_.front().local_answer) {
        if (!stopped_) out_.append(durable_replies_.front());
        durable_replies_.erase(durable_replies_.begin());  // rarely more than one
        --committed_answers_;
        --inflight_;
        note_ready(runs_.front().started, 1, true);
        pop_front_run();
    }
    wake_reader();
}

void session::pop_front_run() {
    if (!stopped_) out_.append(runs_.front().local_after);
    runs_.pop_front();
}

// ---------------------------------------------------------------------------------------------
// Forwarding over the shared pool

void session::forward(std::string_view raw, reply_action action) {
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
    if (has_uncommitted_answers()) [[unlikely]] {
        if (!awaiting_commit_) {
            awaiting_commit_ = true;
            context_.commits.wait(shared_from_this(), uncommitted_refusals_before_);
        }
        context_.commits.commit_now();
    }
    if (action == reply_action::pass && !runs_.empty() && runs_.back().action == reply_action::pass &&
        !runs_.back().local_answer && runs_.back().started == batch_started_ && runs_.back().local_after.empty()) {
        ++runs_.back().upstream_count;
    } else {
        runs_.push_back(reply_run{1, action, false, batch_started_, {}});
    }
    ++inflight_;
    ++batch_forwarded_;
    // A large request read from the client goes out of rx_ as it is, instead of being copied.
    if (raw.size() >= upstream::request_blocks::share_from_bytes && rx_.holds(raw))
        connection->send_shared(shared_from_this(), raw, rx_.storage(), batch_started_);
    else
        connection->send(shared_from_this(), raw, batch_started_);
}

// Replies are matched to requests by their order, which only one connection keeps: while this
// client has requests in flight, the next ones follow them over the same connection, even if its
// preferred one is back after a failure (Redis would answer a request there first). A connection
// that failed has answered all of its requests (with errors or local replays) before it is ready
// again, so leaving it then is safe.
upstream::pooled_connection* session::pick_connection() {
    if (inflight_ > 0 && connection_ != nullptr && connection_->ready()) return connection_;
    connection_ = context_.pool->pick(affinity_);
    return connection_;
}

void session::forward_args(std::span<const std::string_view> args, reply_action action) {
    encode_scratch_.clear();
    protocol::write_array_header(encode_scratch_, static_cast<std::int64_t>(args.size()));
    for (std::string_view arg : args) protocol::write_bulk(encode_scratch_, arg);
    forward(encode_scratch_, action);
}

void session::reply(std::string_view bytes) {
    ++batch_local_;
    ++batch_replied_now_;
    if (runs_.empty())
        out_.append(bytes);
    else
        runs_.back().local_after.append(bytes);
}

void session::reply_error(std::string_view message) {
    std::string line;
    protocol::write_error(line, message);
    reply(line);
}

void session::on_reply_bytes(std::string_view bytes, bool complete, std::string_view request) {
    if (runs_.front().action == reply_action::pass) {
        // A closed client (over an output limit...) gets nothing more: its replies are dropped as
        // they come, though the bookkeeping (and the mirror of its writes) goes on.
        if (!stopped_) out_.append(bytes);
    } else
        transform_buffer_.append(bytes);
    if (complete) {
        if (runs_.front().action != reply_action::pass) complete_transformed_reply(request);
        finish_upstream_reply();
    }
}

void session::on_replies_delivered() { flush(); }

// The reply in transform_buffer_ is complete; `request` is the oldest in flight.
void session::complete_transformed_reply(std::string_view request) {
    switch (runs_.front().action) {
        case reply_action::append_sidecar_info:
            append_sidecar_section(transform_buffer_, context_.sidecar_info(), out_);
            break;
        case reply_action::mirror:
            if (!transform_buffer_.starts_with('-') &&
                replay_parser_.parse(request).status == protocol::parse_status::complete)
                context_.local.mirror(replay_parser_.args(), transform_buffer_);
            out_.append(transform_buffer_);
            break;
        case reply_action::fail_closed_get:
            if (transform_buffer_ == "$-1\r\n" &&
                replay_parser_.parse(request).status == protocol::parse_status::complete) {
                if (auto revoked = context_.local.durable_value(replay_parser_.args()[1])) {
                    protocol::write_bulk(out_, *revoked);
                    break;
                }
            }
            out_.append(transform_buffer_);
            break;
        case reply_action::pass:
            break;
    }
    transform_buffer_.clear();
}

void session::on_reply_failed(std::string_view reason, bool partial, std::string_view request) {
    if (partial) {
        // Part of the reply is already on its way to the client: nothing can complete it.
        stop();
    }
    transform_buffer_.clear();
    const protocol::parse_result parsed = replay_parser_.parse(request);
    if (parsed.status == protocol::parse_status::complete && is_replay_safe(replay_parser_.args())) {
        // Whether or not Redis ran it, running it here gives the same state and a true answer.
        std::string answer;
        if (const store::local_result result = context_.local.execute(replay_parser_.args(), answer)) {
            if (const std::error_code ec = context_.local.commit(result.refusals_before)) {
                answer.clear();
                protocol::write_error(answer, "ERR the sidecar could not store this write durably: " + ec.message());
            }
        }
        out_.append(answer);
        server_stats::add(context_.stats.requests_local);
    } else {
        server_stats::add(context_.stats.requests_failed);
        protocol::write_error(out_, "ERR upstream Redis failed before replying, the command's outcome is unknown: " +
                                        single_line(reason));
    }
    finish_upstream_reply();
    schedule_flush();
}

void session::finish_upstream_reply() {
    --inflight_;
    reply_run& head = runs_.front();
    note_ready(head.started, 1, head.local_answer);
    if (--head.upstream_count == 0) {
        pop_front_run();
        if (committed_answers_ > 0) release_committed_answers();
    }
    wake_reader();
}

// ---------------------------------------------------------------------------------------------
// Writing

void session::schedule_flush() {
    if (stopped_ || close_if_output_over_limit()) return;
    if (flush_scheduled_ || writing_) return;
    flush_scheduled_ = true;
    // Deferred to the end of this turn of the event loop, so every reply that arrived in one
    // upstream read leaves in one write.
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->flush_scheduled_ = false;
        self->flush();
    });
}

void session::note_ready(std::chrono::steady_clock::time_point started, std::uint32_t count, bool local_answer) {
    if (!ready_.empty() && ready_.back().started == started && ready_.back().local_answer == local_answer)
        ready_.back().count += count;
    else
        ready_.push_back(ready_replies{started, count, local_answer});
}

// One clock reading for every reply that became ready in this turn of the event loop.
void session::record_latencies() {
    const auto now = std::chrono::steady_clock::now();
    for (const ready_replies& r : ready_) {
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - r.started).count();
        (r.local_answer ? context_.latency.local : context_.latency.forwarded)
            .observe(static_cast<std::uint64_t>(micros), r.count);
    }
    ready_.clear();
}

void session::flush() {
    if (!ready_.empty()) record_latencies();
    if (stopped_ || close_if_output_over_limit()) return;
    if (writing_) return;
    if (out_.empty()) {
        if (close_after_replies_ && runs_.empty()) stop();
        return;
    }
    // Most writes complete at once (the socket's buffer has room): tried first, synchronously, so
    // only a write that cannot finish now pays for an asynchronous operation and its handler.
    boost::system::error_code ec;
    const std::size_t written = socket_.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block) {
        stop();
        return;
    }
    if (written == out_.size()) {
        out_.clear();
        if (out_.capacity() > keep_capacity) std::string().swap(out_);
        last_active_ = context_.sessions.clock();
        if (close_after_replies_ && runs_.empty()) stop();
        wake_reader();
        return;
    }
    out_.erase(0, written);
    writing_ = true;
    std::swap(out_, writing_buffer_);
    asio::async_write(socket_, asio::buffer(writing_buffer_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          self->writing_ = false;
                          if (self->writing_buffer_.capacity() > keep_capacity)
                              std::string().swap(self->writing_buffer_);
                          else
                              self->writing_buffer_.clear();
                          if (ec) {
                              self->stop();
                              return;
                          }
                          self->last_active_ = self->context_.sessions.clock();
                          self->flush();
                          self->wake_reader();
                      });
}

// ---------------------------------------------------------------------------------------------
// Commands the sidecar answers itself

void session::answer_ping(std::span<const std::string_view> args) {
    if (args.size() == 1) {
        reply("+PONG\r\n");
    } else if (args.size() == 2) {
        std::string bulk;
        protocol::write_bulk(bulk, args[1]);
        reply(bulk);
    } else {
        reply_error(wrong_arity(args[0]));
    }
}

bool session::wants_pin_for_select(std::span<const std::string_view> args) const {
    // Only db 0, the pool's own, is answered here; anything else (errors included) goes to
    // Redis on a connection of the client's own.
    return !(args.size() == 2 && args[1] == "0");
}

void session::answer_hello(std::span<const std::string_view> args) {
    std::int64_t version = 2;
    if (args.size() >= 2) {
        if (!protocol::parse_int64(args[1], version)) {
            reply_error("ERR Protocol version is not an integer or out of range");
            return;
        }
        if (version < 2 || version > 3) {
            reply_error("NOPROTO unsupported protocol version");
            return;
        }
    }
    // Options take effect one by one as Redis 7.0 runs them: a name is set, a password checked, even
    // when a later option fails.
    bool authenticated_here = false;
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::size_t more = args.size() - 1 - i;
        if (equals_lower(args[i], "auth") && more >= 2) {
            if (!context_.password.required()) {
                pin_requested_ = true;  // authentication is Redis's business, on the client's own connection
                return;
            }
            if (!context_.password.matches(args[i + 1], args[i + 2])) {
                count_auth_failure();
                reply_error(auth_replies::wrongpass);
                return;
            }
            set_authenticated(true);
            authenticated_here = true;
            i += 2;
            continue;
        }
        if (equals_lower(args[i], "setname") && more >= 1) {
            if (!is_valid_client_name(args[i + 1])) {
                reply_error("ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            name_ = args[++i];
            continue;
        }
        reply_error("ERR Syntax error in HELLO option '" + std::string(args[i]) + "'");
        return;
    }
    if (!authenticated_) {
        reply_error(auth_replies::hello_noauth);
        return;
    }
    if (version == 3) {
        pin_requested_ = true;  // RESP3 replies and push messages: a connection of its own
        // The password was the sidecar's; the pinned connection is already authenticated to Redis.
        hello_auth_pin_ = authenticated_here;
        return;
    }
    std::string out;
    protocol::write_array_header(out, 14);
    protocol::write_bulk(out, "server");
    protocol::write_bulk(out, "redis");
    protocol::write_bulk(out, "version");
    protocol::write_bulk(out, context_.pool->redis_version().empty() ? "7.0.0" : context_.pool->redis_version());
    protocol::write_bulk(out, "proto");
    protocol::write_integer(out, 2);
    protocol::write_bulk(out, "id");
    protocol::write_integer(out, static_cast<std::int64_t>(id_));
    protocol::write_bulk(out, "mode");
    protocol::write_bulk(out, "standalone");
    protocol::write_bulk(out, "role");
    protocol::write_bulk(out, "master");
    protocol::write_bulk(out, "modules");
    protocol::write_array_header(out, 0);
    reply(out);
}

// requirepass is set: AUTH is the sidecar's to judge, with Redis 7.0's replies. A failed AUTH leaves
// an authenticated client authenticated, as in Redis.
void session::answer_auth(std::span<const std::string_view> args) {
    switch (check_auth(args, context_.password)) {
        case auth_verdict::ok:
            set_authenticated(true);
            reply("+OK\r\n");
            return;
        case auth_verdict::wrong_password:
            count_auth_failure();
            reply_error(auth_replies::wrongpass);
            return;
        case auth_verdict::wrong_arity:
            reply_error(wrong_arity(args[0]));
            return;
        case auth_verdict::syntax_error:
            reply_error(auth_replies::syntax_error);
            return;
    }
}

// requirepass is set and the client is not pinned, so it has no state in Redis: what RESET clears is
// the sidecar's own (the name, and the authentication, as Redis does when the default user has a
// password).
void session::answer_reset(std::span<const std::string_view> args) {
    if (args.size() != 1) {
        reply_error(wrong_arity(args[0]));
        return;
    }
    name_.clear();
    set_authenticated(false);
    reply("+RESET\r\n");
}

void session::set_authenticated(bool authenticated) {
    authenticated_ = authenticated;
    parser_.set_authenticated(authenticated);
}

void session::count_auth_failure() {
    server_stats::add(context_.stats.auth_failures);
    if (log_allowed(log_topic::auth_failure))
        spdlog::warn("client {} ({}): AUTH failed: wrong user or password ({} failures so far)", id_, peer(),
                     server_stats::get(context_.stats.auth_failures));
}

// HELLO 3 AUTH default <password> pins: Redis gets "HELLO 3" alone (the name, if any, is set when
// the pinned connection opens), since the password is the sidecar's and not Redis's.
void session::strip_auth_from_pin_command(std::span<const std::string_view> args) {
    hello_auth_pin_ = false;
    std::string command;
    protocol::write_array_header(command, 2);
    protocol::write_bulk(command, args[0]);
    protocol::write_bulk(command, args[1]);
    // `args` point into rx_, which is rebuilt here: they are not used after this.
    protocol::byte_buffer rebuilt(std::max(read_chunk, command.size() + rx_.size()));
    rebuilt.append(command);
    rebuilt.append(rx_.readable().substr(pin_command_length_));
    rx_ = std::move(rebuilt);
    pin_command_length_ = command.size();
}

// Redis's client-output-buffer-limit for normal clients: over the hard limit, or over the soft one for
// more than its seconds, the client is closed without a word. Counted as Redis counts its reply list:
// everything not yet written. The limit is read from this loop's settings at every check, so a
// reload that sets, changes or lifts it applies to the clients already connected, as CONFIG SET
// does in Redis; with none set (the default) that is two loads.
bool session::close_if_output_over_limit() {
    const config::output_buffer_limit& limit = context_.settings.client_output_buffer_limit;
    if (limit.hard_bytes == 0 && limit.soft_bytes == 0) return false;
    const std::uint64_t used = out_.size() + writing_buffer_.size();
    bool over = limit.hard_bytes != 0 && used >= limit.hard_bytes;
    if (limit.soft_bytes != 0 && used >= limit.soft_bytes) {
        const std::uint64_t now = context_.sessions.clock();
        if (!over_soft_limit_) {
            over_soft_limit_ = true;
            soft_limit_since_ = now;
        } else if (now - soft_limit_since_ > limit.soft_seconds) {
            over = true;
        }
    } else {
        over_soft_limit_ = false;
    }
    if (!over) return false;
    server_stats::add(context_.stats.output_buffer_limit_disconnections);
    if (log_allowed(log_topic::output_buffer))
        spdlog::warn("Client {} ({}) closed for overcoming of output buffer limits: {} bytes pending ({} such "
                     "clients so far)",
                     id_, peer(), used, server_stats::get(context_.stats.output_buffer_limit_disconnections));
    std::string().swap(out_);
    stop();
    return true;
}

void session::on_sweep(std::uint64_t now) {
    if (stopped_ || close_if_output_over_limit()) return;
    probe_for_unseen_eof(now);
    const unsigned timeout = context_.settings.timeout;
    // Idle: nothing received and nothing owed. Pinned clients may be blocked (BLPOP) or subscribed,
    // which Redis never times out, and the sidecar cannot tell from the bytes: they are left alone.
    if (timeout == 0 || pinned_ || pin_requested_ || !runs_.empty() || writing_ || !out_.empty()) return;
    if (now - last_active_ <= timeout) return;
    server_stats::add(context_.stats.idle_timeout_disconnections);
    spdlog::debug("client {}: closing idle client (timeout {} s)", id_, timeout);
    stop();
}

// A reader idle for a second is asked once whether its socket holds an EOF it was not woken
// for (see reading_). One non-blocking peek per idle spell of a client, in the sweep: nothing on
// the path of a request. Only with no write in flight, which cancel() would abort as well.
void session::probe_for_unseen_eof(std::uint64_t now) {
    if (!reading_ || eof_probed_ || writing_ || now - last_active_ < 1) return;
    eof_probed_ = true;
    char byte;
    const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    // Bytes or nothing yet: their arrival raised, or will raise, an edge the reactor sees.
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) return;
    // EOF, or an error the read would report: the read is woken, and takes it as EOF (replies
    // to what was read still go out, then the connection closes).
    eof_found_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
}

// The client's address for log lines (rare events only: it costs a system call).
std::string session::peer() const {
    boost::system::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    if (ec) return "unknown address";
    const int family = endpoint.protocol().family();
    if (family != AF_INET && family != AF_INET6) return "unix socket";
    asio::ip::tcp::endpoint tcp;
    if (endpoint.size() > tcp.capacity()) return "unknown address";
    std::memcpy(tcp.data(), endpoint.data(), endpoint.size());
    tcp.resize(endpoint.size());
    return tcp.address().to_string() + ":" + std::to_string(tcp.port());
}

void session::answer_client(std::span<const std::string_view> args) {
    if (args.size() < 2) {
        reply_error(wrong_arity(args[0]));
        return;
    }
    const std::string_view sub = args[1];
    auto arity_error = [&] {
        std::string full(args[0]);
        full += '|';
        full += sub;
        reply_error(wrong_arity(full));
    };
    if (equals_lower(sub, "setname")) {
        if (args.size() != 3) return arity_error();
        if (!is_valid_client_name(args[2])) {
            reply_error("ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        name_ = args[2];
        reply("+OK\r\n");
    } else if (equals_lower(sub, "getname")) {
        if (args.size() != 2) return arity_error();
        std::string out;
        if (name_.empty())
            protocol::write_null_bulk(out);
        else
            protocol::write_bulk(out, name_);
        reply(out);
    } else if (equals_lower(sub, "id")) {
        if (args.size() != 2) return arity_error();
        std::string out;
        protocol::write_integer(out, static_cast<std::int64_t>(id_));
        reply(out);
    } else if (equals_lower(sub, "setinfo")) {
        // Client libraries send this on connect (Redis 7.2); the sidecar keeps it per client.
        if (args.size() != 4) return arity_error();
        if (!equals_lower(args[2], "lib-name") && !equals_lower(args[2], "lib-ver")) {
            reply_error("ERR Unrecognized option '" + std::string(args[2]) + "'");
            return;
        }
        if (!is_valid_client_name(args[3])) {
            reply_error("ERR " + std::string(equals_lower(args[2], "lib-name") ? "lib-name" : "lib-ver") +
                        " cannot contain spaces, newlines or special characters.");
            return;
        }
        reply("+OK\r\n");
    } else if (equals_lower(sub, "tracking") || equals_lower(sub, "reply") || equals_lower(sub, "kill") ||
               equals_lower(sub, "caching") || equals_lower(sub, "getredir") ||
               equals_lower(sub, "trackinginfo") || equals_lower(sub, "no-evict") ||
               equals_lower(sub, "no-touch")) {
        pin_requested_ = true;
    } else if (serving_redis()) {
        forward_args(args, reply_action::pass);
    } else {
        // Nothing may wait on Redis while the local store answers: replies would lose their order.
        answer_locally(args);
    }
}

void session::answer_info(std::span<const std::string_view> args) {
    if (!serving_redis()) {
        answer_local_info(args.subspan(1));
        return;
    }
    const sidecar_section_use section = sidecar_section_in_info(args.subspan(1));
    if (section == sidecar_section_use::alone) {
        std::string out;
        protocol::write_bulk(out, context_.sidecar_info());
        reply(out);
        return;
    }
    // Redis is asked for the other sections; the Sidecar one is the sidecar's own.
    std::vector<std::string_view> forwarded{args[0]};
    for (const std::string_view a : args.subspan(1))
        if (!equals_lower(a, "sidecar")) forwarded.push_back(a);
    forward_args(forwarded, section == sidecar_section_use::appended ? reply_action::append_sidecar_info
                                                                     : reply_action::pass);
}

void session::answer_local_info(std::span<const std::string_view> sections) {
    local_figures figures;
    figures.redis_version = context_.pool->redis_version().empty() ? "7.0.0" : context_.pool->redis_version();
    figures.tcp_port = context_.settings.listen.port;
    figures.uptime_seconds = context_.uptime_seconds();
    figures.connected_clients = server_stats::get(context_.stats.connected_clients);
    figures.total_connections = server_stats::get(context_.stats.total_connections);
    context_.local.fill(figures);
    std::string out;
    protocol::write_bulk(out, format_local_info(sections, figures, context_.sidecar_info()));
    reply(out);
}

// ---------------------------------------------------------------------------------------------
// Pinned connections

asio::awaitable<bool> session::become_pinned() {
    // The command that asked for the pin is still at the start of rx_.
    const std::string command = pin_command_name_;
    auto refuse = [&](const std::string& message) {
        pin_requested_ = false;
        rx_.consume(pin_command_length_);
        reply_error(message);
        flush();
    };
    auto connection = upstream::pinned_connection::try_create(context_.pool);
    if (!connection) {
        refuse("ERR max number of pinned connections reached (max-pinned " +
               std::to_string(context_.settings.max_pinned) + "); '" + command +
               "' needs a dedicated connection to Redis");
        co_return false;
    }
    const upstream::open_result opened = co_await connection->async_open(name_);
    if (stopped_) co_return false;
    if (!opened.error.empty()) {
        server_stats::add(context_.stats.requests_failed);
        refuse("ERR upstream Redis is unavailable: " + single_line(opened.error));
        co_return false;
    }
    pinned_ = std::move(connection);
    pinned_info_ = std::make_unique<pinned_info>([this] { return context_.sidecar_info(); });
    server_stats::add(context_.stats.pinned_connections);
    server_stats::add(context_.stats.pinned_sessions_total);
    asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->pipe_pinned_to_client(); },
                   asio::detached);
    co_return true;
}

asio::awaitable<void> session::pipe_client_to_pinned() {
    // From the command that asked for the pin on, the client's bytes go to Redis unchanged, but
    // for the sidecar's INFO (server/pinned_info.hpp).
    while (!stopped_) {
        const pinned_info::forward forward = pinned_info_->from_client(rx_.readable());
        server_stats::add(context_.stats.requests_pinned, forward.requests);
        if (forward.consumed > 0) {
            auto [wec, written] = co_await asio::async_write(
                pinned_->stream(), asio::buffer(forward.bytes.data(), forward.bytes.size()), as_tuple(use_awaitable));
            if (wec) break;
            rx_.consume(forward.consumed);
            if (rx_.empty()) rx_.shrink_to(keep_capacity);
        }
        rx_.prepare(read_chunk);
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(rx_.writable(), rx_.writable_size()),
                                                        as_tuple(use_awaitable));
        if (ec == asio::error::eof) {
            // Half-close passes through: Redis answers what it got, then closes, and so do we.
            boost::system::error_code ignored;
            pinned_->socket().shutdown(asio::socket_base::shutdown_send, ignored);
            co_return;
        }
        if (ec) break;
        rx_.commit(n);
    }
    stop();
}

asio::awaitable<void> session::pipe_pinned_to_client() {
    protocol::byte_buffer& buffer = pinned_->leftover();
    while (!stopped_) {
        const pinned_info::forward forward = pinned_info_->from_redis(buffer.readable());
        if (forward.consumed > 0) {
            auto [wec, written] = co_await asio::async_write(
                socket_, asio::buffer(forward.bytes.data(), forward.bytes.size()), as_tuple(use_awaitable));
            if (wec) break;
            buffer.consume(forward.consumed);
        }
        buffer.prepare(read_chunk);
        auto [ec, n] = co_await pinned_->stream().async_read_some(
            asio::buffer(buffer.writable(), buffer.writable_size()), as_tuple(use_awaitable));
        if (ec) break;  // Redis closed it (QUIT, or Redis went away): so does the client's
        buffer.commit(n);
    }
    stop();
}

}  // namespace redis_sidecar::server
