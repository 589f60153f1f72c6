#pragma once
/// The order of one client's replies, without sockets or timers (sans-io, in the manner of
/// Boost.Redis's multiplexer). The session tells it, in the client's order, what became of each
/// request (forwarded to Redis, answered at once, answered durably), then what becomes of each
/// forwarded one (Redis's reply bytes, or a failure and what replaces the reply) and when the
/// journal commit is done; it hands back the bytes ready to write, in request order.
///
/// Expected replies are kept as *runs*: "N replies from Redis, then these bytes the sidecar
/// answered itself", or "one durable reply held for the journal, then these bytes". A pipeline of
/// plain forwarded commands is one run with a counter, so the forwarding path does not allocate.
///
/// A durable reply (a revocation or a lock answered by the local store, or a replay-safe write
/// run there because Redis failed before answering it) may go out only once the journal commit
/// that stores it is done; a refused commit turns it into an error, so nothing is acknowledged
/// that is not stored. Once stored it still waits for its turn: a request forwarded before it
/// (Redis was up on another event loop, or came back) may not have its reply yet.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "redis_sidecar/protocol/ring_queue.hpp"

namespace redis_sidecar::server {

/// What the reply to a forwarded request needs before it goes to the client.
enum class reply_action : std::uint8_t {
    pass,
    append_sidecar_info,
    mirror,           ///< a write to a blacklist or lock key: the local store follows Redis
    fail_closed_get,  ///< GET of a blacklist key: a nil from Redis does not un-revoke a token
};

class reply_sequencer {
public:
    using clock = std::chrono::steady_clock;

    // --- One read's requests --------------------------------------------------------------------

    /// The requests that follow were read at `now`: their latency counts from then.
    void start_batch(clock::time_point now) { batch_started_ = now; }
    clock::time_point batch_started() const { return batch_started_; }
    /// The replies made at once since the last call are ready (one latency entry for them all).
    void finish_batch() {
        if (replied_now_ > 0) note_ready(batch_started_, replied_now_, true);
        replied_now_ = 0;
    }

    // --- What became of each request, in the client's order -------------------------------------

    /// Forwarded to Redis: its reply comes through upstream_reply() and upstream_reply_done().
    void forwarded(reply_action action) {
        ++inflight_;
        if (action == reply_action::pass && !runs_.empty()) {
            reply_run& last = runs_.back();
            if (last.action == reply_action::pass && !last.held && last.started == batch_started_ &&
                last.local_after.empty()) {
                ++last.upstream_count;
                return;
            }
        }
        runs_.push_back(reply_run{1, action, false, false, batch_started_, {}});
    }

    /// Where a reply the sidecar makes at once goes: behind every reply still expected (the
    /// local engine appends to it directly, with no buffer of its own). Then answered_locally().
    std::string& local_reply_destination() { return runs_.empty() ? out_ : runs_.back().local_after; }
    /// One reply was appended to local_reply_destination().
    void answered_locally() { ++replied_now_; }
    /// `reply`, made at once.
    void answered_locally(std::string_view reply) {
        local_reply_destination().append(reply);
        ++replied_now_;
    }
    /// The reply appended to local_reply_destination() from `reply_start` on is a durable answer:
    /// it is taken back and held, in its place, until the journal commit. `refusals_before` is
    /// the local store's result's (store::local_result).
    void answered_durably(std::size_t reply_start, std::uint64_t refusals_before);

    // --- The oldest forwarded request's reply ---------------------------------------------------

    /// What its reply needs before it goes to the client.
    reply_action upstream_action() const { return runs_[upstream_run()].action; }
    /// Bytes of its reply (the whole reply or a part of it), as they go to the client.
    void upstream_reply(std::string_view bytes) {
        if (discarding_) return;
        const std::size_t run = upstream_run();
        (run == 0 ? out_ : runs_[run - 1].local_after).append(bytes);
    }
    /// Its reply is complete.
    void upstream_reply_done() {
        --inflight_;
        const std::size_t run = upstream_run();
        reply_run& head = runs_[run];
        note_ready(head.started, 1, false);
        if (--head.upstream_count > 0) return;
        if (run > 0) return fold_finished_run(run);
        pop_front_run();
        if (!runs_.empty() && runs_.front().held) release_committed();
    }
    /// Redis failed before replying: `reply` (an error, or the local store's answer) takes the
    /// place of Redis's.
    void upstream_failed(std::string_view reply) {
        upstream_reply(reply);
        upstream_reply_done();
    }
    /// Redis failed before replying, and the local store ran the request as a durable write:
    /// `reply` is held in the place of Redis's until the journal commit.
    void upstream_failed_durably(std::string reply, std::uint64_t refusals_before);

