#pragma once
/// A growable byte buffer with a read and a write position, reused for the life of a connection
/// so the hot path does not allocate: bytes are read into `writable()`, consumed from `readable()`.
///
/// Its bytes may be shared (`storage()`): a session hands its large requests to the pooled
/// connection by reference instead of copying them. While they are shared, the bytes before the
/// write position are never overwritten or moved: new bytes go after them, and when the space runs
/// out the unread bytes move to other storage, the spare (the storage shared before, once nobody
/// else holds it) or a new one.

#include <cstddef>
#include <cstring>
#include <string_view>

#include "redis_sidecar/protocol/shared_bytes.hpp"

namespace redis_sidecar::protocol {

class byte_buffer {
public:
    explicit byte_buffer(std::size_t initial_capacity = 16 * 1024)
        : data_(shared_bytes::allocate(initial_capacity)), bytes_(data_.data()), capacity_(initial_capacity) {}

    /// Bytes written and not consumed yet.
    std::string_view readable() const { return {bytes_ + begin_, end_ - begin_}; }
    std::size_t size() const { return end_ - begin_; }
    bool empty() const { return begin_ == end_; }

    /// Marks the first `n` readable bytes consumed.
    void consume(std::size_t n) {
        begin_ += n;
        if (begin_ == end_ && data_.unique()) begin_ = end_ = 0;
    }

    /// Makes room for at least `n` more bytes (moving the readable bytes to the front, or growing),
    /// and returns where they go.
    char* prepare(std::size_t n) {
        if (capacity_ - end_ < n) make_room(n);
        return bytes_ + end_;
    }
    /// Room for a read of up to `n` bytes, returned by writable(). While the bytes are shared and
    /// less than `n` is left after them, the read goes to the front of the spare storage if nobody
    /// holds that any more: it costs a copy of the unread bytes (usually none) and no allocation,
    /// and a client's whole pipeline then arrives in one read, not in two (the room of a read is
    /// fixed when it starts, which is while the previous pipeline is still shared). With no free
    /// spare, a quarter of `n` left after them will do: else every read would leave for new
    /// storage, and a client that sends one large request per read would hold a buffer per request.
    void prepare_read(std::size_t n) {
        const std::size_t room = capacity_ - end_;
        if (room >= n) return;
        if (!data_.unique() && room >= n / 4 && !spare_free_for(unshared_capacity_for(n))) return;
        make_room(n);
    }
    /// Space after the readable bytes without moving anything.
    std::size_t writable_size() const { return capacity_ - end_; }
    char* writable() { return bytes_ + end_; }

    /// `n` bytes were written at `writable()`.
    void commit(std::size_t n) { end_ += n; }

    void append(std::string_view bytes) {
        std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
        commit(bytes.size());
    }

    std::size_t capacity() const { return capacity_; }

    /// Gives memory back after a large message, once the buffer is empty again.
    void shrink_to(std::size_t capacity) {
        if (spare_.capacity() > capacity) spare_ = {};
        if (empty() && capacity_ > capacity) {
            data_ = shared_bytes::allocate(capacity);
            bytes_ = data_.data();
            capacity_ = capacity;
            begin_ = end_ = 0;
        }
    }

    void clear() { consume(size()); }

    /// The storage of the readable bytes, to share them: they stay where they are for as long as
    /// the returned handle (or a copy of it) lives.
    const shared_bytes& storage() const { return data_; }
    /// True when `bytes` lies in this buffer's storage.
    bool holds(std::string_view bytes) const { return data_.holds(bytes.data(), bytes.size()); }

private:
    void make_room(std::size_t n) {
        const std::size_t used = end_ - begin_;
        if (!data_.unique()) {
            move_to_unshared(n);
            return;
        }
        if (begin_ > 0 && capacity_ - used >= n && used <= capacity_ / 2) {
            std::memmove(bytes_, bytes_ + begin_, used);
        } else {
            std::size_t capacity = capacity_ * 2;
            while (capacity - used < n) capacity *= 2;
            shared_bytes bigger = shared_bytes::allocate(capacity);
            std::memcpy(bigger.data(), bytes_ + begin_, used);
            data_ = std::move(bigger);
            bytes_ = data_.data();
            capacity_ = capacity;
        }
        begin_ = 0;
        end_ = used;
    }

    // Others hold the bytes: the unread ones (usually none, or the start of a request) move to the
    // spare if nobody holds that any more, else to new storage; the shared one becomes the spare.
    // A client whose requests are answered before it sends the next ones alternates between two.
    void move_to_unshared(std::size_t n) {
        const std::size_t used = end_ - begin_;
        const std::size_t capacity = unshared_capacity_for(n);
        shared_bytes next = spare_free_for(capacity) ? std::move(spare_) : shared_bytes::allocate(capacity);
        std::memcpy(next.data(), bytes_ + begin_, used);
        spare_ = std::move(data_);
        data_ = std::move(next);
        bytes_ = data_.data();
        capacity_ = data_.capacity();
        begin_ = 0;
        end_ = used;
    }

    // The capacity of the storage the unread bytes move to, for room for `n` more after them.
    std::size_t unshared_capacity_for(std::size_t n) const {
        const std::size_t used = end_ - begin_;
        std::size_t capacity = capacity_;
        while (capacity - used < n) capacity *= 2;
        return capacity;
    }
    // True when the spare has `capacity` bytes and nobody else holds it.
    bool spare_free_for(std::size_t capacity) const { return spare_.unique() && spare_.capacity() >= capacity; }

    shared_bytes data_;
    char* bytes_;  // data_.data(), read on every access without data()'s check for an empty handle
    shared_bytes spare_;  // storage shared before, used again once nobody else holds it
    std::size_t capacity_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace redis_sidecar::protocol
