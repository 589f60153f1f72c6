// The request bytes of a pooled connection: order, gathered writes, blocks, reuse, failure.
#include "redis_sidecar/upstream/request_blocks.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

using redis_sidecar::upstream::request_blocks;

namespace {

// A request of `size` bytes whose content tells it apart from every other.
std::string request_of(std::size_t size, int number) {
    std::string bytes = "*" + std::to_string(number) + ":";
    while (bytes.size() < size) bytes.push_back(static_cast<char>('a' + (bytes.size() + number) % 26));
    bytes.resize(size);
    return bytes;
}

std::string concatenated(std::span<const boost::asio::const_buffer> buffers) {
    std::string all;
    for (const auto& b : buffers) all.append(static_cast<const char*>(b.data()), b.size());
    return all;
}

}  // namespace

TEST(request_blocks, a_write_gathers_the_requests_in_order_across_blocks) {
    request_blocks blocks;
    std::vector<std::string> requests;
    std::string expected;
    for (int i = 0; i < 200; ++i) {  // about 200 KB: several blocks
        requests.push_back(request_of(700 + i * 7, i));
        blocks.append(requests.back());
        expected += requests.back();
    }
    EXPECT_GT(blocks.block_count(), 2u);
    EXPECT_EQ(blocks.unwritten_bytes(), expected.size());
    EXPECT_EQ(concatenated(blocks.take_unwritten()), expected);
    EXPECT_EQ(blocks.unwritten_bytes(), 0u);
    EXPECT_TRUE(blocks.take_unwritten().empty());
    for (const std::string& request : requests) {
        ASSERT_TRUE(blocks.oldest_written(request.size()));
        ASSERT_EQ(blocks.oldest(request.size()), request);  // never split between two blocks
        blocks.finish_oldest(request.size());
    }
    EXPECT_EQ(blocks.block_count(), 1u);
    EXPECT_EQ(blocks.oldest(1), "");
}

TEST(request_blocks, a_request_appended_after_a_write_goes_in_the_next_one) {
    request_blocks blocks;
    const std::string first = request_of(100, 1), second = request_of(200, 2);
    blocks.append(first);
    EXPECT_FALSE(blocks.oldest_written(first.size()));
    EXPECT_EQ(concatenated(blocks.take_unwritten()), first);
    blocks.append(second);  // into the same block, after the bytes being written
    EXPECT_EQ(concatenated(blocks.take_unwritten()), second);
    blocks.finish_oldest(first.size());
    EXPECT_TRUE(blocks.oldest_written(second.size()));
    EXPECT_EQ(blocks.oldest(second.size()), second);
}

TEST(request_blocks, a_reply_to_a_request_not_handed_to_a_write_is_recognised) {
    request_blocks blocks;
    const std::string written = request_of(50, 1), queued = request_of(60, 2);
    blocks.append(written);
    blocks.take_unwritten();
    blocks.append(queued);
    EXPECT_TRUE(blocks.oldest_written(written.size()));
    blocks.finish_oldest(written.size());
    EXPECT_FALSE(blocks.oldest_written(queued.size()));
}

TEST(request_blocks, answered_blocks_are_reused_and_the_last_one_starts_over) {
    request_blocks blocks;
    const std::string request = request_of(1000, 7);
    for (int i = 0; i < 300; ++i) blocks.append(request);
    blocks.take_unwritten();
    const std::size_t used = blocks.block_count();
    for (int i = 0; i < 300; ++i) blocks.finish_oldest(request.size());
    EXPECT_EQ(blocks.block_count(), 1u);
    EXPECT_EQ(blocks.spare_count(), used - 1);

    // The remaining block, all answered, takes the next request at its start.
    blocks.append(request);
    const char* start = blocks.oldest(request.size()).data();
    blocks.take_unwritten();
    blocks.finish_oldest(request.size());
    blocks.append(request);
    EXPECT_EQ(blocks.oldest(request.size()).data(), start);

    // New blocks come from the spares.
    for (int i = 0; i < 100; ++i) blocks.append(request);
    EXPECT_EQ(blocks.spare_count(), used - 1 - (blocks.block_count() - 1));
}

TEST(request_blocks, a_request_larger_than_a_block_gets_one_of_its_own) {
    request_blocks blocks;
    const std::string small = request_of(10, 1);
    const std::string large = request_of(request_blocks::block_capacity * 3 + 5, 2);
    blocks.append(small);
    blocks.append(large);
    blocks.append(small);
    EXPECT_EQ(blocks.block_count(), 3u);
    EXPECT_EQ(concatenated(blocks.take_unwritten()), small + large + small);
    blocks.finish_oldest(small.size());
    EXPECT_EQ(blocks.oldest(large.size()), large);
    blocks.finish_oldest(large.size());
    EXPECT_EQ(blocks.spare_count(), 1u);  // the first block; the large one is freed
    EXPECT_EQ(blocks.oldest(small.size()), small);
}

TEST(request_blocks, a_large_request_after_everything_was_answered_is_the_oldest) {
    // The one block left, all answered, is empty; a request too large for it goes elsewhere, and
    // the empty block must not stay in front of it (a reply to it once looked unasked for).
    request_blocks blocks;
    const std::string small = request_of(10, 1);
    const std::string large = request_of(request_blocks::block_capacity + 1, 2);
    blocks.append(small);
    blocks.take_unwritten();
    blocks.finish_oldest(small.size());
    blocks.append(large);
    EXPECT_EQ(blocks.block_count(), 1u);
    EXPECT_EQ(concatenated(blocks.take_unwritten()), large);
    EXPECT_TRUE(blocks.oldest_written(large.size()));
    EXPECT_EQ(blocks.oldest(large.size()), large);
    auto position = blocks.begin_walk();
    EXPECT_EQ(blocks.walk_next(position, large.size()), large);
}

TEST(request_blocks, a_walk_gives_every_unanswered_request_written_or_not) {
    request_blocks blocks;
    std::vector<std::string> requests;
    for (int i = 0; i < 150; ++i) {
        requests.push_back(request_of(900 + i, i));
        blocks.append(requests.back());
        if (i == 90) blocks.take_unwritten();
    }
    for (int i = 0; i < 20; ++i) blocks.finish_oldest(requests[i].size());
    auto position = blocks.begin_walk();
    for (std::size_t i = 20; i < requests.size(); ++i)
        ASSERT_EQ(blocks.walk_next(position, requests[i].size()), requests[i]) << i;
    EXPECT_EQ(blocks.walk_next(position, 10), "");
}

TEST(request_blocks, a_write_still_running_after_a_failure_keeps_its_memory) {
    request_blocks blocks;
    std::string expected;
    for (int i = 0; i < 100; ++i) {
        const std::string request = request_of(1500, i);
        blocks.append(request);
        expected += request;
    }
    const auto buffers = blocks.take_unwritten();
    std::vector<std::unique_ptr<char[]>> kept;
    blocks.drop_all(true, kept);
    EXPECT_EQ(blocks.block_count(), 0u);
    EXPECT_EQ(kept.size(), 3u);
    // What the write reads is still there (a sanitized build would report a use after free).
    EXPECT_EQ(concatenated(buffers), expected);
    EXPECT_EQ(blocks.unwritten_bytes(), 0u);

    std::vector<std::unique_ptr<char[]>> none;
    blocks.append(request_of(10, 1));
    blocks.drop_all(false, none);
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(blocks.spare_count(), 1u);
}
