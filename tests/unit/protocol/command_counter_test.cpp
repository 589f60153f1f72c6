#include "redis_sidecar/protocol/command_counter.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "redis_sidecar/protocol/request_parser.hpp"
#include "test_support.hpp"

using redis_sidecar::protocol::command_counter;

namespace {

// Feeds `input` cut at `cuts`; returns the commands counted.
std::uint64_t count_in_pieces(std::string_view input, const std::vector<std::size_t>& cuts, command_counter& counter) {
    std::uint64_t total = 0;
    std::size_t begin = 0;
    for (std::size_t cut : cuts) {
        total += counter.feed(input.substr(begin, cut - begin));
        begin = cut;
    }
    return total + counter.feed(input.substr(begin));
}

void expect_count_for_every_split(std::string_view input, std::uint64_t expected) {
    for (const auto& [name, cuts] : split_plans(input.size())) {
        command_counter counter;
        EXPECT_EQ(count_in_pieces(input, cuts, counter), expected) << name << ": " << printable(input);
        EXPECT_TRUE(counter.in_sync()) << name;
    }
}

std::string multibulk(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
}

}  // namespace

TEST(CommandCounter, CountsMultibulkAndInlineCommandsHoweverTheStreamIsCut) {
    const std::string stream = multibulk({"PING"}) + multibulk({"SET", "k", "hello"}) + "GET k\r\n" +
                               multibulk({"GET", ""}) + "PING\n";
    expect_count_for_every_split(stream, 5);
}

TEST(CommandCounter, SkipsWhatRedisIgnores) {
    // Blank inline lines, "*0" and "*-1" are no commands.
    expect_count_for_every_split("\r\n  \r\n*0\r\n*-1\r\n" + multibulk({"PING"}), 1);
}

TEST(CommandCounter, PayloadBytesThatLookLikeCommandsAreNotCounted) {
    expect_count_for_every_split(multibulk({"SET", "k", "\r\n*1\r\n$4\r\nPING\r\nGET x\n"}), 1);
}

TEST(CommandCounter, PartialCommandIsCountedOnceComplete) {
    command_counter counter;
    EXPECT_EQ(counter.feed("*2\r\n$3\r\nGET\r\n$1\r\n"), 0u);
    EXPECT_EQ(counter.feed("k"), 0u);
    EXPECT_EQ(counter.feed("\r\n"), 1u);
}

TEST(CommandCounter, StopsCountingWhenTheStreamIsNotResp) {
    for (std::string bad : {"*x\r\n", "*2\r\n#3\r\n", "*1\r\n$-1\r\n", "*1\r\n$3\rX", "*--1\r\n", "*\r\n"}) {
        command_counter counter;
        counter.feed(bad);
        EXPECT_FALSE(counter.in_sync()) << printable(bad);
        EXPECT_EQ(counter.feed(multibulk({"PING"})), 0u) << printable(bad);
    }
}

TEST(CommandCounter, AgreesWithTheRequestParserOnRandomPipelines) {
    std::mt19937 random(7);
    for (int round = 0; round < 50; ++round) {
        std::string stream;
        const int commands = 1 + static_cast<int>(random() % 40);
        for (int c = 0; c < commands; ++c) {
            std::vector<std::string> args{"SET"};
            const int extra = static_cast<int>(random() % 4);
            for (int a = 0; a < extra; ++a) args.push_back(std::string(random() % 300, static_cast<char>('a' + a)));
            stream += multibulk(args);
        }
        redis_sidecar::protocol::request_parser parser;
        std::uint64_t parsed = 0;
        std::string_view rest = stream;
        while (!rest.empty()) {
            const auto result = parser.parse(rest);
            ASSERT_NE(result.status, redis_sidecar::protocol::parse_status::error);
            ASSERT_NE(result.status, redis_sidecar::protocol::parse_status::need_more);
            if (result.status == redis_sidecar::protocol::parse_status::complete) ++parsed;
            rest.remove_prefix(result.consumed);
        }
        command_counter counter;
        std::uint64_t counted = 0;
        for (std::size_t at = 0; at < stream.size();) {
            const std::size_t piece = 1 + random() % 700;
            counted += counter.feed(std::string_view(stream).substr(at, piece));
            at += piece;
        }
        EXPECT_EQ(counted, parsed) << "round " << round;
    }
}
