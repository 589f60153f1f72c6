#pragma once
/// A fixed-size run of bytes with several owners on one thread: a client's receive buffer and the
/// pooled connection that writes the client's large requests to Redis straight out of it, or a
/// connection's request block. The last owner to let go frees it.
///
/// The count is a plain integer, not an atomic: everything that shares these bytes runs on one
/// event loop (a session and the pool it forwards to belong to the same worker thread), and an
/// atomic increment per shared request would cost more than the copy it saves for small ones.

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace redis_sidecar::protocol {

class shared_bytes {
public:
    shared_bytes() = default;

    /// `capacity` bytes, not initialised, with this handle as their only owner.
    static shared_bytes allocate(std::size_t capacity) {
        void* memory = ::operator new(sizeof(header) + capacity);
        return shared_bytes(new (memory) header{1, capacity});
    }

    shared_bytes(const shared_bytes& other) noexcept : header_(other.header_) {
        if (header_ != nullptr) ++header_->owners;
    }
    shared_bytes(shared_bytes&& other) noexcept : header_(std::exchange(other.header_, nullptr)) {}
    shared_bytes& operator=(const shared_bytes& other) noexcept {
        header* const taken = other.header_;  // read first: `other` may be this
        if (taken != nullptr) ++taken->owners;
        release();
        header_ = taken;
        return *this;
    }
    shared_bytes& operator=(shared_bytes&& other) noexcept {
        if (this != &other) {
            release();
            header_ = std::exchange(other.header_, nullptr);
        }
        return *this;
    }
    ~shared_bytes() { release(); }

    explicit operator bool() const { return header_ != nullptr; }
    char* data() const { return header_ == nullptr ? nullptr : reinterpret_cast<char*>(header_ + 1); }
    std::size_t capacity() const { return header_ == nullptr ? 0 : header_->capacity; }
    /// True when no other handle shares these bytes (so they may be overwritten or moved).
    bool unique() const { return header_ != nullptr && header_->owners == 1; }
    std::size_t owners() const { return header_ == nullptr ? 0 : header_->owners; }
    /// True when `bytes` lies within these bytes.
    bool holds(const char* bytes, std::size_t length) const {
        // As integers: comparing pointers into different allocations is unspecified.
        const auto begin = reinterpret_cast<std::uintptr_t>(data());
        const auto first = reinterpret_cast<std::uintptr_t>(bytes);
        return header_ != nullptr && first >= begin && length <= capacity() && first - begin <= capacity() - length;
    }
    bool same_bytes(const shared_bytes& other) const { return header_ == other.header_; }

private:
    // Followed by the bytes; max_align_t keeps them aligned like operator new's memory.
    struct alignas(alignof(std::max_align_t)) header {
        std::size_t owners;
        std::size_t capacity;
    };

    explicit shared_bytes(header* h) : header_(h) {}

    void release() noexcept {
        if (header_ != nullptr && --header_->owners == 0) {
            header_->~header();
            ::operator delete(header_);
        }
        header_ = nullptr;
    }

    header* header_ = nullptr;
};

}  // namespace redis_sidecar::protocol
