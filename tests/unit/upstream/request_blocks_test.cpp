// The request bytes of a pooled connection: order, gathered writes, blocks, reuse, failure.
#include "redis_sidecar/upstream/request_blocks.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
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
    EXPECT_EQ(blocks.block_count(), 0u);
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
    EXPECT_EQ(blocks.block_count(), 0u);
    EXPECT_EQ(blocks.spare_count(), used - 1);  // all but the arena in use

    // The arena in use, all answered, takes the next request at its start.
    blocks.append(request);
    const char* start = blocks.oldest(request.size()).data();
    blocks.take_unwritten();
    blocks.finish_oldest(request.size());
    blocks.append(request);
    EXPECT_EQ(blocks.oldest(request.size()).data(), start);

    // New arenas come from the spares.
    for (int i = 0; i < 100; ++i) blocks.append(request);
    EXPECT_EQ(blocks.spare_count(), used - 1 - (blocks.block_count() - 1));
    EXPECT_EQ(blocks.oldest(request.size()).data(), start);
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
    EXPECT_EQ(blocks.spare_count(), 0u);  // the large one's storage is freed, not kept
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
    std::vector<redis_sidecar::protocol::shared_bytes> kept;
    blocks.drop_all(true, kept);
    EXPECT_EQ(blocks.block_count(), 0u);
    EXPECT_EQ(kept.size(), 3u);
    // The next requests do not overwrite what that write reads from the arena it used last.
    const std::string after = request_of(2000, 500);
    blocks.append(after);
    // What the write reads is still there (a sanitized build would report a use after free).
    EXPECT_EQ(concatenated(buffers), expected);
    EXPECT_EQ(blocks.unwritten_bytes(), after.size());
    kept.clear();  // the write completed

    std::vector<redis_sidecar::protocol::shared_bytes> none;
    blocks.append(request_of(10, 1));
    blocks.drop_all(false, none);
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(blocks.unwritten_bytes(), 0u);
}

// --- requests shared with the client's receive buffer (append_shared)

namespace {

using redis_sidecar::protocol::shared_bytes;

// A client's receive buffer holding `requests` back to back.
shared_bytes buffer_with(const std::vector<std::string>& requests, std::vector<std::string_view>& placed) {
    std::size_t total = 0;
    for (const auto& r : requests) total += r.size();
    shared_bytes buffer = shared_bytes::allocate(total);
    char* at = buffer.data();
    for (const auto& r : requests) {
        std::memcpy(at, r.data(), r.size());
        placed.emplace_back(at, r.size());
        at += r.size();
    }
    return buffer;
}

}  // namespace

TEST(request_blocks, a_clients_pipeline_of_shared_requests_is_one_buffer_of_the_write_and_not_copied) {
    request_blocks blocks;
    std::vector<std::string> requests;
    for (int i = 0; i < 16; ++i) requests.push_back(request_of(1100, i));
    std::vector<std::string_view> placed;
    const shared_bytes buffer = buffer_with(requests, placed);
    for (std::string_view request : placed) blocks.append_shared(request, buffer);
    EXPECT_EQ(blocks.block_count(), 1u);
    EXPECT_EQ(buffer.owners(), 2u);
    const auto buffers = blocks.take_unwritten();
    ASSERT_EQ(buffers.size(), 1u);
    EXPECT_EQ(buffers[0].data(), buffer.data());  // written from where the client's bytes are
    for (std::size_t i = 0; i < placed.size(); ++i) {
        ASSERT_EQ(blocks.oldest(placed[i].size()).data(), placed[i].data());
        ASSERT_EQ(blocks.oldest(placed[i].size()), requests[i]);
        blocks.finish_oldest(placed[i].size());
    }
    EXPECT_EQ(buffer.owners(), 1u);  // let go once all are answered
    EXPECT_EQ(blocks.spare_count(), 0u);  // a client's buffer is not kept as an arena
}

