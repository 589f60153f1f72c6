#include "redis_sidecar/upstream/pooled_connection.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "redis_sidecar/upstream/handshake.hpp"
#include "redis_sidecar/asio_ext/socket_read_buffer.hpp"

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace redis_sidecar::upstream {

namespace {
// A reply at least this large is passed on while it arrives instead of being buffered whole.
constexpr std::size_t stream_threshold = 64 * 1024;
// The receive buffer returns to this size after a large reply.
constexpr std::size_t rx_capacity = 64 * 1024;
// A batch this large is written without waiting out the batch delay: Redis reads 16 KB at a time,
// so a larger batch saves it nothing more.
constexpr std::size_t batch_flush_bytes = 16 * 1024;
// Reconnect attempts back off up to this multiple of the probe interval.
constexpr int max_backoff_factor = 4;

// The reply to a heartbeat PING goes nowhere.
class discard_sink final : public reply_sink {
public:
    void on_reply_bytes(std::string_view, bool, std::string_view) override {}
    void on_reply_failed(std::string_view, bool, std::string_view) override {}
};

std::shared_ptr<reply_sink> heartbeat_sink() {
    static const auto sink = std::make_shared<discard_sink>();
    return sink;
}
}  // namespace

pooled_connection::pooled_connection(asio::any_io_executor executor, const upstream_settings& settings,
                                     connection_observer& observer)
    : executor_(executor),
      settings_(settings),
      observer_(observer),
      stream_(executor, settings.tls),
      retry_timer_(executor),
      timeout_timer_(executor),
      write_done_(executor),
      batch_timer_(executor),
      rx_(rx_capacity) {}

void pooled_connection::start() {
    asio::co_spawn(executor_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void pooled_connection::stop() {
    if (stopped_) return;
    stopped_ = true;
    retry_timer_.cancel();
    if (ready_) {
        fail("the sidecar is shutting down", failure_kind::lost);
    } else {
        boost::system::error_code ignored;
        stream_.socket().close(ignored);
    }
}

void pooled_connection::abort(const std::string& reason) { fail(reason, failure_kind::timeout); }

asio::awaitable<void> pooled_connection::run() {
    const auto max_backoff = settings_.probe_interval * max_backoff_factor;
    auto backoff = settings_.probe_interval;
    while (!stopped_) {
        // A write of the failed connection may still be completing (its socket is closed, its
        // handler not run yet); a TLS stream's state must outlive it.
        while (write_in_flight_) {
            write_done_.expires_at(std::chrono::steady_clock::time_point::max());
            co_await write_done_.async_wait(as_tuple(use_awaitable));
        }
        stream_.reset();
        rx_.clear();
        framer_.reset();
        const open_result opened = co_await async_open(stream_, settings_, rx_);
        if (stopped_) break;
        if (!opened.error.empty()) {
            boost::system::error_code ignored;
            stream_.socket().close(ignored);
            observer_.on_connection_failed(opened.error, opened.kind, false);
            retry_timer_.expires_after(backoff);
            co_await retry_timer_.async_wait(as_tuple(use_awaitable));
            backoff = std::min(backoff * 2, max_backoff);
            continue;
        }
        backoff = settings_.probe_interval;
        ready_ = true;
        last_activity_ = std::chrono::steady_clock::now();
        observer_.on_connection_ready(opened.redis_version);
        asio::co_spawn(executor_, [self = shared_from_this()] { return self->watch_timeouts(); }, asio::detached);
        co_await read_replies();
        // A connection that was merely closed (not a Redis that is down) is reopened at once;
        // after a timeout Redis gets a probe interval to recover.
        if (!stopped_ && last_failure_ != failure_kind::lost) {
            retry_timer_.expires_after(settings_.probe_interval);
            co_await retry_timer_.async_wait(as_tuple(use_awaitable));
        }
    }
}

asio::awaitable<void> pooled_connection::read_replies() {
    const unsigned generation = generation_;
    for (;;) {
        rx_.prepare(16 * 1024);
        auto [ec, n] = co_await stream_.async_read_some(asio_ext::socket_read_buffer(rx_.writable(), rx_.writable_size()),
                                                        as_tuple(use_awaitable));
        if (generation != generation_) co_return;  // failed meanwhile (timeout, write error, stop)
        if (ec) {
            fail(ec == asio::error::eof ? "Redis closed the connection" : "read: " + stream_.error_message(ec),
                 failure_kind::lost);
            co_return;
        }
        rx_.commit(n);
        last_activity_ = std::chrono::steady_clock::now();
        if (!deliver_replies()) {
            fail("Redis sent a reply nobody asked for, or one that is not RESP", failure_kind::error);
            co_return;
        }
        if (rx_.empty()) rx_.shrink_to(rx_capacity);
    }
}

// Hands every complete reply in rx_ to its sink, and streams the start of a large one; then tells
// each sink that got something, so it writes all of it at once (instead of posting a write of its
// own to the end of the loop's turn: that costs an allocation and a lock per reply at -P 1).
bool pooled_connection::deliver_replies() {
    bool framed_ok = true;
    while (!rx_.empty()) {
        const std::string_view input = rx_.readable();
        const protocol::frame_result framed = framer_.next(input);
        // A reply to a request not written yet is no reply to it.
        if (framed.status == protocol::frame_status::error || pending_.empty() ||
            !requests_.oldest_written(pending_.front().length)) {
            framed_ok = false;
            break;
        }
        if (framed.status == protocol::frame_status::complete) {
            pending_request head = std::move(pending_.front());
            pending_.pop_front();
            head_partially_delivered_ = false;
            answered(head, input.substr(0, framed.length));
            head.sink->on_reply_bytes(input.substr(0, framed.length), true, requests_.oldest(head.length));
            requests_.finish_oldest(head.length);
            rx_.consume(framed.length);
            note_delivered(std::move(head.sink));
            continue;
        }
        const std::size_t scanned = std::min(framer_.scanned(), input.size());
        if (scanned >= stream_threshold) {
            pending_.front().sink->on_reply_bytes(input.substr(0, scanned), false,
                                                  requests_.oldest(pending_.front().length));
            framer_.discard_prefix(scanned);
            rx_.consume(scanned);
            head_partially_delivered_ = true;
            note_delivered(pending_.front().sink);
        }
        break;
    }
    for (const auto& sink : delivered_to_) sink->on_replies_delivered();
    delivered_to_.clear();
    return framed_ok;
}

// Redis answered `request` with `reply` (whole): a slow command is no longer in flight; a -BUSY
// reply says Redis is alive, running a script past its busy-reply-threshold.
void pooled_connection::answered(const pending_request& request, std::string_view reply) {
    if (reply.starts_with("-BUSY")) [[unlikely]]
        settings_.busy->busy_reply();
    if (!request.may_take_long) [[likely]]
        return;
    settings_.busy->slow_done();
    if (std::chrono::steady_clock::now() - request.received_at > settings_.timeout) settings_.busy->waited_on_slow();
}

// While a slow command is in flight anywhere, Redis runs nothing else: every request may wait for
// it, up to the busy timeout. Otherwise a request older than the usual timeout means a hang.
std::chrono::milliseconds pooled_connection::time_limit() const {
    return settings_.busy->busy() ? std::max(settings_.busy_timeout, settings_.timeout) : settings_.timeout;
}

void pooled_connection::note_delivered(std::shared_ptr<reply_sink> sink) {
    if (delivered_to_.empty() || delivered_to_.back() != sink) delivered_to_.push_back(std::move(sink));
}

asio::awaitable<void> pooled_connection::watch_timeouts() {
    const unsigned generation = generation_;
    const auto period = std::max<std::chrono::milliseconds>(
        std::min(settings_.timeout, settings_.probe_interval) / 5, std::chrono::milliseconds(5));
    while (generation == generation_) {
        timeout_timer_.expires_after(period);
        co_await timeout_timer_.async_wait(as_tuple(use_awaitable));
        if (generation != generation_) co_return;
        const auto now = std::chrono::steady_clock::now();
        const std::chrono::milliseconds limit = time_limit();
        if (!pending_.empty() && now - pending_.front().received_at > limit) {
            fail("Redis did not answer within " + std::to_string(limit.count()) + " ms", failure_kind::timeout);
            co_return;
        }
        if (pending_.empty() && now - last_activity_ > settings_.probe_interval) send_heartbeat();
    }
}

// An idle connection learns that Redis hung only when it next asks something: a PING now and
// then makes that happen before a client's request has to wait for the timeout.
void pooled_connection::send_heartbeat() {
    static constexpr std::string_view ping = "*1\r\n$4\r\nPING\r\n";
    last_activity_ = std::chrono::steady_clock::now();
    send(heartbeat_sink(), ping, last_activity_);
}

void pooled_connection::send(std::shared_ptr<reply_sink> sink, std::string_view request,
                             std::chrono::steady_clock::time_point received, bool may_take_long) {
    requests_.append(request);
    queue_pending(std::move(sink), received, request.size(), may_take_long);
}

void pooled_connection::send_shared(std::shared_ptr<reply_sink> sink, std::string_view request,
                                    const protocol::shared_bytes& storage,
                                    std::chrono::steady_clock::time_point received, bool may_take_long) {
    requests_.append_shared(request, storage);
    queue_pending(std::move(sink), received, request.size(), may_take_long);
}

void pooled_connection::queue_pending(std::shared_ptr<reply_sink> sink, std::chrono::steady_clock::time_point received,
                                      std::size_t length, bool may_take_long) {
    if (may_take_long) [[unlikely]]
        settings_.busy->slow_sent();
    pending_.push_back({std::move(sink), received, length, may_take_long});
    // Nearly every request after a batch's first finds its flush already on the way.
    if (!flush_scheduled_) schedule_flush();
}

// Writing is deferred to the end of this turn of the event loop, so requests that several clients
// sent in the same turn leave in one write: the pipelining across clients that makes Redis cheaper.
// With a batch delay, the first request of a batch waits that long for others (Redis's per-read
// and per-write costs are then shared by more requests), unless a full read of Redis's is waiting.
void pooled_connection::schedule_flush() {
    if (settings_.batch_delay.count() > 0 && requests_.unwritten_bytes() < batch_flush_bytes) {
        if (batch_timer_armed_ || flush_scheduled_) return;
        batch_timer_armed_ = true;
        batch_timer_.expires_after(settings_.batch_delay);
        batch_timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
            self->batch_timer_armed_ = false;
            self->flush();
        });
        return;
    }
    if (flush_scheduled_) return;
    flush_scheduled_ = true;
    asio::post(executor_, [self = shared_from_this()] {
        self->flush_scheduled_ = false;
        self->flush();
    });
}

void pooled_connection::flush() {
    if (writing_ || requests_.unwritten_bytes() == 0 || !ready_) return;
    writing_ = true;
    write_in_flight_ = true;
    // One gathered write of every block's new bytes, which stay where they are until answered.
    asio::async_write(stream_, requests_.take_unwritten(),
                      [self = shared_from_this(), generation = generation_](boost::system::error_code ec, std::size_t) {
                          self->write_in_flight_ = false;
                          self->write_done_.cancel();
                          self->stale_write_blocks_.clear();
                          if (generation != self->generation_) return;
                          self->writing_ = false;
                          if (ec) {
                              self->fail("write: " + self->stream_.error_message(ec), failure_kind::lost);
                              return;
                          }
                          self->flush();
                      });
}

void pooled_connection::fail(const std::string& reason, failure_kind kind) {
    if (!ready_) return;
    ready_ = false;
    last_failure_ = kind;
    ++generation_;
    writing_ = false;
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
    timeout_timer_.cancel();
    protocol::ring_queue<pending_request> failed;
    failed.swap(pending_);
    bool partial = head_partially_delivered_;
    head_partially_delivered_ = false;
    // In order: written requests first, then those not written yet.
    auto position = requests_.begin_walk();
    for (std::size_t i = 0; i < failed.size(); ++i) {
        pending_request& request = failed[i];
        if (request.may_take_long) settings_.busy->slow_done();
        request.sink->on_reply_failed(reason, partial, requests_.walk_next(position, request.length));
        partial = false;
    }
    // A write still completing keeps its blocks until its handler runs.
    requests_.drop_all(write_in_flight_, stale_write_blocks_);
    observer_.on_connection_failed(reason, kind, true);
}

}  // namespace redis_sidecar::upstream
