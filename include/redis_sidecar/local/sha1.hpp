#pragma once
/// SHA-1 (FIPS 180-4), as Redis uses it to name Lua scripts.

#include <array>
#include <cstdint>
#include <string_view>

namespace redis_sidecar::local {

/// A SHA-1 digest.
using sha1_digest = std::array<std::uint8_t, 20>;

/// A SHA-1 digest as 40 lowercase hex digits, the form Redis prints (SCRIPT LOAD).
using sha1_hex = std::array<char, 40>;

/// The SHA-1 digest of `data`.
sha1_digest sha1(std::string_view data);

/// The SHA-1 digest of `data` as 40 lowercase hex digits.
sha1_hex sha1_to_hex(std::string_view data);

/// `hex` as a string_view (no allocation).
inline std::string_view to_string_view(const sha1_hex& hex) { return {hex.data(), hex.size()}; }

}  // namespace redis_sidecar::local
