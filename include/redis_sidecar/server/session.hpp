#pragma once
/// One client connection: read, parse, route each command, and write the replies back in request
/// order, whether they come from the shared pool or from the sidecar itself. A stateful command
/// moves the client to a pinned connection, after which bytes flow both ways unchanged.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"
#include "redis_sidecar/protocol/ring_queue.hpp"
#include "redis_sidecar/server/command_table.hpp"
#include "redis_sidecar/server/pinned_info.hpp"
#include "redis_sidecar/server/session_context.hpp"
#include "redis_sidecar/upstream/pinned_connection.hpp"
#include "redis_sidecar/upstream/reply_sink.hpp"

namespace redis_sidecar::server {

class session : public upstream::reply_sink,
                public store::commit_waiter,
                public std::enable_shared_from_this<session> {
public:
    using socket_type = boost::asio::generic::stream_protocol::socket;

    session(socket_type socket, session_context& context);
    ~session() override;

    /// Starts serving the client.
    void start();
    /// Closes the client connection (and its pinned connection). Idempotent.
    void stop();
    /// Graceful shutdown: reads no more requests, answers those already read, then closes.
    /// A pinned client is closed at once (its connection is Redis's, as at Redis's shutdown).
    void drain();

    std::uint64_t id() const { return id_; }
    /// The journal commit its durable replies waited for is done (`ec`: the disk refused).
    void on_journal_committed(std::error_code ec) override;

    /// True once the client has a dedicated upstream connection.
    bool pinned() const { return pinned_ != nullptr; }

    /// Once a second (when timeout or a soft output limit is set): closes the client if it has
    /// been idle for longer than `timeout`, or over its soft output limit for too long.
    void on_sweep(std::uint64_t now);

private:
    /// What the reply to a forwarded request needs before it goes to the client.
    enum class reply_action : std::uint8_t {
        pass,
        append_sidecar_info,
        mirror,            ///< a write to a blacklist or lock key: the local store follows Redis
        fail_closed_get,   ///< GET of a blacklist key: a nil from Redis does not un-revoke a token
    };

    /// Expected replies, in order: `upstream_count` from the pool, then `local_after` (replies
    /// the sidecar made while those were still pending). Runs keep a pipeline of plain forwarded
    /// commands at one entry, so the hot path does not allocate.
    struct reply_run {
        std::uint32_t upstream_count;
        reply_action action;
        /// A durable local answer waiting for the journal (not Redis's reply): latency "local".
        bool local_answer;
        /// When the read that brought these requests was processed (for the latency histogram).
        std::chrono::steady_clock::time_point started;
        std::string local_after;
    };

    /// Replies that became ready since the last flush, by when their requests were read; their
    /// latency is taken once per flush, not per reply.
    struct ready_replies {
        std::chrono::steady_clock::time_point started;
        std::uint32_t count;
        bool local_answer;
    };

    boost::asio::awaitable<void> read_requests();
    boost::asio::awaitable<void> wait_while_undecided();
    bool decided() const;
    boost::asio::awaitable<bool> wait_until(bool (session::*condition)() const);
    void process_input();
    void execute(std::span<const std::string_view> args, std::string_view raw);
    void forward(std::string_view raw, reply_action action = reply_action::pass);
    upstream::pooled_connection* pick_connection();
    void forward_args(std::span<const std::string_view> args, reply_action action);
    bool serving_redis() const;
    void answer_locally(std::span<const std::string_view> args);
    bool answer_for_connection(command_route route, std::span<const std::string_view> args);

    void reply(std::string_view bytes);
    void reply_error(std::string_view message);

    void answer_ping(std::span<const std::string_view> args);
    void answer_hello(std::span<const std::string_view> args);
    void answer_client(std::span<const std::string_view> args);
    void answer_info(std::span<const std::string_view> args);
    void answer_local_info(std::span<const std::string_view> sections);
    bool wants_pin_for_select(std::span<const std::string_view> args) const;
    void answer_auth(std::span<const std::string_view> args);
    void answer_reset(std::span<const std::string_view> args);
    void set_authenticated(bool authenticated);
    void count_auth_failure();
    void strip_auth_from_pin_command(std::span<const std::string_view> args);
    void follow_reloaded_parser_limits();
    bool close_if_output_over_limit();
    std::string peer() const;

    // upstream::reply_sink
    void on_reply_bytes(std::string_view bytes, bool complete, std::string_view request) override;
    void on_reply_failed(std::string_view reason, bool partial, std::string_view request) override;
    void on_replies_delivered() override;
    void finish_upstream_reply();
    void complete_transformed_reply(std::string_view request);
    bool has_uncommitted_answers() const { return durable_replies_.size() > committed_answers_; }
    void release_committed_answers();
    void pop_front_run();

    void note_ready(std::chrono::steady_clock::time_point started, std::uint32_t count, bool local_answer);
    void record_latencies();
    void schedule_flush();
    void flush();
    void wake_reader();
    void probe_for_unseen_eof(std::uint64_t now);
    bool may_read() const;
    bool drained() const;

    boost::asio::awaitable<bool> become_pinned();
    boost::asio::awaitable<void> pipe_client_to_pinned();
    boost::asio::awaitable<void> pipe_pinned_to_client();

    socket_type socket_;
    session_context& context_;
    std::uint64_t id_;
    std::size_t affinity_;
    /// The pool connection this client's forwarded requests last went over (see pick_connection).
    upstream::pooled_connection* connection_ = nullptr;
    std::string name_;

    protocol::byte_buffer rx_;
    protocol::request_parser parser_;
    std::string encode_scratch_;

    protocol::ring_queue<reply_run> runs_;
    std::uint32_t inflight_ = 0;
    std::string transform_buffer_;
    // Parses a forwarded request again when its reply needs it (a mirrored write, a fail-closed
    // GET) or Redis failed before answering it (run locally or not, by its command). The pooled
    // connection keeps the request's bytes until then.
    protocol::request_parser replay_parser_;
    /// Durable local answers, in the order of their runs: the first `committed_answers_` are
    /// stored and go out once their run is at the front (a forwarded request before them may
    /// still wait for Redis); the rest wait for the journal commit.
    /// (A vector, not a deque: an empty std::deque allocates, which 10,000 idle clients pay.)
    std::vector<std::string> durable_replies_;
    std::size_t committed_answers_ = 0;
    std::uint64_t uncommitted_refusals_before_ = 0;  // of the first answer not committed yet
    bool awaiting_commit_ = false;
    std::string out_;
    std::string writing_buffer_;
    bool writing_ = false;
    bool flush_scheduled_ = false;

    boost::asio::steady_timer wakeup_;
    bool reader_waiting_ = false;
    // The reader waits on the socket. A short read tells the reactor the socket is drained
    // (asio_ext/socket_read_buffer.hpp), so a FIN reported together with the last bytes raises no
    // later edge: the sweep asks an idle reader's socket once whether EOF is there.
    bool reading_ = false;
    bool eof_probed_ = false;  // since the last read completed
    bool eof_found_ = false;   // by the probe, which then cancelled the read
    bool stopped_ = false;
    bool close_after_replies_ = false;  // QUIT or a protocol error: no more reading
    bool pin_requested_ = false;
    std::string pin_command_name_;
    std::size_t pin_command_length_ = 0;

    std::uint64_t batch_forwarded_ = 0;
    std::uint64_t batch_local_ = 0;
    std::uint32_t batch_replied_now_ = 0;  // answers made in this read, ready at once
    std::chrono::steady_clock::time_point batch_started_;
    std::vector<ready_replies> ready_;
    std::unique_ptr<pinned_info> pinned_info_;  // made with the pinned connection: idle sessions pay a pointer

    std::unique_ptr<upstream::pinned_connection> pinned_;

    // requirepass: false until AUTH (or HELLO AUTH) succeeds when a password is required.
    bool authenticated_;
    bool hello_auth_pin_ = false;  // HELLO 3 AUTH pins: Redis gets the HELLO without the AUTH
    std::uint64_t last_active_;     // registry clock when the client last sent or got bytes
    bool over_soft_limit_ = false;
    std::uint64_t soft_limit_since_ = 0;  // when output reached the soft limit
};

}  // namespace redis_sidecar::server
