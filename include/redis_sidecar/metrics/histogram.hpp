#pragma once
/// A latency histogram with fixed buckets, written by one event loop and read by any thread
/// (the metrics endpoint, INFO). One writer means plain relaxed loads and stores, no
/// read-modify-write on the hot path; readers see each counter whole, if a moment old.

#include <array>
#include <atomic>
#include <cstdint>

namespace redis_sidecar::metrics {

/// Upper bounds of the buckets in microseconds, as Prometheus's "le" (the last, +Inf, is implicit).
/// From a local answer (tens of µs) through a pipelined round trip to an upstream timeout.
inline constexpr std::array<std::uint64_t, 15> latency_bounds_us = {
    25, 50, 100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000};

/// What a histogram held at one moment; snapshots of several event loops add up.
struct histogram_snapshot {
    /// Per bucket (not cumulative); the last one is above every bound.
    std::array<std::uint64_t, latency_bounds_us.size() + 1> buckets{};
    std::uint64_t count = 0;
    std::uint64_t sum_us = 0;

    void add(const histogram_snapshot& other);
    /// The smallest bucket bound under which at least `fraction` of the observations fall
    /// (0 when empty; the largest bound when they are past it): an upper estimate of a percentile.
    std::uint64_t quantile_bound_us(double fraction) const;
};

class latency_histogram {
public:
    /// Records `count` observations of `micros` each. Only the owning event loop calls it.
    void observe(std::uint64_t micros, std::uint64_t count = 1);
    histogram_snapshot snapshot() const;

private:
    static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n) {
        counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    std::array<std::atomic<std::uint64_t>, latency_bounds_us.size() + 1> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_us_{0};
};

}  // namespace redis_sidecar::metrics
