// The client limits as Redis applies them to normal clients (client_limits.hpp decides; this
// carries the verdicts out): the query buffer limit, the output buffer limit, the idle timeout,
// and the probe for an EOF the reader was not woken for.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/ip/tcp.hpp>
#include <spdlog/spdlog.h>

#include "redis_sidecar/server/session.hpp"
#include "session_support.hpp"

namespace asio = boost::asio;

namespace redis_sidecar::server {

using namespace session_support;

// As Redis: closed without a reply.
void session::close_for_query_buffer_limit() {
    server_stats::add(context_.stats.query_buffer_limit_disconnections);
    if (log_allowed(log_topic::query_buffer))
        spdlog::warn("Closing client that reached max query buffer length: client {} ({}), {} bytes pending "
                     "(client-query-buffer-limit {}; {} such clients so far)",
                     client_.id, peer(), rx_.size(), context_.settings.client_query_buffer_limit,
                     server_stats::get(context_.stats.query_buffer_limit_disconnections));
    stop();
}

// Redis's client-output-buffer-limit for normal clients: over the hard limit, or over the soft one for
// more than its seconds, the client is closed without a word. The limit is read from this loop's
// settings at every check, so a reload that sets, changes or lifts it applies to the clients
// already connected, as CONFIG SET does in Redis.
bool session::close_if_output_over_set_limit() {
    const std::uint64_t used = replies_.output().size() + writing_buffer_.size();
    if (!limits_.output_over_limit(context_.settings.client_output_buffer_limit, used, context_.sessions.clock()))
        return false;
    server_stats::add(context_.stats.output_buffer_limit_disconnections);
    if (log_allowed(log_topic::output_buffer))
        spdlog::warn("Client {} ({}) closed for overcoming of output buffer limits: {} bytes pending ({} such "
                     "clients so far)",
                     client_.id, peer(), used, server_stats::get(context_.stats.output_buffer_limit_disconnections));
    stop();
    return true;
}

void session::on_sweep(std::uint64_t now) {
    if (stopped_ || close_if_output_over_limit()) return;
    probe_for_unseen_eof(now);
    const unsigned timeout = context_.settings.timeout;
    // Idle: nothing received and nothing owed. Pinned clients may be blocked (BLPOP) or subscribed,
    // which Redis never times out, and the sidecar cannot tell from the bytes: they are left alone.
    if (pinned_ || pin_.requested || replies_.owes_replies() || writing_ || !replies_.output().empty()) return;
    if (!limits_.idle_past(timeout, now)) return;
    server_stats::add(context_.stats.idle_timeout_disconnections);
    spdlog::debug("client {}: closing idle client (timeout {} s)", client_.id, timeout);
    stop();
}

// A reader idle for a second is asked once whether its socket holds an EOF it was not woken
// for (see reading_). One non-blocking peek per idle spell of a client, in the sweep: nothing on
// the path of a request. Only with no write in flight, which cancel() would abort as well.
void session::probe_for_unseen_eof(std::uint64_t now) {
    if (!limits_.take_eof_probe(reading_, writing_, now)) return;
    char byte;
    const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    // Bytes or nothing yet: their arrival raised, or will raise, an edge the reactor sees.
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) return;
    // EOF, or an error the read would report: the read is woken, and takes it as EOF (replies
    // to what was read still go out, then the connection closes).
    eof_found_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
}

// The client's address for log lines (rare events only: it costs a system call).
std::string session::peer() const {
    boost::system::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    if (ec) return "unknown address";
    const int family = endpoint.protocol().family();
    if (family != AF_INET && family != AF_INET6) return "unix socket";
    asio::ip::tcp::endpoint tcp;
    if (endpoint.size() > tcp.capacity()) return "unknown address";
    std::memcpy(tcp.data(), endpoint.data(), endpoint.size());
    tcp.resize(endpoint.size());
    return tcp.address().to_string() + ":" + std::to_string(tcp.port());
}

}  // namespace redis_sidecar::server
