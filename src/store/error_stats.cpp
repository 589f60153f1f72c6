#include "redis_sidecar/store/error_stats.hpp"

namespace redis_sidecar::store {

namespace {
// Redis looks for the space that ends the code within this many bytes of the error's message.
constexpr std::size_t code_search_length = 32;

std::string_view error_code(std::string_view reply) {
    const std::string_view message = reply.substr(0, reply.find('\r'));
    const std::size_t space = message.substr(0, code_search_length).find(' ');
    return space == std::string_view::npos ? std::string_view("ERR") : reply.substr(1, space - 1);
}
}  // namespace

void error_stats::count(std::string_view reply) {
    if (reply.empty() || reply[0] != '-') return;
    ++total_;
    const std::string_view code = error_code(reply);
    if (const auto found = counts_.find(code); found != counts_.end()) {
        ++found->second;
    } else if (counts_.size() < max_codes) {
        counts_.emplace(code, 1);
    }
}

std::vector<std::pair<std::string, std::uint64_t>> error_stats::by_code() const {
    return {counts_.begin(), counts_.end()};
}

}  // namespace redis_sidecar::store
