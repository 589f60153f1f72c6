#include "redis_sidecar/local/sha1.hpp"

#include <gtest/gtest.h>

#include <string>

#include "commands.hpp"

namespace redis_sidecar::local {
namespace {

std::string hex(std::string_view data) { return std::string(to_string_view(sha1_to_hex(data))); }

TEST(sha1, fips_vectors) {
    EXPECT_EQ(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    EXPECT_EQ(hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(sha1, padding_boundaries) {
    // Lengths around the 55/56 and 64 byte edges where the length field moves to a second block.
    EXPECT_EQ(hex(std::string(55, 'a')), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    EXPECT_EQ(hex(std::string(56, 'a')), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    EXPECT_EQ(hex(std::string(63, 'a')), "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
    EXPECT_EQ(hex(std::string(64, 'a')), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    EXPECT_EQ(hex(std::string(119, 'a')), "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56");
    EXPECT_EQ(hex(std::string(120, 'a')), "f34c1488385346a55709ba056ddd08280dd4c6d6");
}

TEST(sha1, all_byte_values) {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    EXPECT_EQ(hex(bytes), "4916d6bdb7f78e6803698cab32d1586ea457dfc8");
}

TEST(sha1, known_lock_scripts) {
    // The SHA1s clients send for redis-py 4.x Lock release/extend/reacquire and Redlock unlock.
    EXPECT_TRUE(detail::is_known_script("c3f8721cbb97f72bc19e972846bd7aaf91901658"));
    EXPECT_TRUE(detail::is_known_script("a4e8783852e6b949f9ef3a97212805108459a890"));
    EXPECT_TRUE(detail::is_known_script("1cac51482acf5858da00f6d685d68f886cd6b6b2"));
    EXPECT_TRUE(detail::is_known_script("b70c2384248f88e6b75b9f89241a180f856ad852"));
    EXPECT_FALSE(detail::is_known_script("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"));
}

}  // namespace
}  // namespace redis_sidecar::local
