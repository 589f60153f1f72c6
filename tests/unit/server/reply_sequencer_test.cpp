// The reply sequencer without sockets: replies leave in request order whoever makes them (Redis,
// the sidecar at once, the local store after a journal commit), whatever order they are made in.
#include "redis_sidecar/server/reply_sequencer.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

using redis_sidecar::server::reply_action;
using redis_sidecar::server::reply_sequencer;

// Every allocation of this test binary goes through here, counted while `counting` is set. GCC
// inlines these replacements where containers allocate and free, and then takes the pair for
// operator new with free(): the warning does not apply to a replaced operator new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
bool counting = false;
std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
    if (counting) ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

constexpr std::string_view ok = "+OK\r\n";
constexpr std::string_view pong = "+PONG\r\n";
const std::string refused_commit_error =
    "-ERR the sidecar could not store this write durably: " + std::make_error_code(std::errc::no_space_on_device).message() +
    "\r\n";

class reply_sequencer_test : public ::testing::Test {
protected:
    reply_sequencer replies_;
    const reply_sequencer::clock::time_point read_at_ = reply_sequencer::clock::now();

    void SetUp() override { replies_.start_batch(read_at_); }

    // A durable answer of the local store: it appends its reply where replies go, and the
    // session then hands it over to be held.
    void answer_durably(std::string_view reply, std::uint64_t refusals_before = 0) {
        std::string& destination = replies_.local_reply_destination();
        const std::size_t start = destination.size();
        destination.append(reply);
        replies_.answered_durably(start, refusals_before);
    }

    void redis_replies(std::string_view reply) {
        replies_.upstream_reply(reply);
        replies_.upstream_reply_done();
    }

    // What is ready to write, taken as the session's write would take it.
    std::string written() {
        std::string out;
        out.swap(replies_.output());
        return out;
    }
};

}  // namespace

TEST_F(reply_sequencer_test, a_local_answer_waits_for_the_forwarded_request_before_it) {
    replies_.forwarded(reply_action::pass);
    replies_.answered_locally(pong);
    EXPECT_EQ(written(), "");
    redis_replies("$1\r\na\r\n");
    EXPECT_EQ(written(), "$1\r\na\r\n+PONG\r\n");
    EXPECT_FALSE(replies_.owes_replies());
}

TEST_F(reply_sequencer_test, a_reply_streamed_in_parts_goes_out_as_it_comes) {
    replies_.forwarded(reply_action::pass);
    replies_.upstream_reply("$10\r\n01234");
    EXPECT_EQ(written(), "$10\r\n01234");
    replies_.upstream_reply("56789\r\n");
    replies_.upstream_reply_done();
    EXPECT_EQ(written(), "56789\r\n");
}

// The brief's ordering: a forwarded request, a local answer behind it, then a durable answer and
// another local answer behind that.
TEST_F(reply_sequencer_test, forwarded_then_local_then_durable_leave_in_request_order) {
    replies_.forwarded(reply_action::pass);
    replies_.answered_locally(pong);
    answer_durably(ok);
    replies_.answered_locally(":1\r\n");
    EXPECT_EQ(replies_.inflight(), 2u);
    EXPECT_TRUE(replies_.has_uncommitted());
    EXPECT_EQ(written(), "");
    redis_replies("$1\r\na\r\n");
    EXPECT_EQ(written(), "$1\r\na\r\n+PONG\r\n") << "the durable answer went out before its commit";
    replies_.journal_committed({});
    EXPECT_EQ(written(), "+OK\r\n:1\r\n");
    EXPECT_FALSE(replies_.owes_replies());
    EXPECT_EQ(replies_.inflight(), 0u);
}

TEST_F(reply_sequencer_test, a_durable_answer_committed_before_redis_replies_still_waits_its_turn) {
    replies_.forwarded(reply_action::pass);
    answer_durably(ok);
    replies_.journal_committed({});
    EXPECT_FALSE(replies_.has_uncommitted());
    EXPECT_EQ(written(), "") << "the stored answer overtook the reply to the request before it";
    redis_replies(":7\r\n");
    EXPECT_EQ(written(), ":7\r\n+OK\r\n");
}

