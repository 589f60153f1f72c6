#pragma once
/// Group commit of the local store's journal across the sessions of one event loop: every session
/// that answered durable writes (revocations, locks, cache invalidations while Redis is down)
/// during a turn of the loop waits for one journal commit at the end of that turn, so concurrent
/// clients share one fsync instead of queueing one each.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <vector>

namespace redis_sidecar::server {

class local_service;
class session;

class durable_commits {
public:
    durable_commits(boost::asio::any_io_executor executor, local_service& local);

    /// `waiter` holds replies that may go out once the journal records appended so far are
    /// stored; it is told (session::on_journal_committed) after the commit at the end of this turn.
    /// `refusals_before` is the local result's of its first reply still waiting.
    void wait(std::shared_ptr<session> waiter, std::uint64_t refusals_before);

    /// Commits now, for every waiter: a session about to forward behind a durable answer that is
    /// not stored yet (Redis came back meanwhile) cannot let Redis's reply overtake it.
    void commit_now() { commit_all(); }

private:
    void commit_all();

    boost::asio::any_io_executor executor_;
    local_service& local_;
    std::vector<std::shared_ptr<session>> waiting_;
    std::uint64_t refusals_before_ = 0;  // the lowest of the waiters
    bool posted_ = false;
};

}  // namespace redis_sidecar::server
