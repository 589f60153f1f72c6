// The pinned pipe: once a stateful command asked for it and every earlier reply is written, the
// client gets a connection to Redis of its own, and bytes flow both ways unchanged (but for the
// sidecar's INFO, server/pinned_info.hpp).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "redis_sidecar/server/session.hpp"
#include "session_support.hpp"

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace redis_sidecar::server {

using namespace session_support;

asio::awaitable<bool> session::become_pinned() {
    // The command that asked for the pin is still at the start of rx_.
    const std::string command = pin_.command_name;
    auto refuse = [&](const std::string& message) {
        pin_.requested = false;
        rx_.consume(pin_.command_length);
        reply_error(message);
        flush();
    };
    // A spare is open already: the command leaves in this turn of the event loop, ahead of what
    // other clients send after it. A named client's connection is opened with its name instead.
    std::unique_ptr<upstream::pinned_connection> connection;
    if (client_.name.empty()) connection = context_.spares.take();
    if (!connection) {
        connection = upstream::pinned_connection::try_create(context_.pool);
        if (!connection) {
            refuse("ERR max number of pinned connections reached (max-pinned " +
                   std::to_string(context_.settings.max_pinned) + "); '" + command +
                   "' needs a dedicated connection to Redis");
            co_return false;
        }
        const upstream::open_result opened = co_await connection->async_open(client_.name);
        if (stopped_) co_return false;
        if (!opened.error.empty()) {
            server_stats::add(context_.stats.requests_failed);
            refuse("ERR upstream Redis is unavailable: " + single_line(opened.error));
            co_return false;
        }
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
