// Wiring: configuration, logging, signals, systemd readiness, and the server's event loops.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <thread>
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

// systemd's watchdog: when WatchdogSec= is set, WATCHDOG_USEC says how often it wants a sign of
// life; sending it at half that period from the event loop proves the loop is not stuck.
// `stopping` is checked as well as the error: a timer that already fired when it was cancelled
// still runs its handler with success, and re-arming then would keep the process alive.
void schedule_watchdog(boost::asio::steady_timer& timer, std::chrono::microseconds period, const bool& stopping) {
    timer.expires_after(period);
    timer.async_wait([&timer, period, &stopping](boost::system::error_code ec) {
        if (ec || stopping) return;
        notify_systemd("WATCHDOG=1");
        schedule_watchdog(timer, period, stopping);
    });
}

std::chrono::microseconds watchdog_period() {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (usec == nullptr) return std::chrono::microseconds::zero();
    const long long value = std::atoll(usec);
    return std::chrono::microseconds(value > 0 ? value / 2 : 0);
}

// A graceful stop that hangs (a peer that never answers, a bug) must not keep a service manager
// waiting: past the timeout the process exits. Everything acknowledged is already in the journal.
void exit_after_shutdown_timeout(unsigned timeout_ms) {
    std::thread([timeout_ms] {
        std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
        spdlog::warn("shutdown took longer than {} ms: exiting now", timeout_ms);
        spdlog::default_logger()->flush();
        std::_Exit(EXIT_SUCCESS);
    }).detach();
}

// SIGHUP: the config file and flags are read again; what can change safely in a running sidecar
// is applied (the sidecar logs each change). An invalid file changes nothing.
void reload(int argc, char* argv[], redis_sidecar::config::settings& current, redis_sidecar::server::sidecar& sidecar) {
    redis_sidecar::config::settings fresh;
    try {
        redis_sidecar::config::parse_command_line(argc, argv, fresh);
    } catch (const std::exception& e) {
        spdlog::error("reload: {}; keeping the running configuration", e.what());
        return;
    }
    sidecar.reload(fresh);
    redis_sidecar::config::copy_reloadable(fresh, current);
}

// systemd's STATUS= follows the mode (systemctl status shows it); sent when it changes.
void schedule_status(boost::asio::steady_timer& timer, const redis_sidecar::server::sidecar& sidecar,
                     std::string& last, const bool& stopping) {
    timer.expires_after(std::chrono::milliseconds(250));
    timer.async_wait([&timer, &sidecar, &last, &stopping](boost::system::error_code ec) {
        if (ec || stopping) return;
        if (std::string now = sidecar.status_line(); now != last) {
            notify_systemd("STATUS=" + now);
            last = std::move(now);
        }
        schedule_status(timer, sidecar, last, stopping);
    });
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
        bool stopping = false;  // re-armed waits check it: see schedule_watchdog
        boost::asio::signal_set reload_signal(sidecar.main_context(), SIGHUP);
        std::function<void()> wait_for_reload = [&] {
            reload_signal.async_wait([&](boost::system::error_code ec, int) {
                if (ec || stopping) return;
                reload(argc, argv, settings, sidecar);
                wait_for_reload();
            });
        };
        wait_for_reload();
        boost::asio::steady_timer watchdog(sidecar.main_context());
        if (const auto period = watchdog_period(); period.count() > 0) schedule_watchdog(watchdog, period, stopping);
        boost::asio::steady_timer status_timer(sidecar.main_context());
        std::string last_status;
        if (std::getenv("NOTIFY_SOCKET") != nullptr) schedule_status(status_timer, sidecar, last_status, stopping);
        boost::asio::signal_set signals(sidecar.main_context(), SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code ec, int signal) {
            if (ec) return;
            spdlog::info("signal {}: shutting down", signal);
            stopping = true;
            exit_after_shutdown_timeout(settings.shutdown_timeout_ms);
            sidecar.stop();
            notify_systemd("STOPPING=1\nSTATUS=" + sidecar.status_line());
            reload_signal.cancel();
            watchdog.cancel();
            status_timer.cancel();
        });
        std::string where;
        for (const auto& l : sidecar.listening_on()) where += (where.empty() ? "" : ", ") + l;
        spdlog::info("redis-sidecar listening on {}, upstream {}:{}{}", where, settings.upstream.host,
                     settings.upstream.port, settings.upstream_tls ? " over TLS" : "");
        notify_systemd("READY=1\nSTATUS=listening on " + where);
        sidecar.run();
        spdlog::info("stopped");
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
