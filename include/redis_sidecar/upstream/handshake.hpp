#pragma once
/// Opening a connection to Redis: connect, the TLS handshake when configured, AUTH when configured,
/// and one INFO server that proves Redis serves requests (not LOADING, not NOAUTH) and tells its
/// version. Shared by every connection the sidecar makes to Redis.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/upstream/redis_stream.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

/// How a connection to Redis failed; the pool reacts to each differently.
enum class failure_kind : std::uint8_t {
    refused,  ///< nothing listens there: Redis is not running
    timeout,  ///< Redis did not answer in time: hung, overloaded or unreachable
    lost,     ///< the connection closed or reset: maybe only this one connection
    error,    ///< an error reply to AUTH or INFO, a stream that is not RESP, or a refused TLS handshake
};

struct open_result {
    /// Empty on success; otherwise why Redis could not be used.
    std::string error;
    /// Why it failed (meaningless on success).
    failure_kind kind = failure_kind::error;
    /// Redis's redis_version, from INFO server.
    std::string redis_version;
};

/// Opens `stream` (fresh from its constructor or reset()) to Redis within settings.timeout, the TLS
/// handshake included, naming the connection `client_name` when it is not empty (a pinned client's
/// CLIENT SETNAME). Leftover bytes stay in `rx` (none normally).
boost::asio::awaitable<open_result> async_open(redis_stream& stream,
                                               const upstream_settings& settings,
                                               protocol::byte_buffer& rx,
                                               std::string_view client_name = {});

}  // namespace redis_sidecar::upstream
