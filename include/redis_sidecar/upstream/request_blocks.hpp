#pragma once
/// The bytes of the requests on one pooled connection, from queued to answered. A block is a run
/// of consecutive requests' bytes that never move (a request never spans two blocks): copied into
/// one of the connection's fixed-size arenas, or, for a large request, left where the client's
/// session read it (`append_shared`), so its bytes are not copied at all. A write gathers every
/// block's bytes not written yet; an arena goes back to the spares once all its requests are
/// answered.
///
/// Why blocks and not one growing buffer per write: under load dozens of writes wait for replies at
/// once, of sizes that vary from a few hundred bytes to all the clients' pipelines together. A
/// buffer per write that has to grow copies what it holds so far, and fresh ones have to be
/// allocated for many writes; arenas of one size are reused as they are.
///
/// Why large requests are shared and small ones copied: with large requests (1 KB SETs) their copy
/// is the sidecar's largest user-space cost. A shared request costs a block, one more buffer in
/// the gathered write (unless it directly follows the last one in the client's buffer) and holds
/// the client's receive buffer until answered; for a small request, copying is cheaper.

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "redis_sidecar/protocol/ring_queue.hpp"
#include "redis_sidecar/protocol/shared_bytes.hpp"

namespace redis_sidecar::upstream {

class request_blocks {
public:
    /// Arena size; a request copied that is larger gets storage of its own size (freed once answered).
    static constexpr std::size_t block_capacity = 64 * 1024;
    /// Spare arenas kept for later requests: 2 MB, more than the requests that wait at once from
    /// 1,000 clients pipelining 16 small requests each, or 50 clients pipelining 16 of 1 KB.
    static constexpr std::size_t spare_blocks_kept = 32;
    /// Requests at least this large are worth sharing instead of copying (`append_shared`).
    static constexpr std::size_t share_from_bytes = 512;

    /// Appends one whole request, copied.
    void append(std::string_view request) {
        // In line: nearly every request fits after the last one in the arena.
        if (tail_in_arena_ && block_capacity - arena_used_ >= request.size()) {
            std::memcpy(arena_.data() + arena_used_, request.data(), request.size());
            arena_used_ += request.size();
            blocks_.back().size += request.size();
            unwritten_bytes_ += request.size();
            return;
        }
        append_copy_to_new_block(request);
    }

    /// Appends one whole request that lies in `storage`, without copying it: the bytes must not
    /// change while `storage` is shared (see protocol::byte_buffer), and this keeps a handle to it
    /// until the request is answered or dropped.
    void append_shared(std::string_view request, const protocol::shared_bytes& storage) {
        // The next request of the same client's pipeline extends the block.
        if (!blocks_.empty() && !tail_in_arena_) {
            block& last = blocks_.back();
            if (last.storage.same_bytes(storage) && last.begin + last.size == request.data()) {
                last.size += request.size();
                unwritten_bytes_ += request.size();
                return;
            }
        }
        push_block(storage, request.data(), request.size(), false);
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
        return {front.begin + front.answered, length};
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
    /// keeps their memory: handles to it go to `keep_for_write` when `write_running`.
    void drop_all(bool write_running, std::vector<protocol::shared_bytes>& keep_for_write);

    std::size_t block_count() const { return blocks_.size(); }
    std::size_t spare_count() const { return spares_.size(); }

private:
    struct block {
        protocol::shared_bytes storage;  // an arena, storage of the request's own, or a client's buffer
        const char* begin = nullptr;
        std::size_t size = 0;      // bytes appended
        std::size_t written = 0;   // bytes handed to a write
        std::size_t answered = 0;  // bytes of the requests answered
    };

    void append_copy_to_new_block(std::string_view request);
    void push_block(protocol::shared_bytes storage, const char* begin, std::size_t size, bool in_arena) {
        blocks_.push_back(block{std::move(storage), begin, size});
        tail_in_arena_ = in_arena;
        unwritten_bytes_ += size;
    }
    void finish_front_block();
    void take_new_arena();
    void release(block& finished);

    // Front: the oldest block with requests unanswered; back: where requests go.
    protocol::ring_queue<block> blocks_;
    protocol::shared_bytes arena_;  // where copied requests go, after the first arena_used_ bytes
    std::size_t arena_used_ = 0;
    bool tail_in_arena_ = false;    // the last block ends at arena_used_, so a copy may extend it
    std::vector<protocol::shared_bytes> spares_;  // arenas no block holds, each of block_capacity
    std::vector<boost::asio::const_buffer> write_buffers_;
    std::size_t unwritten_bytes_ = 0;
};

}  // namespace redis_sidecar::upstream
