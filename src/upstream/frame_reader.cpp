#include "redis_sidecar/upstream/frame_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;

namespace redis_sidecar::upstream {

asio::awaitable<std::optional<std::string>> async_read_frame(redis_stream& stream, protocol::byte_buffer& rx,
                                                             protocol::reply_framer& framer,
                                                             boost::system::error_code* failure) {
    for (;;) {
        const auto framed = framer.next(rx.readable());
        if (framed.status == protocol::frame_status::error) co_return std::nullopt;
        if (framed.status == protocol::frame_status::complete) {
            std::string frame(rx.readable().substr(0, framed.length));
            rx.consume(framed.length);
            co_return frame;
        }
        rx.prepare(16 * 1024);
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(rx.writable(), rx.writable_size()),
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (failure != nullptr) *failure = ec;
            co_return std::nullopt;
        }
        rx.commit(n);
    }
}

}  // namespace redis_sidecar::upstream
