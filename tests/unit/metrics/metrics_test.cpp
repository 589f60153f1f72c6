#include <gtest/gtest.h>

#include "redis_sidecar/metrics/exposition.hpp"
#include "redis_sidecar/metrics/histogram.hpp"
#include "redis_sidecar/metrics/http_endpoint.hpp"

using namespace redis_sidecar::metrics;

TEST(LatencyHistogram, PutsEachObservationInTheFirstBucketWhoseBoundHoldsIt) {
    latency_histogram h;
    h.observe(25);         // on a bound: that bucket (Prometheus's le is "less or equal")
    h.observe(26, 3);      // the next one
    h.observe(5'000'000);  // past every bound
    const histogram_snapshot s = h.snapshot();
    EXPECT_EQ(s.buckets[0], 1u);
    EXPECT_EQ(s.buckets[1], 3u);
    EXPECT_EQ(s.buckets.back(), 1u);
    EXPECT_EQ(s.count, 5u);
    EXPECT_EQ(s.sum_us, 25u + 78u + 5'000'000u);
}

TEST(LatencyHistogram, SnapshotsAddUpAndGiveAnUpperBoundOfAQuantile) {
    latency_histogram a, b;
    for (int i = 0; i < 98; ++i) a.observe(80);
    b.observe(3'000, 2);
    histogram_snapshot total = a.snapshot();
    total.add(b.snapshot());
    EXPECT_EQ(total.count, 100u);
    EXPECT_EQ(total.quantile_bound_us(0.5), 100u);
    EXPECT_EQ(total.quantile_bound_us(0.98), 100u);
    EXPECT_EQ(total.quantile_bound_us(0.99), 5'000u);
    EXPECT_EQ(histogram_snapshot{}.quantile_bound_us(0.99), 0u);
}

TEST(Exposition, WritesFamiliesSamplesAndEscapedLabels) {
    exposition e;
    e.family("redis_sidecar_requests_total", "counter", "Requests by route.");
    e.sample("redis_sidecar_requests_total", 7, {{"route", "forwarded"}});
    e.sample("redis_sidecar_info", 1, {{"version", "a\"b\\c\nd"}});
    EXPECT_EQ(e.text(),
              "# HELP redis_sidecar_requests_total Requests by route.\n"
              "# TYPE redis_sidecar_requests_total counter\n"
              "redis_sidecar_requests_total{route=\"forwarded\"} 7\n"
              "redis_sidecar_info{version=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Exposition, HistogramBucketsAreCumulativeInSeconds) {
    latency_histogram h;
    h.observe(20);
    h.observe(40, 2);
    exposition e;
    e.histogram("lat_seconds", h.snapshot(), {{"route", "local"}});
    const std::string& t = e.text();
    EXPECT_NE(t.find("lat_seconds_bucket{route=\"local\",le=\"0.000025\"} 1\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{route=\"local\",le=\"0.00005\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{route=\"local\",le=\"1\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_bucket{route=\"local\",le=\"+Inf\"} 3\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_sum{route=\"local\"} 0.0001\n"), std::string::npos) << t;
    EXPECT_NE(t.find("lat_seconds_count{route=\"local\"} 3\n"), std::string::npos) << t;
}

TEST(Exposition, SecondsTextIsTheShortestDecimal) {
    EXPECT_EQ(seconds_text(0), "0");
    EXPECT_EQ(seconds_text(250), "0.00025");
    EXPECT_EQ(seconds_text(1'000'000), "1");
    EXPECT_EQ(seconds_text(2'500'001), "2.500001");
}

TEST(HttpEndpoint, ParsesTheRequestLine) {
    const request_line r = parse_request_line("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.path, "/metrics");
    EXPECT_TRUE(parse_request_line("GET /metrics\r\n\r\n").path.empty());  // HTTP/0.9: no
    EXPECT_TRUE(parse_request_line("GET metrics HTTP/1.1\r\n\r\n").path.empty());
    EXPECT_TRUE(parse_request_line("\r\n\r\n").path.empty());
}

TEST(HttpEndpoint, FormatsAResponseWithLengthAndClose) {
    http_response r;
    r.body = "ok\n";
    EXPECT_EQ(format_response(r, false),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
              "Connection: close\r\n\r\nok\n");
    EXPECT_EQ(format_response(r, true).find("ok\n"), std::string::npos);
}
