#pragma once
/// Busy is not down: what every connection to one Redis knows of the slow commands in flight.
///
/// Redis runs one command at a time. While it works on a command that can legitimately take long
/// (a script, KEYS, SORT, FLUSHALL, DEBUG SLEEP...: the command catalogue's `may_take_long`),
/// every other request to it waits too, on every connection of every event loop. So the time
/// limit for declaring Redis down is the longer busy timeout while any such command is in flight
/// anywhere, and the usual one otherwise: a hang behind fast commands is still found in the usual
/// time. Shared by every pool of the process (one Redis); lock-free counters.

#include <atomic>
#include <cstdint>

namespace redis_sidecar::upstream {

class busy_tracker {
public:
    /// A slow command was sent / answered (or failed with its connection).
    void slow_sent() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
    void slow_done() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
    /// True while a slow command is in flight on any connection.
    bool busy() const { return in_flight_.load(std::memory_order_relaxed) > 0; }

    /// Redis said -BUSY: alive, running a script past its busy-reply-threshold.
    void busy_reply() { busy_replies_.fetch_add(1, std::memory_order_relaxed); }
    /// A reply came later than the usual time limit, while a slow command kept Redis busy.
    void waited_on_slow() { waited_.fetch_add(1, std::memory_order_relaxed); }

    std::uint64_t busy_replies() const { return busy_replies_.load(std::memory_order_relaxed); }
    std::uint64_t slow_commands_waited_on() const { return waited_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> in_flight_{0};
    std::atomic<std::uint64_t> busy_replies_{0};
    std::atomic<std::uint64_t> waited_{0};
};

}  // namespace redis_sidecar::upstream
