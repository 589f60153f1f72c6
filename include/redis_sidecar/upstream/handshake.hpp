#pragma once
/// Opening a connection to Redis: connect, AUTH when configured, and one INFO server that proves
/// Redis serves requests (not LOADING, not NOAUTH) and tells its version. Shared by pooled and
/// pinned connections.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/upstream/upstream_settings.hpp"

namespace redis_sidecar::upstream {

struct open_result {
    /// Empty on success; otherwise why Redis could not be used.
    std::string error;
    /// True when the connection was refused (Redis is not running there), as opposed to a
    /// timeout or an error reply.
    bool refused = false;
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
