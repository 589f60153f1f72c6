#pragma once
/// Error replies counted by their code, as Redis 7.0 counts them for INFO errorstats and the
/// Stats section's total_error_replies. Sans-io: it reads the replies it is shown.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_sidecar::store {

class error_stats {
public:
    /// Counts `reply` (the start of one RESP reply, at least its first line) when it is an
    /// error: under the word after `-` when a space follows it within the first 32 bytes,
    /// else under ERR (Redis's afterErrorReply).
    void count(std::string_view reply);

    /// Every error counted.
    std::uint64_t total() const { return total_; }

    /// Counts per error code, in byte order of the codes (Redis's order).
    std::vector<std::pair<std::string, std::uint64_t>> by_code() const;

    /// Distinct codes given a count of their own; errors of further codes count in total() only.
    static constexpr std::size_t max_codes = 128;

private:
    std::map<std::string, std::uint64_t, std::less<>> counts_;
    std::uint64_t total_ = 0;
};

}  // namespace redis_sidecar::store
