#include "redis_sidecar/metrics/histogram.hpp"

#include <algorithm>

namespace redis_sidecar::metrics {

void histogram_snapshot::add(const histogram_snapshot& other) {
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
    count += other.count;
    sum_us += other.sum_us;
}

std::uint64_t histogram_snapshot::quantile_bound_us(double fraction) const {
    if (count == 0) return 0;
    const double wanted = fraction * static_cast<double>(count);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < latency_bounds_us.size(); ++i) {
        seen += buckets[i];
        if (static_cast<double>(seen) >= wanted) return latency_bounds_us[i];
    }
    return latency_bounds_us.back();
}

void latency_histogram::observe(std::uint64_t micros, std::uint64_t count) {
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(latency_bounds_us.begin(), latency_bounds_us.end(), micros) - latency_bounds_us.begin());
    bump(buckets_[bucket], count);
    bump(count_, count);
    bump(sum_us_, micros * count);
}

histogram_snapshot latency_histogram::snapshot() const {
    histogram_snapshot s;
    for (std::size_t i = 0; i < buckets_.size(); ++i) s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    s.count = count_.load(std::memory_order_relaxed);
    s.sum_us = sum_us_.load(std::memory_order_relaxed);
    return s;
}

}  // namespace redis_sidecar::metrics
