// A session's life (start, stop, drain), its reading of requests, and its writing of replies.
#include "redis_sidecar/server/session.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "redis_sidecar/asio_ext/socket_read_buffer.hpp"
#include "session_support.hpp"

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace redis_sidecar::server {

using namespace session_support;

namespace {

// Reading pauses while this much output waits for a slow client.
constexpr std::size_t output_pause_bytes = 4 * 1024 * 1024;

protocol::parser_limits parser_limits_from(const config::settings& settings) {
    protocol::parser_limits limits;
    limits.max_bulk_length = static_cast<std::int64_t>(settings.proto_max_bulk_len);
    return limits;
}

}  // namespace

session::session(socket_type socket, session_context& context)
    : socket_(std::move(socket)),
      context_(context),
      client_{context.stats.next_client_id.fetch_add(1, std::memory_order_relaxed), {},
              !context.password.required()},
      affinity_(static_cast<std::size_t>(client_.id)),
      rx_(read_chunk),
      parser_(parser_limits_from(context.settings)),
      replay_parser_(parser_limits_from(context.settings)),
      wakeup_(socket_.get_executor()),
      limits_(context.sessions.clock()) {
    // Before AUTH, Redis's tighter request limits apply (10 arguments, 16 KB each).
    parser_.set_authenticated(client_.authenticated);
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
    // The client gets nothing more; the replies still coming are dropped as they come, though
    // their bookkeeping (and the mirror of its writes) goes on.
    replies_.discard_output();
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (pinned_) pinned_->socket().close(ignored);
    wakeup_.cancel();
    context_.sessions.remove(client_.id);
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
// Reading

asio::awaitable<void> session::read_requests() {
    for (;;) {
        // Checked here first: calling the coroutine costs a frame allocation per read.
        if (!decided()) co_await wait_while_undecided();
        process_input();
        if (stopped_ || close_after_replies_) co_return;
        if (pin_.requested) {
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
            close_for_query_buffer_limit();
            co_return;
        }
        rx_.prepare_read(read_chunk);
        reading_ = true;
        auto [ec, n] = co_await socket_.async_read_some(
            asio_ext::socket_read_buffer(rx_.writable(), rx_.writable_size()), as_tuple(use_awaitable));
        reading_ = false;
        limits_.read_completed();
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
        limits_.note_activity(context_.sessions.clock());
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

bool session::may_read() const {
    return replies_.inflight() < context_.settings.max_inflight &&
           replies_.output().size() + writing_buffer_.size() < output_pause_bytes;
}

bool session::drained() const { return !replies_.owes_replies() && !writing_ && replies_.output().empty(); }

// proto-max-bulk-len comes from this loop's settings, which a reload updates: the clients already
// connected get the new limit from their next read on, as with Redis's CONFIG SET.
void session::follow_reloaded_parser_limits() {
    const protocol::parser_limits limits = parser_limits_from(context_.settings);
    if (limits.max_bulk_length == parser_.limits().max_bulk_length) [[likely]]
        return;
    parser_.set_limits(limits);
    replay_parser_.set_limits(limits);
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

// One clock reading for every reply that became ready in this turn of the event loop.
void session::record_latencies() {
    const auto now = std::chrono::steady_clock::now();
    replies_.take_latencies(now, [this](bool local, std::uint64_t micros, std::uint32_t count) {
        (local ? context_.latency.local : context_.latency.forwarded).observe(micros, count);
    });
}

void session::flush() {
    if (replies_.has_ready_latencies()) record_latencies();
    if (stopped_ || close_if_output_over_limit()) return;
    if (writing_) return;
    std::string& out = replies_.output();
    if (out.empty()) {
        if (close_after_replies_ && !replies_.owes_replies()) stop();
        return;
    }
    // Most writes complete at once (the socket's buffer has room): tried first, synchronously, so
    // only a write that cannot finish now pays for an asynchronous operation and its handler.
    boost::system::error_code ec;
    const std::size_t written = socket_.write_some(asio::buffer(out), ec);
    if (ec && ec != asio::error::would_block) {
        stop();
        return;
    }
    if (written == out.size()) {
        out.clear();
        if (out.capacity() > keep_capacity) std::string().swap(out);
        limits_.note_activity(context_.sessions.clock());
        if (close_after_replies_ && !replies_.owes_replies()) stop();
        wake_reader();
        return;
    }
    out.erase(0, written);
    writing_ = true;
    std::swap(out, writing_buffer_);
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
                          self->limits_.note_activity(self->context_.sessions.clock());
                          self->flush();
                          self->wake_reader();
                      });
}

}  // namespace redis_sidecar::server
