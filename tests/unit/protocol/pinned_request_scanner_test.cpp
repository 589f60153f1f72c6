#include "redis_sidecar/protocol/pinned_request_scanner.hpp"

#include "redis_sidecar/catalogue/command_catalogue.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "redis_sidecar/protocol/request_parser.hpp"
#include "test_support.hpp"

using redis_sidecar::protocol::pinned_request_scanner;

namespace {

// What a scanner reported over a whole stream: requests counted, and where each INFO request
// found lies in the stream (start, length).
struct findings {
    std::uint64_t requests = 0;
    std::vector<std::pair<std::size_t, std::size_t>> info;
};

// Scans `piece`, the next bytes of a stream of which `before` were given already, as the session
// does: again after each INFO found.
void scan_piece(pinned_request_scanner& scanner, std::string_view piece, std::size_t before, findings& out) {
    std::size_t done = 0;
    while (done < piece.size()) {
        const auto step = scanner.scan(piece.substr(done));
        done += step.scanned;
        out.requests += step.requests;
        if (step.info) out.info.emplace_back(before + done - scanner.info_length(), scanner.info_length());
    }
}

findings scan_in_pieces(std::string_view input, const std::vector<std::size_t>& cuts, pinned_request_scanner& scanner) {
    findings out;
    std::size_t begin = 0;
    for (std::size_t cut : cuts) {
        scan_piece(scanner, input.substr(begin, cut - begin), begin, out);
        begin = cut;
    }
    scan_piece(scanner, input.substr(begin), begin, out);
    return out;
}

void expect_for_every_split(std::string_view input, std::uint64_t requests,
                            const std::vector<std::pair<std::size_t, std::size_t>>& info = {}) {
    for (const auto& [name, cuts] : split_plans(input.size())) {
        pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
        const findings found = scan_in_pieces(input, cuts, scanner);
        EXPECT_EQ(found.requests, requests) << name << ": " << printable(input);
        EXPECT_EQ(found.info, info) << name << ": " << printable(input);
        EXPECT_TRUE(scanner.in_sync()) << name;
        EXPECT_EQ(scanner.held(), 0u) << name;
    }
}

std::string multibulk(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
}

}  // namespace

TEST(PinnedRequestScanner, CountsMultibulkAndInlineCommandsHoweverTheStreamIsCut) {
    const std::string stream = multibulk({"PING"}) + multibulk({"SET", "k", "hello"}) + "GET k\r\n" +
                               multibulk({"GET", ""}) + "PING\n";
    expect_for_every_split(stream, 5);
}

TEST(PinnedRequestScanner, SkipsWhatRedisIgnores) {
    // Blank inline lines and a count of 0 or below are no commands.
    expect_for_every_split("\r\n  \r\n*0\r\n*-1\r\n*-2\r\n*-9223372036854775808\r\n" + multibulk({"PING"}), 1);
}

TEST(PinnedRequestScanner, AnInlineLineWithANulNeverEndsAsInRedis) {
    // Redis finds an inline line's end with strchr, which stops at a NUL: it waits for more.
    for (const std::string& line : {std::string("\0PING\r\n", 7), std::string("INFO\0x\r\n", 8)}) {
        pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
        const auto step = scanner.scan(line + "PING\r\n");
        EXPECT_EQ(step.requests, 0u) << printable(line);
        EXPECT_FALSE(step.info) << printable(line);
        EXPECT_FALSE(scanner.in_sync()) << printable(line);
        EXPECT_EQ(scanner.held(), 0u) << printable(line);
    }
}

TEST(PinnedRequestScanner, TakesAnyByteAfterAHeadersCrForItsLfAsRedisDoes) {
    expect_for_every_split("*2\rX$4\r\nINFO\r\n$7\r\xffsidecar\r\n", 1, {{0, 27}});
}

TEST(PinnedRequestScanner, PayloadBytesThatLookLikeCommandsAreNotCounted) {
    expect_for_every_split(multibulk({"SET", "k", "\r\n*1\r\n$4\r\nINFO\r\nINFO x\n"}), 1);
}

TEST(PinnedRequestScanner, PartialCommandIsCountedOnceComplete) {
    pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
    EXPECT_EQ(scanner.scan("*2\r\n$3\r\nGET\r\n$1\r\n").requests, 0u);
    EXPECT_EQ(scanner.scan("k").requests, 0u);
    EXPECT_EQ(scanner.scan("\r\n").requests, 1u);
}

