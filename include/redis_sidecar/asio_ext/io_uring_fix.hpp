#pragma once
/// Work-around for a bug of Boost 1.81's Asio io_uring backend; CMake includes this header first in
/// every translation unit when REDIS_SIDECAR_IO_URING is on (`-include`), and only then.
///
/// The bug: `io_uring_service` (boost/asio/detail/impl/io_uring_service.ipp) fills in a cancel
/// request (`io_uring_prep_cancel`: per-operation cancellation, `||` of awaitables, closing or
/// cancelling a socket) without setting its user_data, and liburing 2.3's prep functions leave that
/// field alone. A submission ring slot keeps what its previous request wrote, so once the ring has
/// wrapped (16384 requests) a cancel carries the user_data of some earlier request: a read or write
/// queue of another socket. Its completion (0 when it cancelled its target, -ENOENT when the target
/// had finished) is then taken for that queue's operation, which "completes" with EOF, 0 bytes
/// written or "No such file or directory" while the kernel still owns its buffer and will still
/// complete it; the real completion later lands on whatever operation is queued next. In the sidecar
/// the mirror feed cancels its read every second, which under load became client connections
/// closed, replies of zero bytes, and `malloc(): unsorted double linked list corrupted`.
///
/// Later Asio clears the user_data of every request it takes from the ring (`get_sqe`); this does
/// the same by wrapping liburing's `io_uring_get_sqe`, which Asio 1.81 calls as
/// `::io_uring_get_sqe(&ring_)`. Asio sets the user_data of every request that wants a completion
/// after taking it, so only the requests that want none (cancels, timeout removals) keep the zero,
/// and Asio ignores completions whose user_data is zero. tests/integration/asio_cancel_test.cpp
/// fails without this.

#include <liburing.h>

/// liburing's `io_uring_get_sqe`, with the entry's user_data cleared.
inline io_uring_sqe* redis_sidecar_io_uring_get_sqe(io_uring* ring) {
    io_uring_sqe* sqe = (io_uring_get_sqe)(ring);  // parenthesised: the function, not the macro below
    if (sqe != nullptr) io_uring_sqe_set_data64(sqe, 0);
    return sqe;
}

#define io_uring_get_sqe(ring) redis_sidecar_io_uring_get_sqe(ring)
