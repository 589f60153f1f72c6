#pragma once
// The ways the protocol tests cut an input into reads, as a peer's TCP stream may: whole, in two at
// every offset, and byte by byte. Each plan is a name (for failure messages) and the cut offsets.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

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
