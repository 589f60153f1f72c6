#include "redis_sidecar/local/key_classes.hpp"

#include <gtest/gtest.h>

using redis_sidecar::local::key_class;
using redis_sidecar::local::key_classifier;

TEST(key_classes, defaults_of_the_product) {
    const key_classifier classes({"jwt_token_blacklist_"}, {"user_request_block_"}, {"cache:"});
    EXPECT_EQ(classes.classify("jwt_token_blacklist_abc"), key_class::blacklist);
    EXPECT_EQ(classes.classify("user_request_block_42"), key_class::lock);
    EXPECT_EQ(classes.classify("cache:user:42:profile"), key_class::cache);
    EXPECT_EQ(classes.classify("session:42"), key_class::default_class);
    // A prefix must match from the first byte, and in full.
    EXPECT_EQ(classes.classify("xjwt_token_blacklist_abc"), key_class::default_class);
    EXPECT_EQ(classes.classify("jwt_token_blacklist"), key_class::default_class);
    EXPECT_EQ(classes.classify(""), key_class::default_class);
}

TEST(key_classes, longest_prefix_wins_whatever_the_order) {
    const key_classifier classes({"cache:tokens:"}, {}, {"cache:"});
    EXPECT_EQ(classes.classify("cache:tokens:1"), key_class::blacklist);
    EXPECT_EQ(classes.classify("cache:users:1"), key_class::cache);
    const key_classifier reversed({"a"}, {}, {"ab"});
    EXPECT_EQ(reversed.classify("abc"), key_class::cache);
    EXPECT_EQ(reversed.classify("ac"), key_class::blacklist);
}

TEST(key_classes, prefixes_by_class) {
    const key_classifier classes({"b1_", "b2_"}, {"l_"}, {});
    EXPECT_EQ(classes.prefixes(key_class::blacklist).size(), 2u);
    EXPECT_EQ(classes.prefixes(key_class::lock), std::vector<std::string>{"l_"});
    EXPECT_TRUE(classes.prefixes(key_class::cache).empty());
}