TEST(PinnedRequestScanner, StopsCountingWhenTheStreamIsNotResp) {
    for (std::string bad : {"*x\r\n", "*2\r\n#3\r\n", "*1\r\n$-1\r\n", "*1\r\n$3x\r\n", "*1\r\n$-2\r\n", "*--1\r\n", "*\r\n",
                            "*2\r\n$4\r\ninfo\r\n$x"}) {
        pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
        scanner.scan(bad);
        EXPECT_FALSE(scanner.in_sync()) << printable(bad);
        EXPECT_EQ(scanner.held(), 0u) << printable(bad) << ": Redis must see it to answer the error";
        const std::string after = multibulk({"INFO"});
        const auto step = scanner.scan(after);
        EXPECT_EQ(step.requests, 0u) << printable(bad);
        EXPECT_FALSE(step.info) << printable(bad);
        EXPECT_EQ(step.scanned, after.size()) << printable(bad) << ": a caller scanning until the end would spin";
    }
}

TEST(PinnedRequestScanner, FindsEachInfoRequestWhereverItIsCut) {
    const std::string set = multibulk({"SET", "k", "v"});
    const std::string info_sidecar = multibulk({"info", "SIDECAR"});
    const std::string get = multibulk({"GET", "k"});
    const std::string inline_info = "\v InFo\t \vsidecar  \r\n";
    const std::string bare_inline = "INFO\n";
    const std::string info_all = multibulk({"INFO", "all"});
    const std::string stream = set + info_sidecar + get + inline_info + bare_inline + info_all;
    std::size_t at = set.size();
    std::vector<std::pair<std::size_t, std::size_t>> expected{{at, info_sidecar.size()}};
    at += info_sidecar.size() + get.size();
    expected.emplace_back(at, inline_info.size());
    at += inline_info.size();
    expected.emplace_back(at, bare_inline.size());
    at += bare_inline.size();
    expected.emplace_back(at, info_all.size());
    expect_for_every_split(stream, 6, expected);
}

TEST(PinnedRequestScanner, OtherNamesAreNotInfo) {
    for (const std::string& other : std::vector<std::string>{multibulk({"INFX", "sidecar"}), multibulk({"INFOS"}), multibulk({"INF"}),
                                    multibulk({"SET", "INFO", "x"}), "infox sidecar\r\n", "\"info\" sidecar\r\n",
                                    "xinfo\r\n", "inf\r\n", "\vinfo\v sidecar\r\n"}) {
        expect_for_every_split(other, 1);
    }
}

TEST(PinnedRequestScanner, HoldsOnlyWhatMayStillBeAnInfoRequest) {
    pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
    const std::string partial_info = "*2\r\n$4\r\nINFO\r\n$7\r\nside";
    EXPECT_FALSE(scanner.scan(partial_info).info);
    EXPECT_EQ(scanner.held(), partial_info.size());
    const auto step = scanner.scan("car\r\n");
    EXPECT_TRUE(step.info);
    EXPECT_EQ(scanner.info_length(), partial_info.size() + 5);
    EXPECT_EQ(scanner.held(), 0u);

    // A large value streams through: its request is not held at any point.
    pinned_request_scanner streaming{redis_sidecar::catalogue::pinned_request_effect};
    streaming.scan("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n");
    EXPECT_EQ(streaming.held(), 0u);
    const std::string chunk(1000, 'x');
    for (int i = 0; i < 100; ++i) {
        streaming.scan(chunk);
        ASSERT_EQ(streaming.held(), 0u);
    }
    EXPECT_EQ(streaming.scan("\r\n").requests, 1u);

    // Once a name differs from INFO, its request goes on at once.
    pinned_request_scanner named{redis_sidecar::catalogue::pinned_request_effect};
    named.scan("*1\r\n$4\r\nINFX");
    EXPECT_EQ(named.held(), 0u);
    named.scan("\r\n*1\r\n$4\r\nIN");
    EXPECT_EQ(named.held(), 10u);
}

TEST(PinnedRequestScanner, AnInfoRequestLongerThanTheLimitGoesToRedisAsItIs) {
    // "*2\r\n$4\r\nINFO\r\n$490\r\n" and the trailing CRLF are 22 bytes.
    const std::string at_limit = multibulk({"INFO", std::string(pinned_request_scanner::max_info_request - 22, 's')});
    ASSERT_EQ(at_limit.size(), pinned_request_scanner::max_info_request);
    expect_for_every_split(at_limit, 1, {{0, at_limit.size()}});
    const std::string over = multibulk({"INFO", std::string(pinned_request_scanner::max_info_request, 's')});
    pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
    scanner.scan(over.substr(0, over.size() - 1));
    EXPECT_EQ(scanner.held(), 0u);
    expect_for_every_split(over, 1);
    const std::string long_inline = "INFO " + std::string(pinned_request_scanner::max_info_request, 's') + "\r\n";
    expect_for_every_split(long_inline, 1);
}

