#pragma once
/// Opening a connection to Redis: connect, AUTH when configured, and one INFO server that proves
/// Redis serves requests (not LOADING, not NOAUTH) and tells its version. Shared by pooled and
/// pinned connections.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

/// How a connection to Redis failed; the pool reacts to each differently.
enum class failure_kind : std::uint8_t {
    refused,  ///< nothing listens there: Redis is not running
    timeout,  ///< Redis did not answer in time: hung, overloaded or unreachable
    lost,     ///< the connection closed or reset: maybe only this one connection
    error,    ///< an error reply to AUTH or INFO, or a stream that is not RESP
};

struct open_result {
    /// Empty on success; otherwise why Redis could not be used.
    std::string error;
    /// Why it failed (meaningless on success).
    failure_kind kind = failure_kind::error;
    /// Redis's redis_version, from INFO server.
    std::string redis_version;
};

/// Opens `socket` to Redis within settings.timeout, naming the connection `client_name` when it
/// is not empty (a pinned client's CLIENT SETNAME). Leftover bytes stay in `rx` (none normally).
boost::asio::awaitable<open_result> async_open(boost::asio::ip::tcp::socket& socket,
                                               const upstream_settings& settings,
                                               protocol::byte_buffer& rx,
                                               std::string_view client_name = {});

}  // namespace redis_sidecar::upstream
