#pragma once
/// Integer conversions with Redis's exact rules (util.c string2ll / ll2string).

#include <cstdint>
#include <string_view>

namespace redis_sidecar::protocol {

/// Parses `s` as Redis's string2ll does: optional '-', digits, no leading zeros, no '+', no
/// spaces, no "-0", within int64. Returns false when `s` is not such a number.
bool parse_int64(std::string_view s, std::int64_t& value);

/// Writes `value` in decimal into `out` (at least 20 bytes); returns the length written.
std::size_t format_int64(std::int64_t value, char* out);

}  // namespace redis_sidecar::protocol
