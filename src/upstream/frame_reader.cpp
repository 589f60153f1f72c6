#include "redis_sidecar/upstream/frame_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;

namespace redis_sidecar::upstream {

asio::awaitable<std::optional<std::string>> async_read_frame(asio::ip::tcp::socket& socket, protocol::byte_buffer& rx,
                                                             protocol::reply_framer& framer) {
    for (;;) {
        const auto framed = framer.next(rx.readable());
        if (framed.status == protocol::frame_status::error) co_return std::nullopt;
        if (framed.status == protocol::frame_status::complete) {
            std::string frame(rx.readable().substr(0, framed.length));
            rx.consume(framed.length);
            co_return frame;
        }
        rx.prepare(16 * 1024);
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(rx.writable(), rx.writable_size()),
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) co_return std::nullopt;
        rx.commit(n);
    }
}

}  // namespace redis_sidecar::upstream
