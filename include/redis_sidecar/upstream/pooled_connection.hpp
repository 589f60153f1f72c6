#pragma once
/// One shared connection to Redis. Requests from many clients are appended to its request blocks
/// (or, when large, referenced where the client's session read them) and written as a pipeline
/// once per turn of the event loop; replies are framed and handed to each request's sink in FIFO
/// order, with the request's bytes, which the connection keeps (where they were written from) until
/// their reply is complete. It reconnects by itself, with backoff.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <vector>
#include <memory>
#include <string>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/protocol/ring_queue.hpp"
#include "redis_sidecar/protocol/shared_bytes.hpp"
#include "redis_sidecar/upstream/handshake.hpp"
#include "redis_sidecar/upstream/redis_stream.hpp"
#include "redis_sidecar/upstream/reply_sink.hpp"
#include "redis_sidecar/upstream/request_blocks.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

/// Told of every change of a connection's state, so the pool (and later the health monitor)
/// can follow Redis's availability.
class connection_observer {
public:
    virtual ~connection_observer() = default;
    virtual void on_connection_ready(const std::string& redis_version) = 0;
    /// A ready connection broke (`was_ready`), or an attempt to open one failed.
    virtual void on_connection_failed(const std::string& reason, failure_kind kind, bool was_ready) = 0;
};

class pooled_connection : public std::enable_shared_from_this<pooled_connection> {
public:
    pooled_connection(boost::asio::any_io_executor executor, const upstream_settings& settings,
                      connection_observer& observer);

    /// Starts connecting (and reconnecting after failures) until `stop`.
    void start();
    /// Closes the connection; requests waiting for replies fail. Idempotent.
    void stop();
    /// Fails the connection as if it had broken (the pool's verdict that Redis is down); it
    /// reconnects after the probe interval.
    void abort(const std::string& reason);

    /// True when requests can be sent.
    bool ready() const { return ready_; }
    /// Requests sent and not answered yet.
    std::size_t pending() const { return pending_.size(); }

    /// Queues `request` (one whole RESP command) for `sink`; requires ready(). The bytes are
    /// copied, so the caller may reuse its buffer at once. The upstream timeout counts from
    /// `received` (when the client's request was read: one clock reading per read, not one per
    /// request of a pipeline).
    /// `may_take_long`: Redis may legitimately work on it for long (busy_tracker.hpp).
    void send(std::shared_ptr<reply_sink> sink, std::string_view request,
              std::chrono::steady_clock::time_point received, bool may_take_long = false);
    /// As `send`, for a request that lies in `storage` (a client's receive buffer): its bytes are
    /// written from there, not copied, so they must not change until it is answered; the
    /// connection holds a handle to `storage` until then.
    void send_shared(std::shared_ptr<reply_sink> sink, std::string_view request,
                     const protocol::shared_bytes& storage, std::chrono::steady_clock::time_point received,
                     bool may_take_long = false);

private:
    struct pending_request {
        std::shared_ptr<reply_sink> sink;
        std::chrono::steady_clock::time_point received_at;  // when the client's request was read (timeout start)
        std::size_t length;                                 // of the request's bytes (4 GB and more are allowed)
        bool may_take_long = false;                         // counted in settings_.busy while pending
    };

    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> read_replies();
    boost::asio::awaitable<void> watch_timeouts();
    bool deliver_replies();
    void note_delivered(std::shared_ptr<reply_sink> sink);
    void queue_pending(std::shared_ptr<reply_sink> sink, std::chrono::steady_clock::time_point received,
                       std::size_t length, bool may_take_long);
    void answered(const pending_request& request, std::string_view reply);
    std::chrono::milliseconds time_limit() const;
    void schedule_flush();
    void flush();
    void fail(const std::string& reason, failure_kind kind);
    void send_heartbeat();

    boost::asio::any_io_executor executor_;
    const upstream_settings& settings_;
    connection_observer& observer_;
    redis_stream stream_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer timeout_timer_;
    boost::asio::steady_timer write_done_;  // cancelled when a write completes (see run)
    boost::asio::steady_timer batch_timer_;  // ends the batch delay (settings_.batch_delay)

    bool ready_ = false;
    bool stopped_ = false;
    bool flush_scheduled_ = false;
    bool batch_timer_armed_ = false;
    bool writing_ = false;
    bool write_in_flight_ = false;  // an async_write has not completed yet, even a stale one
    bool head_partially_delivered_ = false;
    unsigned generation_ = 0;  // bumps on every failure, so stale completions are ignored
    failure_kind last_failure_ = failure_kind::error;
    std::chrono::steady_clock::time_point last_activity_;

    request_blocks requests_;  // the bytes of the requests in pending_, written or not
    std::vector<protocol::shared_bytes> stale_write_blocks_;  // of a write still completing after a failure
    protocol::ring_queue<pending_request> pending_;
    // Sinks that got replies from the read being delivered (each once per run of its replies).
    std::vector<std::shared_ptr<reply_sink>> delivered_to_;
    protocol::byte_buffer rx_;
    protocol::reply_framer framer_;
};

}  // namespace redis_sidecar::upstream
