// The reply framer on every RESP2 and RESP3 type, fed whole, split in two at every byte offset and
// byte by byte, both with the caller keeping each reply until it is complete and with the caller
// streaming every scanned byte onward at once (discard_prefix). Also numbers.hpp and the writer.

#include "redis_sidecar/protocol/reply_framer.hpp"

#include <gtest/gtest.h>

#include "protocol_drivers.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"

namespace redis_sidecar::protocol {
namespace {

using namespace std::string_literals;

using drive::caller;
using outcome = drive::frame_outcome;

}  // namespace

namespace drive {
void PrintTo(const outcome& o, std::ostream* os) {
    *os << "replies {";
    for (const std::size_t n : o.replies) *os << ' ' << n;
    *os << " } then "
        << (o.end == frame_status::complete ? "nothing" : o.end == frame_status::need_more ? "need_more" : "error");
}
}  // namespace drive

namespace {

outcome replies(std::vector<std::size_t> lengths, frame_status end = frame_status::complete) {
    return {std::move(lengths), end};
}
outcome one(std::string_view reply) { return replies({reply.size()}); }
const outcome pending = replies({}, frame_status::need_more);
const outcome broken = replies({}, frame_status::error);

// Feeds `input` cut at the increasing offsets `cuts` to one framer.
outcome frame(std::string_view input, const std::vector<std::size_t>& cuts, caller mode) {
    return drive::frame_stream(input, cuts, mode, [](bool ok, const char* what) { EXPECT_TRUE(ok) << what; });
}

::testing::AssertionResult every_split(std::string_view input, const outcome& expected) {
    auto check = [&](const std::vector<std::size_t>& cuts, caller mode,
                     const std::string& how) -> ::testing::AssertionResult {
        const outcome got = frame(input, cuts, mode);
        if (got == expected) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "input \"" << printable(input) << "\" " << how
                                             << (mode == caller::streams ? " (streaming)" : "") << ": got "
                                             << ::testing::PrintToString(got) << ", expected "
                                             << ::testing::PrintToString(expected);
    };
    for (const caller mode : {caller::keeps, caller::streams})
        for (const auto& [name, cuts] : split_plans(input.size()))
            if (auto r = check(cuts, mode, name); !r) return r;
    return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Every type

TEST(reply_framer, simple_types) {
    for (const char* reply : {"+OK\r\n", "+\r\n", "-ERR wrong number of arguments for 'get' command\r\n",
                              "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", ":0\r\n",
                              ":-9223372036854775808\r\n", "_\r\n", ",3.14\r\n", ",-inf\r\n", ",nan\r\n", "#t\r\n",
                              "#f\r\n", "(3492890328409238509324850943850943825024385\r\n", "(-1\r\n"})
        EXPECT_TRUE(every_split(reply, one(reply)));
}

TEST(reply_framer, bulk_types) {
    for (const std::string& reply : {"$5\r\nhello\r\n"s, "$0\r\n\r\n"s, "$-1\r\n"s, "$8\r\n*1\r\n+x\r\n\r\n"s,
                                    "$6\r\na\r\n\0\r\n\r\n"s, "!21\r\nSYNTAX invalid syntax\r\n"s, "!0\r\n\r\n"s,
                                    "=15\r\ntxt:Some string\r\n"s, "=4\r\ntxt:\r\n"s})
        EXPECT_TRUE(every_split(reply, one(reply)));
}

TEST(reply_framer, aggregate_types) {
    for (const char* reply :
         {"*2\r\n$3\r\nfoo\r\n:1\r\n", "*0\r\n", "*-1\r\n", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", "%0\r\n",
          "~3\r\n+a\r\n+b\r\n+c\r\n", "~0\r\n", ">3\r\n+message\r\n+somechannel\r\n+this is the message\r\n",
          ">0\r\n", "*3\r\n$-1\r\n_\r\n*-1\r\n"})
        EXPECT_TRUE(every_split(reply, one(reply)));
}

TEST(reply_framer, nested_aggregates) {
    const std::string nested = "*3\r\n*2\r\n:1\r\n*0\r\n%1\r\n+k\r\n~1\r\n_\r\n$-1\r\n";
    EXPECT_TRUE(every_split(nested, one(nested)));
    const std::string map_of_maps = "%2\r\n+a\r\n%1\r\n+x\r\n*2\r\n:1\r\n:2\r\n+b\r\n%0\r\n";
    EXPECT_TRUE(every_split(map_of_maps, one(map_of_maps)));
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "*1\r\n";
    deep += ":1\r\n";
    EXPECT_TRUE(every_split(deep, one(deep)));
}

TEST(reply_framer, attributes) {
    // The example of the RESP3 specification: an attribute map, then the reply it describes.
    const std::string spec =
        "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n";
    EXPECT_TRUE(every_split(spec, one(spec)));
    for (const char* reply : {
             "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n",         // inside an array: not counted as an element
             "*1\r\n|1\r\n+a\r\n+b\r\n:5\r\n",                // before the last element
             "|1\r\n+a\r\n+b\r\n_\r\n",                       // before a null
             "|0\r\n:1\r\n",                                  // empty
             "|1\r\n+a\r\n+b\r\n|1\r\n+c\r\n+d\r\n:1\r\n",    // two in a row
             "|1\r\n+a\r\n|1\r\n+x\r\n+y\r\n+b\r\n:1\r\n",    // on a value inside an attribute
             "%1\r\n+k\r\n|1\r\n+a\r\n+b\r\n*0\r\n",          // on a map value
         })
        EXPECT_TRUE(every_split(reply, one(reply))) << reply;
    // An attribute alone is not a reply yet.
    EXPECT_TRUE(every_split("|1\r\n+a\r\n+b\r\n", pending));
}

TEST(reply_framer, replies_back_to_back) {
    const std::vector<std::string> parts = {"+OK\r\n",   "$3\r\nfoo\r\n", ":7\r\n",  "*2\r\n+a\r\n*-1\r\n",
                                            "-ERR x\r\n", "$-1\r\n",       "%1\r\n+k\r\n#f\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n",
                                            "_\r\n",     ">2\r\n+p\r\n+q\r\n"};
    std::string all;
    std::vector<std::size_t> lengths;
    for (const std::string& p : parts) {
        all += p;
        lengths.push_back(p.size());
    }
    EXPECT_TRUE(every_split(all, replies(lengths)));
    EXPECT_TRUE(every_split(all + "*2\r\n:1\r\n", replies(lengths, frame_status::need_more)));
}

TEST(reply_framer, partial_replies_need_more) {
    for (const char* partial : {"+OK", "+OK\r", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r", "*2\r\n:1\r\n", "%1\r\n+k\r\n",
                                "*1\r\n*1\r\n", ":", "$"})
        EXPECT_TRUE(every_split(partial, pending)) << partial;
}

TEST(reply_framer, large_counts_and_lengths_wait_for_bytes) {
    EXPECT_TRUE(every_split("%4611686018427387903\r\n", pending));
    EXPECT_TRUE(every_split("*9223372036854775807\r\n", pending));
    EXPECT_TRUE(every_split("$9223372036854775807\r\n", pending));
}

// ---------------------------------------------------------------------------------------------
// Malformed input

TEST(reply_framer, malformed_input_is_an_error) {
    for (const std::string& bad : {
             "?\r\n"s, "\r\n"s, "\0\r\n"s, "+OK\rX"s, "$abc\r\n"s, "$-2\r\n"s, "$01\r\n"s, "$+1\r\n"s, "$ 1\r\n"s,
             "$\r\n"s, "$-0\r\n"s, "!-1\r\n"s, "=-1\r\n"s, "*-2\r\n"s, "~-1\r\n"s, "%-1\r\n"s, ">-1\r\n"s, "|-1\r\n"s,
             "*1\r\n?\r\n"s, "*x\r\n"s, "*9223372036854775808\r\n"s, "$9223372036854775808\r\n"s,
             // RESP3 streamed strings and aggregates: Redis never sends them.
             "$?\r\n;4\r\nHell\r\n;0\r\n"s, "*?\r\n:1\r\n.\r\n"s,
             // A map or attribute whose pair count doubled overflows int64.
             "%4611686018427387904\r\n"s, "|4611686018427387904\r\n"s, "%9223372036854775807\r\n"s,
         })
        EXPECT_TRUE(every_split(bad, broken)) << printable(bad);
    // Replies before the bad byte are still framed.
    EXPECT_TRUE(every_split("+OK\r\n:1\r\n@\r\n", replies({5, 4}, frame_status::error)));
}

TEST(reply_framer, long_lines_are_framed) {
    // A Lua script can make Redis send an error or status line of any length (redis.error_reply
    // of a large string): it must not look like a broken stream.
    const std::string long_error = "-" + std::string(200 * 1024, 'e');
    for (const caller mode : {caller::keeps, caller::streams}) {
        EXPECT_EQ(frame(long_error, {16 * 1024}, mode), pending);
        EXPECT_EQ(frame(long_error + "\r\n", {16 * 1024}, mode), one(long_error + "\r\n"));
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming with discard_prefix

TEST(reply_framer, scanned_covers_a_bulk_body_not_yet_received) {
    const std::string reply = "$100000\r\n" + std::string(100000, 'b') + "\r\n";
    reply_framer framer;
    std::string_view buffer = std::string_view(reply).substr(0, 1000);
    EXPECT_EQ(framer.next(buffer).status, frame_status::need_more);
    // The header tells the whole length, so all of it may be passed on as it arrives.
    EXPECT_EQ(framer.scanned(), reply.size());

    std::size_t forwarded = 0;
    std::size_t received = 1000;
    std::size_t total = 0;
    for (;;) {
        const frame_result r = framer.next(std::string_view(reply).substr(forwarded, received - forwarded));
        if (r.status == frame_status::complete) {
            total = forwarded + r.length;
            break;
        }
        ASSERT_EQ(r.status, frame_status::need_more);
        const std::size_t n = std::min(framer.scanned(), received - forwarded);
        framer.discard_prefix(n);
        forwarded += n;
        received = std::min(received + 7777, reply.size());
    }
    EXPECT_EQ(total, reply.size());
    EXPECT_EQ(framer.scanned(), 0u);
}

TEST(reply_framer, streaming_an_aggregate_forwards_finished_elements) {
    const std::string reply = "*3\r\n$5\r\nhello\r\n:42\r\n$5\r\nworld\r\n";
    reply_framer framer;
    // Up to the middle of the integer: the header and the first bulk are scanned.
    EXPECT_EQ(framer.next(std::string_view(reply).substr(0, 18)).status, frame_status::need_more);
    EXPECT_EQ(framer.scanned(), 15u);
    framer.discard_prefix(15);
    EXPECT_EQ(framer.scanned(), 0u);
    const frame_result r = framer.next(std::string_view(reply).substr(15));
    EXPECT_EQ(r.status, frame_status::complete);
    EXPECT_EQ(15 + r.length, reply.size());
}

TEST(reply_framer, streaming_pipeline_totals) {
    std::string all;
    std::vector<std::size_t> lengths;
    for (const std::string& part : {"$20000\r\n" + std::string(20000, 'x') + "\r\n", "+OK\r\n"s,
                                    "*2\r\n$30000\r\n" + std::string(30000, 'y') + "\r\n$0\r\n\r\n", ":1\r\n"s}) {
        all += part;
        lengths.push_back(part.size());
    }
    for (const std::size_t step : {1u, 7u, 1000u, 4096u}) {
        std::vector<std::size_t> cuts;
        for (std::size_t cut = step; cut < all.size(); cut += step) cuts.push_back(cut);
        EXPECT_EQ(frame(all, cuts, caller::streams), replies(lengths)) << step;
        EXPECT_EQ(frame(all, cuts, caller::keeps), replies(lengths)) << step;
    }
}

TEST(reply_framer, reset_forgets_the_current_reply) {
    reply_framer framer;
    EXPECT_EQ(framer.next("*2\r\n$3\r\nfo").status, frame_status::need_more);
    framer.reset();
    EXPECT_EQ(framer.scanned(), 0u);
    const frame_result r = framer.next("+OK\r\n");
    EXPECT_EQ(r.status, frame_status::complete);
    EXPECT_EQ(r.length, 5u);
}

// ---------------------------------------------------------------------------------------------
// numbers.hpp

TEST(numbers, parse_int64_accepts_what_string2ll_accepts) {
    const std::pair<const char*, std::int64_t> good[] = {
        {"0", 0},
        {"1", 1},
        {"-1", -1},
        {"10", 10},
        {"-10", -10},
        {"1234567890", 1234567890},
        {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
        {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
        {"-9223372036854775807", -9223372036854775807LL},
    };
    for (const auto& [text, expected] : good) {
        std::int64_t value = 12345;
        EXPECT_TRUE(parse_int64(text, value)) << text;
        EXPECT_EQ(value, expected) << text;
    }
}

TEST(numbers, parse_int64_rejects_what_string2ll_rejects) {
    for (const std::string& text :
         {""s, "-"s, "+"s, "+1"s, "01"s, "00"s, "-0"s, "-01"s, " 1"s, "1 "s, "\t1"s, "1\0"s, "\0"s, "1a"s, "a1"s, "0x10"s,
          "1e3"s, "1.0"s, "--1"s, "9223372036854775808"s, "-9223372036854775809"s, "18446744073709551615"s,
          "18446744073709551616"s, "99999999999999999999"s, "-99999999999999999999"s, "123456789012345678901"s,
          "000000000000000000001"s}) {
        std::int64_t value = 0;
        EXPECT_FALSE(parse_int64(text, value)) << printable(text);
    }
}

TEST(numbers, parse_int64_reads_only_the_view) {
    // The view may end in the middle of a longer buffer.
    const std::string buffer = "12345";
    std::int64_t value = 0;
    EXPECT_TRUE(parse_int64(std::string_view(buffer).substr(0, 2), value));
    EXPECT_EQ(value, 12);
}

TEST(numbers, format_int64) {
    const std::pair<std::int64_t, const char*> cases[] = {
        {0, "0"},
        {1, "1"},
        {-1, "-1"},
        {10, "10"},
        {-1234567890, "-1234567890"},
        {std::numeric_limits<std::int64_t>::max(), "9223372036854775807"},
        {std::numeric_limits<std::int64_t>::min(), "-9223372036854775808"},
    };
    for (const auto& [value, expected] : cases) {
        char out[21];
        std::memset(out, '#', sizeof out);
        const std::size_t n = format_int64(value, out);
        EXPECT_EQ(std::string_view(out, n), expected);
        EXPECT_LE(n, 20u);
        EXPECT_EQ(out[20], '#');  // never more than the promised 20 bytes
        std::int64_t back = 0;
        EXPECT_TRUE(parse_int64(std::string_view(out, n), back));
        EXPECT_EQ(back, value);
    }
}

// ---------------------------------------------------------------------------------------------
// reply_writer.hpp

TEST(reply_writer, writes_each_type_as_redis_does) {
    std::string out;
    write_simple(out, "OK");
    EXPECT_EQ(out, "+OK\r\n");
    out.clear();
    write_error(out, "ERR syntax error");
    EXPECT_EQ(out, "-ERR syntax error\r\n");
    out.clear();
    write_integer(out, 0);
    write_integer(out, -7);
    write_integer(out, std::numeric_limits<std::int64_t>::min());
    write_integer(out, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(out, ":0\r\n:-7\r\n:-9223372036854775808\r\n:9223372036854775807\r\n");
    out.clear();
    write_bulk(out, "");
    write_bulk(out, "a\r\n\0b"s);
    EXPECT_EQ(out, "$0\r\n\r\n$5\r\na\r\n\0b\r\n"s);
    out.clear();
    write_null_bulk(out);
    write_null_array(out);
    write_array_header(out, 3);
    EXPECT_EQ(out, "$-1\r\n*-1\r\n*3\r\n");
    out.clear();
    write_bulk_array(out, {"a", "bc"});
    write_bulk_array(out, {});
    EXPECT_EQ(out, "*2\r\n$1\r\na\r\n$2\r\nbc\r\n*0\r\n");
}

TEST(reply_writer, appends_to_what_is_there) {
    std::string out = "prefix";
    write_simple(out, "PONG");
    EXPECT_EQ(out, "prefix+PONG\r\n");
}

TEST(reply_writer, output_frames_as_one_reply_each) {
    std::string out;
    std::vector<std::size_t> lengths;
    auto mark = [&](std::size_t before) { lengths.push_back(out.size() - before); };
    std::size_t before = out.size();
    write_simple(out, "OK");
    mark(before);
    before = out.size();
    write_error(out, "ERR x");
    mark(before);
    before = out.size();
    write_integer(out, -42);
    mark(before);
    before = out.size();
    write_bulk(out, std::string(70000, 'z'));
    mark(before);
    before = out.size();
    write_null_bulk(out);
    mark(before);
    before = out.size();
    write_null_array(out);
    mark(before);
    before = out.size();
    write_array_header(out, 2);
    write_bulk(out, "k");
    write_integer(out, 1);
    mark(before);
    before = out.size();
    write_bulk_array(out, {"x", "", "y\r\n"});
    mark(before);
    EXPECT_EQ(frame(out, {}, caller::keeps), replies(lengths));
    EXPECT_EQ(frame(out, {3, 100, 5000}, caller::streams), replies(lengths));
}

TEST(reply_writer, bulk_array_is_a_command_the_parser_reads) {
    std::string out;
    write_bulk_array(out, {"SET", "k", "a\r\nb"});
    request_parser parser;
    const parse_result r = parser.parse(out);
    ASSERT_EQ(r.status, parse_status::complete);
    EXPECT_EQ(r.consumed, out.size());
    ASSERT_EQ(parser.args().size(), 3u);
    EXPECT_EQ(parser.args()[2], "a\r\nb");
}

}  // namespace
}  // namespace redis_sidecar::protocol
