// The receive buffer whose bytes may be shared: shared bytes never move or get overwritten.
#include "redis_sidecar/protocol/byte_buffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using redis_sidecar::protocol::byte_buffer;
using redis_sidecar::protocol::shared_bytes;

namespace {

void read_into(byte_buffer& buffer, const std::string& bytes, std::size_t room = 1024) {
    buffer.prepare(room);
    ASSERT_GE(buffer.writable_size(), bytes.size());
    std::memcpy(buffer.writable(), bytes.data(), bytes.size());
    buffer.commit(bytes.size());
}

}  // namespace

TEST(byte_buffer, unshared_bytes_start_over_at_the_front_once_consumed) {
    byte_buffer buffer(1024);
    read_into(buffer, std::string(600, 'a'));
    const char* front = buffer.readable().data();
    buffer.consume(600);
    read_into(buffer, "next");
    EXPECT_EQ(buffer.readable().data(), front);
    EXPECT_EQ(buffer.readable(), "next");
}

TEST(byte_buffer, shared_bytes_stay_while_new_ones_go_after_them_then_elsewhere) {
    byte_buffer buffer(1024);
    read_into(buffer, std::string(300, 'a') + "partial");
    const std::string_view request = buffer.readable().substr(0, 300);
    ASSERT_TRUE(buffer.holds(request));
    const shared_bytes held = buffer.storage();
    buffer.consume(300);

    // Room left after the bytes: the next read goes there.
    read_into(buffer, "-more", 100);
    EXPECT_EQ(buffer.readable(), "partial-more");
    EXPECT_TRUE(held.same_bytes(buffer.storage()));
    buffer.consume(buffer.size());
    read_into(buffer, "x", 100);  // consumed all, but shared: not back to the front
    EXPECT_EQ(request, std::string(300, 'a'));

    // No room: the unread bytes move to new storage, the shared ones stay.
    read_into(buffer, "y", 1000);
    EXPECT_FALSE(held.same_bytes(buffer.storage()));
    EXPECT_EQ(buffer.readable(), "xy");
    EXPECT_EQ(request, std::string(300, 'a'));
    EXPECT_FALSE(buffer.holds(request));

    // Clearing shared bytes leaves them too.
    const shared_bytes second = buffer.storage();
    const char* second_bytes = buffer.readable().data();
    buffer.clear();
    read_into(buffer, "z", 10);
    EXPECT_NE(buffer.readable().data(), second_bytes);
    EXPECT_EQ(std::string_view(second_bytes, 2), "xy");
}

TEST(byte_buffer, a_read_goes_after_shared_bytes_while_a_quarter_of_its_room_is_left) {
    byte_buffer buffer(1024);
    buffer.prepare_read(1024);
    std::memcpy(buffer.writable(), std::string(700, 'a').data(), 700);
    buffer.commit(700);
    const shared_bytes held = buffer.storage();
    buffer.consume(700);
    buffer.prepare_read(1024);  // 324 bytes left, at least a quarter of 1024: stays
    EXPECT_EQ(buffer.writable_size(), 324u);
    EXPECT_TRUE(held.same_bytes(buffer.storage()));
    buffer.commit(100);
    buffer.consume(100);
    buffer.prepare_read(1024);  // 224 left: new storage with the whole read's room
    EXPECT_FALSE(held.same_bytes(buffer.storage()));
    EXPECT_EQ(buffer.writable_size(), 1024u);
}

// The room of a client's next read is fixed while its last pipeline is still shared: with the
// room after that pipeline, a pipeline as large as the last one would arrive in two reads.
TEST(byte_buffer, a_read_that_does_not_fit_after_shared_bytes_goes_to_the_front_of_a_free_spare) {
    byte_buffer buffer(1024);
    buffer.prepare_read(1024);
    buffer.commit(900);
    shared_bytes first = buffer.storage();
    const char* first_bytes = first.data();
    buffer.consume(900);
    buffer.prepare_read(1024);  // 124 left: new storage; the first becomes the spare, still held
    buffer.commit(700);
    const shared_bytes second = buffer.storage();
    buffer.consume(700);
    first = {};  // the first pipeline was answered

    buffer.prepare_read(1024);  // 324 left after the second pipeline, but the first storage is free
    EXPECT_EQ(buffer.storage().data(), first_bytes);
    EXPECT_EQ(buffer.writable_size(), 1024u);
    EXPECT_EQ(buffer.writable(), first_bytes);
}

TEST(byte_buffer, an_unshared_read_gets_all_the_room_it_asks_for) {
    byte_buffer buffer(1024);
    buffer.prepare_read(1024);
    buffer.commit(700);
    buffer.consume(600);
    buffer.prepare_read(1024);  // the 100 unread bytes move to the front, or the buffer grows
    EXPECT_GE(buffer.writable_size(), 1024u - 100u);
    EXPECT_EQ(buffer.size(), 100u);
}

