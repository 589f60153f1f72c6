#pragma once
/// One client connection: read, parse, route each command, and write the replies back in request
/// order, whether they come from the shared pool or from the sidecar itself. A stateful command
/// moves the client to a pinned connection, after which bytes flow both ways unchanged.
///
/// The session does the I/O and the routing; what it decides is in sans-io parts of its own:
/// - reply_sequencer: the order of the replies, durable replies held for the journal commit;
/// - connection_commands: PING, QUIT, HELLO, CLIENT, AUTH, RESET, INFO's route;
/// - client_limits: output buffer limit, idle timeout, EOF probe.
/// Its member functions are spread by what they do: session.cpp (life, reading, writing),
/// session_routing.cpp (routing, forwarding, replies), session_commands.cpp (the commands the
/// sidecar answers itself), session_pinned.cpp (the pinned pipe), session_limits.cpp (the limits).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"
#include "redis_sidecar/server/client_limits.hpp"
#include "redis_sidecar/server/command_table.hpp"
#include "redis_sidecar/server/connection_commands.hpp"
#include "redis_sidecar/server/pinned_info.hpp"
#include "redis_sidecar/server/reply_sequencer.hpp"
#include "redis_sidecar/server/session_context.hpp"
#include "redis_sidecar/store/durable_commits.hpp"
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

    std::uint64_t id() const { return client_.id; }
    /// The journal commit its durable replies waited for is done (`ec`: the disk refused).
    void on_journal_committed(std::error_code ec) override;

    /// True once the client has a dedicated upstream connection.
    bool pinned() const { return pinned_ != nullptr; }

    /// Once a second (when timeout or a soft output limit is set): closes the client if it has
    /// been idle for longer than `timeout`, or over its soft output limit for too long.
    void on_sweep(std::uint64_t now);

private:
    /// A command that asked for a pinned connection, which it will be the first to go over.
    struct pin_request {
        bool requested = false;
        bool strip_auth = false;  ///< HELLO 3 AUTH: Redis gets the HELLO without the AUTH
        std::string command_name;
        std::size_t command_length = 0;  ///< its bytes, still at the start of rx_
    };

    // --- session.cpp: life, reading, writing ---
    boost::asio::awaitable<void> read_requests();
    boost::asio::awaitable<void> wait_while_undecided();
    bool decided() const;
    boost::asio::awaitable<bool> wait_until(bool (session::*condition)() const);
    /// Output was written or a reply became ready: a reader waiting for room goes on.
    void wake_reader() {
        if (reader_waiting_) wakeup_.cancel();
    }
    bool may_read() const;
    bool drained() const;
    void follow_reloaded_parser_limits();
    void schedule_flush();
    void flush();
    void record_latencies();

    // --- session_routing.cpp: routing, forwarding, replies ---
    void process_input();
    void execute(std::span<const std::string_view> args, std::string_view raw);
    bool serving_redis() const;
    void answer_locally(std::span<const std::string_view> args);
    void forward(std::string_view raw, reply_action action = reply_action::pass, bool may_take_long = false);
    upstream::pooled_connection* pick_connection();
    void forward_args(std::span<const std::string_view> args, reply_action action, bool may_take_long = false);
    bool may_take_long(const catalogue::command_info* command, std::span<const std::string_view> args) const;
    void wait_for_journal();

    // upstream::reply_sink
    void on_reply_bytes(std::string_view bytes, bool complete, std::string_view request) override;
    void on_reply_failed(std::string_view reason, bool partial, std::string_view request) override;
    void on_replies_delivered() override;
    void complete_transformed_reply(std::string_view request);

    /// `bytes`, answered at once.
    void reply(std::string_view bytes) {
        ++batch_local_;
        replies_.answered_locally(bytes);
    }
    void reply_error(std::string_view message);

    // --- session_commands.cpp: the commands the sidecar answers itself ---
    bool answer_for_connection(command_route route, std::span<const std::string_view> args);
    void carry_out(connection_verdict verdict, std::span<const std::string_view> args);
    void answer_info(std::span<const std::string_view> args);
    void answer_local_info(std::span<const std::string_view> sections);
    void count_auth_failure();
    void strip_auth_from_pin_command(std::span<const std::string_view> args);

    // --- session_pinned.cpp: the pinned pipe ---
    boost::asio::awaitable<bool> become_pinned();
    boost::asio::awaitable<void> pipe_client_to_pinned();
    boost::asio::awaitable<void> pipe_pinned_to_client();

    // --- session_limits.cpp: the client limits ---
    /// Checked where output grows; with no limit set (the default) that is two loads.
    bool close_if_output_over_limit() {
        const config::output_buffer_limit& limit = context_.settings.client_output_buffer_limit;
        if (limit.hard_bytes == 0 && limit.soft_bytes == 0) return false;
        return close_if_output_over_set_limit();
    }
    bool close_if_output_over_set_limit();
    void close_for_query_buffer_limit();
    void probe_for_unseen_eof(std::uint64_t now);
    std::string peer() const;

    socket_type socket_;
    session_context& context_;
    client_state client_;
    std::size_t affinity_;
    /// The pool connection this client's forwarded requests last went over (see pick_connection).
    upstream::pooled_connection* connection_ = nullptr;

    protocol::byte_buffer rx_;
    protocol::request_parser parser_;
    std::string encode_scratch_;

    reply_sequencer replies_;
    bool awaiting_commit_ = false;  // registered with the event loop's durable_commits
    std::string transform_buffer_;
    // Parses a forwarded request again when its reply needs it (a mirrored write, a fail-closed
    // GET) or Redis failed before answering it (run locally or not, by its command). The pooled
    // connection keeps the request's bytes until then.
    protocol::request_parser replay_parser_;
    std::string writing_buffer_;
    bool writing_ = false;
    bool flush_scheduled_ = false;

    boost::asio::steady_timer wakeup_;
    bool reader_waiting_ = false;
    // The reader waits on the socket. A short read tells the reactor the socket is drained
    // (asio_ext/socket_read_buffer.hpp), so a FIN reported together with the last bytes raises no
    // later edge: the sweep asks an idle reader's socket once whether EOF is there.
    bool reading_ = false;
    bool eof_found_ = false;  // by the probe, which then cancelled the read
    bool stopped_ = false;
    bool close_after_replies_ = false;  // QUIT or a protocol error: no more reading
    pin_request pin_;

    std::uint64_t batch_forwarded_ = 0;
    std::uint64_t batch_local_ = 0;
    std::unique_ptr<pinned_info> pinned_info_;  // made with the pinned connection: idle sessions pay a pointer
    std::unique_ptr<upstream::pinned_connection> pinned_;

    client_limits limits_;
};

}  // namespace redis_sidecar::server