    // --- The journal ----------------------------------------------------------------------------

    /// True while a held reply waits for a journal commit.
    bool has_uncommitted() const { return uncommitted_ > 0; }
    /// The local result's `refusals_before` of the first held reply still waiting.
    std::uint64_t uncommitted_refusals_before() const { return uncommitted_refusals_before_; }
    /// The journal commit that covers every held reply so far is done; `ec`: the disk refused it,
    /// and each of those replies becomes an error.
    void journal_committed(std::error_code ec);

    // --- Output ---------------------------------------------------------------------------------

    /// The bytes ready to write, in request order; the session writes from it and erases what
    /// it wrote.
    std::string& output() { return out_; }
    const std::string& output() const { return out_; }
    /// True while some request still has no reply in the output.
    bool owes_replies() const { return !runs_.empty(); }
    /// Replies owed: forwarded requests waiting for Redis, and held durable replies.
    std::uint32_t inflight() const { return inflight_; }
    /// The client is gone: the output is dropped and nothing more goes to it. The bookkeeping
    /// goes on (Redis's replies still come, the journal still commits).
    void discard_output();

    // --- Latency --------------------------------------------------------------------------------

    /// True when replies became ready since the last take_latencies().
    bool has_ready_latencies() const { return !ready_.empty(); }
    /// Calls `observe(local_answer, micros, count)` once per group of replies that became ready
    /// since the last call, `micros` measured from their requests' read to `now`.
    template <typename Observe>
    void take_latencies(clock::time_point now, Observe&& observe) {
        for (const ready_replies& r : ready_) {
            const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - r.started).count();
            observe(r.local_answer, static_cast<std::uint64_t>(micros), r.count);
        }
        ready_.clear();
    }

private:
    struct reply_run {
        /// Replies still expected from Redis (0 in a held run).
        std::uint32_t upstream_count;
        reply_action action;
        /// One held durable reply (held_'s entry) instead of replies from Redis.
        bool held;
        /// Its latency counts as a local answer's (a durable answer of the local store).
        bool local_answer;
        /// When the read that brought these requests was processed.
        clock::time_point started;
        /// Replies the sidecar made at once while these were pending, which go out after them.
        std::string local_after;
    };

    /// A durable reply, in the order of the held runs.
    struct held_reply {
        std::string bytes;
        bool committed;  ///< its journal commit is done (bytes are an error if the disk refused)
    };

    /// Replies that became ready, by when their requests were read: their latency is taken once
    /// per flush, not per reply.
    struct ready_replies {
        clock::time_point started;
        std::uint32_t count;
        bool local_answer;
    };

    // The oldest run still expecting replies from Redis. Held runs precede it only while Redis's
    // failure has just turned requests of it into held replies (rare): nearly always the front.
    std::size_t upstream_run() const {
        std::size_t run = 0;
        while (runs_[run].held) ++run;
        return run;
    }

    void note_ready(clock::time_point started, std::uint32_t count, bool local_answer) {
        if (!ready_.empty() && ready_.back().started == started && ready_.back().local_answer == local_answer)
            ready_.back().count += count;
        else
            ready_.push_back(ready_replies{started, count, local_answer});
    }

    void pop_front_run() {
        if (!discarding_) out_.append(runs_.front().local_after);
        runs_.pop_front();
    }

    void note_uncommitted(std::uint64_t refusals_before);
    void release_committed();
    void fold_finished_run(std::size_t run);

    protocol::ring_queue<reply_run> runs_;
    // (A vector, not a deque: an empty std::deque allocates, which 10,000 idle clients pay.)
    std::vector<held_reply> held_;
    std::string out_;
    std::uint32_t inflight_ = 0;
    std::size_t uncommitted_ = 0;
    std::uint64_t uncommitted_refusals_before_ = 0;
    bool discarding_ = false;

    clock::time_point batch_started_;
    std::uint32_t replied_now_ = 0;  // replies made at once in this batch
    std::vector<ready_replies> ready_;
};

}  // namespace redis_sidecar::server
