// libFuzzer target for the reply framer (and numbers.hpp, which it relies on).
//
// Input: byte 0 picks the chunk size, bytes 1-2 a split point, the rest is what Redis sends. The
// stream is framed whole, in two chunks and in small chunks, each both with the caller keeping a
// reply until it is complete and with the caller streaming every scanned byte onward at once; all
// runs must agree with each other and with a plain recursive reference framer written here.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol_drivers.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"

namespace {

using redis_sidecar::protocol::frame_result;
using redis_sidecar::protocol::frame_status;
using redis_sidecar::protocol::reply_framer;

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

using outcome = redis_sidecar::protocol::drive::frame_outcome;

// string2ll's rule, stated differently: an int64 written in its one canonical decimal form.
bool canonical_int64(std::string_view s, std::int64_t& value) {
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return false;
    if (std::to_string(v) != s) return false;
    value = v;
    return true;
}

// ---- Reference framer: recursive, whole buffer, no state ----------------------------------

constexpr std::size_t max_header_line = redis_sidecar::protocol::reply_framer::max_line_length;

struct ref_result {
    frame_status status;
    std::size_t end = 0;  // one past the element, when complete
};

ref_result ref_element(std::string_view s, std::size_t pos) {
    if (pos >= s.size()) return {frame_status::need_more};
    const std::size_t cr = s.find('\r', pos);
    if (cr == std::string_view::npos)
        return {s.size() - pos > max_header_line ? frame_status::error : frame_status::need_more};
    if (cr + 1 >= s.size()) return {frame_status::need_more};
    if (s[cr + 1] != '\n') return {frame_status::error};
    const char type = s[pos];
    const std::string_view line = s.substr(pos + 1, cr - pos - 1);
    std::size_t next = cr + 2;
    std::int64_t n = 0;
    switch (type) {
        case '+': case '-': case ':': case '_': case ',': case '#': case '(':
            return {frame_status::complete, next};
        case '$': case '!': case '=': {
            if (!canonical_int64(line, n) || n < -1 || (n == -1 && type != '$')) return {frame_status::error};
            if (n == -1) return {frame_status::complete, next};
            const std::size_t end = next + static_cast<std::size_t>(n) + 2;
            if (end > s.size()) return {frame_status::need_more};
            return {frame_status::complete, end};
        }
        case '*': case '~': case '>': case '%': case '|': {
            if (!canonical_int64(line, n) || n < -1 || (n == -1 && type != '*')) return {frame_status::error};
            if (n == -1) return {frame_status::complete, next};
            const bool pairs = type == '%' || type == '|';
            if (pairs && n > INT64_MAX / 2) return {frame_status::error};
            const std::int64_t count = pairs ? n * 2 : n;
            for (std::int64_t i = 0; i < count; ++i) {
                const ref_result e = ref_element(s, next);
                if (e.status != frame_status::complete) return e;
                next = e.end;
            }
            // An attribute describes the element after it, and the two count as one.
            if (type == '|') return ref_element(s, next);
            return {frame_status::complete, next};
        }
        default:
            return {frame_status::error};
    }
}

outcome reference(std::string_view s) {
    outcome out{{}, frame_status::complete};
    std::size_t pos = 0;
    while (pos < s.size()) {
        const ref_result r = ref_element(s, pos);
        if (r.status != frame_status::complete) {
            out.end = r.status;
            return out;
        }
        out.replies.push_back(r.end - pos);
        pos = r.end;
    }
    return out;
}

// ---- The framer as a caller drives it ------------------------------------------------------

outcome run(std::string_view input, const std::vector<std::size_t>& cuts, bool streaming) {
    using redis_sidecar::protocol::drive::caller;
    return redis_sidecar::protocol::drive::frame_stream(input, cuts, streaming ? caller::streams : caller::keeps,
                                                        check);
}

void check_numbers(std::string_view s) {
    std::int64_t a = 0;
    std::int64_t b = 0;
    const bool ok = redis_sidecar::protocol::parse_int64(s, a);
    check(ok == canonical_int64(s, b), "parse_int64 accepts exactly the canonical int64s");
    if (!ok) return;
    check(a == b, "parse_int64 value");
    char out[20];
    const std::size_t n = redis_sidecar::protocol::format_int64(a, out);
    check(std::string_view(out, n) == s, "format_int64 round-trips");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const std::size_t chunk = 1 + (data[0] & 15);
    const std::size_t split_choice = static_cast<std::size_t>(data[1]) | static_cast<std::size_t>(data[2]) << 8;
    const std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);

    check_numbers(input.substr(0, 24));

    const outcome expected = reference(input);
    const std::size_t split = split_choice % (input.size() + 1);
    std::vector<std::size_t> cuts;
    for (std::size_t cut = chunk; cut < input.size(); cut += chunk) cuts.push_back(cut);
    for (const bool streaming : {false, true}) {
        check(run(input, {}, streaming) == expected, "whole == reference");
        check(run(input, {split}, streaming) == expected, "split in two == reference");
        check(run(input, cuts, streaming) == expected, "small chunks == reference");
    }
    return 0;
}
