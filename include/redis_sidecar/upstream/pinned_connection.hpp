#pragma once
/// A dedicated connection to Redis for one stateful client (MULTI, blocking pops, SUBSCRIBE...).
/// Once open, bytes flow both ways unframed; it holds one of the pool's pinned slots while alive.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/upstream/handshake.hpp"
#include "redis_sidecar/upstream/pool.hpp"
#include "redis_sidecar/upstream/redis_stream.hpp"

namespace redis_sidecar::upstream {

class pinned_connection {
public:
    /// A pinned connection holding a slot of `owner`, or nullptr when all slots are taken.
    static std::unique_ptr<pinned_connection> try_create(std::shared_ptr<pool> owner);
    ~pinned_connection();
    pinned_connection(const pinned_connection&) = delete;
    pinned_connection& operator=(const pinned_connection&) = delete;

    /// Connects, authenticates and names the connection `client_name` (when not empty); bytes
    /// Redis sent after the handshake stay in `leftover()`.
    boost::asio::awaitable<open_result> async_open(std::string_view client_name);

    /// The connection's bytes, over TLS when configured: read and write through this.
    redis_stream& stream() { return stream_; }
    /// The TCP socket underneath, for shutdown and close.
    boost::asio::ip::tcp::socket& socket() { return stream_.socket(); }
    protocol::byte_buffer& leftover() { return rx_; }

private:
    explicit pinned_connection(std::shared_ptr<pool> owner);

    std::shared_ptr<pool> owner_;
    redis_stream stream_;
    protocol::byte_buffer rx_{4096};
};

}  // namespace redis_sidecar::upstream