TEST_F(reply_sequencer_test, a_durable_answer_with_nothing_before_it_goes_out_at_the_commit) {
    answer_durably(ok, 3);
    EXPECT_EQ(replies_.uncommitted_refusals_before(), 3u);
    EXPECT_EQ(written(), "");
    replies_.journal_committed({});
    EXPECT_EQ(written(), "+OK\r\n");
}

TEST_F(reply_sequencer_test, the_refusal_count_is_the_first_uncommitted_answers) {
    answer_durably(ok, 3);
    answer_durably(ok, 5);
    EXPECT_EQ(replies_.uncommitted_refusals_before(), 3u);
    replies_.journal_committed({});
    answer_durably(ok, 5);
    EXPECT_EQ(replies_.uncommitted_refusals_before(), 5u);
}

TEST_F(reply_sequencer_test, a_refused_commit_turns_the_held_replies_into_errors) {
    answer_durably(ok);
    replies_.answered_locally(pong);
    answer_durably(":1\r\n");
    replies_.journal_committed(std::make_error_code(std::errc::no_space_on_device));
    EXPECT_EQ(written(), refused_commit_error + "+PONG\r\n" + refused_commit_error);
}

// A commit covers what was held before it: an answer stored by an earlier commit stays +OK
// when a later commit is refused.
TEST_F(reply_sequencer_test, a_refused_commit_fails_only_what_it_was_to_store) {
    replies_.forwarded(reply_action::pass);
    answer_durably(ok);
    replies_.journal_committed({});
    answer_durably(":1\r\n");
    replies_.journal_committed(std::make_error_code(std::errc::no_space_on_device));
    redis_replies(pong);
    EXPECT_EQ(written(), "+PONG\r\n+OK\r\n" + refused_commit_error);
}

// Redis failed before answering a replay-safe durable write, which the local store ran instead:
// its reply waits for the group commit in the failed request's place, and so does everything
// behind it, whether the failure's error or Redis's own late replies.
TEST_F(reply_sequencer_test, a_failed_requests_durable_replay_waits_for_the_commit_in_its_place) {
    for (int i = 0; i < 3; ++i) replies_.forwarded(reply_action::pass);
    replies_.answered_locally(pong);
    replies_.upstream_failed_durably(std::string(ok), 0);
    EXPECT_TRUE(replies_.has_uncommitted());
    replies_.upstream_failed("-ERR upstream Redis failed before replying\r\n");
    redis_replies(":3\r\n");
    EXPECT_EQ(written(), "") << "a reply overtook the held replay";
    EXPECT_EQ(replies_.inflight(), 1u);
    replies_.journal_committed({});
    EXPECT_EQ(written(), "+OK\r\n-ERR upstream Redis failed before replying\r\n:3\r\n+PONG\r\n");
    EXPECT_FALSE(replies_.owes_replies());
    EXPECT_EQ(replies_.inflight(), 0u);
}

TEST_F(reply_sequencer_test, a_failed_requests_durable_replay_commits_before_redis_answers_the_rest) {
    replies_.forwarded(reply_action::pass);
    replies_.forwarded(reply_action::pass);
    replies_.upstream_failed_durably(std::string(ok), 0);
    replies_.journal_committed({});
    EXPECT_EQ(written(), "+OK\r\n");
    redis_replies(":2\r\n");
    EXPECT_EQ(written(), ":2\r\n");
}

// The last request its run expected: the run itself is held, and the replies made while it was
// pending still follow it.
TEST_F(reply_sequencer_test, a_failed_last_request_of_a_run_keeps_the_replies_queued_behind_it) {
    replies_.forwarded(reply_action::mirror);
    replies_.answered_locally(pong);
    replies_.upstream_failed_durably(std::string(ok), 0);
    answer_durably(":1\r\n");
    replies_.journal_committed({});
    EXPECT_EQ(written(), "+OK\r\n+PONG\r\n:1\r\n");
}

