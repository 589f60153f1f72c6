#include "redis_sidecar/upstream/command_discovery.hpp"

#include "redis_sidecar/upstream/command_reply.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "redis_sidecar/protocol/byte_buffer.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/upstream/frame_reader.hpp"
#include "redis_sidecar/upstream/handshake.hpp"
#include "redis_sidecar/upstream/redis_stream.hpp"

namespace asio = boost::asio;

namespace redis_sidecar::upstream {

using catalogue::command_info;

namespace {
asio::awaitable<std::optional<std::vector<command_info>>> ask_command(redis_stream& stream, upstream_settings settings) {
    protocol::byte_buffer rx(64 * 1024);
    const open_result opened = co_await async_open(stream, settings, rx);
    if (!opened.error.empty()) co_return std::nullopt;
    constexpr std::string_view request = "*1\r\n$7\r\nCOMMAND\r\n";
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(request.data(), request.size()),
                                              asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::nullopt;
    protocol::reply_framer framer;
    const std::optional<std::string> reply = co_await async_read_frame(stream, rx, framer);
    if (!reply) co_return std::nullopt;
    co_return parse_command_reply(*reply);
}
}  // namespace

// Opening has its own time limit; the COMMAND reply gets one more: a Redis that hangs after the
// handshake must not hold up recovery, which waits for this before forwarding resumes.
asio::awaitable<std::optional<std::vector<command_info>>> async_learn_commands(upstream_settings settings) {
    using namespace asio::experimental::awaitable_operators;
    const auto executor = co_await asio::this_coro::executor;
    redis_stream stream(executor, settings.tls);
    asio::steady_timer deadline(executor, settings.timeout * 2);
    auto outcome = co_await (ask_command(stream, settings) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    boost::system::error_code ignored;
    stream.socket().close(ignored);
    if (outcome.index() == 0) co_return std::get<0>(std::move(outcome));
    co_return std::nullopt;
}

}  // namespace redis_sidecar::upstream
