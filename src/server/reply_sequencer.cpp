#include "redis_sidecar/server/reply_sequencer.hpp"

#include <utility>

#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::server {

void reply_sequencer::note_uncommitted(std::uint64_t refusals_before) {
    if (uncommitted_ == 0) uncommitted_refusals_before_ = refusals_before;
    ++uncommitted_;
}

void reply_sequencer::answered_durably(std::size_t reply_start, std::uint64_t refusals_before) {
    std::string& destination = local_reply_destination();
    held_.push_back(held_reply{destination.substr(reply_start), false});
    destination.resize(reply_start);
    note_uncommitted(refusals_before);
    runs_.push_back(reply_run{0, reply_action::pass, true, true, batch_started_, {}});
    ++inflight_;
}

// The failed request is the first its run expected from Redis. Every run in front of that run is
// a held one (upstream_run), so its held reply goes right after theirs, at the same index in
// held_. Its latency still counts as a forwarded request's.
void reply_sequencer::upstream_failed_durably(std::string reply, std::uint64_t refusals_before) {
    const std::size_t run = upstream_run();
    held_.insert(held_.begin() + static_cast<std::ptrdiff_t>(run), held_reply{std::move(reply), false});
    note_uncommitted(refusals_before);
    reply_run& head = runs_[run];
    if (head.upstream_count == 1) {
        // Its run expected nothing else from Redis: the run becomes the held one, and the
        // replies made while it was pending still follow it.
        head.upstream_count = 0;
        head.action = reply_action::pass;
        head.held = true;
        return;
    }
    --head.upstream_count;
    const clock::time_point started = head.started;
    runs_.insert(run, reply_run{0, reply_action::pass, true, false, started, {}});
}

// Every held reply so far is covered: the commit stores every journal record appended before it.
void reply_sequencer::journal_committed(std::error_code ec) {
    std::string failure;
    if (ec) protocol::write_error(failure, "ERR the sidecar could not store this write durably: " + ec.message());
    for (held_reply& h : held_) {
        if (h.committed) continue;
        if (ec) h.bytes = failure;
        h.committed = true;
    }
    uncommitted_ = 0;
    release_committed();
}

// Delivers the committed held replies whose runs have reached the front, each with the replies
// queued behind it.
void reply_sequencer::release_committed() {
    while (!runs_.empty() && runs_.front().held && held_.front().committed) {
        if (!discarding_) out_.append(held_.front().bytes);
        held_.erase(held_.begin());  // rarely more than one
        --inflight_;
        note_ready(runs_.front().started, 1, runs_.front().local_answer);
        pop_front_run();
    }
}

// A run behind held replies got its last reply from Redis: what it held behind it joins the
// replies queued after the held run in front of it.
void reply_sequencer::fold_finished_run(std::size_t run) {
    runs_[run - 1].local_after.append(runs_[run].local_after);
    runs_.erase(run);
}

void reply_sequencer::discard_output() {
    discarding_ = true;
    std::string().swap(out_);
}

}  // namespace redis_sidecar::server
