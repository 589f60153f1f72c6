// socket_read_buffer: after a read that leaves the socket empty, the next read waits for the epoll
// edge instead of trying a recv that fails with EAGAIN, and still gets what arrives later.
#include "redis_sidecar/upstream/socket_read_buffer.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <string>

namespace asio = boost::asio;
using redis_sidecar::upstream::socket_read_buffer;

namespace {
int recv_calls = 0;
}  // namespace

// Asio's reads end in ::recv; this binary's own definition is the one they call (the executable's
// symbol comes first), so every call is counted before libc's does the work.
extern "C" ssize_t recv(int fd, void* buffer, size_t length, int flags) {
    using recv_function = ssize_t (*)(int, void*, size_t, int);
    static const auto libc_recv = reinterpret_cast<recv_function>(dlsym(RTLD_NEXT, "recv"));
    ++recv_calls;
    return libc_recv(fd, buffer, length, flags);
}

namespace {

// io_context::run_one and poll stop the context once it runs out of work (a read's handler ran
// and none is pending): each step restarts it first.
void poll(asio::io_context& io) {
    io.restart();
    io.poll();
}
void run_one(asio::io_context& io) {
    io.restart();
    io.run_one();
}

struct reads_seen {
    int recv_calls_to_start_second_read = 0;
    std::string second_read;
};

// A read is waiting when "hello" arrives (so the reactor reads it: 5 bytes into a 100-byte buffer);
// then a second read starts on the empty socket, and "world" arrives for it.
template <typename Buffer>
reads_seen two_reads() {
    asio::io_context io;
    asio::local::stream_protocol::socket reader(io);
    asio::local::stream_protocol::socket writer(io);
    asio::local::connect_pair(reader, writer);
    char data[100];
    std::string first;
    reads_seen seen;

    reader.async_read_some(Buffer(data, sizeof data), [&](boost::system::error_code ec, std::size_t n) {
        EXPECT_FALSE(ec);
        first.assign(data, n);
    });
    poll(io);
    asio::write(writer, asio::buffer(std::string_view("hello")));
    run_one(io);
    EXPECT_EQ(first, "hello");

    const int before = recv_calls;
    reader.async_read_some(Buffer(data, sizeof data), [&](boost::system::error_code ec, std::size_t n) {
        EXPECT_FALSE(ec);
        seen.second_read.assign(data, n);
    });
    poll(io);
    seen.recv_calls_to_start_second_read = recv_calls - before;
    asio::write(writer, asio::buffer(std::string_view("world")));
    run_one(io);
    return seen;
}

}  // namespace

TEST(socket_read_buffer, a_read_after_a_short_one_waits_for_the_edge_without_a_recv) {
    const reads_seen seen = two_reads<socket_read_buffer>();
    EXPECT_EQ(seen.recv_calls_to_start_second_read, 0);
    EXPECT_EQ(seen.second_read, "world");
}

TEST(socket_read_buffer, asio_alone_tries_a_recv_that_fails) {
    // What the buffer saves: the same reads through a plain buffer cost a recv (EAGAIN) each.
    const reads_seen seen = two_reads<asio::mutable_buffer>();
    EXPECT_EQ(seen.recv_calls_to_start_second_read, 1);
    EXPECT_EQ(seen.second_read, "world");
}

TEST(socket_read_buffer, bytes_that_arrive_before_the_next_read_starts_are_read) {
    asio::io_context io;
    asio::local::stream_protocol::socket reader(io);
    asio::local::stream_protocol::socket writer(io);
    asio::local::connect_pair(reader, writer);
    char data[100];
    std::string got;
    auto read = [&] {
        reader.async_read_some(socket_read_buffer(data, sizeof data),
                               [&](boost::system::error_code ec, std::size_t n) {
                                   EXPECT_FALSE(ec);
                                   got.assign(data, n);
                               });
    };
    asio::write(writer, asio::buffer(std::string_view("one")));
    read();  // read at once (speculatively): short, so the socket counts as drained
    poll(io);
    EXPECT_EQ(got, "one");
    asio::write(writer, asio::buffer(std::string_view("two")));  // before the next read starts
    read();
    run_one(io);
    EXPECT_EQ(got, "two");
}
