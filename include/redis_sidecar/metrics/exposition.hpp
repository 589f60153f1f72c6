#pragma once
/// Prometheus's text exposition format (version 0.0.4): one family header (HELP, TYPE) followed
/// by its samples. Knows nothing of the sidecar; the server says what to write.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "redis_sidecar/metrics/histogram.hpp"

namespace redis_sidecar::metrics {

using label = std::pair<std::string_view, std::string_view>;

class exposition {
public:
    /// Starts a family: `type` is counter, gauge or histogram.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, std::uint64_t value, std::initializer_list<label> labels = {});
    /// The _bucket (cumulative, le in seconds), _sum (seconds) and _count samples of `name`.
    void histogram(std::string_view name, const histogram_snapshot& snapshot, std::initializer_list<label> labels = {});

    const std::string& text() const { return out_; }

private:
    void write_labels(std::initializer_list<label> labels, std::string_view le = {});

    std::string out_;
};

/// "0.00025" for 250 µs: the shortest decimal form of microseconds as seconds.
std::string seconds_text(std::uint64_t micros);

}  // namespace redis_sidecar::metrics
