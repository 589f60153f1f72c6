#pragma once
/// Redis's glob-style matching (util.c stringmatchlen), used by KEYS and SCAN MATCH.

#include <string_view>

namespace redis_sidecar::local {

/// True when `subject` matches `pattern` exactly as Redis 7.0 decides it: `*`, `?`, `[abc]`,
/// `[^a]`, `[a-z]` (reversed ranges allowed), `\` escapes, an unclosed `[` matching as if closed,
/// and the same limit on nesting of `*` that protects Redis from abusive patterns.
bool glob_match(std::string_view pattern, std::string_view subject, bool nocase = false);

}  // namespace redis_sidecar::local
