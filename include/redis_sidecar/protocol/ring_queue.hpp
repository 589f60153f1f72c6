#pragma once
/// A FIFO queue in one ring of slots that it keeps, for the queues every request passes through
/// (a session's reply runs, a shared connection's unanswered requests). A std::deque allocates a
/// block when the queue crosses into a new one and frees it when the queue leaves it, which under
/// load is a malloc and a free every few requests, and it allocates a block up front even when
/// empty (a 512-byte block and its map, per idle client). This ring allocates nothing until the
/// first push and nothing more once it is as large as the queue gets; it never shrinks.

#include <cstddef>
#include <memory>
#include <utility>

namespace redis_sidecar::protocol {

template <typename T>
class ring_queue {
public:
    ring_queue() = default;
    ring_queue(const ring_queue&) = delete;
    ring_queue& operator=(const ring_queue&) = delete;
    ring_queue(ring_queue&& other) noexcept { swap(other); }
    ring_queue& operator=(ring_queue&& other) noexcept {
        ring_queue moved(std::move(other));
        swap(moved);
        return *this;
    }
    ~ring_queue() {
        clear();
        std::allocator<T>().deallocate(slots_, capacity_);
    }

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }

    /// The i-th element from the front; requires i < size().
    T& operator[](std::size_t i) { return slots_[(head_ + i) & (capacity_ - 1)]; }
    const T& operator[](std::size_t i) const { return slots_[(head_ + i) & (capacity_ - 1)]; }
    T& front() { return (*this)[0]; }
    const T& front() const { return (*this)[0]; }
    T& back() { return (*this)[size_ - 1]; }
    const T& back() const { return (*this)[size_ - 1]; }

    void push_back(T value) {
        if (size_ == capacity_) grow();
        std::construct_at(slots_ + ((head_ + size_) & (capacity_ - 1)), std::move(value));
        ++size_;
    }

    /// Requires !empty().
    void pop_front() {
        std::destroy_at(slots_ + head_);
        head_ = (head_ + 1) & (capacity_ - 1);
        --size_;
    }

    /// Inserts `value` before the i-th element (i <= size()). Moves the i elements in front of it:
    /// meant for positions near the front, off the hot path.
    void insert(std::size_t i, T value) {
        if (size_ == capacity_) grow();
        head_ = (head_ + capacity_ - 1) & (capacity_ - 1);
        ++size_;
        for (std::size_t k = 0; k < i; ++k) relocate(k + 1, k);
        std::construct_at(&(*this)[i], std::move(value));
    }

    /// Removes the i-th element (i < size()). Moves the i elements in front of it: meant for
    /// positions near the front, off the hot path.
    void erase(std::size_t i) {
        std::destroy_at(&(*this)[i]);
        for (std::size_t k = i; k > 0; --k) relocate(k - 1, k);
        head_ = (head_ + 1) & (capacity_ - 1);
        --size_;
    }

    /// Destroys every element; the slots stay.
    void clear() {
        while (size_ > 0) pop_front();
        head_ = 0;
    }

    void swap(ring_queue& other) noexcept {
        std::swap(slots_, other.slots_);
        std::swap(capacity_, other.capacity_);
        std::swap(head_, other.head_);
        std::swap(size_, other.size_);
    }

private:
    static constexpr std::size_t first_capacity = 8;

    // Doubles the ring (a power of two, so a slot's index is a mask away), moving the elements to
    // the front of the new one in order.
    void grow() {
        const std::size_t capacity = capacity_ == 0 ? first_capacity : capacity_ * 2;
        T* slots = std::allocator<T>().allocate(capacity);
        for (std::size_t i = 0; i < size_; ++i) {
            T& element = (*this)[i];
            std::construct_at(slots + i, std::move(element));
            std::destroy_at(&element);
        }
        std::allocator<T>().deallocate(slots_, capacity_);
        slots_ = slots;
        capacity_ = capacity;
        head_ = 0;
    }

    // Moves the element at index `from` into the empty slot at index `to`, leaving `from` empty.
    void relocate(std::size_t from, std::size_t to) {
        T& element = (*this)[from];
        std::construct_at(&(*this)[to], std::move(element));
        std::destroy_at(&element);
    }

    T* slots_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace redis_sidecar::protocol
