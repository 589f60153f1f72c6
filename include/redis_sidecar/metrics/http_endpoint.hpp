#pragma once
/// The smallest HTTP/1.1 server that a Prometheus scraper and a health checker need: GET (and
/// HEAD) of a path, one response, then the connection closes. Requests are bounded in size, time
/// and number, so a stray or hostile client cannot hold the event loop's memory.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace redis_sidecar::metrics {

struct http_response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

/// Answers a GET of `path` (the query string removed); called on the endpoint's event loop.
using http_handler = std::function<http_response(std::string_view path)>;

/// The request line of a request head: method and path (query string removed), or empty
/// strings when it is not an HTTP/1.x request line.
struct request_line {
    std::string_view method;
    std::string_view path;
};
request_line parse_request_line(std::string_view head);

/// The bytes of a whole response (status line, headers, body unless `head_only`).
std::string format_response(const http_response& response, bool head_only);

class http_endpoint : public std::enable_shared_from_this<http_endpoint> {
public:
    /// Binds HOST:PORT; throws std::runtime_error naming `option` when it cannot.
    static std::shared_ptr<http_endpoint> bind(boost::asio::io_context& io, const std::string& host,
                                               std::uint16_t port, http_handler handler, const std::string& option);

    void start();
    /// Stops accepting; connections being answered finish on their own (bounded by the timeout).
    void stop();
    /// "HOST:PORT" as bound (the port the kernel chose when 0 was asked).
    std::string description() const;

private:
    http_endpoint(boost::asio::ip::tcp::acceptor acceptor, http_handler handler);
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

    boost::asio::ip::tcp::acceptor acceptor_;
    http_handler handler_;
    unsigned active_ = 0;
};

}  // namespace redis_sidecar::metrics
