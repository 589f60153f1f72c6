#pragma once
// What the files of the session (session*.cpp) share: buffer sizes, rate-limited log lines, and
// error text made safe for one line.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace redis_sidecar::server::session_support {

constexpr std::size_t read_chunk = 16 * 1024;
// Buffers that grew past this for one large message are released afterwards.
constexpr std::size_t keep_capacity = 1024 * 1024;

enum class log_topic : std::uint8_t { auth_failure, query_buffer, output_buffer, count };

// At most one line a second per topic, across every event loop: a flood of clients failing AUTH or
// hitting a limit costs a counter each (INFO sidecar), not a log line each.
inline bool log_allowed(log_topic topic) {
    static std::atomic<std::int64_t> last_logged[static_cast<std::size_t>(log_topic::count)];
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::atomic<std::int64_t>& last = last_logged[static_cast<std::size_t>(topic)];
    std::int64_t seen = last.load(std::memory_order_relaxed);
    return seen != now && last.compare_exchange_strong(seen, now, std::memory_order_relaxed);
}

// Reasons go into one error line: no CR or LF may reach the client.
inline std::string single_line(std::string_view text) {
    std::string line(text);
    for (char& c : line)
        if (c == '\r' || c == '\n') c = ' ';
    return line;
}

}  // namespace redis_sidecar::server::session_support
