#pragma once
/// The byte stream of one connection to Redis: plain TCP, or TLS over TCP when the settings carry a
/// TLS set-up. Every upstream connection (shared, pinned, handshake, recovery, mirror feed) reads
/// and writes through it; it models Asio's AsyncReadStream and AsyncWriteStream.
///
/// Why a branch and not a virtual interface, a type-erased stream or templated connections: the
/// choice is made once per connection, and the branch sits in the initiation of each read or write,
/// which hands the caller's own handler straight to the TCP socket or the TLS stream: no virtual
/// call, no allocation and no type erasure of the handler per operation, so the plaintext hot path
/// costs what it did (one predictable branch). Templating pooled_connection, pinned_connection and
/// the session on the stream type would give the same speed but spread templates into the server.

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <optional>
#include <string>

namespace redis_sidecar::upstream {

class tls_client;

class redis_stream {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    using tcp_socket = boost::asio::ip::tcp::socket;

    /// A stream that is not connected yet; TLS when `tls` is set.
    redis_stream(const executor_type& executor, std::shared_ptr<tls_client> tls);
    redis_stream(const redis_stream&) = delete;
    redis_stream& operator=(const redis_stream&) = delete;

    /// Drops the connection and prepares a fresh one (a new TLS session too). No operation on the
    /// stream may be pending: a TLS stream's operations use its state until they complete.
    void reset();

    /// The TCP socket underneath, for connect, socket options, shutdown and close.
    tcp_socket& socket() { return socket_; }
    bool tls() const { return tls_.has_value(); }

    /// The TLS client handshake (SNI, certificate chain and name verification); TLS streams only.
    template <typename Token>
    auto async_handshake(Token&& token) {
        return tls_->async_handshake(boost::asio::ssl::stream_base::client, std::forward<Token>(token));
    }

    /// `ec.message()`, plus why the certificate was refused when verification failed.
    std::string error_message(const boost::system::error_code& ec);

    executor_type get_executor() noexcept { return socket_.get_executor(); }

    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                if (tls_)
                    tls_->async_read_some(b, std::move(handler));
                else
                    socket_.async_read_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                if (tls_)
                    tls_->async_write_some(b, std::move(handler));
                else
                    socket_.async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

private:
    tcp_socket socket_;
    std::shared_ptr<tls_client> tls_client_;
    // Over socket_ (by reference, so the socket stays reachable as the lowest layer either way).
    std::optional<boost::asio::ssl::stream<tcp_socket&>> tls_;
};

}  // namespace redis_sidecar::upstream