TEST_F(reply_sequencer_test, several_failures_in_a_row_keep_their_order) {
    for (int i = 0; i < 4; ++i) replies_.forwarded(reply_action::pass);
    replies_.upstream_failed_durably("+OK1\r\n", 0);
    replies_.upstream_failed_durably("+OK2\r\n", 0);
    replies_.upstream_failed("-ERR unknown\r\n");
    replies_.upstream_failed_durably("+OK4\r\n", 0);
    EXPECT_EQ(written(), "");
    replies_.journal_committed({});
    EXPECT_EQ(written(), "+OK1\r\n+OK2\r\n-ERR unknown\r\n+OK4\r\n");
    EXPECT_FALSE(replies_.owes_replies());
}

TEST_F(reply_sequencer_test, a_refused_commit_fails_a_failed_requests_replay_too) {
    replies_.forwarded(reply_action::pass);
    replies_.upstream_failed_durably(std::string(ok), 0);
    replies_.journal_committed(std::make_error_code(std::errc::no_space_on_device));
    EXPECT_EQ(written(), refused_commit_error);
}

TEST_F(reply_sequencer_test, the_action_is_the_oldest_forwarded_requests) {
    replies_.forwarded(reply_action::mirror);
    replies_.forwarded(reply_action::pass);
    replies_.forwarded(reply_action::fail_closed_get);
    EXPECT_EQ(replies_.upstream_action(), reply_action::mirror);
    redis_replies(ok);
    EXPECT_EQ(replies_.upstream_action(), reply_action::pass);
    redis_replies(ok);
    EXPECT_EQ(replies_.upstream_action(), reply_action::fail_closed_get);
}

TEST_F(reply_sequencer_test, a_discarded_output_stays_empty_while_the_bookkeeping_goes_on) {
    replies_.forwarded(reply_action::pass);
    answer_durably(ok);
    replies_.discard_output();
    redis_replies(pong);
    replies_.journal_committed({});
    EXPECT_EQ(written(), "");
    EXPECT_FALSE(replies_.owes_replies());
    EXPECT_EQ(replies_.inflight(), 0u);
}

TEST_F(reply_sequencer_test, latencies_are_counted_by_kind_once_per_group) {
    replies_.forwarded(reply_action::pass);
    replies_.forwarded(reply_action::pass);
    replies_.answered_locally(pong);
    replies_.answered_locally(pong);
    replies_.finish_batch();
    answer_durably(ok);
    redis_replies(ok);
    redis_replies(ok);
    replies_.journal_committed({});
    ASSERT_TRUE(replies_.has_ready_latencies());
    std::vector<std::tuple<bool, std::uint32_t>> seen;
    replies_.take_latencies(read_at_ + std::chrono::microseconds(250), [&](bool local, std::uint64_t micros, std::uint32_t n) {
        EXPECT_EQ(micros, 250u);
        seen.emplace_back(local, n);
    });
    // The two made at once, the two from Redis, then the durable one.
    EXPECT_EQ(seen, (std::vector<std::tuple<bool, std::uint32_t>>{{true, 2}, {false, 2}, {true, 1}}));
    EXPECT_FALSE(replies_.has_ready_latencies());
}

// A pipeline of plain forwarded requests is one run with a counter: once a session's buffers
// have grown, 64 pipelined requests and their replies allocate nothing (one run each would
// outgrow the ring of 8 runs that the first request made).
TEST_F(reply_sequencer_test, a_plain_pipeline_allocates_nothing_once_warm) {
    replies_.forwarded(reply_action::pass);
    redis_replies(std::string(64 * ok.size(), 'x'));
    replies_.output().clear();
    replies_.take_latencies(read_at_, [](bool, std::uint64_t, std::uint32_t) {});

    allocations = 0;
    counting = true;
    replies_.start_batch(read_at_ + std::chrono::microseconds(1));
    for (int i = 0; i < 64; ++i) replies_.forwarded(reply_action::pass);
    for (int i = 0; i < 64; ++i) redis_replies(ok);
    replies_.finish_batch();
    replies_.take_latencies(read_at_, [](bool, std::uint64_t, std::uint32_t) {});
    counting = false;
    EXPECT_EQ(allocations, 0u);
    EXPECT_EQ(replies_.output().size(), 64 * ok.size());
}
