#include "redis_sidecar/metrics/http_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <stdexcept>

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace redis_sidecar::metrics {

namespace {
// A scrape request is a few hundred bytes; anything near this is not one.
constexpr std::size_t max_request_head = 8 * 1024;
// A client that has not sent its request (or read its response) by then is dropped.
constexpr std::chrono::seconds request_deadline{5};
// Scrapers and health checks come one or two at a time; more at once are refused.
constexpr unsigned max_active_connections = 32;

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 431: return "Request Header Fields Too Large";
        case 503: return "Service Unavailable";
        default: return "Error";
    }
}

http_response plain(int status, std::string body) {
    http_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}
}  // namespace

request_line parse_request_line(std::string_view head) {
    const std::size_t end = head.find("\r\n");
    const std::string_view line = head.substr(0, end);
    const std::size_t first_space = line.find(' ');
    if (first_space == std::string_view::npos) return {};
    const std::size_t second_space = line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos || !line.substr(second_space + 1).starts_with("HTTP/1.")) return {};
    std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
    if (!target.starts_with('/')) return {};
    target = target.substr(0, target.find('?'));
    return {line.substr(0, first_space), target};
}

std::string format_response(const http_response& response, bool head_only) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
    out.append(reason_phrase(response.status));
    out.append("\r\nContent-Type: ").append(response.content_type);
    out.append("\r\nContent-Length: ").append(std::to_string(response.body.size()));
    if (response.status == 405) out.append("\r\nAllow: GET, HEAD");
    out.append("\r\nConnection: close\r\n\r\n");
    if (!head_only) out.append(response.body);
    return out;
}

http_endpoint::http_endpoint(asio::ip::tcp::acceptor acceptor, http_handler handler)
    : acceptor_(std::move(acceptor)), handler_(std::move(handler)) {}

std::shared_ptr<http_endpoint> http_endpoint::bind(asio::io_context& io, const std::string& host, std::uint16_t port,
                                                   http_handler handler, const std::string& option) {
    asio::ip::tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto results = resolver.resolve(host, std::to_string(port),
                                    asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service, ec);
    if (ec || results.empty())
        throw std::runtime_error("invalid option '" + option + "': cannot resolve '" + host + "': " + ec.message());
    const asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
    asio::ip::tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("invalid option '" + option + "': cannot listen on " + host + ":" +
                                 std::to_string(port) + ": " + ec.message());
    return std::shared_ptr<http_endpoint>(new http_endpoint(std::move(acceptor), std::move(handler)));
}

void http_endpoint::start() {
    asio::co_spawn(acceptor_.get_executor(), [self = shared_from_this()] { return self->accept_loop(); },
                   asio::detached);
}

void http_endpoint::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

std::string http_endpoint::description() const {
    boost::system::error_code ec;
    const auto endpoint = acceptor_.local_endpoint(ec);
    if (ec) return "(closed)";
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

asio::awaitable<void> http_endpoint::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(as_tuple(use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        if (ec) continue;  // EMFILE and the like: the next accept may work
        if (active_ >= max_active_connections) continue;  // the socket closes as it goes out of scope
        asio::co_spawn(acceptor_.get_executor(),
                       [self = shared_from_this(), s = std::move(socket)]() mutable { return self->serve(std::move(s)); },
                       asio::detached);
    }
}

asio::awaitable<void> http_endpoint::serve(asio::ip::tcp::socket accepted) {
    ++active_;
    // The deadline closes the socket, which ends whichever read or write is waiting. The handler
    // shares the socket: a deadline that fires just as the answer is done runs after this frame.
    auto shared_socket = std::make_shared<asio::ip::tcp::socket>(std::move(accepted));
    asio::ip::tcp::socket& socket = *shared_socket;
    asio::steady_timer deadline(socket.get_executor());
    deadline.expires_after(request_deadline);
    deadline.async_wait([shared_socket](boost::system::error_code ec) {
        if (ec) return;
        boost::system::error_code ignored;
        shared_socket->close(ignored);
    });
    std::string head;
    char chunk[1024];
    bool complete = false;
    while (!complete && head.size() < max_request_head) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), as_tuple(use_awaitable));
        if (ec) break;
        head.append(chunk, n);
        complete = head.find("\r\n\r\n") != std::string::npos;
    }
    if (socket.is_open()) {
        const request_line request = parse_request_line(head);
        const bool head_only = request.method == "HEAD";
        http_response response;
        if (!complete && head.size() >= max_request_head)
            response = plain(431, "request head too large\n");
        else if (!complete || request.path.empty())
            response = plain(400, "bad request\n");
        else if (request.method != "GET" && !head_only)
            response = plain(405, "only GET and HEAD\n");
        else
            response = handler_(request.path);
        const std::string bytes = format_response(response, head_only);
        co_await asio::async_write(socket, asio::buffer(bytes), as_tuple(use_awaitable));
        boost::system::error_code ignored;
        socket.shutdown(asio::socket_base::shutdown_send, ignored);
    }
    deadline.cancel();
    --active_;
}

}  // namespace redis_sidecar::metrics
