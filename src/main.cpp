// Wiring: configuration, logging, signals, systemd readiness, and the server's event loops.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "redis_sidecar/config/config.hpp"
#include "redis_sidecar/server/sidecar.hpp"

namespace {

// systemd's notify protocol (sd_notify): one datagram to $NOTIFY_SOCKET; a no-op elsewhere.
void notify_systemd(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::size_t length = std::strlen(path);
    if (length >= sizeof(address.sun_path)) return;
    std::memcpy(address.sun_path, path, length);
    if (path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    const auto address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
    ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address),
             address_length);
    ::close(fd);
}

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("redis-sidecar");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

}  // namespace

int main(int argc, char* argv[]) {
    redis_sidecar::config::settings settings;
    try {
        if (redis_sidecar::config::parse_command_line(argc, argv, settings) ==
            redis_sidecar::config::parse_outcome::exit_success)
            return EXIT_SUCCESS;
    } catch (const std::exception& e) {
        std::cerr << "redis-sidecar: " << e.what() << "\n";
        return EXIT_FAILURE;
    }
    setup_logging(settings.log_level);
    try {
        redis_sidecar::server::sidecar sidecar(settings);
        boost::asio::signal_set signals(sidecar.main_context(), SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code ec, int signal) {
            if (ec) return;
            spdlog::info("signal {}: shutting down", signal);
            notify_systemd("STOPPING=1");
            sidecar.stop();
        });
        std::string where;
        for (const auto& l : sidecar.listening_on()) where += (where.empty() ? "" : ", ") + l;
        spdlog::info("redis-sidecar listening on {}, upstream {}:{}", where, settings.upstream.host,
                     settings.upstream.port);
        notify_systemd("READY=1\nSTATUS=listening on " + where);
        sidecar.run();
        spdlog::info("stopped");
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
