#include "redis_sidecar/upstream/handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
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

// Reads one whole reply into `reply`; false on a read error (`failure` says which) or a stream that
// is not RESP.
asio::awaitable<bool> read_reply(redis_stream& stream, protocol::byte_buffer& rx, std::string& reply,
                                 boost::system::error_code& failure) {
    protocol::reply_framer framer;
    auto frame = co_await async_read_frame(stream, rx, framer, &failure);
    if (!frame) co_return false;
    reply = std::move(*frame);
    co_return true;
}

// "connection lost during AUTH", with the reason when there is one: over TLS a refused client
// certificate shows only here (TLS 1.3 lets the client finish its handshake before the server
// has checked the certificate).
std::string lost_during(std::string_view what, redis_stream& stream, const boost::system::error_code& failure) {
    std::string message = "connection lost during " + std::string(what);
    if (failure) message += ": " + stream.error_message(failure);
    return message;
}

// A handshake cut off by the transport may be a passing failure; any other failure is TLS's
// verdict (certificate refused, protocol mismatch), which retrying as fast will not change.
failure_kind tls_failure_kind(const boost::system::error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated
               ? failure_kind::lost
               : failure_kind::error;
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

asio::awaitable<open_result> connect_and_prepare(redis_stream& stream, const upstream_settings& settings,
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
    auto [cec, endpoint] = co_await asio::async_connect(stream.socket(), endpoints, as_tuple(use_awaitable));
    if (cec) {
        result.kind = cec == asio::error::connection_refused ? failure_kind::refused : failure_kind::lost;
        result.error = "connect: " + cec.message();
        co_return result;
    }
    stream.socket().set_option(asio::ip::tcp::no_delay(true));
    if (stream.tls()) {
        // Within the same deadline as the rest: a Redis that accepts but never finishes the
        // handshake is as down as one that never answers INFO.
        auto [hec] = co_await stream.async_handshake(as_tuple(use_awaitable));
        if (hec) {
            result.kind = tls_failure_kind(hec);
            result.error = "TLS handshake: " + stream.error_message(hec);
            co_return result;
        }
    }
    std::string request;
    if (!settings.password.empty()) {
        request += settings.user.empty() ? encode_command({"AUTH", settings.password})
                                         : encode_command({"AUTH", settings.user, settings.password});
    }
    request += encode_command({"INFO", "server"});
    if (!client_name.empty()) request += encode_command({"CLIENT", "SETNAME", client_name});
    auto [wec, written] = co_await asio::async_write(stream, asio::buffer(request), as_tuple(use_awaitable));
    if (wec) {
        result.kind = failure_kind::lost;
        result.error = "write: " + stream.error_message(wec);
        co_return result;
    }
    std::string reply;
    boost::system::error_code failure;
    if (!settings.password.empty()) {
        if (!co_await read_reply(stream, rx, reply, failure)) {
            result.kind = failure_kind::lost;
            result.error = lost_during("AUTH", stream, failure);
            co_return result;
        }
        if (reply[0] == '-') {
            result.error = "AUTH: " + first_line(reply.substr(1));
            co_return result;
        }
    }
    if (!co_await read_reply(stream, rx, reply, failure)) {
        result.error = lost_during("INFO", stream, failure);
        co_return result;
    }
    // -BUSY: Redis is alive, running a script past its busy-reply-threshold; the connection is
    // usable (SCRIPT KILL is what may be sent on it), its version unknown for now.
    if (reply[0] != '$' && !reply.starts_with("-BUSY")) {
        result.error = "INFO: " + first_line(reply.substr(1));
        co_return result;
    }
    if (reply[0] == '$') result.redis_version = parse_version(reply);
    if (!client_name.empty()) {
        if (!co_await read_reply(stream, rx, reply, failure)) {
            result.kind = failure_kind::lost;
            result.error = lost_during("CLIENT SETNAME", stream, failure);
            co_return result;
        }
    }
    co_return result;
}

}  // namespace

asio::awaitable<open_result> async_open(redis_stream& stream, const upstream_settings& settings,
                                        protocol::byte_buffer& rx, std::string_view client_name) {
    asio::steady_timer deadline(co_await asio::this_coro::executor, settings.timeout);
    auto outcome = co_await (connect_and_prepare(stream, settings, rx, std::string(client_name)) ||
                             deadline.async_wait(as_tuple(use_awaitable)));
    if (outcome.index() == 0) co_return std::get<0>(std::move(outcome));
    boost::system::error_code ignored;
    stream.socket().close(ignored);
    open_result timed_out;
    timed_out.kind = failure_kind::timeout;
    timed_out.error = "no answer from Redis within " + std::to_string(settings.timeout.count()) + " ms";
    co_return timed_out;
}

}  // namespace redis_sidecar::upstream
