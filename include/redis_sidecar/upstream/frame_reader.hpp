#pragma once
/// Reading whole replies on the sidecar's own control connections to Redis (handshake, recovery,
/// mirror feed), where one request at a time is enough. The shared pool frames in bulk instead.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"

namespace redis_sidecar::upstream {

/// The next whole reply (or RESP3 push) from `socket`, read through `rx` (bytes after it stay
/// there); nothing when the connection failed or the stream is not RESP. `framer` keeps the
/// progress of a reply across calls.
boost::asio::awaitable<std::optional<std::string>> async_read_frame(boost::asio::ip::tcp::socket& socket,
                                                                    protocol::byte_buffer& rx,
                                                                    protocol::reply_framer& framer);

}  // namespace redis_sidecar::upstream
