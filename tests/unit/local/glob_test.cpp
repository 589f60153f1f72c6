#include "redis_sidecar/local/glob.hpp"

#include <gtest/gtest.h>

#include <string>

namespace redis_sidecar::local {
namespace {

TEST(glob, star_and_question_mark) {
    // Redis's loop never runs for an empty subject, so only an empty pattern matches it (KEYS *
    // still lists an empty key because Redis skips matching for the pattern "*").
    EXPECT_FALSE(glob_match("*", ""));
    EXPECT_FALSE(glob_match("**", ""));
    EXPECT_TRUE(glob_match("*", "anything"));
    EXPECT_TRUE(glob_match("", ""));
    EXPECT_FALSE(glob_match("", "a"));
    EXPECT_TRUE(glob_match("h?llo", "hello"));
    EXPECT_FALSE(glob_match("h?llo", "hllo"));
    EXPECT_TRUE(glob_match("h*llo", "hllo"));
    EXPECT_TRUE(glob_match("h*llo", "heeeello"));
    EXPECT_TRUE(glob_match("a**b", "ab"));
    EXPECT_TRUE(glob_match("*a*b*", "xxaxxbxx"));
    EXPECT_FALSE(glob_match("*a*b*", "xxbxxaxx"));
    EXPECT_TRUE(glob_match("user:*:token", "user:42:token"));
    EXPECT_FALSE(glob_match("user:*:token", "user:42:tokens"));
    EXPECT_TRUE(glob_match("abc*", "abc"));
    EXPECT_FALSE(glob_match("?", ""));
}

TEST(glob, classes) {
    EXPECT_TRUE(glob_match("h[ae]llo", "hello"));
    EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
    EXPECT_FALSE(glob_match("h[ae]llo", "hillo"));
    EXPECT_TRUE(glob_match("h[^e]llo", "hallo"));
    EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
    EXPECT_TRUE(glob_match("h[a-b]llo", "hbllo"));
    EXPECT_FALSE(glob_match("h[a-b]llo", "hcllo"));
    EXPECT_TRUE(glob_match("h[b-a]llo", "hallo"));  // reversed ranges are swapped
    EXPECT_TRUE(glob_match("[\\]]", "]"));
    EXPECT_TRUE(glob_match("[a\\-z]", "-"));
    EXPECT_FALSE(glob_match("[a\\-z]", "b"));
    EXPECT_TRUE(glob_match("[]", "]") == false);
}

TEST(glob, unclosed_class_matches_as_if_closed) {
    EXPECT_TRUE(glob_match("[ab", "a"));
    EXPECT_TRUE(glob_match("[ab", "b"));
    EXPECT_FALSE(glob_match("[ab", "c"));
    EXPECT_FALSE(glob_match("[", "a"));
}

TEST(glob, escapes) {
    EXPECT_TRUE(glob_match("\\*", "*"));
    EXPECT_FALSE(glob_match("\\*", "a"));
    EXPECT_TRUE(glob_match("a\\?c", "a?c"));
    EXPECT_FALSE(glob_match("a\\?c", "abc"));
    EXPECT_TRUE(glob_match("a\\", "a\\"));  // a trailing backslash is literal
}

TEST(glob, nocase) {
    EXPECT_TRUE(glob_match("HeLLo", "hello", true));
    EXPECT_FALSE(glob_match("HeLLo", "hello", false));
    EXPECT_TRUE(glob_match("[A-C]x", "bx", true));
}

TEST(glob, binary_and_high_bytes) {
    const std::string key("a\0b", 3);
    EXPECT_TRUE(glob_match(std::string_view("a\0b", 3), key));
    EXPECT_TRUE(glob_match("a?b", key));
    EXPECT_FALSE(glob_match("a", key));
    // Bytes are compared as signed char, as Redis does: 0xFF is -1, so [\x01-\xff] is [-1..1].
    EXPECT_FALSE(glob_match("[\x01-\xff]", "a"));
    EXPECT_TRUE(glob_match("[\x01-\xff]", std::string_view("\0", 1)));
    EXPECT_TRUE(glob_match("[\xE9-a]", "\xF0"));
    EXPECT_FALSE(glob_match("[a-z]", "\xE9"));
}

TEST(glob, long_inputs_finish_quickly) {
    const std::string subject(5000, 'a');
    EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", subject));
    EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*a*", subject));
}

}  // namespace
}  // namespace redis_sidecar::local
