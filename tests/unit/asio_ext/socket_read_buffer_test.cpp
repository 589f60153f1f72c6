// socket_read_buffer: after a read that leaves the socket empty, the next read waits for the epoll
// edge instead of trying a recv that fails with EAGAIN, and still gets what arrives later.
#include "redis_sidecar/asio_ext/socket_read_buffer.hpp"

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
using redis_sidecar::asio_ext::socket_read_buffer;

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

// A connected pair of unix stream sockets: bytes written to `writer` are read from `reader`, one
// read at a time into a 100-byte buffer (of type Buffer), each read's bytes kept in `last_read`.
// run_one and poll restart the context first: it stops once it runs out of work.
template <typename Buffer>
struct socket_pair {
    asio::io_context io;
    asio::local::stream_protocol::socket reader{io};
    asio::local::stream_protocol::socket writer{io};
    char data[100];
    std::string last_read;

    socket_pair() { asio::local::connect_pair(reader, writer); }

    void start_read() {
        reader.async_read_some(Buffer(data, sizeof data), [this](boost::system::error_code ec, std::size_t n) {
            EXPECT_FALSE(ec);
            last_read.assign(data, n);
        });
    }
    void write(std::string_view bytes) { asio::write(writer, asio::buffer(bytes)); }
    void poll() {
        io.restart();
        io.poll();
    }
    void run_one() {
        io.restart();
        io.run_one();
    }
};

struct reads_seen {
    int recv_calls_to_start_second_read = 0;
    std::string second_read;
};

// A read is waiting when "hello" arrives (so the reactor reads it: 5 bytes into a 100-byte buffer);
// then a second read starts on the empty socket, and "world" arrives for it.
template <typename Buffer>
reads_seen two_reads() {
    socket_pair<Buffer> pair;
    pair.start_read();
    pair.poll();
    pair.write("hello");
    pair.run_one();
    EXPECT_EQ(pair.last_read, "hello");

    reads_seen seen;
    const int before = recv_calls;
    pair.start_read();
    pair.poll();
    seen.recv_calls_to_start_second_read = recv_calls - before;
    pair.write("world");
    pair.run_one();
    seen.second_read = pair.last_read;
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
    socket_pair<socket_read_buffer> pair;
    pair.write("one");
    pair.start_read();  // read at once (speculatively): short, so the socket counts as drained
    pair.poll();
    EXPECT_EQ(pair.last_read, "one");
    pair.write("two");  // before the next read starts
    pair.start_read();
    pair.run_one();
    EXPECT_EQ(pair.last_read, "two");
}
