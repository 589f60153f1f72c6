#include "redis_sidecar/local/keyspace.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

namespace redis_sidecar::local {
namespace {

std::string key_name(int i) { return "key:" + std::to_string(i); }

// Runs a full scan, calling `between` after every step (to change the table mid-scan).
template <class Between>
std::set<std::string> full_scan(keyspace& ks, Between between, std::size_t* steps = nullptr) {
    std::set<std::string> seen;
    std::uint64_t cursor = 0;
    std::size_t n = 0;
    do {
        std::vector<const keyspace::entry*> found;
        cursor = ks.scan(cursor, found);
        for (const keyspace::entry* e : found) seen.emplace(e->key());
        ++n;
        between(n);
    } while (cursor != 0);
    if (steps != nullptr) *steps = n;
    return seen;
}

TEST(keyspace, set_find_erase) {
    keyspace ks(1);
    EXPECT_EQ(ks.find("a", 0), nullptr);
    ks.set("a", "1");
    ASSERT_NE(ks.find("a", 0), nullptr);
    EXPECT_EQ(ks.find("a", 0)->value(), "1");
    EXPECT_FALSE(ks.find("a", 0)->has_expiry());
    ks.set("a", "2", 500);
    EXPECT_EQ(ks.find("a", 0)->value(), "2");
    EXPECT_EQ(ks.find("a", 0)->expire_at(), 500);
    EXPECT_EQ(ks.size(), 1u);
    EXPECT_TRUE(ks.erase("a", 0));
    EXPECT_FALSE(ks.erase("a", 0));
    EXPECT_EQ(ks.size(), 0u);
}

TEST(keyspace, overwrite_replaces_value_and_expiry_of_the_entry) {
    keyspace ks(1);
    keyspace::entry& e = ks.set("a", "1", 500);
    ks.overwrite(e, "22");
    EXPECT_EQ(ks.find("a", 0)->value(), "22");
    EXPECT_FALSE(ks.find("a", 0)->has_expiry());
    EXPECT_EQ(ks.volatile_count(), 0u);
    ks.overwrite(e, "3", 900);
    EXPECT_EQ(ks.find("a", 0)->expire_at(), 900);
    EXPECT_EQ(ks.volatile_count(), 1u);
    EXPECT_EQ(ks.size(), 1u);
}

// The journal's feed: one report per write, however many parts of the entry the write changed
// (each report costs the local service a classification and a set insert).
TEST(keyspace, every_write_is_reported_once) {
    keyspace ks(1);
    std::vector<std::string> reported;
    ks.set_write_observer([&](std::string_view key, const keyspace::entry*) { reported.emplace_back(key); });
    ks.set("a", "1");  // new key
    EXPECT_EQ(reported, std::vector<std::string>{"a"});
    ks.set("a", "2", 500);  // value and expiry of an existing key
    EXPECT_EQ(reported.size(), 2u);
    ks.overwrite(*ks.find("a", 0), "3", 600);
    EXPECT_EQ(reported.size(), 3u);
    ks.set_value(*ks.find("a", 0), "4");
    ks.set_expiry(*ks.find("a", 0), no_expiry);
    EXPECT_EQ(reported.size(), 5u);
    EXPECT_TRUE(ks.erase("a", 0));
    EXPECT_EQ(reported, (std::vector<std::string>{"a", "a", "a", "a", "a", "a"}));
    ks.set("b", "1", 10);
    EXPECT_EQ(ks.find("b", 11), nullptr);  // an expiry is not a write
    EXPECT_EQ(reported.size(), 7u);
}

// What the local service restores when the disk refuses a write: the entry as it was.
TEST(keyspace, a_write_is_reported_with_the_entry_before_it) {
    keyspace ks(1);
    std::vector<std::string> before;  // "-" for a key being created
    ks.set_write_observer([&](std::string_view, const keyspace::entry* e) {
        before.push_back(e == nullptr ? "-" : std::string(e->value()) + "@" + std::to_string(e->expire_at()));
    });
    ks.set("a", "1");
    ks.set("a", "2", 500);
    ks.set_value(*ks.find("a", 0), "3");
    ks.set_expiry(*ks.find("a", 0), 900);
    ks.append_value(*ks.find("a", 0), "x");
    ks.erase("a", 0);
    EXPECT_EQ(before, (std::vector<std::string>{"-", "1@-1", "2@500", "3@500", "3@900", "3x@900"}));
}

TEST(keyspace, binary_keys) {
    keyspace ks(1);
    const std::string k1("a\0b", 3);
    const std::string k2("a\0c", 3);
    ks.set(k1, "x");
    ks.set(k2, "y");
    EXPECT_EQ(ks.find(k1, 0)->value(), "x");
    EXPECT_EQ(ks.find(k2, 0)->value(), "y");
    EXPECT_EQ(ks.find("a", 0), nullptr);
}

TEST(keyspace, lazy_expiry_on_access) {
    keyspace ks(1);
    ks.set("k", "v", 1000);
    // Redis: a key expires once now > its expire time.
    EXPECT_NE(ks.find("k", 1000), nullptr);
    EXPECT_EQ(ks.size(), 1u);
    EXPECT_EQ(ks.find("k", 1001), nullptr);
    EXPECT_EQ(ks.size(), 0u);
    EXPECT_EQ(ks.expired_keys(), 1u);
}

TEST(keyspace, expiry_can_be_removed_and_changed) {
    keyspace ks(1);
    keyspace::entry& e = ks.set("k", "v", 1000);
    ks.set_expiry(e, no_expiry);
    EXPECT_NE(ks.find("k", 5000), nullptr);
    ks.set_expiry(*ks.find("k", 0), 6000);
    EXPECT_EQ(ks.active_expire_cycle(7000, 100), 1u);
    EXPECT_EQ(ks.size(), 0u);
}

TEST(keyspace, active_expiry_removes_expired_keys_only) {
    keyspace ks(7);
    for (int i = 0; i < 1000; ++i) ks.set(key_name(i), "v", 100);           // will expire
    for (int i = 1000; i < 2000; ++i) ks.set(key_name(i), "v");             // no TTL
    for (int i = 2000; i < 2100; ++i) ks.set(key_name(i), "v", 1'000'000);  // far future
    EXPECT_EQ(ks.active_expire_cycle(50, 100000), 0u);                      // nothing due yet: one round, stops
    std::size_t expired = 0;
    for (int cycle = 0; cycle < 100 && ks.size() > 1100; ++cycle) expired += ks.active_expire_cycle(200, 10000);
    EXPECT_EQ(expired, 1000u);
    EXPECT_EQ(ks.size(), 1100u);
    for (int i = 1000; i < 2100; ++i) EXPECT_NE(ks.find(key_name(i), 200), nullptr) << i;
}

TEST(keyspace, active_expiry_respects_budget) {
    keyspace ks(3);
    for (int i = 0; i < 1000; ++i) ks.set(key_name(i), "v", 100);
    const std::size_t expired = ks.active_expire_cycle(200, 30);
    EXPECT_GT(expired, 0u);
    EXPECT_LE(expired, 30u);
    EXPECT_EQ(ks.size(), 1000u - expired);
}

TEST(keyspace, random_entry_skips_and_deletes_expired) {
    keyspace ks(5);
    EXPECT_EQ(ks.random_entry(0), nullptr);
    for (int i = 0; i < 50; ++i) ks.set(key_name(i), "v", 10);
    ks.set("live", "v");
    for (int i = 0; i < 20; ++i) {
        keyspace::entry* e = ks.random_entry(100);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->key(), "live");
    }
    ks.erase("live", 100);
    EXPECT_EQ(ks.random_entry(100), nullptr);
    EXPECT_EQ(ks.size(), 0u);
}

TEST(keyspace, scan_of_empty_keyspace_ends_at_once) {
    keyspace ks(1);
    std::vector<const keyspace::entry*> found;
    EXPECT_EQ(ks.scan(0, found), 0u);
    EXPECT_TRUE(found.empty());
    EXPECT_EQ(ks.scan(12345, found), 0u);
}

TEST(keyspace, scan_returns_every_key_once_when_stable) {
    keyspace ks(1);
    for (int i = 0; i < 1000; ++i) ks.set(key_name(i), "v");
    std::multiset<std::string> seen;
    std::uint64_t cursor = 0;
    do {
        std::vector<const keyspace::entry*> found;
        cursor = ks.scan(cursor, found);
        for (const keyspace::entry* e : found) seen.emplace(e->key());
    } while (cursor != 0);
    EXPECT_EQ(seen.size(), 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen.count(key_name(i)), 1u) << i;
}

TEST(keyspace, scan_returns_keys_present_throughout_while_table_grows) {
    keyspace ks(11);
    for (int i = 0; i < 100; ++i) ks.set(key_name(i), "v");
    int next = 100;
    // Insert many keys between steps (up to 20000): the table grows through several sizes,
    // rehashing incrementally, while the scan runs.
    const auto seen = full_scan(ks, [&](std::size_t) {
        for (int j = 0; j < 50 && next < 20000; ++j) ks.set(key_name(next++), "v");
    });
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen.count(key_name(i)), 1u) << i;
}

