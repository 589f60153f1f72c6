#include "redis_sidecar/server/client_auth.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/server/command_table.hpp"

using namespace redis_sidecar::server;

namespace {
auth_verdict auth(std::vector<std::string_view> args, const client_password& password) {
    return check_auth(args, password);
}
}  // namespace

TEST(fixed_time_equal, compares_every_byte) {
    const std::array<std::uint8_t, 4> a{1, 2, 3, 4};
    std::array<std::uint8_t, 4> b = a;
    EXPECT_TRUE(fixed_time_equal(a, b));
    for (std::size_t i = 0; i < b.size(); ++i) {
        b = a;
        b[i] ^= 0x80;
        EXPECT_FALSE(fixed_time_equal(a, b)) << "difference at byte " << i;
    }
    const std::array<std::uint8_t, 3> shorter{1, 2, 3};
    EXPECT_FALSE(fixed_time_equal(a, shorter));
    EXPECT_TRUE(fixed_time_equal(std::span<const std::uint8_t>(), std::span<const std::uint8_t>()));
}

TEST(client_password, none_configured) {
    const client_password none("");
    EXPECT_FALSE(none.required());
    EXPECT_FALSE(none.matches("default", ""));
}

TEST(client_password, matches_only_the_password_of_the_default_user) {
    const client_password password("s3cret");
    EXPECT_TRUE(password.required());
    EXPECT_TRUE(password.matches("default", "s3cret"));
    EXPECT_FALSE(password.matches("default", "s3cre"));
    EXPECT_FALSE(password.matches("default", "s3crett"));
    EXPECT_FALSE(password.matches("default", "S3cret"));
    EXPECT_FALSE(password.matches("default", ""));
    EXPECT_FALSE(password.matches("Default", "s3cret"));  // user names are case-sensitive in Redis
    EXPECT_FALSE(password.matches("admin", "s3cret"));
    // binary passwords, NUL bytes included
    const std::string binary("a\0b", 3);
    const client_password with_nul(binary);
    EXPECT_TRUE(with_nul.matches("default", binary));
    EXPECT_FALSE(with_nul.matches("default", "a"));
}

TEST(check_auth, redis_order_of_checks) {
    const client_password password("pw");
    EXPECT_EQ(auth({"AUTH"}, password), auth_verdict::wrong_arity);
    EXPECT_EQ(auth({"AUTH", "a", "b", "c"}, password), auth_verdict::syntax_error);
    EXPECT_EQ(auth({"AUTH", "default", "pw", "c"}, password), auth_verdict::syntax_error);
    EXPECT_EQ(auth({"AUTH", "pw"}, password), auth_verdict::ok);
    EXPECT_EQ(auth({"auth", "default", "pw"}, password), auth_verdict::ok);
    EXPECT_EQ(auth({"AUTH", "nope"}, password), auth_verdict::wrong_password);
    EXPECT_EQ(auth({"AUTH", "other", "pw"}, password), auth_verdict::wrong_password);
    EXPECT_EQ(auth({"AUTH", "default", "nope"}, password), auth_verdict::wrong_password);
}

TEST(check_auth, replies_are_redis_7_0_bytes) {
    EXPECT_EQ(auth_replies::noauth, "NOAUTH Authentication required.");
    EXPECT_EQ(auth_replies::wrongpass, "WRONGPASS invalid username-password pair or user is disabled.");
    // Redis 7.0's wording: "HELLO AUTH <user> <pass>" (7.2 added "<proto>").
    EXPECT_NE(auth_replies::hello_noauth.find("otherwise the HELLO AUTH <user> <pass> option"), std::string::npos);
    EXPECT_EQ(auth_replies::exec_noauth, "EXECABORT Transaction discarded because of: NOAUTH Authentication required.");
}

TEST(command_table, auth_and_reset_have_routes_of_their_own) {
    const std::vector<std::string_view> auth_command{"Auth", "pw"};
    const std::vector<std::string_view> reset_command{"RESET"};
    const auto& commands = *redis_sidecar::catalogue::command_catalogue::builtin();
    EXPECT_EQ(route_command(commands, auth_command).route, command_route::auth);
    EXPECT_EQ(route_command(commands, reset_command).route, command_route::reset);
}
