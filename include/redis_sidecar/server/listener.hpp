#pragma once
/// Accepts client connections on a TCP address or a unix socket and starts a session for each.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "redis_sidecar/config/config.hpp"
#include "redis_sidecar/server/session_context.hpp"

namespace redis_sidecar::server {

class listener : public std::enable_shared_from_this<listener> {
public:
    using acceptor_type = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;

    /// Binds a TCP listener; with `share_port` several event loops bind the same port
    /// (SO_REUSEPORT) and the kernel spreads connections over them. Throws on failure.
    static std::shared_ptr<listener> bind_tcp(boost::asio::io_context& io, const config::endpoint& where,
                                              bool share_port, session_context& context);
    /// Binds a unix socket at `path` (replacing a stale one) with mode `permissions` (0: umask).
    static std::shared_ptr<listener> bind_unix(boost::asio::io_context& io, const std::string& path,
                                               unsigned permissions, session_context& context);

    void start();
    /// Stops accepting. Idempotent.
    void stop();

    const std::string& description() const { return description_; }

private:
    listener(acceptor_type acceptor, bool tcp, std::string description, session_context& context);
    boost::asio::awaitable<void> accept_clients();

    acceptor_type acceptor_;
    bool tcp_;
    std::string description_;
    session_context& context_;
};

}  // namespace redis_sidecar::server
