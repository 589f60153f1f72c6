#include "redis_sidecar/protocol/numbers.hpp"

#include <algorithm>
#include <charconv>

namespace redis_sidecar::protocol {

bool parse_int64(std::string_view s, std::int64_t& value) {
    if (s.empty() || s.size() > 20) return false;
    if (s.size() == 1 && s[0] == '0') {
        value = 0;
        return true;
    }
    std::size_t i = 0;
    const bool negative = s[0] == '-';
    if (negative) {
        i = 1;
        if (s.size() == 1) return false;
    }
    // The first digit must be 1-9: this rules out leading zeros and "-0" at once.
    if (s[i] < '1' || s[i] > '9') return false;
    std::uint64_t magnitude = 0;
    // Up to 19 digits cannot overflow 64 bits unsigned (10^19 - 1 < 2^64): no check per digit on
    // the hot path (every request header is a number); only a 20-digit one needs it.
    const std::size_t unchecked_end = std::min<std::size_t>(s.size(), i + 19);
    for (; i < unchecked_end; ++i) {
        const char c = s[i];
        if (c < '0' || c > '9') return false;
        magnitude = magnitude * 10 + static_cast<std::uint64_t>(c - '0');
    }
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c < '0' || c > '9') return false;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) return false;
        magnitude = magnitude * 10 + digit;
    }
    if (negative) {
        if (magnitude > static_cast<std::uint64_t>(INT64_MAX) + 1) return false;
        value = static_cast<std::int64_t>(0 - magnitude);
    } else {
        if (magnitude > static_cast<std::uint64_t>(INT64_MAX)) return false;
        value = static_cast<std::int64_t>(magnitude);
    }
    return true;
}

std::size_t format_int64(std::int64_t value, char* out) {
    const auto result = std::to_chars(out, out + 20, value);
    return static_cast<std::size_t>(result.ptr - out);
}

}  // namespace redis_sidecar::protocol
