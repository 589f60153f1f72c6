#pragma once
// The kinds of value an option takes: each parses an option's words into its member's type
// (throwing std::runtime_error that names the option) and writes the member back as text for a
// reload to compare. The option table (option_table.cpp) pairs one of them with each member.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/config/config.hpp"

namespace redis_sidecar::config::values {

/// Throws the error every bad option gets: "invalid option '<option>': <why>".
[[noreturn]] void invalid(std::string_view option, const std::string& why);

/// Words of a multiword option joined by single spaces.
std::string joined(const std::vector<std::string>& words);

/// An unsigned integer within [min, max]; `unit` (" ms") ends the range error.
struct whole_number {
    static constexpr bool multiword = false;
    unsigned min = 0;
    unsigned max = std::numeric_limits<unsigned>::max();
    std::string_view unit;
    unsigned parse(const std::string& text, std::string_view option) const;
    static std::string text(unsigned value) { return std::to_string(value); }
};

/// A byte count in Redis's syntax ("512mb"), at least `min`.
struct byte_size {
    static constexpr bool multiword = false;
    std::uint64_t min = 0;
    std::uint64_t parse(const std::string& text, std::string_view option) const;
    static std::string text(std::uint64_t value) { return std::to_string(value); }
};

/// "yes" or "no".
struct yes_no {
    static constexpr bool multiword = false;
    bool parse(const std::string& text, std::string_view option) const;
    static std::string text(bool value) { return value ? "yes" : "no"; }
};

/// One of a few words, kept as written.
struct one_of {
    static constexpr bool multiword = false;
    std::vector<std::string_view> words;
    std::string parse(const std::string& text, std::string_view option) const;
    static std::string text(const std::string& value) { return value; }
};

/// Any text (a path, a name, a password).
struct any_text {
    static constexpr bool multiword = false;
    std::string parse(const std::string& text, std::string_view) const { return text; }
    static std::string text(const std::string& value) { return value; }
};

/// File mode bits in octal, as redis.conf's unixsocketperm.
struct octal_mode {
    static constexpr bool multiword = false;
    unsigned parse(const std::string& text, std::string_view option) const;
    static std::string text(unsigned value);
};

/// "HOST:PORT" or "[IPv6]:PORT".
struct host_port {
    static constexpr bool multiword = false;
    endpoint parse(const std::string& text, std::string_view option) const;
    static std::string text(const endpoint& value);
};

/// "HOST:PORT", or empty for none.
struct optional_host_port {
    static constexpr bool multiword = false;
    std::optional<endpoint> parse(const std::string& text, std::string_view option) const;
    static std::string text(const std::optional<endpoint>& value);
};

/// Key prefixes, none empty (repeatable).
struct prefix_list {
    static constexpr bool multiword = true;
    std::vector<std::string> parse(const std::vector<std::string>& words, std::string_view option) const;
    static std::string text(const std::vector<std::string>& value) { return joined(value); }
};

/// Command names, as many as given (lowercased; none may be empty).
struct name_list {
    static constexpr bool multiword = true;
    std::vector<std::string> parse(const std::vector<std::string>& words, std::string_view option) const;
    static std::string text(const std::vector<std::string>& value) { return joined(value); }
};

/// "[normal] <hard> <soft> <soft-seconds>", as one word or several.
struct output_limit {
    static constexpr bool multiword = true;
    output_buffer_limit parse(const std::vector<std::string>& words, std::string_view option) const;
    static std::string text(const output_buffer_limit& value);
};

}  // namespace redis_sidecar::config::values