TEST(keyspace, scan_returns_keys_present_throughout_while_table_shrinks) {
    keyspace ks(13);
    for (int i = 0; i < 5000; ++i) ks.set(key_name(i), "v");
    // Keys 0..99 stay; the others are deleted between steps, so the table shrinks mid-scan.
    int next_victim = 100;
    const auto seen = full_scan(ks, [&](std::size_t) {
        for (int j = 0; j < 200 && next_victim < 5000; ++j) ks.erase(key_name(next_victim++), 0);
    });
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen.count(key_name(i)), 1u) << i;
}

TEST(keyspace, scan_guarantee_under_random_churn) {
    // Property test: random inserts and deletes of other keys between steps, over many seeds.
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        keyspace ks(seed);
        std::mt19937_64 rng(seed);
        const int stable = 50 + static_cast<int>(rng() % 200);
        for (int i = 0; i < stable; ++i) ks.set("stable:" + std::to_string(i), "v");
        std::vector<std::string> churn;
        const auto seen = full_scan(ks, [&](std::size_t) {
            const int op = static_cast<int>(rng() % 3);
            const int n = static_cast<int>(rng() % 40);
            for (int j = 0; j < n; ++j) {
                // Bounded, so the table cannot outgrow the scan forever.
                if ((op != 0 && churn.size() < 3000) || churn.empty()) {
                    churn.push_back("churn:" + std::to_string(rng()));
                    ks.set(churn.back(), "v");
                } else {
                    const std::size_t victim = rng() % churn.size();
                    ks.erase(churn[victim], 0);
                    churn[victim] = churn.back();
                    churn.pop_back();
                }
            }
        });
        for (int i = 0; i < stable; ++i) {
            ASSERT_EQ(seen.count("stable:" + std::to_string(i)), 1u) << "seed " << seed << " key " << i;
        }
    }
}

