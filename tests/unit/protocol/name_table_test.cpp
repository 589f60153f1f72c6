#include "redis_sidecar/protocol/name_table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace redis_sidecar::protocol {
namespace {

TEST(name_table, finds_every_name_with_its_value) {
    // Names whose length and first, middle and last letters collide, so probing is exercised.
    const std::vector<std::string> names{"get",  "gat",   "gut",    "set",    "setex",  "setnx", "psetex",
                                         "del",  "dal",   "exists", "expire", "extrae", "a",     "b",
                                         "scan", "script", "incrbyfloat"};
    name_table<int> table;
    for (std::size_t i = 0; i < names.size(); ++i) table.insert({names[i], static_cast<int>(i)});
    for (std::size_t i = 0; i < names.size(); ++i) {
        const int* found = table.find(names[i]);
        ASSERT_NE(found, nullptr) << names[i];
        EXPECT_EQ(*found, static_cast<int>(i)) << names[i];
    }
}

TEST(name_table, near_names_and_the_empty_name_are_not_found) {
    const name_table<int> table{{"get", 1}, {"getex", 2}, {"set", 3}};
    for (std::string_view near : {"ge", "gett", "geT", "gex", "getx", "sets", "et", "", "GET"})
        EXPECT_EQ(table.find(near), nullptr) << near;
}

TEST(name_table, lowercase_into_lowercases_ascii_and_refuses_longer_names) {
    std::array<char, 6> buffer;
    EXPECT_EQ(lowercase_into("GeTeX", buffer), "getex");
    EXPECT_EQ(lowercase_into("SET_1", buffer), "set_1");
    EXPECT_EQ(lowercase_into("\xC3\x84x", buffer), "\xC3\x84x");  // bytes above ASCII stay
    EXPECT_EQ(lowercase_into("123456", buffer), "123456");
    EXPECT_EQ(lowercase_into("1234567", buffer), "");
    EXPECT_EQ(lowercase_into("", buffer), "");
}

}  // namespace
}  // namespace redis_sidecar::protocol
