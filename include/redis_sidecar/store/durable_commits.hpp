#pragma once
/// Group commit of the local store's journal across the sessions of one event loop: every session
/// that answered durable writes during a turn of the loop (revocations, locks, cache invalidations
/// while Redis is down, and the replay-safe writes the local store ran because Redis failed before
/// answering them) waits for one journal commit at the end of that turn, so concurrent clients
/// share one fsync instead of queueing one each. It is the only path that commits for replies.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

namespace redis_sidecar::store {

class local_service;

/// Holds replies that may go out once the journal records appended so far are stored.
class commit_waiter {
public:
    /// The commit it waited for is done; `ec` says the disk refused it (its replies must then not
    /// be acknowledged).
    virtual void on_journal_committed(std::error_code ec) = 0;

protected:
    ~commit_waiter() = default;
};

class durable_commits {
public:
    durable_commits(boost::asio::any_io_executor executor, local_service& local);

    /// `waiter` is told after the commit at the end of this turn of the event loop, which stores
    /// every journal record appended until then. `refusals_before` is the local result's of its
    /// first reply still waiting.
    void wait(std::shared_ptr<commit_waiter> waiter, std::uint64_t refusals_before);

    /// Commits now, for every waiter: a session about to forward behind a durable answer that is
    /// not stored yet (Redis came back meanwhile) cannot let Redis's reply overtake it.
    void commit_now() { commit_all(); }

private:
    void commit_all();

    boost::asio::any_io_executor executor_;
    local_service& local_;
    std::vector<std::shared_ptr<commit_waiter>> waiting_;
    std::uint64_t refusals_before_ = 0;  // the lowest of the waiters
    bool posted_ = false;
};

}  // namespace redis_sidecar::store
