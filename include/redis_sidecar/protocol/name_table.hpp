#pragma once
/// Command names looked up on every request: a fixed open-addressing table keyed by the lowercase
/// name, and the lowercasing into a stack buffer that goes before it. Routing (server) and the
/// local engine (local) both use it.
///
/// Why not std::unordered_map: std::hash of a string_view is a murmur over every byte, and with
/// the bucket walk and the memcmp it is a visible share of a forwarded request's cost (routing)
/// and of a local command's; the length and three letters tell command names apart at once. A
/// table can be built at compile time (`constexpr`), so a lookup pays no guard of a
/// function-local static, and names are compared in line: a call to memcmp for three letters
/// costs more than the letters. Standard library only.

#include <array>
#include <cassert>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace redis_sidecar::protocol {

/// ASCII lowercase (command names are ASCII; no locale).
constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

/// `text` in ASCII lowercase, as a string of its own (control-plane parsing, not the hot path).
inline std::string lowercase_copy(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

/// Case-insensitive ASCII comparison with a lowercase literal. In line: the hot path asks it of
/// every forwarded write (is it EVAL?), and the length alone nearly always answers.
constexpr bool equals_lower(std::string_view text, std::string_view lowercase) {
    if (text.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (ascii_lower(text[i]) != lowercase[i]) return false;
    return true;
}

/// `name` lowercased into `buffer`; empty when it is longer than the buffer, which the caller
/// sizes to the longest name it looks up (a longer one cannot be in its table).
template <std::size_t N>
std::string_view lowercase_into(std::string_view name, std::array<char, N>& buffer) {
    if (name.size() > N) return {};
    for (std::size_t i = 0; i < name.size(); ++i) buffer[i] = ascii_lower(name[i]);
    return {buffer.data(), name.size()};
}

/// A fixed table from lowercase names (not empty, at most a quarter of `SlotCount`) to values.
template <typename Value, std::size_t SlotCount = 256>
class name_table {
public:
    /// One name and its value.
    struct entry {
        std::string_view name;
        Value value{};
    };

    /// An empty table.
    constexpr name_table() = default;

    /// The table of `entries`; names must be distinct, lowercase and not empty.
    constexpr name_table(std::initializer_list<entry> entries) {
        for (const entry& e : entries) insert(e);
    }

    /// Adds `e`; its name must be new, lowercase and not empty, and the table not full.
    constexpr void insert(const entry& e) {
        assert(!e.name.empty() && size_ < max_entries);
        ++size_;
        std::size_t slot = slot_of(e.name);
        while (!slots_[slot].name.empty()) slot = (slot + 1) % slot_count;
        slots_[slot] = e;
    }

    /// The value of `name` (lowercase), or null when it is not in the table.
    constexpr const Value* find(std::string_view name) const {
        if (name.empty()) return nullptr;
        for (std::size_t slot = slot_of(name);; slot = (slot + 1) % slot_count) {
            const entry& e = slots_[slot];
            if (e.name.empty()) return nullptr;
            if (same_name(e.name, name)) return &e.value;
        }
    }

private:
    // Four times the entries of the largest table: probes stay short and a free slot always ends them.
    static constexpr std::size_t slot_count = SlotCount;
    static constexpr std::size_t max_entries = slot_count / 4;

    static constexpr bool same_name(std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a[i] != b[i]) return false;
        return true;
    }

    static constexpr std::size_t slot_of(std::string_view name) {
        const auto letter = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(name[i])); };
        return (name.size() * 97 + letter(0) * 31 + letter(name.size() / 2) * 7 + letter(name.size() - 1)) % slot_count;
    }

    std::array<entry, slot_count> slots_{};
    std::size_t size_ = 0;
};

}  // namespace redis_sidecar::protocol
