#pragma once
/// RESP request parser: multibulk and inline commands, incremental, sans-io.
///
/// The caller owns the buffer. Each call to `parse` gets the unconsumed bytes, which must begin at
/// the start of the command being parsed; when a command is complete its arguments are views into
/// that buffer (multibulk) or into the parser's own scratch space (inline, which needs unescaping).
/// The views stay valid until the next call to `parse`. A partial command keeps its progress as
/// offsets, so the caller may move the bytes (compact its buffer) between calls, and a large
/// command arriving in many reads is scanned once, not once per read.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace redis_sidecar::protocol {

/// Redis's own limits (networking.c, redis.conf), the defaults of every parser.
struct parser_limits {
    /// Longest inline command, and longest `*`/`$` header line (PROTO_INLINE_MAX_SIZE).
    std::size_t max_inline_size = 64 * 1024;
    /// Largest bulk argument (proto-max-bulk-len).
    std::int64_t max_bulk_length = 512LL * 1024 * 1024;
    /// Largest multibulk argument count (Redis: INT_MAX).
    std::int64_t max_multibulk_length = 2147483647LL;
    /// Limits for a client that still has to authenticate (Redis: 10 arguments, 16 KB each).
    std::int64_t unauthenticated_multibulk_length = 10;
    std::int64_t unauthenticated_bulk_length = 16384;
};

/// What one call to `parse` found.
enum class parse_status : std::uint8_t {
    complete,   ///< a whole command: `consumed` bytes, arguments in `args()`
    empty,      ///< `consumed` bytes held no command (empty inline line, `*0` or `*-1`); ignore them
    need_more,  ///< the command is not complete yet; call again with more bytes
    error,      ///< a protocol error: reply `-ERR <error()>` after earlier replies, then close
};

struct parse_result {
    parse_status status;
    /// Bytes of the input that belong to this command (valid for complete and empty).
    std::size_t consumed = 0;
};

/// Incremental parser of client requests, one per client connection.
class request_parser {
public:
    explicit request_parser(parser_limits limits = {}) : limits_(limits) {}

    /// Parses the command at the start of `input`. See the file comment for the buffer contract.
    parse_result parse(std::string_view input);

    /// Arguments of the last complete command; argument 0 is the command name.
    const std::vector<std::string_view>& args() const { return args_; }

    /// True when the last complete command came as an inline command (not multibulk), so its
    /// bytes cannot be forwarded as they are.
    bool last_was_inline() const { return inline_; }

    /// The message of the last error, e.g. "Protocol error: invalid bulk length" (no "ERR ").
    std::string_view error() const { return error_; }

    /// The limits in force; new ones apply from the next argument header read (a reload).
    const parser_limits& limits() const { return limits_; }
    void set_limits(const parser_limits& limits) { limits_ = limits; }

    /// Applies Redis's tighter limits for clients that have not authenticated.
    void set_authenticated(bool authenticated) { authenticated_ = authenticated; }

    /// Drops a partial command (e.g. after the caller discarded the buffer).
    void reset();

private:
    parse_result parse_multibulk(std::string_view input);
    bool parse_whole_multibulk(std::string_view input, parse_result& result);
    parse_result parse_inline(std::string_view input);
    parse_result fail(const char* message);

    parser_limits limits_;
    bool authenticated_ = true;
    bool inline_ = false;
    std::string_view error_;
    std::string error_storage_;

    // Progress through a partial multibulk command, as offsets from the command's first byte.
    std::int64_t remaining_args_ = 0;  ///< 0: header `*N` not parsed yet
    std::int64_t bulk_length_ = -1;    ///< -1: next is a `$len` header line
    std::size_t position_ = 0;
    struct span {
        std::size_t offset;
        std::size_t length;
    };
    std::vector<span> spans_;
    std::vector<std::string_view> args_;
    std::string inline_scratch_;
    std::vector<std::size_t> inline_ends_;  ///< where each inline argument ends in the scratch
    std::size_t inline_scanned_ = 0;        ///< bytes of a partial inline line known to hold no '\n'
};

}  // namespace redis_sidecar::protocol