TEST(PinnedRequestScanner, AgreesWithTheRequestParserOnRandomPipelines) {
    std::mt19937 random(7);
    const std::vector<std::string> names{"SET", "INFO", "info", "GET", "INFOX"};
    for (int round = 0; round < 50; ++round) {
        std::string stream;
        const int commands = 1 + static_cast<int>(random() % 40);
        for (int c = 0; c < commands; ++c) {
            std::vector<std::string> args{names[random() % names.size()]};
            const int extra = static_cast<int>(random() % 4);
            for (int a = 0; a < extra; ++a) args.push_back(std::string(random() % 300, static_cast<char>('a' + a)));
            stream += multibulk(args);
        }
        redis_sidecar::protocol::request_parser parser;
        findings parsed;
        for (std::size_t at = 0; at < stream.size();) {
            const auto result = parser.parse(std::string_view(stream).substr(at));
            ASSERT_EQ(result.status, redis_sidecar::protocol::parse_status::complete);
            ++parsed.requests;
            const std::string_view name = parser.args()[0];
            if ((name == "INFO" || name == "info") && result.consumed <= pinned_request_scanner::max_info_request)
                parsed.info.emplace_back(at, result.consumed);
            at += result.consumed;
        }
        std::vector<std::size_t> cuts;
        for (std::size_t at = 1 + random() % 700; at < stream.size(); at += 1 + random() % 700) cuts.push_back(at);
        pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
        const findings scanned = scan_in_pieces(stream, cuts, scanner);
        EXPECT_EQ(scanned.requests, parsed.requests) << "round " << round;
        EXPECT_EQ(scanned.info, parsed.info) << "round " << round;
    }
}

TEST(PinnedRequestScanner, FollowsTransactionsAndWhetherRepliesStillPairWithRequests) {
    pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
    scanner.scan(multibulk({"SELECT", "1"}) + multibulk({"multi"}) + multibulk({"SET", "k", "v"}));
    EXPECT_EQ(scanner.requests(), 3u);
    EXPECT_TRUE(scanner.in_multi());
    EXPECT_TRUE(scanner.replies_paired());
    scanner.scan(multibulk({"EXEC"}) + "get k\r\n");
    EXPECT_FALSE(scanner.in_multi());
    EXPECT_EQ(scanner.requests(), 5u);
    scanner.scan("MULTI\r\n" + multibulk({"DISCARD"}));
    EXPECT_FALSE(scanner.in_multi());
    EXPECT_TRUE(scanner.replies_paired());
    // A name as long as the classified ones, or longer, changes nothing.
    scanner.scan(multibulk({"subscribex"}) + multibulk({std::string(100, 's')}));
    EXPECT_TRUE(scanner.replies_paired());

    for (const std::string& unpairing :
         std::vector<std::string>{multibulk({"SUBSCRIBE", "a"}), multibulk({"psubscribe", "a*"}), multibulk({"SSUBSCRIBE", "a"}),
                                  multibulk({"UNSUBSCRIBE", "a", "b"}), multibulk({"MONITOR"}),
                                  multibulk({"CLIENT", "REPLY", "OFF"}), multibulk({"HELLO", "3"}), multibulk({"RESET"}),
                                  multibulk({"PSYNC", "?", "-1"}), "  monitor\r\n", "\"get\" k\r\n", "*1\r\n$x"}) {
        for (const auto& [name, cuts] : split_plans(unpairing.size())) {
            pinned_request_scanner one{redis_sidecar::catalogue::pinned_request_effect};
            std::size_t begin = 0;
            for (const std::size_t cut : cuts) {
                for (std::size_t at = begin; at < cut;) at += one.scan(std::string_view(unpairing).substr(at, cut - at)).scanned;
                begin = cut;
            }
            for (std::size_t at = begin; at < unpairing.size();) at += one.scan(std::string_view(unpairing).substr(at)).scanned;
            EXPECT_FALSE(one.replies_paired()) << name << ": " << printable(unpairing);
        }
    }
}
