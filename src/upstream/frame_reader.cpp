#include "redis_sidecar/upstream/frame_reader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;

namespace redis_sidecar::upstream {

std::optional<std::string> take_buffered_frame(protocol::byte_buffer& rx, protocol::reply_framer& framer,
                                               bool& not_resp) {
    const auto framed = framer.next(rx.readable());
    not_resp = framed.status == protocol::frame_status::error;
    if (framed.status != protocol::frame_status::complete) return std::nullopt;
    std::string frame(rx.readable().substr(0, framed.length));
    rx.consume(framed.length);
    return frame;
}

asio::awaitable<std::optional<std::string>> async_read_frame(redis_stream& stream, protocol::byte_buffer& rx,
                                                             protocol::reply_framer& framer,
                                                             boost::system::error_code* failure) {
    for (;;) {
        bool not_resp = false;
        if (auto frame = take_buffered_frame(rx, framer, not_resp)) co_return frame;
        if (not_resp) co_return std::nullopt;
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
