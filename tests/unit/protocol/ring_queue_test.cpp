#include "redis_sidecar/protocol/ring_queue.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>

using redis_sidecar::protocol::ring_queue;

TEST(ring_queue, allocates_nothing_until_the_first_push) {
    ring_queue<std::string> queue;
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.capacity(), 0u);
    queue.push_back("a");
    EXPECT_GT(queue.capacity(), 0u);
}

// The same pushes and pops on a std::deque and on the ring, across its wrap-around and growth
// while wrapped: the same elements come out in the same order.
TEST(ring_queue, is_first_in_first_out_across_wrap_around_and_growth) {
    ring_queue<std::string> queue;
    std::deque<std::string> expected;
    int next = 0;
    for (int round = 0; round < 200; ++round) {
        const int pushes = round % 7 + 1;
        const int pops = round % 5;
        for (int i = 0; i < pushes; ++i) {
            const std::string value = "value-" + std::to_string(next++) + std::string(20, 'x');
            queue.push_back(value);
            expected.push_back(value);
        }
        for (int i = 0; i < pops && !expected.empty(); ++i) {
            ASSERT_EQ(queue.front(), expected.front());
            queue.pop_front();
            expected.pop_front();
        }
        ASSERT_EQ(queue.size(), expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(queue[i], expected[i]);
        if (!expected.empty()) {
            ASSERT_EQ(queue.back(), expected.back());
        }
    }
}

TEST(ring_queue, keeps_its_slots_once_large_enough) {
    ring_queue<int> queue;
    for (int i = 0; i < 100; ++i) queue.push_back(i);
    const std::size_t capacity = queue.capacity();
    for (int round = 0; round < 1000; ++round) {
        queue.pop_front();
        queue.push_back(round);
    }
    EXPECT_EQ(queue.capacity(), capacity);
    queue.clear();
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.capacity(), capacity);
}

// Every element is destroyed exactly once: by pop_front, clear or the queue's end, and none
// twice when growing moves them.
TEST(ring_queue, releases_every_element_it_held) {
    const auto tracked = std::make_shared<int>(0);
    {
        ring_queue<std::shared_ptr<int>> queue;
        for (int i = 0; i < 50; ++i) queue.push_back(tracked);
        EXPECT_EQ(tracked.use_count(), 51);
        for (int i = 0; i < 20; ++i) queue.pop_front();
        EXPECT_EQ(tracked.use_count(), 31);
        for (int i = 0; i < 40; ++i) queue.push_back(tracked);  // wraps, then grows while wrapped
        EXPECT_EQ(tracked.use_count(), 71);
        ring_queue<std::shared_ptr<int>> other;
        other.push_back(tracked);
        queue.swap(other);
        EXPECT_EQ(queue.size(), 1u);
        EXPECT_EQ(other.size(), 70u);
        other.clear();
        EXPECT_EQ(tracked.use_count(), 2);
        ring_queue<std::shared_ptr<int>> moved(std::move(queue));
        EXPECT_TRUE(queue.empty());
        EXPECT_EQ(moved.size(), 1u);
    }
    EXPECT_EQ(tracked.use_count(), 1);
}

// The shared connection writes from a string in the ring while more batches are pushed: growing
// the ring moves the string, and the bytes being written must not move with it. They do not when
// the string's storage is on the heap, as a batch buffer's always is (never inline).
TEST(ring_queue, growing_moves_heap_strings_without_moving_their_bytes) {
    ring_queue<std::string> queue;
    std::string first;
    first.reserve(4096);
    first = "being written";
    const char* bytes = first.data();
    queue.push_back(std::move(first));
    ASSERT_EQ(queue.front().data(), bytes);
    const std::size_t capacity = queue.capacity();
    while (queue.capacity() == capacity) queue.push_back(std::string(5000, 'x'));
    EXPECT_EQ(queue.front().data(), bytes);
    EXPECT_EQ(queue.front(), "being written");
}

// insert and erase near the front, across the wrap-around and growth, against a std::deque.
TEST(ring_queue, inserts_and_erases_in_the_middle_like_a_deque) {
    ring_queue<std::string> queue;
    std::deque<std::string> expected;
    int next = 0;
    for (int round = 0; round < 300; ++round) {
        const std::string value = "value-" + std::to_string(next++) + std::string(20, 'x');
        const std::size_t at = expected.empty() ? 0 : static_cast<std::size_t>(round) % (expected.size() + 1);
        queue.insert(at, value);
        expected.insert(expected.begin() + static_cast<std::ptrdiff_t>(at), value);
        if (round % 3 == 0) {
            const std::size_t gone = static_cast<std::size_t>(round / 3) % expected.size();
            queue.erase(gone);
            expected.erase(expected.begin() + static_cast<std::ptrdiff_t>(gone));
        }
        if (round % 4 == 0 && !expected.empty()) {
            queue.pop_front();
            expected.pop_front();
        }
        if (round % 5 == 0) {
            queue.push_back(value);
            expected.push_back(value);
        }
        ASSERT_EQ(queue.size(), expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(queue[i], expected[i]) << "round " << round;
    }
}

// What insert and erase move is destroyed once, and nothing leaks.
TEST(ring_queue, insert_and_erase_release_every_element) {
    const auto tracked = std::make_shared<int>(0);
    {
        ring_queue<std::shared_ptr<int>> queue;
        for (int i = 0; i < 5; ++i) queue.push_back(tracked);
        queue.pop_front();
        queue.pop_front();
        for (int i = 0; i < 9; ++i) queue.insert(static_cast<std::size_t>(i) % 3, tracked);
        EXPECT_EQ(tracked.use_count(), 1 + 12);
        queue.erase(4);
        queue.erase(0);
        EXPECT_EQ(tracked.use_count(), 1 + 10);
    }
    EXPECT_EQ(tracked.use_count(), 1);
}