TEST(keyspace, for_each_visits_every_key) {
    keyspace ks(1);
    for (int i = 0; i < 300; ++i) ks.set(key_name(i), "v");
    std::set<std::string> seen;
    ks.for_each([&](const keyspace::entry& e) { seen.emplace(e.key()); });
    EXPECT_EQ(seen.size(), 300u);
}

TEST(keyspace, memory_accounting_follows_changes) {
    keyspace ks(1);
    const std::size_t empty = ks.used_memory();
    keyspace::entry& e = ks.set("key", "value");
    const std::size_t one = ks.used_memory();
    EXPECT_GE(one, empty + 8 + keyspace::entry_overhead);
    ks.append_value(e, std::string(1000, 'x'));
    EXPECT_EQ(ks.used_memory(), one + 1000);
    ks.set_value(e, "v");
    EXPECT_EQ(ks.used_memory(), one - 4);
    ks.erase(e);
    ks.clear();
    EXPECT_EQ(ks.used_memory(), 0u);
}

TEST(keyspace, eviction_never_touches_non_evictable_keys) {
    keyspace ks(17);
    ks.set_evictable([](std::string_view key) { return !key.starts_with("jwt_token_blacklist_"); });
    for (int i = 0; i < 500; ++i) ks.set("jwt_token_blacklist_" + std::to_string(i), std::string(100, 'b'), 1'000'000);
    for (int i = 0; i < 500; ++i) ks.set("cache:" + std::to_string(i), std::string(100, 'c'));
    ks.set_maxmemory(ks.used_memory() * 3 / 4);
    const std::size_t evicted = ks.evict_if_needed(0);
    EXPECT_GT(evicted, 0u);
    EXPECT_LE(ks.used_memory(), ks.maxmemory());
    for (int i = 0; i < 500; ++i) EXPECT_NE(ks.find("jwt_token_blacklist_" + std::to_string(i), 0), nullptr) << i;

    // A budget below what the protected keys need evicts every other key, and stops there.
    ks.set_maxmemory(1);
    ks.evict_if_needed(0);
    EXPECT_EQ(ks.size(), 500u);
    for (int i = 0; i < 500; ++i) EXPECT_NE(ks.find("jwt_token_blacklist_" + std::to_string(i), 0), nullptr) << i;
}

TEST(keyspace, eviction_prefers_least_recently_used) {
    keyspace ks(19);
    for (int i = 0; i < 1000; ++i) ks.set(key_name(i), std::string(50, 'x'));
    // Touch the first 100 keys: they become the most recently used.
    for (int i = 0; i < 100; ++i) ks.find(key_name(i), 0);
    ks.set_maxmemory(ks.used_memory() / 2);
    ks.evict_if_needed(0);
    int recent_survivors = 0;
    for (int i = 0; i < 100; ++i) recent_survivors += ks.find(key_name(i), 0, false) != nullptr;
    EXPECT_GE(recent_survivors, 95);
    EXPECT_LE(ks.used_memory(), ks.maxmemory());
}

TEST(keyspace, eviction_predicate_reclassifies_existing_keys) {
    keyspace ks(23);
    for (int i = 0; i < 100; ++i) ks.set("lock:" + std::to_string(i), "v");
    EXPECT_TRUE(ks.find("lock:1", 0)->evictable());
    ks.set_evictable([](std::string_view key) { return !key.starts_with("lock:"); });
    EXPECT_FALSE(ks.find("lock:1", 0)->evictable());
    ks.set_maxmemory(1);
    EXPECT_EQ(ks.evict_if_needed(0), 0u);
    EXPECT_EQ(ks.size(), 100u);
}

TEST(keyspace, eviction_frees_expired_keys_first) {
    keyspace ks(29);
    for (int i = 0; i < 200; ++i) ks.set(key_name(i), std::string(100, 'x'), 10);
    ks.set_maxmemory(ks.used_memory() / 4);
    ks.evict_if_needed(100);
    EXPECT_LE(ks.used_memory(), ks.maxmemory());
    EXPECT_GT(ks.expired_keys(), 0u);
}

}  // namespace
}  // namespace redis_sidecar::local
