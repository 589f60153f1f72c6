#include "redis_sidecar/upstream/handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <variant>

#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/upstream/frame_reader.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace redis_sidecar::upstream {

namespace {

std::string encode_command(std::initializer_list<std::string_view> args) {
    std::string out;
    protocol::write_bulk_array(out, args);
    return out;
}

// Reads one whole reply into `reply`; false on a read error or a stream that is not RESP.
asio::awaitable<bool> read_reply(asio::ip::tcp::socket& socket, protocol::byte_buffer& rx, std::string& reply) {
    protocol::reply_framer framer;
    auto frame = co_await async_read_frame(socket, rx, framer);
    if (!frame) co_return false;
    reply = std::move(*frame);
    co_return true;
}

std::string parse_version(std::string_view info) {
    constexpr std::string_view key = "redis_version:";
    const auto at = info.find(key);
    if (at == std::string_view::npos) return {};
    const auto begin = at + key.size();
    const auto end = info.find('\r', begin);
    return std::string(info.substr(begin, end - begin));
}

std::string first_line(std::string_view reply) {
    return std::string(reply.substr(0, reply.find('\r')));
}

asio::awaitable<open_result> connect_and_prepare(asio::ip::tcp::socket& socket, const upstream_settings& settings,
                                                 protocol::byte_buffer& rx, std::string client_name) {
    open_result result;
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    auto [rec, endpoints] = co_await resolver.async_resolve(settings.host, std::to_string(settings.port),
                                                            as_tuple(use_awaitable));
    if (rec) {
        result.kind = failure_kind::refused;
        result.error = "cannot resolve " + settings.host + ": " + rec.message();
        co_return result;
    }
    auto [cec, endpoint] = co_await asio::async_connect(socket, endpoints, as_tuple(use_awaitable));
    if (cec) {
        result.kind = cec == asio::error::connection_refused ? failure_kind::refused : failure_kind::lost;
        result.error = "connect: " + cec.message();
        co_return result;
    }
    socket.set_option(asio::ip::tcp::no_delay(true));
    std::string request;
    if (!settings.password.empty()) {
        request += settings.user.empty() ? encode_command({"AUTH", settings.password})
                                         : encode_command({"AUTH", settings.user, settings.password});
    }
    request += encode_command({"INFO", "server"});
    if (!client_name.empty()) request += encode_command({"CLIENT", "SETNAME", client_name});
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(request), as_tuple(use_awaitable));
    if (wec) {
        result.kind = failure_kind::lost;
        result.error = "write: " + wec.message();
        co_return result;
    }
    std::string reply;
    if (!settings.password.empty()) {
        if (!co_await read_reply(socket, rx, reply)) {
            result.kind = failure_kind::lost;
            result.error = "connection lost during AUTH";
            co_return result;
        }
        if (reply[0] == '-') {
            result.error = "AUTH: " + first_line(reply.substr(1));
            co_return result;
        }
    }
    if (!co_await read_reply(socket, rx, reply)) {
        result.error = "connection lost during INFO";
        co_return result;
    }
    if (reply[0] != '$') {
        result.error = "INFO: " + first_line(reply.substr(1));
        co_return result;
    }
    result.redis_version = parse_version(reply);
    if (!client_name.empty()) {
        if (!co_await read_reply(socket, rx, reply)) {
            result.kind = failure_kind::lost;
            result.error = "connection lost during CLIENT SETNAME";
            co_return result;
        }
    }
    co_return result;
}

}  // namespace

asio::awaitable<open_result> async_open(asio::ip::tcp::socket& socket, const upstream_settings& settings,
                                        protocol::byte_buffer& rx, std::string_view client_name) {
    asio::steady_timer deadline(co_await asio::this_coro::executor, settings.timeout);
    auto outcome = co_await (connect_and_prepare(socket, settings, rx, std::string(client_name)) ||
                             deadline.async_wait(as_tuple(use_awaitable)));
    if (outcome.index() == 0) co_return std::get<0>(std::move(outcome));
    boost::system::error_code ignored;
    socket.close(ignored);
    open_result timed_out;
    timed_out.kind = failure_kind::timeout;
    timed_out.error = "no answer from Redis within " + std::to_string(settings.timeout.count()) + " ms";
    co_return timed_out;
}

}  // namespace redis_sidecar::upstream
