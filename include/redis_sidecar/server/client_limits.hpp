#pragma once
/// Redis's limits on a normal client, decided without sockets: the output buffer limit (hard, or
/// soft for longer than its seconds, as client-output-buffer-limit), the idle timeout, and when an
/// idle reader's socket is asked for an EOF it was not woken for. Times are seconds on the event
/// loop's cached clock (session_registry::clock). The session applies the verdicts (session_limits.cpp).

#include <cstdint>

#include "redis_sidecar/config/config.hpp"

namespace redis_sidecar::server {

class client_limits {
public:
    explicit client_limits(std::uint64_t now) : last_active_(now) {}

    /// The client sent bytes, or bytes were written to it, at `now`.
    void note_activity(std::uint64_t now) { last_active_ = now; }

    /// True when `used` bytes of output pending at `now` close the client: over the hard limit,
    /// or over the soft one for more than its seconds. Counted as Redis counts its reply list:
    /// everything not yet written.
    bool output_over_limit(const config::output_buffer_limit& limit, std::uint64_t used, std::uint64_t now) {
        bool over = limit.hard_bytes != 0 && used >= limit.hard_bytes;
        if (limit.soft_bytes != 0 && used >= limit.soft_bytes) {
            if (!over_soft_limit_) {
                over_soft_limit_ = true;
                soft_limit_since_ = now;
            } else if (now - soft_limit_since_ > limit.soft_seconds) {
                over = true;
            }
        } else {
            over_soft_limit_ = false;
        }
        return over;
    }

    /// True when the client, which owes and expects nothing, has been idle at `now` for longer
    /// than `timeout` seconds (0: no timeout).
    bool idle_past(unsigned timeout, std::uint64_t now) const { return timeout != 0 && now - last_active_ > timeout; }

    /// True once per idle spell of a reader (a read waiting, no write in flight, nothing received
    /// for a second): the moment to ask its socket whether an EOF is there that raised no wake-up
    /// (asio_ext/socket_read_buffer.hpp).
    bool take_eof_probe(bool reading, bool writing, std::uint64_t now) {
        if (!reading || eof_probed_ || writing || now - last_active_ < 1) return false;
        eof_probed_ = true;
        return true;
    }
    /// A read completed: the next idle spell may be probed again.
    void read_completed() { eof_probed_ = false; }

private:
    std::uint64_t last_active_;
    std::uint64_t soft_limit_since_ = 0;  // when output reached the soft limit
    bool over_soft_limit_ = false;
    bool eof_probed_ = false;  // since the last read completed
};

}  // namespace redis_sidecar::server
