#pragma once
/// Finds where each reply from Redis ends, without building a tree: RESP2 and RESP3 types.
///
/// Like the request parser it is incremental and sans-io: `next` gets the bytes of the current
/// reply from its first byte on, and keeps its progress as an offset, so a reply arriving in many
/// reads is scanned once. A caller that streams a partial reply onward may drop its first bytes
/// (up to `scanned()`) and tell the framer with `discard_prefix`.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace redis_sidecar::protocol {

enum class frame_status : std::uint8_t {
    complete,   ///< a whole reply of `length` bytes
    need_more,  ///< every byte given so far belongs to the current reply
    error,      ///< not RESP: the connection's stream can no longer be trusted
};

struct frame_result {
    frame_status status;
    std::size_t length = 0;
};

/// Incremental reply framer, one per upstream connection.
class reply_framer {
public:
    /// A line longer than this is not RESP. Large, because a Lua script can make Redis send an
    /// error or status line of any size: proto-max-bulk-len's 512 MB.
    static constexpr std::size_t max_line_length = 512ULL * 1024 * 1024;

    /// Scans the current reply; `input` starts at its first not yet discarded byte.
    frame_result next(std::string_view input);

    /// Bytes at the start of the current reply that are scanned and may be passed on (it may be
    /// more than was given when a bulk body is still arriving).
    std::size_t scanned() const { return position_; }

    /// The caller dropped the first `n` (<= scanned()) bytes of the current reply.
    void discard_prefix(std::size_t n) { position_ -= n; }

    /// Forgets the current reply (after the connection was reset).
    void reset();

private:
    bool finish_element();

    struct aggregate {
        std::int64_t remaining;
        bool attribute;  // an attribute map precedes a value and is not an element itself
    };
    std::vector<aggregate> stack_;
    std::size_t position_ = 0;
    bool in_bulk_body_ = false;
};

}  // namespace redis_sidecar::protocol
