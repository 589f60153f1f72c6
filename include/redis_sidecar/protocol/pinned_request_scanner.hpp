#pragma once
/// Walks a pinned client's byte stream on its way to Redis, which gets the bytes unchanged, reading
/// only the `*`/`$` headers and skipping bulk payloads:
/// - it counts the requests (metrics);
/// - it finds the short `INFO` requests, among them `INFO sidecar`, which Redis cannot answer.
///   While the request at the end of the stream may still turn out to be one, its bytes are held
///   (`held()`): they must not go to Redis before the sidecar has decided what to send instead.
///   Holding a request that is not complete delays nothing: Redis cannot run it before its last
///   byte either. Anything long or named otherwise is never held, so large values stream through.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace redis_sidecar::protocol {

class pinned_request_scanner {
public:
    /// The longest `INFO` request held and reported; a longer one goes to Redis as it is.
    static constexpr std::uint64_t max_info_request = 512;

    /// What one call to `scan` found.
    struct step {
        std::uint64_t requests = 0;  ///< requests that ended in the bytes scanned
        std::size_t scanned = 0;     ///< all the bytes given, or up to the end of an `INFO` request
        bool info = false;           ///< the last `info_length()` bytes scanned are an `INFO` request
    };

    /// Scans the next bytes of the stream, stopping right after an `INFO` request.
    step scan(std::string_view bytes);

    /// The length of the `INFO` request the last `scan` stopped after (its start may lie in
    /// bytes given to earlier calls: those were held).
    std::size_t info_length() const { return static_cast<std::size_t>(position_ - request_start_); }

    /// Bytes at the end of what was scanned that belong to a request which may still be an
    /// `INFO` request: the caller keeps them from Redis until it is complete.
    std::size_t held() const;

    /// False once the stream stopped looking like RESP requests: counting and finding stop there
    /// and nothing is held (Redis answers that client with a protocol error and closes, so nothing
    /// is lost but a count).
    bool in_sync() const { return state_ != state::lost; }

private:
    enum class state : std::uint8_t { command_start, array_header, bulk_type, bulk_header, bulk_payload, inline_line, lost };

    /// Completes a header line's number; false when it is no number.
    bool end_of_header();
    /// Counts an argument's end; true when it ended the request.
    bool finish_argument();
    /// Whether the request being read may still be `INFO`, given its first argument's next bytes.
    void match_name(std::string_view name_bytes, std::size_t offset_in_name);
    void match_inline_byte(char c);
    /// Reads a byte of an inline line; true when it ended a request.
    bool inline_byte(char c);
    /// Reads a byte of a `*` or `$` header line.
    void header_byte(char c);

    state state_ = state::command_start;
    std::int64_t number_ = 0;  // the header being read
    bool header_has_digit_ = false;
    bool header_negative_ = false;
    bool saw_cr_ = false;
    bool inline_has_content_ = false;
    std::int64_t remaining_args_ = 0;
    std::int64_t bulk_length_ = 0;
    std::uint64_t payload_left_ = 0;  // bulk bytes plus its CRLF still to skip

    std::uint64_t position_ = 0;       // bytes of the stream scanned so far
    std::uint64_t request_start_ = 0;  // where the request being read began
    bool reading_name_ = false;        // the bulk being read is the request's first argument
    bool maybe_info_ = false;          // the request being read may still be a short INFO
    std::uint8_t inline_name_matched_ = 0;  // letters of "info" an inline line has matched
};

}  // namespace redis_sidecar::protocol
