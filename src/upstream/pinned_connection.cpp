#include "redis_sidecar/upstream/pinned_connection.hpp"

namespace redis_sidecar::upstream {

std::unique_ptr<pinned_connection> pinned_connection::try_create(std::shared_ptr<pool> owner) {
    if (!owner->try_acquire_pinned()) return nullptr;
    return std::unique_ptr<pinned_connection>(new pinned_connection(std::move(owner)));
}

pinned_connection::pinned_connection(std::shared_ptr<pool> owner)
    : owner_(std::move(owner)), stream_(owner_->executor(), owner_->settings().tls) {}

pinned_connection::~pinned_connection() { owner_->release_pinned(); }

boost::asio::awaitable<open_result> pinned_connection::async_open(std::string_view client_name) {
    return upstream::async_open(stream_, owner_->settings(), rx_, client_name);
}

}  // namespace redis_sidecar::upstream
