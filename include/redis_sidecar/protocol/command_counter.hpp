#pragma once
/// Counts the requests in a client's byte stream without keeping any of it: for pinned
/// connections, whose bytes are copied to Redis unchanged, so their requests can be counted
/// (metrics) at the cost of scanning headers only. Bulk payloads are skipped, not read.

#include <cstdint>
#include <string_view>

namespace redis_sidecar::protocol {

class command_counter {
public:
    /// Scans the next bytes of the stream; returns how many requests ended in them.
    std::uint64_t feed(std::string_view bytes);

    /// False once the stream stopped looking like RESP requests: counting stops there (Redis
    /// answers that client with a protocol error and closes, so nothing is lost but a count).
    bool in_sync() const { return state_ != state::lost; }

private:
    enum class state : std::uint8_t { command_start, array_header, bulk_type, bulk_header, bulk_payload, inline_line, lost };

    /// Completes a header line's number; false when it is no number.
    bool end_of_header();
    std::uint64_t finish_argument();

    state state_ = state::command_start;
    std::int64_t number_ = 0;       // the header being read
    bool header_has_digit_ = false;
    bool header_negative_ = false;
    bool saw_cr_ = false;
    bool inline_has_content_ = false;
    std::int64_t remaining_args_ = 0;
    std::uint64_t payload_left_ = 0;  // bulk bytes plus its CRLF still to skip
};

}  // namespace redis_sidecar::protocol
