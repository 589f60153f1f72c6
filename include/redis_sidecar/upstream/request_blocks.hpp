#pragma once
/// The bytes of the requests on one pooled connection, from queued to answered. Requests are
/// appended to fixed-size blocks where they never move (a request never spans two blocks), a write
/// gathers every block's bytes not written yet, and a block goes back to the spares once all its
/// requests are answered.
///
/// Why blocks and not one growing buffer per write: under load dozens of writes wait for replies at
/// once, of sizes that vary from a few hundred bytes to all the clients' pipelines together (about
/// 100 KB on average with 50 clients sending 1 KB SETs at -P 16, up to 850 KB). A buffer per write
/// that had to grow copied what it held so far, and fresh ones were allocated for a third of the
/// writes: 5 % of the sidecar's CPU in that row. Blocks of one size are reused as they are.

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "redis_sidecar/protocol/ring_queue.hpp"

namespace redis_sidecar::upstream {

class request_blocks {
public:
    /// A request larger than this gets a block of its own size (freed once it is answered).
    static constexpr std::size_t block_capacity = 64 * 1024;
    /// Spare blocks kept for later requests: 2 MB, more than the requests of 1,000 clients at
    /// -P 16 with 64-byte values (about 900 KB of them wait at once; with 1 KB values, 50 clients'
    /// pipelines are 850 KB).
    static constexpr std::size_t spare_blocks_kept = 32;

    /// Appends one whole request.
    void append(std::string_view request) {
        // In line: nearly every request fits in the last block.
        if (!blocks_.empty()) {
            block& last = blocks_.back();
            if (last.capacity - last.size >= request.size()) {
                std::memcpy(last.data.get() + last.size, request.data(), request.size());
                last.size += request.size();
                unwritten_bytes_ += request.size();
                return;
            }
        }
        append_to_new_block(request);
    }

    /// Bytes appended and not handed to a write yet.
    std::size_t unwritten_bytes() const { return unwritten_bytes_; }

    /// Hands every unwritten byte to a write: the buffers stay valid (and the bytes in place)
    /// until their requests are answered or `drop_all` is called, and the span until the next call.
    std::span<const boost::asio::const_buffer> take_unwritten();

    /// The oldest unanswered request, `length` bytes long as appended. Empty when there is none.
    std::string_view oldest(std::size_t length) const {
        if (blocks_.empty()) return {};
        const block& front = blocks_.front();
        if (front.answered + length > front.size) return {};
        return {front.data.get() + front.answered, length};
    }
    /// True when the oldest request's bytes were handed to a write (a reply to it may have come).
    bool oldest_written(std::size_t length) const {
        return !blocks_.empty() && blocks_.front().answered + length <= blocks_.front().written;
    }
    /// The oldest request is answered: the next one becomes the oldest.
    void finish_oldest(std::size_t length) {
        if (blocks_.empty()) return;
        block& front = blocks_.front();
        front.answered += length;
        if (front.answered >= front.size) finish_front_block();
    }

    /// Walks the unanswered requests in order without answering them: start with `begin_walk`,
    /// then call `walk_next` with each request's length.
    struct walk_position {
        std::size_t block = 0;
        std::size_t offset = 0;
    };
    walk_position begin_walk() const;
    std::string_view walk_next(walk_position& position, std::size_t length) const;

    /// Forgets every request (the connection failed). A write of them that may still be running
    /// keeps its memory: the blocks move to `keep_for_write` when `write_running`.
    void drop_all(bool write_running, std::vector<std::unique_ptr<char[]>>& keep_for_write);

    std::size_t block_count() const { return blocks_.size(); }
    std::size_t spare_count() const { return spares_.size(); }

private:
    struct block {
        std::unique_ptr<char[]> data;
        std::size_t capacity = 0;
        std::size_t size = 0;      // bytes appended
        std::size_t written = 0;   // bytes handed to a write
        std::size_t answered = 0;  // bytes of the requests answered
    };

    void append_to_new_block(std::string_view request);
    void finish_front_block();
    block new_block(std::size_t length);
    void release(block& finished);

    // Front: the oldest block with requests unanswered (or the only one); back: where requests go.
    protocol::ring_queue<block> blocks_;
    std::vector<std::unique_ptr<char[]>> spares_;  // each of block_capacity
    std::vector<boost::asio::const_buffer> write_buffers_;
    std::size_t unwritten_bytes_ = 0;
};

}  // namespace redis_sidecar::upstream
