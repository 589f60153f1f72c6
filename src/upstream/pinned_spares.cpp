#include "redis_sidecar/upstream/pinned_spares.hpp"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cerrno>

namespace asio = boost::asio;

namespace redis_sidecar::upstream {

namespace {
// A spare idle since it was opened has nothing to read: bytes or an EOF mean Redis closed it (a
// restart, CLIENT KILL, its timeout) and it must not carry a client's command.
bool still_open(pinned_connection& connection) {
    char byte;
    const ssize_t n = ::recv(connection.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
}  // namespace

std::unique_ptr<pinned_connection> pinned_spares::take() {
    std::unique_ptr<pinned_connection> taken;
    while (!ready_.empty() && !taken) {
        taken = std::move(ready_.back());
        ready_.pop_back();
        if (!still_open(*taken)) taken.reset();  // its slot is released with it
    }
    refill();
    return taken;
}

void pinned_spares::refill() {
    if (opening_ || ready_.size() >= count_ || !owner_->up()) return;
    opening_ = true;
    asio::co_spawn(owner_->executor(), [self = shared_from_this()] { return self->open_spares(); }, asio::detached);
}

void pinned_spares::clear() {
    ++generation_;
    ready_.clear();
}

asio::awaitable<void> pinned_spares::open_spares() {
    const unsigned generation = generation_;
    while (ready_.size() < count_ && owner_->up() && generation == generation_) {
        auto connection = pinned_connection::try_create(owner_);
        if (!connection) break;  // every pinned slot is in use: clients come first
        const open_result opened = co_await connection->async_open({});
        if (!opened.error.empty() || generation != generation_) break;
        ready_.push_back(std::move(connection));
    }
    opening_ = false;
}

}  // namespace redis_sidecar::upstream