TEST(request_blocks, copied_and_shared_requests_keep_their_order) {
    request_blocks blocks;
    std::vector<std::string> large;
    for (int i = 0; i < 6; ++i) large.push_back(request_of(800, 100 + i));
    std::vector<std::string_view> placed;
    const shared_bytes buffer = buffer_with(large, placed);
    // small, shared, shared (contiguous), small, shared (not contiguous: after a gap), small...
    const std::vector<std::string> small{request_of(30, 1), request_of(40, 2), request_of(50, 3)};
    std::vector<std::string> expected_order;
    blocks.append(small[0]);
    expected_order.push_back(small[0]);
    blocks.append_shared(placed[0], buffer);
    blocks.append_shared(placed[1], buffer);
    expected_order.insert(expected_order.end(), {large[0], large[1]});
    blocks.append(small[1]);
    expected_order.push_back(small[1]);
    blocks.append_shared(placed[3], buffer);
    expected_order.push_back(large[3]);
    const auto first_write = blocks.take_unwritten();
    std::string first_bytes;
    for (const auto& b : first_write) first_bytes.append(static_cast<const char*>(b.data()), b.size());
    blocks.append_shared(placed[4], buffer);  // after a write: its own buffer in the next one
    blocks.append(small[2]);
    expected_order.insert(expected_order.end(), {large[4], small[2]});
    std::string all = first_bytes + concatenated(blocks.take_unwritten());
    std::string expected;
    for (const auto& r : expected_order) expected += r;
    EXPECT_EQ(all, expected);
    auto position = blocks.begin_walk();
    std::vector<std::string_view> walked;
    for (const auto& r : expected_order) {
        walked.push_back(blocks.walk_next(position, r.size()));
        ASSERT_EQ(walked.back(), r);
    }
    // Shared ones are where the client's buffer has them; a small one after them continues in the
    // arena right after the small one before them.
    EXPECT_EQ(walked[1].data(), placed[0].data());
    EXPECT_EQ(walked[4].data(), placed[3].data());
    EXPECT_EQ(walked[3].data(), walked[0].data() + small[0].size());
    for (const auto& r : expected_order) {
        ASSERT_TRUE(blocks.oldest_written(r.size()));
        ASSERT_EQ(blocks.oldest(r.size()), r);
        blocks.finish_oldest(r.size());
    }
    EXPECT_EQ(buffer.owners(), 1u);
    EXPECT_EQ(blocks.block_count(), 0u);
}

TEST(request_blocks, a_shared_request_extends_a_block_only_when_it_follows_in_the_same_buffer) {
    request_blocks blocks;
    std::vector<std::string_view> first_placed, second_placed;
    const shared_bytes first = buffer_with({request_of(600, 1), request_of(600, 2)}, first_placed);
    const shared_bytes second = buffer_with({request_of(600, 3)}, second_placed);
    blocks.append_shared(first_placed[0], first);
    blocks.append_shared(second_placed[0], second);  // another client's buffer
    blocks.append_shared(first_placed[1], first);    // follows in `first`, but not the last block
    EXPECT_EQ(blocks.block_count(), 3u);
    EXPECT_EQ(first.owners(), 3u);
    EXPECT_EQ(blocks.take_unwritten().size(), 3u);
}

TEST(request_blocks, dropping_shared_requests_lets_go_of_the_clients_buffer_unless_a_write_runs) {
    std::vector<std::string_view> placed;
    const shared_bytes buffer = buffer_with({request_of(700, 1), request_of(700, 2)}, placed);
    {
        request_blocks blocks;
        for (auto request : placed) blocks.append_shared(request, buffer);
        blocks.take_unwritten();
        std::vector<shared_bytes> kept;
        blocks.drop_all(true, kept);
        EXPECT_EQ(buffer.owners(), 2u);  // the running write's handle
        kept.clear();
        EXPECT_EQ(buffer.owners(), 1u);
        for (auto request : placed) blocks.append_shared(request, buffer);
        blocks.drop_all(false, kept);
        EXPECT_TRUE(kept.empty());
        EXPECT_EQ(buffer.owners(), 1u);
        blocks.append_shared(placed[0], buffer);
    }
    EXPECT_EQ(buffer.owners(), 1u);  // and when the connection goes
}
