#include "redis_sidecar/upstream/request_blocks.hpp"

#include <algorithm>
#include <cstring>

namespace redis_sidecar::upstream {

void request_blocks::append_copy_to_new_block(std::string_view request) {
    if (request.size() > block_capacity) {
        // Storage of its own, freed once the request is answered.
        protocol::shared_bytes own = protocol::shared_bytes::allocate(request.size());
        std::memcpy(own.data(), request.data(), request.size());
        const char* begin = own.data();
        push_block(std::move(own), begin, request.size(), false);
        return;
    }
    // After a shared request the arena may still have room: a new block continues there.
    if (!arena_ || block_capacity - arena_used_ < request.size()) take_new_arena();
    char* begin = arena_.data() + arena_used_;
    std::memcpy(begin, request.data(), request.size());
    arena_used_ += request.size();
    push_block(arena_, begin, request.size(), true);
}

void request_blocks::take_new_arena() {
    if (!spares_.empty()) {
        arena_ = std::move(spares_.back());
        spares_.pop_back();
    } else {
        arena_ = protocol::shared_bytes::allocate(block_capacity);
    }
    arena_used_ = 0;
}

// An arena goes back to the spares when the block that let go of it was its last user (the
// current arena is held by arena_ as well, so it stays in use).
void request_blocks::release(block& finished) {
    if (finished.storage.unique() && finished.storage.capacity() == block_capacity &&
        spares_.size() < spare_blocks_kept)
        spares_.push_back(std::move(finished.storage));
    finished.storage = {};
}

std::span<const boost::asio::const_buffer> request_blocks::take_unwritten() {
    // Only a write that has completed (or failed, see drop_all) lets the next one take these.
    write_buffers_.clear();
    // Every write takes all there is, so the unwritten bytes are in the last blocks: under load
    // hundreds of blocks before them may wait for replies.
    std::size_t first = blocks_.size();
    while (first > 0 && blocks_[first - 1].written < blocks_[first - 1].size) --first;
    for (std::size_t i = first; i < blocks_.size(); ++i) {
        block& b = blocks_[i];
        write_buffers_.emplace_back(b.begin + b.written, b.size - b.written);
        b.written = b.size;
    }
    unwritten_bytes_ = 0;
    return write_buffers_;
}

// The front block's requests are all answered.
void request_blocks::finish_front_block() {
    release(blocks_.front());
    blocks_.pop_front();
    if (blocks_.empty()) {
        tail_in_arena_ = false;
        // Every request was written and answered: the next ones start over at the arena's
        // beginning, where the cache still holds it.
        if (arena_.unique()) arena_used_ = 0;
    }
}

request_blocks::walk_position request_blocks::begin_walk() const {
    return {0, blocks_.empty() ? 0 : blocks_.front().answered};
}

std::string_view request_blocks::walk_next(walk_position& position, std::size_t length) const {
    // A request that did not fit in what was left of a block starts the next one.
    while (position.block < blocks_.size() && position.offset >= blocks_[position.block].size) {
        ++position.block;
        position.offset = 0;
    }
    if (position.block >= blocks_.size()) return {};
    const block& b = blocks_[position.block];
    const std::size_t available = std::min(length, b.size - position.offset);
    std::string_view request(b.begin + position.offset, available);
    position.offset += available;
    return request;
}

void request_blocks::drop_all(bool write_running, std::vector<protocol::shared_bytes>& keep_for_write) {
    // write_buffers_ stays as it is: a write still running reads its buffer list from there.
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
        if (write_running)
            keep_for_write.push_back(std::move(blocks_[i].storage));
        else
            release(blocks_[i]);
    }
    blocks_.clear();
    tail_in_arena_ = false;
    unwritten_bytes_ = 0;
    // The arena's bytes may still be read by that write: later requests go to another one.
    if (write_running) arena_ = {};
    if (arena_.unique()) arena_used_ = 0;
}

}  // namespace redis_sidecar::upstream
