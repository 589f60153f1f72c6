#pragma once
/// Key classes: what a key is to the product decides what happens to its writes across an outage
/// (README "Nothing lost"). A key's class is that of the longest configured prefix it starts
/// with; a key matching none is of the default class.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace redis_sidecar::local {

enum class key_class : std::uint8_t {
    default_class,  ///< ephemeral while down; dropped on recovery
    blacklist,      ///< revoked tokens: mirrored durably, never evicted, replayed on recovery
    lock,           ///< request locks: mirrored, pushed to Redis with SET NX on recovery
    cache,          ///< query cache: deletions made while down are replayed on recovery
};

/// True for the classes whose local copies are durable (journaled, never evicted) and follow Redis
/// while it is up: revoked tokens and locks.
constexpr bool is_durable(key_class c) { return c == key_class::blacklist || c == key_class::lock; }

/// The class's name as configuration, INFO and metrics spell it.
std::string_view key_class_name(key_class c);

/// Prefix -> class, longest prefix first.
class key_classifier {
public:
    key_classifier() = default;
    key_classifier(const std::vector<std::string>& blacklist_prefixes, const std::vector<std::string>& lock_prefixes,
                   const std::vector<std::string>& cache_prefixes);

    key_class classify(std::string_view key) const;

    /// Every configured prefix of `c`.
    std::vector<std::string> prefixes(key_class c) const;

private:
    struct rule {
        std::string prefix;
        key_class cls;
    };
    std::vector<rule> rules_;  // sorted by prefix length, longest first
};

}  // namespace redis_sidecar::local
