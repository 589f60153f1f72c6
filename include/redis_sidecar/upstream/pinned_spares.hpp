#pragma once
/// Pinned connections opened ahead, so that a client's first stateful command leaves at once.
///
/// Opening a dedicated connection takes a round trip or more (connect, AUTH, INFO); a client's
/// first MULTI, BLPOP or XREADGROUP would wait for it while commands other clients send just after
/// it reach Redis first over the shared pool, and run before it (an XREADGROUP ... BLOCK then
/// another client's DEL of the stream: the reader would get NOGROUP instead of being unblocked).
/// A few connections are kept open and authenticated (database 0, RESP2, no name: what a new
/// client's connection is); a client takes one and its command is written in the same turn of the
/// event loop. Each spare holds one of the pool's pinned slots. One per event loop, on its thread.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <vector>

#include "redis_sidecar/upstream/pinned_connection.hpp"
#include "redis_sidecar/upstream/pool.hpp"

namespace redis_sidecar::upstream {

class pinned_spares : public std::enable_shared_from_this<pinned_spares> {
public:
    /// Keeps `count` spares of `owner`'s (none: every pinned connection is opened on demand).
    pinned_spares(std::shared_ptr<pool> owner, unsigned count) : owner_(std::move(owner)), count_(count) {}

    /// An open spare whose socket is still alive, or null (none ready: open one on demand).
    /// Opening its replacement starts at once.
    std::unique_ptr<pinned_connection> take();
    /// Opens spares up to the count while Redis is up and pinned slots are free (Redis came up).
    void refill();
    /// Closes every spare (Redis went down, or shutdown); `refill` opens them again.
    void clear();

    std::size_t ready() const { return ready_.size(); }

private:
    boost::asio::awaitable<void> open_spares();

    std::shared_ptr<pool> owner_;
    unsigned count_;
    std::vector<std::unique_ptr<pinned_connection>> ready_;
    bool opening_ = false;
    unsigned generation_ = 0;  // clear() makes spares still being opened obsolete
};

}  // namespace redis_sidecar::upstream
