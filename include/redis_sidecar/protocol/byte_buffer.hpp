#pragma once
/// A growable byte buffer with a read and a write position, reused for the life of a connection
/// so the hot path does not allocate: bytes are read into `writable()`, consumed from `readable()`.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace redis_sidecar::protocol {

class byte_buffer {
public:
    explicit byte_buffer(std::size_t initial_capacity = 16 * 1024)
        : data_(std::make_unique_for_overwrite<char[]>(initial_capacity)), capacity_(initial_capacity) {}

    /// Bytes written and not consumed yet.
    std::string_view readable() const { return {data_.get() + begin_, end_ - begin_}; }
    std::size_t size() const { return end_ - begin_; }
    bool empty() const { return begin_ == end_; }

    /// Marks the first `n` readable bytes consumed.
    void consume(std::size_t n) {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }

    /// Makes room for at least `n` more bytes (moving the readable bytes to the front, or growing),
    /// and returns where they go.
    char* prepare(std::size_t n) {
        if (capacity_ - end_ < n) make_room(n);
        return data_.get() + end_;
    }
    /// Space after the readable bytes without moving anything.
    std::size_t writable_size() const { return capacity_ - end_; }
    char* writable() { return data_.get() + end_; }

    /// `n` bytes were written at `writable()`.
    void commit(std::size_t n) { end_ += n; }

    void append(std::string_view bytes) {
        std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
        commit(bytes.size());
    }

    std::size_t capacity() const { return capacity_; }

    /// Gives memory back after a large message, once the buffer is empty again.
    void shrink_to(std::size_t capacity) {
        if (empty() && capacity_ > capacity) {
            data_ = std::make_unique_for_overwrite<char[]>(capacity);
            capacity_ = capacity;
            begin_ = end_ = 0;
        }
    }

    void clear() { begin_ = end_ = 0; }

private:
    void make_room(std::size_t n) {
        const std::size_t used = end_ - begin_;
        if (begin_ > 0 && capacity_ - used >= n && used <= capacity_ / 2) {
            std::memmove(data_.get(), data_.get() + begin_, used);
        } else {
            std::size_t capacity = capacity_ * 2;
            while (capacity - used < n) capacity *= 2;
            auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
            std::memcpy(bigger.get(), data_.get() + begin_, used);
            data_ = std::move(bigger);
            capacity_ = capacity;
        }
        begin_ = 0;
        end_ = used;
    }

    std::unique_ptr<char[]> data_;
    std::size_t capacity_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace redis_sidecar::protocol
