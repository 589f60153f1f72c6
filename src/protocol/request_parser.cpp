#include "redis_sidecar/protocol/request_parser.hpp"

#include <algorithm>
#include <cstring>

#include "redis_sidecar/protocol/numbers.hpp"

namespace redis_sidecar::protocol {

namespace {

// Redis's sdssplitargs works on a C string: a NUL byte ends the line as the end does.
char at(std::string_view s, std::size_t i) { return i < s.size() ? s[i] : '\0'; }

bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

// Where the header line starting at `s` ends: the first '\r', as Redis's strchr finds it. strchr
// stops at a NUL byte, so a NUL before the '\r' hides it and Redis keeps waiting for more bytes.
std::size_t find_header_end(std::string_view s) {
    const void* cr = std::memchr(s.data(), '\r', s.size());
    if (cr == nullptr) return std::string_view::npos;
    const auto end = static_cast<std::size_t>(static_cast<const char*>(cr) - s.data());
    if (std::memchr(s.data(), '\0', end) != nullptr) return std::string_view::npos;
    return end;
}

// The quick path's header number: the digits at data[position] up to a '\r', then the "\r\n"
// (whose '\n', like Redis, it takes on trust), with `position` moved past them. Only a plain
// number is read here: 1 to 18 digits (so no overflow check), no leading zero but a lone "0", and
// the whole line in `data`. Anything else returns false, and the general way judges the line,
// reaching the same number for every line read here.
inline bool read_plain_number(const char* data, std::size_t size, std::size_t& position, std::int64_t& value) {
    constexpr std::size_t max_plain_digits = 18;
    std::size_t i = position;
    if (i >= size) return false;
    auto digit = static_cast<unsigned>(static_cast<unsigned char>(data[i])) - '0';
    if (digit > 9) return false;
    std::int64_t number = digit;
    ++i;
    if (digit != 0) {
        const std::size_t last = position + std::min(size - position, max_plain_digits);
        for (; i < last; ++i) {
            digit = static_cast<unsigned>(static_cast<unsigned char>(data[i])) - '0';
            if (digit > 9) break;
            number = number * 10 + digit;
        }
    }
    // A 19th digit, another byte, or the end of the input before "\r\n": the general way.
    if (size - i < 2 || data[i] != '\r') return false;
    value = number;
    position = i + 2;
    return true;
}

// Where the header line at the start of `s` ("*3\r\n", "$5\r\n") ends, as find_header_end says,
// with its number in `value` and `number_ok` telling whether that number is valid; npos while the
// line is incomplete. Nearly every header is a plain number right before "\r\n": read_plain_number
// reads those in one pass, without find_header_end's two memchr calls and parse_int64's checks,
// which profiles of pipelined forwarding show as a visible cost. A sign, a leading zero, a NUL, a
// long number, a line whose '\n' has not come yet or one that does not start with '$' or '*' take
// the general way, which reads such plain lines to the same result.
std::size_t read_header_line(std::string_view s, std::int64_t& value, bool& number_ok) {
    // Only behind a real type byte: a '\r' or NUL there ends or hides the line for the general
    // rule, which the quick path, starting its scan at s[1], would not see.
    if (s.size() > 2 && (s[0] == '$' || s[0] == '*')) {
        std::size_t after_line = 1;
        if (read_plain_number(s.data(), s.size(), after_line, value)) {
            number_ok = true;
            return after_line - 2;
        }
    }
    const std::size_t line_end = find_header_end(s);
    if (line_end != std::string_view::npos) number_ok = parse_int64(s.substr(1, line_end - 1), value);
    return line_end;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Splits an inline command line exactly as Redis's sdssplitargs does: quotes, escapes, and the
// rule that a closing quote must be followed by a space. Arguments are appended to `scratch`;
// `ends` receives where each one ends. Returns false for unbalanced quotes.
bool split_inline_args(std::string_view line, std::string& scratch, std::vector<std::size_t>& ends) {
    std::size_t p = 0;
    for (;;) {
        while (at(line, p) != '\0' && is_space(at(line, p))) ++p;
        if (at(line, p) == '\0') return true;
        bool in_double = false;
        bool in_single = false;
        for (bool done = false; !done;) {
            const char c = at(line, p);
            if (in_double) {
                if (c == '\\' && at(line, p + 1) == 'x' && hex_value(at(line, p + 2)) >= 0 &&
                    hex_value(at(line, p + 3)) >= 0) {
                    scratch.push_back(
                        static_cast<char>(hex_value(at(line, p + 2)) * 16 + hex_value(at(line, p + 3))));
                    p += 3;
                } else if (c == '\\' && at(line, p + 1) != '\0') {
                    ++p;
                    switch (at(line, p)) {
                        case 'n': scratch.push_back('\n'); break;
                        case 'r': scratch.push_back('\r'); break;
                        case 't': scratch.push_back('\t'); break;
                        case 'b': scratch.push_back('\b'); break;
                        case 'a': scratch.push_back('\a'); break;
                        default: scratch.push_back(at(line, p)); break;
                    }
                } else if (c == '"') {
                    if (at(line, p + 1) != '\0' && !is_space(at(line, p + 1))) return false;
                    done = true;
                } else if (c == '\0') {
                    return false;
                } else {
                    scratch.push_back(c);
                }
            } else if (in_single) {
                if (c == '\\' && at(line, p + 1) == '\'') {
                    ++p;
                    scratch.push_back('\'');
                } else if (c == '\'') {
                    if (at(line, p + 1) != '\0' && !is_space(at(line, p + 1))) return false;
                    done = true;
                } else if (c == '\0') {
                    return false;
                } else {
                    scratch.push_back(c);
                }
            } else {
                switch (c) {
                    case ' ': case '\n': case '\r': case '\t': case '\0': done = true; break;
                    case '"': in_double = true; break;
                    case '\'': in_single = true; break;
                    default: scratch.push_back(c); break;
                }
            }
            if (at(line, p) != '\0') ++p;
        }
        ends.push_back(scratch.size());
    }
}

}  // namespace

void request_parser::reset() {
    remaining_args_ = 0;
    bulk_length_ = -1;
    position_ = 0;
    spans_.clear();
    inline_scanned_ = 0;
}

parse_result request_parser::fail(const char* message) {
    error_ = message;
    reset();
    return {parse_status::error, 0};
}

parse_result request_parser::parse(std::string_view input) {
    if (input.empty()) return {parse_status::need_more, 0};
    // Redis decides the request type from the first byte of each command.
    if (input[0] == '*') return parse_multibulk(input);
    return parse_inline(input);
}

// A command whose bytes are all in `input` (nearly every one, at any pipeline depth) is read in
// one pass, its arguments going straight to args_. Anything else, a partial command, a header
// the general way must judge (an error, a limit), is left to that way, which starts the command
// over: it gives the same result for every input, this one only gets there sooner. Both ways
// are run against each other by the fuzz target (the whole stream, and the stream in pieces).
bool request_parser::parse_whole_multibulk(std::string_view input, parse_result& result) {
    const char* const data = input.data();
    const std::size_t size = input.size();
    std::int64_t count = 0;
    std::size_t position = 1;
    if (!read_plain_number(data, size, position, count) || count <= 0 || count > limits_.max_multibulk_length ||
        (!authenticated_ && count > limits_.unauthenticated_multibulk_length))
        return false;
    args_.clear();
    for (std::int64_t i = 0; i < count; ++i) {
        if (position >= size || data[position] != '$') return false;
        std::int64_t length = 0;
        ++position;
        if (!read_plain_number(data, size, position, length) || length > limits_.max_bulk_length ||
            (!authenticated_ && length > limits_.unauthenticated_bulk_length))
            return false;
        const auto bulk = static_cast<std::size_t>(length);
        // Like Redis, the two bytes after the bulk are skipped without checking them.
        if (size - position < bulk + 2) return false;
        args_.emplace_back(data + position, bulk);
        position += bulk + 2;
    }
    inline_ = false;
    result = {parse_status::complete, position};
    return true;
}

parse_result request_parser::parse_multibulk(std::string_view input) {
    if (remaining_args_ == 0) {
        if (parse_result whole{parse_status::need_more, 0}; parse_whole_multibulk(input, whole)) return whole;
        std::int64_t count = 0;
        bool count_ok = false;
        const std::size_t line_end = read_header_line(input, count, count_ok);
        if (line_end == std::string_view::npos) {
            if (input.size() > limits_.max_inline_size) return fail("Protocol error: too big mbulk count string");
            return {parse_status::need_more, 0};
        }
        // Like Redis, the byte after '\r' is taken as '\n' without looking at it.
        if (line_end + 2 > input.size()) return {parse_status::need_more, 0};
        if (!count_ok || count > limits_.max_multibulk_length)
            return fail("Protocol error: invalid multibulk length");
        if (!authenticated_ && count > limits_.unauthenticated_multibulk_length)
            return fail("Protocol error: unauthenticated multibulk length");
        if (count <= 0) return {parse_status::empty, line_end + 2};
        remaining_args_ = count;
        position_ = line_end + 2;
        spans_.clear();
        // Reserve a little, never the claimed count: a client may claim 2^31 arguments for free.
        if (spans_.capacity() < 16) spans_.reserve(16);
    }
    while (remaining_args_ > 0) {
        if (bulk_length_ < 0) {
            const std::string_view rest = input.substr(position_);
            std::int64_t length = 0;
            bool length_ok = false;
            const std::size_t line_end = read_header_line(rest, length, length_ok);
            if (line_end == std::string_view::npos) {
                if (rest.size() > limits_.max_inline_size) return fail("Protocol error: too big bulk count string");
                return {parse_status::need_more, 0};
            }
            if (line_end + 2 > rest.size()) return {parse_status::need_more, 0};
            if (rest[0] != '$') {
                error_storage_ = "Protocol error: expected '$', got '";
                // Redis formats this one with addReplyErrorFormat, which turns '\r' and '\n' into
                // spaces so the error line stays one line (e.g. "*1\r\n\r\n" gets "got ' '").
                error_storage_.push_back(rest[0] == '\r' || rest[0] == '\n' ? ' ' : rest[0]);
                error_storage_.push_back('\'');
                error_ = error_storage_;
                reset();
                return {parse_status::error, 0};
            }
            if (!length_ok || length < 0 ||
                length > limits_.max_bulk_length)
                return fail("Protocol error: invalid bulk length");
            if (!authenticated_ && length > limits_.unauthenticated_bulk_length)
                return fail("Protocol error: unauthenticated bulk length");
            position_ += line_end + 2;
            bulk_length_ = length;
        }
        const auto needed = static_cast<std::size_t>(bulk_length_) + 2;
        if (input.size() - position_ < needed) return {parse_status::need_more, 0};
        // Like Redis, the two bytes after the bulk are skipped without checking them.
        spans_.push_back({position_, static_cast<std::size_t>(bulk_length_)});
        position_ += needed;
        bulk_length_ = -1;
        --remaining_args_;
    }
    inline_ = false;
    args_.clear();
    for (const span& s : spans_) args_.push_back(input.substr(s.offset, s.length));
    const std::size_t consumed = position_;
    position_ = 0;
    return {parse_status::complete, consumed};
}

parse_result request_parser::parse_inline(std::string_view input) {
    // Redis looks for '\n' with strchr, so a NUL byte hides any newline after it. The search resumes
    // where the last call stopped, so a line arriving in many reads is scanned once; a NUL stops it
    // for good, as it does Redis, until the line is too big.
    std::size_t newline = std::string_view::npos;
    std::size_t i = inline_scanned_;
    for (; i < input.size(); ++i) {
        if (input[i] == '\n') {
            newline = i;
            break;
        }
        if (input[i] == '\0') break;
    }
    if (newline == std::string_view::npos) {
        inline_scanned_ = i;
        if (input.size() > limits_.max_inline_size) return fail("Protocol error: too big inline request");
        return {parse_status::need_more, 0};
    }
    inline_scanned_ = 0;
    std::size_t line_length = newline;
    if (line_length > 0 && input[line_length - 1] == '\r') --line_length;
    inline_scratch_.clear();
    inline_ends_.clear();
    if (!split_inline_args(input.substr(0, line_length), inline_scratch_, inline_ends_))
        return fail("Protocol error: unbalanced quotes in request");
    if (inline_ends_.empty()) return {parse_status::empty, newline + 1};
    inline_ = true;
    args_.clear();
    std::size_t begin = 0;
    for (std::size_t end : inline_ends_) {
        args_.push_back(std::string_view(inline_scratch_).substr(begin, end - begin));
        begin = end;
    }
    return {parse_status::complete, newline + 1};
}

}  // namespace redis_sidecar::protocol
