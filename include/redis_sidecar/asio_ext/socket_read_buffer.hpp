#pragma once
/// The buffer of an `async_read_some` on a plain (TCP or unix) socket: a read that returns fewer
/// bytes than the buffer holds tells Asio's reactor that the socket is drained.
///
/// Why: Boost 1.81's epoll reactor starts every read with a speculative `recv` and marks the
/// socket drained only at EOF, so after a read that emptied the socket, the next one is a `recv`
/// that fails with EAGAIN before the reactor waits for the epoll edge: one wasted system call per
/// client read, which at -P 1 nearly doubles the reads a request costs. Marked
/// drained, the reactor skips that attempt and waits for the edge, which the next bytes raise
/// (EPOLLET: an arrival after the short read makes a new edge, and the reactor then reads again
/// whether or not a read is queued). Later Asio versions offer the same as a reactor option
/// (`reset_edge_on_partial_read`).
///
/// The price: a FIN reported in the same epoll event as the last bytes is not seen by the short
/// read that takes those bytes, and raises no later edge, so the next read would wait for good.
/// A client that half-closes (`nc -N`) would never be closed: a client session therefore probes
/// an idle reader's socket once (`session::probe_for_unseen_eof`, in the once-a-second sweep). A
/// shared connection to Redis needs no probe: an idle one sends a heartbeat PING, whose write or
/// missing reply fails it.
///
/// How: the reactor asks the operation (`reactive_socket_recv_op_base<Buffers>::do_perform`)
/// whether the read left the socket "exhausted". That member is specialized below for this buffer
/// type only; every other read in the program keeps Asio's behaviour. The io_uring backend
/// (REDIS_SIDECAR_IO_URING) does not use these operations.

#include <boost/asio/buffer.hpp>
#include <boost/asio/socket_base.hpp>  // before the detail header, which uses it without including it
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <cstddef>

namespace redis_sidecar::asio_ext {

/// One contiguous buffer, as `boost::asio::buffer(data, size)`.
class socket_read_buffer : public boost::asio::mutable_buffer {
public:
    socket_read_buffer(void* data, std::size_t size) : boost::asio::mutable_buffer(data, size) {}
};

}  // namespace redis_sidecar::asio_ext

namespace boost::asio::detail {

template <>
inline reactor_op::status reactive_socket_recv_op_base<::redis_sidecar::asio_ext::socket_read_buffer>::do_perform(
    reactor_op* base) {
    auto* op = static_cast<reactive_socket_recv_op_base*>(base);
    const bool stream = (op->state_ & socket_ops::stream_oriented) != 0;
    if (!socket_ops::non_blocking_recv1(op->socket_, op->buffers_.data(), op->buffers_.size(), op->flags_, stream,
                                        op->ec_, op->bytes_transferred_))
        return not_done;  // EAGAIN: the reactor waits for the edge
    // Short (including EOF's zero bytes, which is where Asio itself stops): nothing more is there.
    if (stream && op->bytes_transferred_ < op->buffers_.size()) return done_and_exhausted;
    return done;
}

}  // namespace boost::asio::detail