TEST(byte_buffer, the_storage_shared_before_is_used_again_once_let_go) {
    byte_buffer buffer(1024);
    read_into(buffer, std::string(900, 'a'));
    shared_bytes first = buffer.storage();
    const char* first_bytes = first.data();
    buffer.consume(900);
    read_into(buffer, std::string(900, 'b'), 1000);  // first is still held: new storage
    shared_bytes second = buffer.storage();
    EXPECT_NE(second.data(), first_bytes);
    buffer.consume(900);
    first = {};  // the requests in it were answered
    read_into(buffer, "c", 1000);  // second is held: back to the first, now free
    EXPECT_EQ(buffer.storage().data(), first_bytes);
    EXPECT_EQ(second.data()[0], 'b');
}

TEST(byte_buffer, growing_shared_bytes_keeps_them_where_they_are) {
    byte_buffer buffer(64);
    read_into(buffer, std::string(40, 'a'), 64);
    const shared_bytes held = buffer.storage();
    const char* bytes = buffer.readable().data();
    read_into(buffer, std::string(100, 'b'), 100);  // grows: the readable bytes are copied over
    EXPECT_EQ(buffer.readable(), std::string(40, 'a') + std::string(100, 'b'));
    EXPECT_EQ(std::string_view(bytes, 40), std::string(40, 'a'));
    EXPECT_GE(buffer.capacity(), 140u);
}

// A session's life in random steps: reads of random sizes into the room prepare_read gives,
// "requests" of random lengths consumed from the front, each shared (a handle kept, as a pooled
// connection does) or not, and handles let go in random order, as replies come. Whatever the
// buffer does to find room, the bytes read come out in order and no held request ever changes.
TEST(byte_buffer, random_reads_and_shared_requests_keep_every_byte_in_place) {
    std::uint32_t state = 12345;
    const auto next = [&state](std::uint32_t bound) {
        state = state * 1664525u + 1013904223u;
        return (state >> 8) % bound;
    };
    struct held_request {
        shared_bytes storage;
        std::string_view bytes;
        std::string copy;
    };
    byte_buffer buffer(1024);
    std::vector<held_request> held;
    std::string sent, received;
    char counter = 0;
    for (int step = 0; step < 20000; ++step) {
        const std::uint32_t action = next(10);
        if (action < 3) {  // a read of what the client sent, up to the room offered
            buffer.prepare_read(1024);
            ASSERT_GE(buffer.writable_size(), 256u);
            const std::size_t offered = std::min<std::size_t>(buffer.writable_size(), 2048);
            const std::size_t n = 1 + next(static_cast<std::uint32_t>(offered));
            for (std::size_t i = 0; i < n; ++i) buffer.writable()[i] = counter++;
            sent.append(buffer.writable(), n);
            buffer.commit(n);
        } else if (action < 7 && !buffer.empty()) {  // a request consumed, shared half the time
            // A third of the time the request ends where the read did, as a whole pipeline does.
            const std::size_t length =
                next(3) == 0 ? buffer.size()
                             : 1 + next(static_cast<std::uint32_t>(std::min<std::size_t>(buffer.size(), 1024)));
            const std::string_view request = buffer.readable().substr(0, length);
            received.append(request);
            if (next(2) == 0) {
                ASSERT_TRUE(buffer.holds(request));
                held.push_back({buffer.storage(), request, std::string(request)});
            }
            buffer.consume(length);
        } else if (!held.empty()) {  // a reply came: its request is let go (at most 64 wait)
            const std::size_t at = held.size() > 64 ? 0 : next(static_cast<std::uint32_t>(held.size()));
            ASSERT_EQ(held[at].bytes, held[at].copy);
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(at));
        }
        for (const held_request& request : held) ASSERT_EQ(request.bytes, request.copy) << "step " << step;
    }
    received.append(buffer.readable());
    EXPECT_EQ(received, sent);
}

// GCC 12 cannot tell that `a` and `c` share one count of 2 and warns that `a` reads freed memory
// after `c` lets go; ASan (the sanitized build runs this test) checks it for real.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
TEST(shared_bytes, owners_are_counted_and_the_last_frees) {
    shared_bytes a = shared_bytes::allocate(100);
    EXPECT_TRUE(a.unique());
    EXPECT_EQ(a.capacity(), 100u);
    shared_bytes b = a;
    EXPECT_EQ(a.owners(), 2u);
    EXPECT_FALSE(a.unique());
    shared_bytes c = std::move(b);
    EXPECT_FALSE(b);
    EXPECT_EQ(a.owners(), 2u);
    EXPECT_TRUE(a.holds(a.data() + 10, 90));
    EXPECT_FALSE(a.holds(a.data() + 10, 91));
    EXPECT_FALSE(a.holds(a.data() - 1, 1));
    c = {};
    EXPECT_TRUE(a.unique());
    a = a;  // NOLINT: self-assignment keeps it
    EXPECT_TRUE(a.unique());
    EXPECT_FALSE(shared_bytes().holds(nullptr, 0));
}
#pragma GCC diagnostic pop
