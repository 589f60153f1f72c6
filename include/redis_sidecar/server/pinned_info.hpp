#pragma once
/// The sidecar's INFO for a pinned client, whose connection is otherwise a byte pipe to Redis.
///
/// Unpinned clients get `INFO sidecar` from the sidecar and its `# Sidecar` section after Redis's
/// own in `INFO` (session::answer_info). A pinned client gets the same, in its place among Redis's
/// replies:
/// - `INFO sidecar` goes to Redis as `ECHO <the section>`, whose reply is the very bulk an
///   unpinned client gets (inside MULTI too);
/// - `INFO` with all sections, or `sidecar` among others, goes to Redis unchanged, and the
///   section is appended to its reply, found by counting replies: only while every request gets
///   exactly one reply (protocol::pinned_request_scanner::replies_paired) and outside MULTI, and
///   only to a reply that reads as INFO's (a bulk starting with "# "); otherwise Redis's own.
/// Sans-io: the session's coroutines pass the bytes through it both ways.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/protocol/pinned_request_scanner.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"
#include "redis_sidecar/protocol/ring_queue.hpp"
#include "redis_sidecar/server/info.hpp"

namespace redis_sidecar::server {

class pinned_info {
public:
    /// The longest reply held as INFO's (Redis's INFO everything is tens of KB).
    static constexpr std::size_t max_info_reply = 1 << 20;

    /// `sidecar_section` renders the `# Sidecar` section when a request needs it.
    explicit pinned_info(std::function<std::string()> sidecar_section) : sidecar_section_(std::move(sidecar_section)) {}

    /// What to send for the first `consumed` bytes of the input.
    struct forward {
        std::size_t consumed = 0;
        std::string_view bytes;      ///< the input's own bytes, or a rewrite (valid until the next call)
        std::uint64_t requests = 0;  ///< from_client: the requests that ended in them
    };

    /// The client's unsent bytes, from the first one held back by the last call; the rest of a
    /// request that may still be an INFO is held back.
    forward from_client(std::string_view data);

    /// Redis's unsent bytes, from the first one not consumed by the last call; a reply that gets
    /// the section is held back until it is whole.
    forward from_redis(std::string_view data);

private:
    /// What the section is in the reply to `request`, a whole INFO request.
    sidecar_section_use sidecar_section_in(std::string_view request);
    /// The reply to append the section to is next: counting replies until it comes.
    bool counting_replies() const { return !append_to_.empty() || scanner_.replies_paired(); }

    std::function<std::string()> sidecar_section_;
    protocol::pinned_request_scanner scanner_{catalogue::pinned_request_effect};
    protocol::request_parser parser_;
    std::string to_redis_;
    // Replies, counted from the pinned connection's first request; the indexes of those that get
    // the section, in order.
    protocol::reply_framer framer_;
    std::uint64_t replies_ = 0;
    protocol::ring_queue<std::uint64_t> append_to_;
    bool framing_ = true;  // false for good once a reply was not where it was expected
    std::string to_client_;
};

}  // namespace redis_sidecar::server
