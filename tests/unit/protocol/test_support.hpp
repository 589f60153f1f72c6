#pragma once
// Helpers shared by the protocol unit tests.

#include <cstddef>
#include <cstdio>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

// The ways the tests cut an input into reads, as a peer's TCP stream may: whole, in two at every
// offset, and byte by byte. Each plan is a name (for failure messages) and the cut offsets.
inline std::vector<std::pair<std::string, std::vector<std::size_t>>> split_plans(std::size_t size) {
    std::vector<std::pair<std::string, std::vector<std::size_t>>> plans{{"whole", {}}};
    std::vector<std::size_t> every_byte;
    for (std::size_t cut = 1; cut < size; ++cut) {
        plans.push_back({"split at " + std::to_string(cut), {cut}});
        every_byte.push_back(cut);
    }
    plans.push_back({"byte by byte", std::move(every_byte)});
    return plans;
}

// `s` with control and non-ASCII bytes (and backslashes) as \xNN, for failure messages.
inline std::string printable(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            out.push_back(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", u);
            out += hex;
        }
    }
    return out;
}
