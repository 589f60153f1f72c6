// The request parser against Redis 7.0's networking.c (processMultibulkBuffer, processInlineBuffer),
// sds.c (sdssplitargs) and util.c (string2ll). Every input is fed whole, split in two at every
// byte offset and byte by byte, with the caller's buffer both kept in place and moved between
// calls, and every run must report the same commands.

#include "redis_sidecar/protocol/request_parser.hpp"

#include <gtest/gtest.h>

#include "protocol_drivers.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace redis_sidecar::protocol {
namespace {

using namespace std::string_literals;  // "...\0..."s keeps NUL bytes

using drive::buffering;
using event = drive::parse_event;

}  // namespace

namespace drive {
void PrintTo(const event& e, std::ostream* os) {
    switch (e.status) {
        case parse_status::complete: *os << (e.is_inline ? "inline[" : "multibulk["); break;
        case parse_status::empty: *os << "empty["; break;
        case parse_status::need_more: *os << "need_more["; break;
        case parse_status::error: *os << "error[" << e.error; break;
    }
    for (const std::string& a : e.args) *os << " \"" << printable(a) << '"';
    *os << "] consumed " << e.consumed;
}
}  // namespace drive

namespace {

std::string describe(const std::vector<event>& events) {
    std::string out;
    for (const event& e : events) {
        std::ostringstream os;
        PrintTo(e, &os);
        out += "\n  " + os.str();
    }
    return out;
}

event command(std::vector<std::string> args, std::size_t consumed) {
    return {parse_status::complete, consumed, std::move(args), false, {}};
}
event inline_command(std::vector<std::string> args, std::size_t consumed) {
    return {parse_status::complete, consumed, std::move(args), true, {}};
}
event empty(std::size_t consumed) { return {parse_status::empty, consumed, {}, false, {}}; }
event failure(std::string message) { return {parse_status::error, 0, {}, false, std::move(message)}; }
// The input ended inside a command.
event more() { return {}; }

// A command in the multibulk form clients send.
std::string multibulk(const std::vector<std::string>& args) {
    // Appended piece by piece: GCC 12's -Wrestrict misfires on "literal" + std::string at -O2
    // (GCC bug 105651).
    std::string out = "*";
    out += std::to_string(args.size());
    out += "\r\n";
    for (const std::string& a : args) {
        out += '$';
        out += std::to_string(a.size());
        out += "\r\n";
        out += a;
        out += "\r\n";
    }
    return out;
}

struct setup {
    parser_limits limits{};
    bool authenticated = true;
};

// Drives one parser over `input` cut at the increasing offsets `cuts`, as a session does.
std::vector<event> drive(std::string_view input, const std::vector<std::size_t>& cuts, buffering mode,
                         const setup& s) {
    request_parser parser(s.limits);
    parser.set_authenticated(s.authenticated);
    return drive::parse_stream(parser, input, cuts, mode, [](bool ok, const char* what) { EXPECT_TRUE(ok) << what; });
}

// Whole, split in two at every offset, and byte by byte, in both buffering modes.
::testing::AssertionResult every_split(std::string_view input, const std::vector<event>& expected,
                                       const setup& s = {}) {
    auto check = [&](const std::vector<std::size_t>& cuts, buffering mode,
                     const std::string& how) -> ::testing::AssertionResult {
        const std::vector<event> got = drive(input, cuts, mode, s);
        if (got == expected) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure()
               << "input \"" << printable(input) << "\" " << how << " ("
               << (mode == buffering::moved ? "moved" : "in place") << ")\n got:" << describe(got)
               << "\n expected:" << describe(expected);
    };
    for (const buffering mode : {buffering::in_place, buffering::moved})
        for (const auto& [name, cuts] : split_plans(input.size()))
            if (auto r = check(cuts, mode, name); !r) return r;
    return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Multibulk

TEST(request_parser, multibulk_command) {
    const std::string set = multibulk({"SET", "key", "value"});
    EXPECT_TRUE(every_split(set, {command({"SET", "key", "value"}, set.size())}));
}

TEST(request_parser, multibulk_empty_argument) {
    const std::string in = "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
    EXPECT_TRUE(every_split(in, {command({"ECHO", ""}, in.size())}));
}

TEST(request_parser, multibulk_is_binary_safe) {
    // CRLF, NUL and things that look like RESP headers inside bulks are just bytes.
    const std::vector<std::string> args = {"SET", "a\r\nb\0c"s, "*3\r\n$3\r\n\0\0"s, "\r\n", "\0"s};
    const std::string in = multibulk(args);
    EXPECT_TRUE(every_split(in, {command(args, in.size())}));
}

TEST(request_parser, pipeline_of_commands) {
    const std::string a = multibulk({"GET", "a"});
    const std::string b = multibulk({"INCR", "counter"});
    const std::string c = "PING\r\n";
    const std::string d = multibulk({"MGET", "x", "y", "z"});
    const std::string e = "set k \"v w\"\n";
    EXPECT_TRUE(every_split(a + b + c + d + e,
                            {command({"GET", "a"}, a.size()), command({"INCR", "counter"}, b.size()),
                             inline_command({"PING"}, c.size()), command({"MGET", "x", "y", "z"}, d.size()),
                             inline_command({"set", "k", "v w"}, e.size())}));
}

TEST(request_parser, pipeline_ending_in_a_partial_command) {
    const std::string a = multibulk({"GET", "a"});
    const std::string partial = multibulk({"SET", "k", "value"}).substr(0, 17);
    EXPECT_TRUE(every_split(a + partial, {command({"GET", "a"}, a.size()), more()}));
}

TEST(request_parser, zero_and_negative_counts_are_ignored) {
    // processMultibulkBuffer returns C_OK with argc 0 for ll <= 0; processInputBuffer resets.
    const std::string get = multibulk({"GET", "k"});
    EXPECT_TRUE(every_split("*0\r\n*-1\r\n*-5\r\n" + get,
                            {empty(4), empty(5), empty(5), command({"GET", "k"}, get.size())}));
}

TEST(request_parser, byte_after_header_cr_and_after_bulk_are_not_checked) {
    // Redis only checks that the buffer holds one more byte after '\r', and skips the two bytes
    // after a bulk without looking at them.
    const std::string in = "*2\rx$3\ryGETzz$1\r!kAB";
    EXPECT_TRUE(every_split(in, {command({"GET", "k"}, in.size())}));
}

TEST(request_parser, large_bulk_arriving_in_pieces) {
    const std::string value(100000, 'v');
    const std::string in = multibulk({"SET", "k", value});
    for (const std::size_t step : {1000u, 4096u, 16384u, 65536u}) {
        std::vector<std::size_t> cuts;
        for (std::size_t cut = step; cut < in.size(); cut += step) cuts.push_back(cut);
        for (const buffering mode : {buffering::in_place, buffering::moved})
            EXPECT_EQ(drive(in, cuts, mode, {}), (std::vector<event>{command({"SET", "k", value}, in.size())}));
    }
}

TEST(request_parser, max_count_and_length_are_accepted) {
    // INT_MAX arguments and a 512 MB bulk pass the checks; the bytes just have not arrived.
    EXPECT_TRUE(every_split("*2147483647\r\n", {more()}));
    EXPECT_TRUE(every_split("*1\r\n$536870912\r\n", {more()}));
}

// ---------------------------------------------------------------------------------------------
// Inline

TEST(request_parser, inline_commands) {
    EXPECT_TRUE(every_split("PING\r\n", {inline_command({"PING"}, 6)}));
    EXPECT_TRUE(every_split("PING\n", {inline_command({"PING"}, 5)}));
    EXPECT_TRUE(every_split("set  k\tv \r\n", {inline_command({"set", "k", "v"}, 11)}));
    EXPECT_TRUE(every_split("GET k\nGET j\r\n", {inline_command({"GET", "k"}, 6), inline_command({"GET", "j"}, 7)}));
}

TEST(request_parser, empty_lines_are_ignored) {
    EXPECT_TRUE(every_split("\r\n\n   \r\n\t\n", {empty(2), empty(1), empty(5), empty(2)}));
    EXPECT_TRUE(every_split("\r\nPING\r\n\r\n", {empty(2), inline_command({"PING"}, 6), empty(2)}));
}

TEST(request_parser, only_one_cr_before_the_newline_is_dropped) {
    // The rest are whitespace to sdssplitargs, between arguments as well as at the end.
    EXPECT_TRUE(every_split("a\rb\r\r\n", {inline_command({"a", "b"}, 6)}));
    EXPECT_TRUE(every_split("\r\r\n", {empty(3)}));
}

TEST(request_parser, inline_whitespace_rules) {
    // Blanks are skipped with isspace (which includes \v and \f), but an unquoted argument only
    // ends at ' ', '\n', '\r', '\t' or the end of the line.
    EXPECT_TRUE(every_split("\v\f a\vb\fc d\n", {inline_command({"a\vb\fc", "d"}, 11)}));
    // Bytes above 0x7f are ordinary characters.
    EXPECT_TRUE(every_split("\xff\xa0 \x85\n", {inline_command({"\xff\xa0", "\x85"}, 5)}));
}

TEST(request_parser, inline_double_quotes_and_escapes) {
    const std::string in = R"(SET "a b" "\x41\x4a\x4b\x6c" "\n\r\t\b\a\"\\\z" "")" "\r\n";
    EXPECT_TRUE(every_split(in, {inline_command({"SET", "a b", "AJKl", "\n\r\t\b\a\"\\z", ""}, in.size())}));
}

TEST(request_parser, inline_hex_escape_needs_two_hex_digits) {
    // "\x4" and "\xZZ" are not hex escapes: the backslash escapes the 'x'.
    const std::string in = R"(ECHO "\x4" "\xZZ" "\x00\xff")" "\n";
    EXPECT_TRUE(every_split(in, {inline_command({"ECHO", "x4", "xZZ", "\0\xff"s}, in.size())}));
}

TEST(request_parser, inline_single_quotes) {
    // Only \' is an escape inside single quotes; every other backslash stays.
    const std::string in = R"(SET 'it\'s' 'a\nb' 'c\\d' 'x"y')" "\n";
    EXPECT_TRUE(every_split(in, {inline_command({"SET", "it's", R"(a\nb)", R"(c\\d)", R"(x"y)"}, in.size())}));
}

TEST(request_parser, inline_quote_in_the_middle_of_an_argument) {
    EXPECT_TRUE(every_split("ab\"c d\" e'f g'\n", {inline_command({"abc d", "ef g"}, 15)}));
}

TEST(request_parser, inline_closing_quote_must_be_followed_by_space) {
    const event bad = failure("Protocol error: unbalanced quotes in request");
    EXPECT_TRUE(every_split("SET \"a\"b\r\n", {bad}));
    EXPECT_TRUE(every_split("SET 'a'b\r\n", {bad}));
    EXPECT_TRUE(every_split("SET \"a\"\"b\"\r\n", {bad}));
    // Any isspace byte counts, and so does the end of the line.
    EXPECT_TRUE(every_split("SET \"a\"\tb\n", {inline_command({"SET", "a", "b"}, 10)}));
    EXPECT_TRUE(every_split("SET \"a\"\vb\n", {inline_command({"SET", "a", "b"}, 10)}));
    EXPECT_TRUE(every_split("SET 'a'\r\n", {inline_command({"SET", "a"}, 9)}));
}

TEST(request_parser, inline_unbalanced_quotes) {
    const event bad = failure("Protocol error: unbalanced quotes in request");
    EXPECT_TRUE(every_split("SET \"abc\r\n", {bad}));
    EXPECT_TRUE(every_split("SET 'abc\n", {bad}));
    EXPECT_TRUE(every_split("SET \"abc\\\"\r\n", {bad}));  // the escaped quote does not close
    EXPECT_TRUE(every_split("SET \"abc\\\n", {bad}));      // a trailing backslash is kept, still open
    EXPECT_TRUE(every_split("SET 'it\\'\n", {bad}));
    // A good command before the bad one is still reported.
    EXPECT_TRUE(every_split("PING\r\n\"\r\n", {inline_command({"PING"}, 6), bad}));
}

TEST(request_parser, inline_nul_hides_the_newline) {
    // processInlineBuffer finds the newline with strchr, which stops at a NUL: Redis waits for
    // more bytes until the buffer is too big.
    EXPECT_TRUE(every_split("PING\0\r\n"s, {more()}));
    EXPECT_TRUE(every_split("\0"s, {more()}));
    setup small;
    small.limits.max_inline_size = 8;
    EXPECT_TRUE(every_split("GET\0k\r\nPING\r\n"s, {failure("Protocol error: too big inline request")}, small));
    // A NUL after the newline belongs to the next command.
    EXPECT_TRUE(every_split("PING\n\0"s, {inline_command({"PING"}, 5), more()}));
}

TEST(request_parser, inline_has_no_unauthenticated_limits) {
    // Redis checks the argument count and length of unauthenticated clients in the multibulk
    // parser only; an inline command is bounded by the inline limit instead.
    setup unauthenticated;
    unauthenticated.authenticated = false;
    const std::string in = "a b c d e f g h i j k l " + std::string(20000, 'x') + "\n";
    std::vector<std::string> args = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", std::string(20000, 'x')};
    EXPECT_EQ(drive(in, {}, buffering::in_place, unauthenticated), (std::vector<event>{inline_command(args, in.size())}));
}

// ---------------------------------------------------------------------------------------------
// Numbers in headers (util.c string2ll)

TEST(request_parser, multibulk_count_must_be_a_strict_integer) {
    const event bad = failure("Protocol error: invalid multibulk length");
    for (const char* header : {"*\r\n", "*+1\r\n", "*01\r\n", "*-0\r\n", "* 1\r\n", "*1 \r\n", "*1a\r\n", "*-\r\n",
                               "*0x1\r\n", "*9223372036854775808\r\n", "*-9223372036854775809\r\n",
                               "*99999999999999999999\r\n", "*000000000000000000001\r\n",
                               "*9999999999999999999\r\n", "*18446744073709551617\r\n"})
        EXPECT_TRUE(every_split(header, {bad})) << header;
    // INT_MAX + 1 is a valid number but more arguments than Redis accepts.
    EXPECT_TRUE(every_split("*2147483648\r\n", {bad}));
    // The most negative int64 is a number, so the command is just empty.
    EXPECT_TRUE(every_split("*-9223372036854775808\r\n", {empty(23)}));
}

TEST(request_parser, bulk_length_must_be_a_strict_non_negative_integer) {
    const event bad = failure("Protocol error: invalid bulk length");
    for (const char* header : {"$\r\n", "$+1\r\n", "$01\r\n", "$-0\r\n", "$ 1\r\n", "$1 \r\n", "$-1\r\n", "$-5\r\n",
                               "$9223372036854775808\r\n", "$9223372036854775807\r\n", "$536870913\r\n"})
        EXPECT_TRUE(every_split("*1\r\n"s + header, {bad})) << header;
}

// Header numbers of every length, each read exactly: a limit of 10^k accepts 10^k and refuses
// 10^k + 1. Short numbers take the parser's quick path, 19 digits and more the general one.
TEST(request_parser, header_numbers_of_every_length_are_read_exactly) {
    setup exact;
    std::int64_t limit = 1;
    for (int digits = 1; digits <= 19; ++digits) {
        if (digits > 1) limit *= 10;
        exact.limits.max_bulk_length = limit;
        exact.limits.max_multibulk_length = limit;
        const std::string at_limit = std::to_string(limit);
        const std::string over_limit = std::to_string(limit + 1);
        EXPECT_TRUE(every_split("*1\r\n$" + at_limit + "\r\n", {more()}, exact)) << at_limit;
        EXPECT_TRUE(every_split("*1\r\n$" + over_limit + "\r\n", {failure("Protocol error: invalid bulk length")}, exact))
            << over_limit;
        EXPECT_TRUE(every_split("*" + at_limit + "\r\n", {more()}, exact)) << at_limit;
        EXPECT_TRUE(every_split("*" + over_limit + "\r\n", {failure("Protocol error: invalid multibulk length")}, exact))
            << over_limit;
    }
    // Where a bulk header should be, a '\r' or NUL first decides, digits or not after it (found by
    // the fuzzer: a quick path that skipped the first byte waited for more on "\r5\r").
    EXPECT_TRUE(every_split("*2\r\n$1\r\na\r\n\r5\r"s, {failure("Protocol error: expected '$', got ' '")}));
    EXPECT_TRUE(every_split("*2\r\n$1\r\na\r\n\0005\r\n"s, {more()}));
    // A digit run that ends in something other than '\r' is no number, however it starts.
    for (const char* header : {"$12x\r\n", "$1\n\r\n", "$123456789012345678a\r\n"})
        EXPECT_TRUE(every_split("*1\r\n"s + header, {failure("Protocol error: invalid bulk length")})) << header;
}

// ---------------------------------------------------------------------------------------------
// Protocol errors and limits

TEST(request_parser, expected_dollar) {
    EXPECT_TRUE(every_split("*1\r\n+foo\r\n", {failure("Protocol error: expected '$', got '+'")}));
    EXPECT_TRUE(every_split("*2\r\n$1\r\na\r\n:1\r\n", {failure("Protocol error: expected '$', got ':'")}));
    EXPECT_TRUE(every_split("*1\r\nfoo\r\n", {failure("Protocol error: expected '$', got 'f'")}));
    // addReplyErrorFormat turns CR and LF into spaces so the error stays on one line.
    EXPECT_TRUE(every_split("*1\r\n\r\n", {failure("Protocol error: expected '$', got ' '")}));
    EXPECT_TRUE(every_split("*1\r\n\n\r\n", {failure("Protocol error: expected '$', got ' '")}));
    // The check waits for the whole line, as Redis does.
    EXPECT_TRUE(every_split("*1\r\n+foo", {more()}));
}

TEST(request_parser, nul_in_a_header_line_hides_its_end) {
    // Redis finds the '\r' with strchr, which stops at a NUL, so it keeps waiting.
    EXPECT_TRUE(every_split("*1\0\r\n$4\r\nPING\r\n"s, {more()}));
    EXPECT_TRUE(every_split("*1\r\n$4\0\r\nPING\r\n"s, {more()}));
    EXPECT_TRUE(every_split("*1\r\n\0\r\n"s, {more()}));
    setup small;
    small.limits.max_inline_size = 8;
    EXPECT_TRUE(every_split("*1\0\r\n$4\r\nPING\r\n"s, {failure("Protocol error: too big mbulk count string")}, small));
    EXPECT_TRUE(every_split("*1\r\n$4\0\r\nPING\r\n"s, {failure("Protocol error: too big bulk count string")}, small));
}

TEST(request_parser, small_limits) {
    setup small;
    small.limits.max_inline_size = 16;
    small.limits.max_bulk_length = 5;
    small.limits.max_multibulk_length = 3;

    // Inline: more than 16 bytes buffered without a newline.
    EXPECT_TRUE(every_split(std::string(16, 'a'), {more()}, small));
    EXPECT_TRUE(every_split(std::string(17, 'a'), {failure("Protocol error: too big inline request")}, small));
    // Checked only while no newline is buffered, so a longer line arriving at once is fine.
    const std::string long_line = std::string(30, 'a') + "\n";
    EXPECT_EQ(drive(long_line, {}, buffering::in_place, small),
              (std::vector<event>{inline_command({std::string(30, 'a')}, 31)}));

    // The `*` line, then a `$` line, each checked on the bytes from where it starts.
    EXPECT_TRUE(every_split("*" + std::string(15, '1'), {more()}, small));
    EXPECT_TRUE(every_split("*" + std::string(16, '1'), {failure("Protocol error: too big mbulk count string")}, small));
    EXPECT_TRUE(every_split("*1\r\n$" + std::string(15, '1'), {more()}, small));
    EXPECT_TRUE(every_split("*1\r\n$" + std::string(16, '1'), {failure("Protocol error: too big bulk count string")}, small));
    const std::string second = "*2\r\n$1\r\na\r\n$" + std::string(16, '1');
    EXPECT_TRUE(every_split(second, {failure("Protocol error: too big bulk count string")}, small));

    // Argument count and bulk length.
    const std::string three = multibulk({"a", "b", "c"});
    EXPECT_TRUE(every_split(three, {command({"a", "b", "c"}, three.size())}, small));
    EXPECT_TRUE(every_split("*4\r\n", {failure("Protocol error: invalid multibulk length")}, small));
    const std::string five = multibulk({"12345"});
    EXPECT_TRUE(every_split(five, {command({"12345"}, five.size())}, small));
    EXPECT_TRUE(every_split("*1\r\n$6\r\n", {failure("Protocol error: invalid bulk length")}, small));
}

TEST(request_parser, limit_checks_depend_on_what_is_buffered) {
    // Like Redis, a header line whose '\r' arrives in the same read as the rest is parsed, while
    // the same line arriving in pieces fails once more than the limit is buffered without it.
    setup small;
    small.limits.max_inline_size = 16;
    std::string in = "*";
    in.append(20, '0');
    in += "\r\n";
    EXPECT_EQ(drive(in, {}, buffering::in_place, small),
              (std::vector<event>{failure("Protocol error: invalid multibulk length")}));
    EXPECT_EQ(drive(in, {17}, buffering::in_place, small),
              (std::vector<event>{failure("Protocol error: too big mbulk count string")}));
}

TEST(request_parser, default_inline_limit_is_64_kb) {
    const std::string at_limit(64 * 1024, 'a');
    for (const buffering mode : {buffering::in_place, buffering::moved}) {
        EXPECT_EQ(drive(at_limit, {1000, 30000}, mode, {}), (std::vector<event>{more()}));
        EXPECT_EQ(drive(at_limit + "a", {1000, 30000}, mode, {}),
                  (std::vector<event>{failure("Protocol error: too big inline request")}));
        EXPECT_EQ(drive("*" + at_limit, {1000}, mode, {}),
                  (std::vector<event>{failure("Protocol error: too big mbulk count string")}));
        EXPECT_EQ(drive("*1\r\n$" + at_limit, {1000}, mode, {}),
                  (std::vector<event>{failure("Protocol error: too big bulk count string")}));
        // A 100 KB inline line is accepted when its newline is already buffered.
        EXPECT_EQ(drive("ECHO " + std::string(100000, 'x') + "\n", {}, mode, {}),
                  (std::vector<event>{inline_command({"ECHO", std::string(100000, 'x')}, 100006)}));
    }
}

TEST(request_parser, default_bulk_and_count_limits) {
    EXPECT_TRUE(every_split("*1\r\n$536870913\r\n", {failure("Protocol error: invalid bulk length")}));
    EXPECT_TRUE(every_split("*2147483648\r\n", {failure("Protocol error: invalid multibulk length")}));
}

TEST(request_parser, unauthenticated_limits) {
    setup unauthenticated;
    unauthenticated.authenticated = false;
    const std::vector<std::string> ten(10, "k");
    const std::string ten_args = multibulk(ten);
    EXPECT_TRUE(every_split(ten_args, {command(ten, ten_args.size())}, unauthenticated));
    EXPECT_TRUE(every_split("*11\r\n", {failure("Protocol error: unauthenticated multibulk length")}, unauthenticated));

    const std::vector<std::string> auth = {"AUTH", std::string(16384, 'p')};
    const std::string auth16k = multibulk(auth);
    EXPECT_EQ(drive(auth16k, {100, 9000}, buffering::moved, unauthenticated),
              (std::vector<event>{command(auth, auth16k.size())}));
    EXPECT_TRUE(every_split("*2\r\n$4\r\nAUTH\r\n$16385\r\n", {failure("Protocol error: unauthenticated bulk length")},
                            unauthenticated));

    // The general checks come first.
    EXPECT_TRUE(every_split("*2147483648\r\n", {failure("Protocol error: invalid multibulk length")}, unauthenticated));
    EXPECT_TRUE(every_split("*1\r\n$-1\r\n", {failure("Protocol error: invalid bulk length")}, unauthenticated));
    EXPECT_TRUE(every_split("*1\r\n$536870913\r\n", {failure("Protocol error: invalid bulk length")}, unauthenticated));
    // Empty commands stay empty.
    EXPECT_TRUE(every_split("*-1\r\n*0\r\n", {empty(5), empty(4)}, unauthenticated));

    // Once authenticated, the same commands pass.
    EXPECT_TRUE(every_split("*11\r\n", {more()}));
    EXPECT_TRUE(every_split("*2\r\n$4\r\nAUTH\r\n$16385\r\n", {more()}));
}

TEST(request_parser, unauthenticated_custom_limits) {
    setup s;
    s.authenticated = false;
    s.limits.unauthenticated_multibulk_length = 2;
    s.limits.unauthenticated_bulk_length = 3;
    const std::string ok = multibulk({"abc", "de"});
    EXPECT_TRUE(every_split(ok, {command({"abc", "de"}, ok.size())}, s));
    EXPECT_TRUE(every_split("*3\r\n", {failure("Protocol error: unauthenticated multibulk length")}, s));
    EXPECT_TRUE(every_split("*1\r\n$4\r\n", {failure("Protocol error: unauthenticated bulk length")}, s));
}

// ---------------------------------------------------------------------------------------------
// The parser's own contract

TEST(request_parser, authentication_can_change_between_commands) {
    request_parser parser;
    parser.set_authenticated(false);
    const std::string big = multibulk(std::vector<std::string>(11, "k"));
    EXPECT_EQ(parser.parse(big).status, parse_status::error);
    request_parser other;
    other.set_authenticated(false);
    other.set_authenticated(true);
    const parse_result r = other.parse(big);
    EXPECT_EQ(r.status, parse_status::complete);
    EXPECT_EQ(r.consumed, big.size());
    EXPECT_EQ(other.args().size(), 11u);
}

TEST(request_parser, reset_drops_a_partial_command) {
    request_parser parser;
    EXPECT_EQ(parser.parse("*2\r\n$3\r\nGET\r\n$1\r").status, parse_status::need_more);
    parser.reset();
    const std::string ping = multibulk({"PING"});
    const parse_result r = parser.parse(ping);
    EXPECT_EQ(r.status, parse_status::complete);
    EXPECT_EQ(r.consumed, ping.size());
    ASSERT_EQ(parser.args().size(), 1u);
    EXPECT_EQ(parser.args()[0], "PING");

    EXPECT_EQ(parser.parse("GET somewhat long in").status, parse_status::need_more);
    parser.reset();
    EXPECT_EQ(parser.parse("PING\n").consumed, 5u);
    EXPECT_TRUE(parser.last_was_inline());
}

TEST(request_parser, empty_input_needs_more) {
    request_parser parser;
    const parse_result r = parser.parse({});
    EXPECT_EQ(r.status, parse_status::need_more);
    EXPECT_EQ(r.consumed, 0u);
}

TEST(request_parser, last_was_inline_follows_each_command) {
    request_parser parser;
    EXPECT_EQ(parser.parse("PING\r\n").status, parse_status::complete);
    EXPECT_TRUE(parser.last_was_inline());
    EXPECT_EQ(parser.parse(multibulk({"PING"})).status, parse_status::complete);
    EXPECT_FALSE(parser.last_was_inline());
}

}  // namespace
}  // namespace redis_sidecar::protocol
