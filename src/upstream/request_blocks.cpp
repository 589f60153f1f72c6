#include "redis_sidecar/upstream/request_blocks.hpp"

#include <algorithm>
#include <cstring>

namespace redis_sidecar::upstream {

void request_blocks::append_to_new_block(std::string_view request) {
    // The only block, all answered and so emptied, is too small for this request: it goes, since
    // the front block must hold the oldest request.
    if (blocks_.size() == 1 && blocks_.front().size == 0) {
        release(blocks_.front());
        blocks_.pop_front();
    }
    blocks_.push_back(new_block(request.size()));
    block& fresh = blocks_.back();
    std::memcpy(fresh.data.get(), request.data(), request.size());
    fresh.size = request.size();
    unwritten_bytes_ += request.size();
}

request_blocks::block request_blocks::new_block(std::size_t length) {
    block fresh;
    if (length <= block_capacity && !spares_.empty()) {
        fresh.data = std::move(spares_.back());
        spares_.pop_back();
        fresh.capacity = block_capacity;
        return fresh;
    }
    const std::size_t capacity = std::max(length, block_capacity);
    fresh.data = std::make_unique_for_overwrite<char[]>(capacity);
    fresh.capacity = capacity;
    return fresh;
}

void request_blocks::release(block& finished) {
    if (finished.capacity == block_capacity && spares_.size() < spare_blocks_kept)
        spares_.push_back(std::move(finished.data));
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
        write_buffers_.emplace_back(b.data.get() + b.written, b.size - b.written);
        b.written = b.size;
    }
    unwritten_bytes_ = 0;
    return write_buffers_;
}

// The front block's requests are all answered.
void request_blocks::finish_front_block() {
    if (blocks_.size() == 1) {
        // Every byte in it was written and answered: the next requests start over at its
        // beginning, where the cache still holds it.
        block& only = blocks_.front();
        only.size = only.written = only.answered = 0;
        return;
    }
    release(blocks_.front());
    blocks_.pop_front();
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
    std::string_view request(b.data.get() + position.offset, available);
    position.offset += available;
    return request;
}

void request_blocks::drop_all(bool write_running, std::vector<std::unique_ptr<char[]>>& keep_for_write) {
    // write_buffers_ stays as it is: a write still running reads its buffer list from there.
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
        if (write_running)
            keep_for_write.push_back(std::move(blocks_[i].data));
        else
            release(blocks_[i]);
    }
    blocks_.clear();
    unwritten_bytes_ = 0;
}

}  // namespace redis_sidecar::upstream
