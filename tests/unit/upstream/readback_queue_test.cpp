// The queue of keys the mirror feed reads back: dedupe, order, give-back, bound, wake-ups.
#include "redis_sidecar/upstream/readback_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

using redis_sidecar::upstream::readback_queue;
using keys = std::vector<std::string>;

TEST(readback_queue, a_key_asked_for_twice_before_it_is_taken_is_read_back_once) {
    readback_queue q;
    q.request("b");
    q.request("a");
    q.request("b");
    EXPECT_EQ(q.size(), 2u);
    EXPECT_TRUE(q.waiting("a"));
    EXPECT_EQ(q.take(), (keys{"b", "a"}));  // in the order first asked for
    EXPECT_FALSE(q.waiting("a"));
    EXPECT_TRUE(q.take().empty());
}

TEST(readback_queue, a_key_asked_for_after_it_was_taken_waits_again) {
    // The first readback may have been sent before the second write ran: a new one is needed.
    readback_queue q;
    q.request("k");
    EXPECT_EQ(q.take(), keys{"k"});
    q.request("k");
    EXPECT_TRUE(q.waiting("k"));
    EXPECT_EQ(q.take(), keys{"k"});
}

TEST(readback_queue, keys_given_back_wait_ahead_of_newer_ones_and_once_each) {
    readback_queue q;
    q.request("a");
    q.request("b");
    const keys taken = q.take();
    q.request("c");
    q.request("b");  // asked again meanwhile: already waits, not twice
    q.give_back(taken);
    EXPECT_EQ(q.take(), (keys{"a", "c", "b"}));
}

TEST(readback_queue, pending_counts_keys_until_they_are_applied_or_given_back) {
    readback_queue q;
    q.request("a");
    q.request("b");
    q.request("c");
    EXPECT_EQ(q.pending(), 3u);
    const keys taken = q.take();
    EXPECT_EQ(q.size(), 0u);
    EXPECT_EQ(q.pending(), 3u);  // in flight
    q.request("d");
    EXPECT_EQ(q.pending(), 4u);
    q.finished(1);  // "a" applied, then the connection failed
    q.give_back(std::span(taken).subspan(1));
    EXPECT_EQ(q.pending(), 3u);
    EXPECT_EQ(q.take(), (keys{"b", "c", "d"}));
    q.finished(3);
    EXPECT_EQ(q.pending(), 0u);
}

TEST(readback_queue, past_its_capacity_keys_are_dropped_and_counted) {
    readback_queue q(2);
    EXPECT_TRUE(q.request("a"));
    EXPECT_TRUE(q.request("b"));
    EXPECT_TRUE(q.request("a"));  // waits already: nothing to drop
    EXPECT_FALSE(q.request("c"));
    EXPECT_FALSE(q.request("d"));
    EXPECT_EQ(q.dropped(), 2u);
    EXPECT_EQ(q.take(), (keys{"a", "b"}));
    EXPECT_TRUE(q.request("c"));  // room again
}

TEST(readback_queue, only_the_first_key_of_a_batch_wakes_the_feed) {
    readback_queue q;
    int wakes = 0;
    q.set_waker([&] { ++wakes; });
    q.request("a");
    q.request("b");
    q.request("a");
    EXPECT_EQ(wakes, 1);
    q.take();
    q.request("c");
    EXPECT_EQ(wakes, 2);
}

TEST(readback_queue, keys_given_back_to_an_empty_queue_wake_the_feed) {
    // The feed that gave them back may have been replaced (reload) by one that sleeps.
    readback_queue q;
    int wakes = 0;
    q.set_waker([&] { ++wakes; });
    q.request("a");
    const keys taken = q.take();
    q.give_back(taken);
    EXPECT_EQ(wakes, 2);
    q.give_back(taken);  // waits already
    EXPECT_EQ(wakes, 2);
    q.give_back({});
    EXPECT_EQ(wakes, 2);
}

TEST(readback_queue, requests_from_many_threads_all_arrive_while_the_feed_takes) {
    readback_queue q;
    constexpr int threads = 4;
    constexpr int per_thread = 2000;
    std::vector<std::string> taken;
    std::atomic<bool> done{false};
    std::thread feed([&] {
        while (!done.load())
            for (std::string& key : q.take()) taken.push_back(std::move(key));
    });
    std::vector<std::thread> sessions;
    for (int t = 0; t < threads; ++t)
        sessions.emplace_back([&q, t] {
            for (int i = 0; i < per_thread; ++i) {
                q.request("shared" + std::to_string(i));  // every thread asks for these
                q.request("own" + std::to_string(t) + "_" + std::to_string(i));
            }
        });
    for (auto& s : sessions) s.join();
    done.store(true);
    feed.join();
    for (std::string& key : q.take()) taken.push_back(std::move(key));
    std::map<std::string, int> times;
    for (const std::string& key : taken) ++times[key];
    EXPECT_EQ(times.size(), static_cast<std::size_t>(per_thread + threads * per_thread));
    for (const auto& [key, n] : times) {
        if (key.starts_with("own")) {
            EXPECT_EQ(n, 1) << key;  // asked for once, read back once
        } else {
            EXPECT_LE(n, threads) << key;
        }
    }
    EXPECT_EQ(q.dropped(), 0u);
}
