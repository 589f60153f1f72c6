#pragma once
/// Walks a pinned client's byte stream on its way to Redis, which gets the bytes unchanged, reading
/// only the `*`/`$` headers, the command names and no other payload:
/// - it counts the requests (metrics);
/// - it finds the short `INFO` requests, which the sidecar answers (`INFO sidecar`) or adds its
///   section to. While the request at the end of the stream may still turn out to be one, its
///   bytes are held (`held()`): they must not go to Redis before the sidecar has decided what to
///   send instead. Holding a request that is not complete delays nothing: Redis cannot run it
///   before its last byte either. Anything long or named otherwise is never held, so large
///   values stream through;
/// - it follows whether each request still gets exactly one reply, in order (`replies_paired()`),
///   so that the sidecar can tell which reply answers an `INFO`, and whether a transaction is
///   open (`in_multi()`).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace redis_sidecar::protocol {

/// What a request's name changes for the scanner. Unpairing: after it a reply no longer answers
/// exactly one request (subscriptions, MONITOR's feed, CLIENT REPLY OFF/SKIP and CLIENT TRACKING's
/// pushes, HELLO's RESP3 pushes, RESET, replication's stream).
enum class request_effect : std::uint8_t { none, opens_multi, closes_multi, unpairs };

/// Tells a request's effect from its lowercase name (the command catalogue's flags).
using request_classifier = request_effect (*)(std::string_view lowercase_name);

class pinned_request_scanner {
public:
    /// A scanner that asks `classify` what each request's name changes.
    explicit pinned_request_scanner(request_classifier classify) : classify_(classify) {}

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

    /// Requests scanned so far: the next request's reply is the one after this many.
    std::uint64_t requests() const { return requests_; }

    /// True while every request so far gets exactly one reply, in request order (RESP2, as
    /// Redis answers a plain client). False for good from the first request that may change
    /// that: (P|S)SUBSCRIBE, MONITOR, CLIENT (REPLY OFF/SKIP), HELLO (RESP3 pushes), RESET,
    /// SYNC/PSYNC/REPLCONF, or a stream that stopped looking like RESP.
    bool replies_paired() const { return replies_paired_; }

    /// True between MULTI and EXEC/DISCARD: Redis answers the requests in between QUEUED.
    bool in_multi() const { return in_multi_; }

    /// False once the stream stopped looking like RESP requests: counting and finding stop there
    /// and nothing is held (Redis answers that client with a protocol error and closes, so nothing
    /// is lost but a count).
    bool in_sync() const { return state_ != state::lost; }

private:
    enum class state : std::uint8_t { command_start, array_header, bulk_type, bulk_header, bulk_payload, inline_line, lost };
    /// Where an inline line's first word, the command name, is being read.
    enum class inline_word : std::uint8_t { before, inside, after };
    static constexpr std::size_t max_name = 16;  // longer than every name with an effect

    /// Completes a header line's number; false when it is no number.
    bool end_of_header();
    /// Counts an argument's end; true when it ended the request.
    bool finish_argument();
    /// Reads a byte of an inline line; true when it ended a request.
    bool inline_byte(char c);
    /// Reads a byte of a `*` or `$` header line.
    void header_byte(char c);
    /// Adds the next letter of the request's name.
    void add_name_byte(char c);
    /// The name is complete: the request is INFO only if it is "info".
    void end_name();
    /// A request ended: what its name changes.
    void classify_request();
    void lose_sync();

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
    std::uint64_t requests_ = 0;
    bool reading_name_ = false;  // the bulk being read is the request's first argument
    bool maybe_info_ = false;    // the request being read may still be a short INFO
    inline_word inline_word_ = inline_word::before;
    request_classifier classify_;
    std::array<char, max_name> name_{};  // the request's name so far, lower case
    std::size_t name_length_ = 0;        // may exceed max_name: then the name is none classified
    bool replies_paired_ = true;
    bool in_multi_ = false;
};

}  // namespace redis_sidecar::protocol
