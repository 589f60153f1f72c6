#pragma once
/// Reading whole replies on the sidecar's own control connections to Redis (handshake, recovery,
/// mirror feed), where one request at a time is enough. The shared pool frames in bulk instead.

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/upstream/redis_stream.hpp"

namespace redis_sidecar::upstream {

/// The whole reply (or RESP3 push) at the start of `rx`, consumed, when it is all there already:
/// no I/O. `framer` keeps the progress of one still arriving. Sets `not_resp` when `rx` cannot be
/// RESP (the connection can no longer be trusted).
std::optional<std::string> take_buffered_frame(protocol::byte_buffer& rx, protocol::reply_framer& framer,
                                               bool& not_resp);

/// The next whole reply (or RESP3 push) from `stream`, read through `rx` (bytes after it stay
/// there); nothing when the connection failed or the stream is not RESP. `framer` keeps the
/// progress of a reply across calls. When reading failed and `failure` is given, it says why (it
/// stays clear for a stream that is not RESP).
boost::asio::awaitable<std::optional<std::string>> async_read_frame(redis_stream& stream, protocol::byte_buffer& rx,
                                                                    protocol::reply_framer& framer,
                                                                    boost::system::error_code* failure = nullptr);

}  // namespace redis_sidecar::upstream
