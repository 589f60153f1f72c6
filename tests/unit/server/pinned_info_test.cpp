#include "redis_sidecar/server/pinned_info.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "redis_sidecar/protocol/request_parser.hpp"

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

TEST(PinnedInfo, AReplyFarLongerThanInfosIsNotHeld) {
    // Were the count off, a large value could sit where INFO's reply was expected.
    pinned_info filter([] { return section; });
    filter.from_client(multibulk({"INFO"}) + multibulk({"INFO"}));
    const std::string large = "$4000000\r\n" + std::string(pinned_info::max_info_reply + 10, 'x');
    const auto forward = filter.from_redis(large);
    EXPECT_EQ(forward.consumed, large.size());
    const std::string rest = std::string(4000000 - pinned_info::max_info_reply - 10, 'x') + "\r\n" + redis_info;
    const auto second = filter.from_redis(rest);
    EXPECT_EQ(second.consumed, rest.size());
    EXPECT_TRUE(second.bytes == rest) << "after a reply out of place nothing is changed";
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

namespace {

// A stand-in for Redis on a pinned connection: answers the requests that reach it one by one, as
// Redis 7.0 would for this small set (INFO's reply shortened).
class model_redis {
public:
    std::string answer(std::string_view to_redis) {
        std::string replies;
        pending_.append(to_redis);
        for (;;) {
            const auto parsed = parser_.parse(pending_);
            if (parsed.status != redis_sidecar::protocol::parse_status::complete) break;
            std::vector<std::string> args(parser_.args().begin(), parser_.args().end());
            pending_.erase(0, parsed.consumed);
            replies += run(args);
        }
        return replies;
    }

private:
    std::string run(const std::vector<std::string>& args) {
        const std::string& name = args[0];
        if (name == "MULTI") {
            in_multi_ = true;
            return "+OK\r\n";
        }
        if (name == "EXEC") {
            in_multi_ = false;
            std::string reply = "*" + std::to_string(queued_.size()) + "\r\n";
            for (const auto& q : queued_) reply += execute(q);
            queued_.clear();
            return reply;
        }
        if (in_multi_) {
            queued_.push_back(args);
            return "+QUEUED\r\n";
        }
        return execute(args);
    }

    std::string execute(const std::vector<std::string>& args) {
        const std::string& name = args[0];
        if (name == "SET") {
            values_[args[1]] = args[2];
            return "+OK\r\n";
        }
        if (name == "GET") return values_.count(args[1]) ? bulk(values_[args[1]]) : "$-1\r\n";
        if (name == "ECHO") return bulk(args[1]);
        if (name == "INFO") return redis_info;
        return "+PONG\r\n";
    }

    redis_sidecar::protocol::request_parser parser_;
    std::string pending_;
    bool in_multi_ = false;
    std::vector<std::vector<std::string>> queued_;
    std::map<std::string, std::string> values_;
};

// Feeds `bytes` to `pass` in random pieces, as reads deliver them; returns what it sends on.
template <typename Pass>
std::string in_random_pieces(std::string_view bytes, std::mt19937& random, Pass pass) {
    std::string pending;
    std::string out;
    for (std::size_t at = 0; at < bytes.size();) {
        const std::size_t piece = 1 + random() % 40;
        pending.append(bytes.substr(at, piece));
        at += piece;
        const pinned_info::forward forward = pass(std::string_view(pending));
        out.append(forward.bytes);
        pending.erase(0, forward.consumed);
    }
    EXPECT_TRUE(pending.empty()) << "bytes held at the end of a stream of whole messages";
    return out;
}

}  // namespace

TEST(PinnedInfo, RandomPipelinesGetEachReplyInPlaceWithTheSectionExactlyWhereItBelongs) {
    std::mt19937 random(11);
    for (int round = 0; round < 300; ++round) {
        std::string requests;
        std::string expected;  // what the client must get, built from the same model
        std::string expected_to_redis;
        model_redis reference;
        bool in_multi = false;
        std::vector<std::string> queued;  // expected elements of the open transaction's EXEC
        const int count = 1 + static_cast<int>(random() % 30);
        for (int i = 0; i < count; ++i) {
            std::vector<std::string> args;
            switch (random() % 8) {
                case 0: args = {"SET", "k" + std::to_string(random() % 3), random() % 2 ? "# Server\r\nlike INFO" : "v"}; break;
                case 1: args = {"GET", "k" + std::to_string(random() % 3)}; break;
                case 2: args = {"INFO"}; break;
                case 3: args = {"INFO", "server"}; break;
                case 4: args = {"INFO", "sidecar"}; break;
                case 5: args = {"INFO", "all", "sidecar"}; break;
                case 6: args = {in_multi ? "EXEC" : "MULTI"}; break;
                default: args = {"PING"}; break;
            }
            requests += multibulk(args);
            // The client's view: INFO sidecar is the section; INFO with all sections gets it
            // appended outside MULTI; inside MULTI everything is queued and EXEC's array holds
            // what Redis answers to what reached it (ECHO of the section for INFO sidecar).
            std::vector<std::string> reaching = args;
            if (args.size() == 2 && args[0] == "INFO" && args[1] == "sidecar") reaching = {"ECHO", section};
            expected_to_redis += multibulk(reaching);
            std::string answer = reference.answer(multibulk(reaching));
            const bool all_sections = args[0] == "INFO" && (args.size() == 1 || args.size() == 3);
            if (!in_multi && all_sections) answer = info_with_section;
            expected += answer;
            if (args[0] == "MULTI") in_multi = true;
            if (args[0] == "EXEC") in_multi = false;
        }
        pinned_info filter([] { return section; });
        model_redis redis;
        std::string replies;
        const std::string to_redis = in_random_pieces(requests, random, [&](std::string_view data) {
            const auto forward = filter.from_client(data);
            replies += redis.answer(forward.bytes);
            return forward;
        });
        const std::string to_client =
            in_random_pieces(replies, random, [&](std::string_view data) { return filter.from_redis(data); });
        ASSERT_TRUE(to_redis == expected_to_redis) << "round " << round;
        ASSERT_TRUE(to_client == expected) << "round " << round;
    }
}
