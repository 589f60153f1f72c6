#include "redis_sidecar/server/pinned_info.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using redis_sidecar::server::pinned_info;

namespace {

const std::string section = "# Sidecar\r\nmode:up\r\n";

std::string multibulk(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
}

std::string bulk(const std::string& body) { return "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n"; }

const std::string redis_info_body = "# Server\r\nredis_version:7.0.15\r\n";
const std::string redis_info = bulk(redis_info_body);
const std::string info_with_section = bulk(redis_info_body + "\r\n" + section);

// A pinned connection: what Redis and the client receive when `requests` pass one way and
// `replies` the other, each in pieces of `piece` bytes, as the session's two pipes pass them.
struct pipe_run {
    std::string to_redis;
    std::string to_client;
    std::uint64_t requests = 0;
};

std::string pass_in_pieces(std::string_view input, std::size_t piece, bool from_client, pinned_info& filter,
                           std::uint64_t& requests) {
    std::string pending;  // what the session's buffer holds
    std::string out;
    for (std::size_t at = 0; at < input.size() || !pending.empty();) {
        if (at < input.size()) {
            pending.append(input.substr(at, piece));
            at += piece;
        }
        const auto forward = from_client ? filter.from_client(pending) : filter.from_redis(pending);
        requests += forward.requests;
        out.append(forward.bytes);
        pending.erase(0, forward.consumed);
        if (at >= input.size() && forward.consumed == 0) break;  // held for good: an incomplete input
    }
    return out;
}

pipe_run run(const std::string& requests, const std::string& replies, std::size_t piece = 1 << 20) {
    pinned_info filter([] { return section; });
    pipe_run result;
    result.to_redis = pass_in_pieces(requests, piece, true, filter, result.requests);
    std::uint64_t ignored = 0;
    result.to_client = pass_in_pieces(replies, piece, false, filter, ignored);
    return result;
}

}  // namespace

TEST(PinnedInfo, InfoSidecarGoesToRedisAsEchoOfTheSection) {
    const std::string requests = multibulk({"SELECT", "1"}) + multibulk({"INFO", "sidecar"}) + multibulk({"GET", "k"});
    const pipe_run result = run(requests, "");
    EXPECT_EQ(result.to_redis, multibulk({"SELECT", "1"}) + multibulk({"ECHO", section}) + multibulk({"GET", "k"}));
    EXPECT_EQ(result.requests, 3u);
}

TEST(PinnedInfo, TheSectionIsAppendedToTheReplyOfInfoWithAllSectionsHoweverTheBytesArrive) {
    const std::string requests = multibulk({"SELECT", "1"}) + multibulk({"INFO"}) + multibulk({"GET", "k"}) +
                                 multibulk({"info", "ALL"}) + multibulk({"INFO", "server"}) +
                                 multibulk({"INFO", "server", "sidecar"});
    const std::string replies = "+OK\r\n" + redis_info + bulk("# Server not INFO") + redis_info + redis_info + redis_info;
    const std::string expected =
        "+OK\r\n" + info_with_section + bulk("# Server not INFO") + info_with_section + redis_info + info_with_section;
    for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{1} << 20}) {
        const pipe_run result = run(requests, replies, piece);
        EXPECT_EQ(result.to_redis, requests) << "pieces of " << piece;
        EXPECT_EQ(result.to_client, expected) << "pieces of " << piece;
    }
}

TEST(PinnedInfo, NothingIsAppendedOnceRepliesNoLongerPairWithRequests) {
    // After SUBSCRIBE a request may get several replies (or none): the count says nothing.
    const std::string requests = multibulk({"SUBSCRIBE", "a", "b"}) + multibulk({"UNSUBSCRIBE"}) + multibulk({"INFO"});
    const std::string replies = "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n" +
                                std::string("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n") + redis_info;
    const pipe_run result = run(requests, replies, 5);
    EXPECT_EQ(result.to_client, replies);
}

TEST(PinnedInfo, InsideMultiInfoIsQueuedAndAnsweredByRedisAlone) {
    const std::string requests = multibulk({"MULTI"}) + multibulk({"INFO"}) + multibulk({"EXEC"}) + multibulk({"INFO"});
    const std::string replies = "+OK\r\n+QUEUED\r\n*1\r\n" + redis_info + redis_info;
    const pipe_run result = run(requests, replies, 4);
    EXPECT_EQ(result.to_client, "+OK\r\n+QUEUED\r\n*1\r\n" + redis_info + info_with_section);
}

TEST(PinnedInfo, AReplyThatIsNotInfosWhereItWasExpectedStopsEveryChange) {
    // A renamed SUBSCRIBE, say, which the scanner cannot know: the count is off.
    const std::string requests = multibulk({"INFO"}) + multibulk({"INFO"});
    const std::string replies = "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n" + redis_info;
    const pipe_run result = run(requests, replies, 3);
    EXPECT_EQ(result.to_client, replies);
}

TEST(PinnedInfo, ALargeReplyStreamsOnBeforeItIsWhole) {
    pinned_info filter([] { return section; });
    EXPECT_EQ(filter.from_client(multibulk({"GET", "big"}) + multibulk({"INFO"})).consumed, 22u + 14u);
    const std::string start = "$100000\r\n" + std::string(50000, 'x');
    const auto forward = filter.from_redis(start);
    EXPECT_EQ(forward.consumed, start.size());
    EXPECT_TRUE(forward.bytes == start);
    const std::string rest = std::string(50000, 'x') + "\r\n" + redis_info;
    const auto second = filter.from_redis(rest);
    EXPECT_EQ(second.consumed, rest.size());
    EXPECT_TRUE(second.bytes == std::string(50000, 'x') + "\r\n" + info_with_section);
}

TEST(PinnedInfo, TheReplyThatGetsTheSectionWaitsUntilItIsWhole) {
    pinned_info filter([] { return section; });
    filter.from_client(multibulk({"INFO"}));
    const auto partial = filter.from_redis(redis_info.substr(0, 10));
    EXPECT_EQ(partial.consumed, 0u);
    const auto whole = filter.from_redis(redis_info);
    EXPECT_EQ(whole.consumed, redis_info.size());
    EXPECT_EQ(whole.bytes, info_with_section);
}
