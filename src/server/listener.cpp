#include "redis_sidecar/server/listener.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "redis_sidecar/server/session.hpp"

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace redis_sidecar::server {

namespace {
// SO_REUSEPORT: Asio has no named option for it.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

asio::ip::tcp::endpoint resolve_listen_address(asio::io_context& io, const config::endpoint& where) {
    asio::ip::tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto results = resolver.resolve(where.host, std::to_string(where.port),
                                    asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service, ec);
    if (ec || results.empty())
        throw std::runtime_error("invalid option 'listen': cannot resolve '" + where.host + "': " + ec.message());
    return results.begin()->endpoint();
}
}  // namespace

listener::listener(acceptor_type acceptor, bool tcp, std::string description, session_context& context)
    : acceptor_(std::move(acceptor)), tcp_(tcp), description_(std::move(description)), context_(context) {}

std::shared_ptr<listener> listener::bind_tcp(asio::io_context& io, const config::endpoint& where, bool share_port,
                                             session_context& context) {
    const asio::ip::tcp::endpoint endpoint = resolve_listen_address(io, where);
    acceptor_type acceptor(io);
    const asio::generic::stream_protocol::endpoint generic(endpoint);
    acceptor.open(generic.protocol());
    acceptor.set_option(acceptor_type::reuse_address(true));
    if (share_port) acceptor.set_option(reuse_port(true));
    boost::system::error_code ec;
    acceptor.bind(generic, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + where.host + ":" + std::to_string(where.port) + ": " +
                                 ec.message());
    const std::string description = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    return std::shared_ptr<listener>(new listener(std::move(acceptor), true, description, context));
}

std::shared_ptr<listener> listener::bind_unix(asio::io_context& io, const std::string& path, unsigned permissions,
                                              session_context& context) {
    ::unlink(path.c_str());  // a socket left by an earlier run (Redis does the same)
    const asio::local::stream_protocol::endpoint endpoint(path);
    const asio::generic::stream_protocol::endpoint generic(endpoint);
    acceptor_type acceptor(io);
    boost::system::error_code ec;
    acceptor.open(generic.protocol(), ec);
    if (!ec) acceptor.bind(generic, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on unix socket " + path + ": " + ec.message());
    if (permissions != 0 && ::chmod(path.c_str(), permissions) != 0)
        throw std::runtime_error("invalid option 'unixsocketperm': chmod " + path + " failed");
    return std::shared_ptr<listener>(new listener(std::move(acceptor), false, path, context));
}

void listener::start() {
    asio::co_spawn(acceptor_.get_executor(), [self = shared_from_this()] { return self->accept_clients(); },
                   asio::detached);
}

void listener::stop() {
    if (!acceptor_.is_open()) return;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // Like Redis, a unix socket's file goes away with the server.
    if (!tcp_) ::unlink(description_.c_str());
}

asio::awaitable<void> listener::accept_clients() {
    asio::steady_timer backoff(acceptor_.get_executor());
    while (acceptor_.is_open()) {
        auto [ec, socket] = co_await acceptor_.async_accept(as_tuple(use_awaitable));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
            // Out of file descriptors and the like: wait a little rather than spin.
            spdlog::warn("accept on {}: {}", description_, ec.message());
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(as_tuple(use_awaitable));
            continue;
        }
        if (server_stats::get(context_.stats.connected_clients) >= context_.settings.maxclients) {
            server_stats::add(context_.stats.rejected_connections);
            // Redis's reply for the same case; the socket is new, so the write cannot block.
            boost::system::error_code ignored;
            asio::write(socket, asio::buffer(std::string_view("-ERR max number of clients reached\r\n")), ignored);
            socket.close(ignored);
            continue;
        }
        if (tcp_) {
            boost::system::error_code ignored;
            socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        }
        std::make_shared<session>(std::move(socket), context_)->start();
    }
}

}  // namespace redis_sidecar::server
