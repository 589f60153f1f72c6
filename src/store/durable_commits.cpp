#include "redis_sidecar/store/durable_commits.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "redis_sidecar/store/local_service.hpp"

namespace redis_sidecar::store {

durable_commits::durable_commits(boost::asio::any_io_executor executor, local_service& local)
    : executor_(std::move(executor)), local_(local) {}

void durable_commits::wait(std::shared_ptr<commit_waiter> waiter, std::uint64_t refusals_before) {
    refusals_before_ = waiting_.empty() ? refusals_before : std::min(refusals_before_, refusals_before);
    waiting_.push_back(std::move(waiter));
    if (posted_) return;
    posted_ = true;
    // Posted behind the reads already ready in this turn: their durable writes join the commit.
    boost::asio::post(executor_, [this] { commit_all(); });
}

void durable_commits::commit_all() {
    posted_ = false;
    const std::error_code ec = local_.commit(refusals_before_);
    std::vector<std::shared_ptr<commit_waiter>> waiting;
    waiting.swap(waiting_);
    for (const auto& w : waiting) w->on_journal_committed(ec);
}

}  // namespace redis_sidecar::store
