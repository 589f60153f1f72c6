// Redis's limits on a normal client, decided without sockets.
#include "redis_sidecar/server/client_limits.hpp"

#include <gtest/gtest.h>

using redis_sidecar::config::output_buffer_limit;
using redis_sidecar::server::client_limits;

TEST(client_limits, no_output_limit_never_closes) {
    client_limits limits(100);
    EXPECT_FALSE(limits.output_over_limit(output_buffer_limit{}, 1ull << 40, 100));
}

TEST(client_limits, the_hard_output_limit_closes_at_once) {
    client_limits limits(100);
    const output_buffer_limit hard{1000, 0, 0};
    EXPECT_FALSE(limits.output_over_limit(hard, 999, 100));
    EXPECT_TRUE(limits.output_over_limit(hard, 1000, 100));
}

TEST(client_limits, the_soft_output_limit_closes_after_its_seconds) {
    client_limits limits(100);
    const output_buffer_limit soft{0, 500, 10};
    EXPECT_FALSE(limits.output_over_limit(soft, 600, 100));  // reached now
    EXPECT_FALSE(limits.output_over_limit(soft, 600, 110));  // for 10 s: not more than its seconds
    EXPECT_TRUE(limits.output_over_limit(soft, 600, 111));
}

TEST(client_limits, going_under_the_soft_limit_starts_its_time_again) {
    client_limits limits(100);
    const output_buffer_limit soft{0, 500, 10};
    EXPECT_FALSE(limits.output_over_limit(soft, 600, 100));
    EXPECT_FALSE(limits.output_over_limit(soft, 100, 105));
    EXPECT_FALSE(limits.output_over_limit(soft, 600, 108));
    EXPECT_FALSE(limits.output_over_limit(soft, 600, 118));
    EXPECT_TRUE(limits.output_over_limit(soft, 600, 119));
}

TEST(client_limits, idle_past_its_timeout_since_the_last_activity) {
    client_limits limits(100);
    EXPECT_FALSE(limits.idle_past(0, 1'000'000)) << "timeout 0: never";
    EXPECT_FALSE(limits.idle_past(5, 105));
    EXPECT_TRUE(limits.idle_past(5, 106));
    limits.note_activity(106);
    EXPECT_FALSE(limits.idle_past(5, 111));
    EXPECT_TRUE(limits.idle_past(5, 112));
}

TEST(client_limits, an_idle_reader_is_probed_for_eof_once_per_idle_spell) {
    client_limits limits(100);
    EXPECT_FALSE(limits.take_eof_probe(true, false, 100)) << "not idle for a second yet";
    EXPECT_FALSE(limits.take_eof_probe(false, false, 101)) << "no read waiting";
    EXPECT_FALSE(limits.take_eof_probe(true, true, 101)) << "a write in flight, which the probe's cancel would abort";
    EXPECT_TRUE(limits.take_eof_probe(true, false, 101));
    EXPECT_FALSE(limits.take_eof_probe(true, false, 102)) << "asked already in this idle spell";
    limits.read_completed();
    limits.note_activity(102);
    EXPECT_FALSE(limits.take_eof_probe(true, false, 102));
    EXPECT_TRUE(limits.take_eof_probe(true, false, 103));
}
