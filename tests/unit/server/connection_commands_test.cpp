// The commands the sidecar answers itself, as functions over the client's state: Redis 7.0's
// replies byte for byte, and the verdicts that pin, pass on or close.
#include "redis_sidecar/server/connection_commands.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace redis_sidecar::server;

namespace {

using args = std::vector<std::string_view>;

const client_password no_password("");
const client_password password("s3cret");

// The reply and verdict of one command on `client`.
struct answered {
    connection_verdict verdict;
    std::string reply;
};

answered ping(args a) {
    std::string out;
    const connection_verdict v = answer_ping(a, out);
    return {v, out};
}
answered hello(client_state& client, args a, const client_password& pw = no_password, std::string_view version = "") {
    std::string out;
    const connection_verdict v = answer_hello(client, a, pw, version, out);
    return {v, out};
}
answered client_command(client_state& client, args a) {
    std::string out;
    const connection_verdict v = answer_client(client, a, out);
    return {v, out};
}
answered auth(client_state& client, args a) {
    std::string out;
    const connection_verdict v = answer_auth(client, a, password, out);
    return {v, out};
}

constexpr std::string_view wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

std::string hello2_reply(std::string_view version, std::string_view id) {
    return "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$" + std::to_string(version.size()) + "\r\n" +
           std::string(version) + "\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:" + std::string(id) +
           "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
}

}  // namespace

TEST(connection_commands, ping_answers_pong_or_its_message) {
    EXPECT_EQ(ping({"PING"}).reply, "+PONG\r\n");
    EXPECT_EQ(ping({"ping", "hi"}).reply, "$2\r\nhi\r\n");
    const answered too_many = ping({"PING", "a", "b"});
    EXPECT_EQ(too_many.verdict, connection_verdict::replied);
    EXPECT_EQ(too_many.reply, "-ERR wrong number of arguments for 'ping' command\r\n");
}

TEST(connection_commands, quit_replies_then_closes) {
    std::string out;
    EXPECT_EQ(answer_quit(out), connection_verdict::replied_then_close);
    EXPECT_EQ(out, "+OK\r\n");
}

TEST(connection_commands, hello_2_is_answered_with_the_clients_id_and_redis_version) {
    client_state client{42, {}, true};
    const answered a = hello(client, {"HELLO", "2"}, no_password, "7.0.15");
    EXPECT_EQ(a.verdict, connection_verdict::replied);
    EXPECT_EQ(a.reply, hello2_reply("7.0.15", "42"));
    EXPECT_EQ(hello(client, {"HELLO"}).reply, hello2_reply("7.0.0", "42")) << "Redis's version not known yet";
}

TEST(connection_commands, hello_3_pins) {
    client_state client{1, {}, true};
    EXPECT_EQ(hello(client, {"HELLO", "3"}).verdict, connection_verdict::pin);
    // Without requirepass, a password is Redis's to judge, on the client's own connection.
    EXPECT_EQ(hello(client, {"HELLO", "2", "AUTH", "default", "x"}).verdict, connection_verdict::pin);
}

TEST(connection_commands, hello_auth_is_the_sidecars_with_requirepass) {
    client_state client{1, {}, false};
    const answered wrong = hello(client, {"HELLO", "2", "AUTH", "default", "nope"}, password);
    EXPECT_EQ(wrong.verdict, connection_verdict::auth_failed);
    EXPECT_EQ(wrong.reply, wrongpass);
    EXPECT_FALSE(client.authenticated);
    EXPECT_EQ(hello(client, {"HELLO", "2"}, password).reply,
              "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
              "<user> <pass> option can be used to authenticate the client and select the RESP protocol version "
              "at the same time\r\n");
    // HELLO 3 AUTH pins, and Redis must get the HELLO without the sidecar's password.
    EXPECT_EQ(hello(client, {"HELLO", "3", "AUTH", "default", "s3cret"}, password).verdict,
              connection_verdict::pin_hello_without_auth);
    EXPECT_TRUE(client.authenticated);
    EXPECT_EQ(hello(client, {"HELLO", "3"}, password).verdict, connection_verdict::pin);
}

// As Redis 7.0 runs them: each option takes effect before a later one fails.
TEST(connection_commands, hello_options_take_effect_one_by_one) {
    client_state client{1, {}, false};
    const answered a = hello(client, {"HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "app", "BOGUS"}, password);
    EXPECT_EQ(a.reply, "-ERR Syntax error in HELLO option 'BOGUS'\r\n");
    EXPECT_TRUE(client.authenticated);
    EXPECT_EQ(client.name, "app");
    EXPECT_EQ(hello(client, {"HELLO", "2", "SETNAME", "bad name"}).reply,
              "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    EXPECT_EQ(client.name, "app");
}

TEST(connection_commands, hello_refuses_unknown_versions) {
    client_state client{1, {}, true};
    EXPECT_EQ(hello(client, {"HELLO", "x"}).reply, "-ERR Protocol version is not an integer or out of range\r\n");
    EXPECT_EQ(hello(client, {"HELLO", "4"}).reply, "-NOPROTO unsupported protocol version\r\n");
    EXPECT_EQ(hello(client, {"HELLO", "1"}).reply, "-NOPROTO unsupported protocol version\r\n");
}

TEST(connection_commands, client_name_and_id_are_the_sidecars) {
    client_state client{7, {}, true};
    EXPECT_EQ(client_command(client, {"CLIENT", "GETNAME"}).reply, "$-1\r\n");
    EXPECT_EQ(client_command(client, {"client", "setname", "worker-1"}).reply, "+OK\r\n");
    EXPECT_EQ(client.name, "worker-1");
    EXPECT_EQ(client_command(client, {"CLIENT", "GETNAME"}).reply, "$8\r\nworker-1\r\n");
    EXPECT_EQ(client_command(client, {"CLIENT", "ID"}).reply, ":7\r\n");
    EXPECT_EQ(client_command(client, {"CLIENT", "SETNAME", "a b"}).reply,
              "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    EXPECT_EQ(client_command(client, {"CLIENT", "SETNAME"}).reply,
              "-ERR wrong number of arguments for 'client|setname' command\r\n");
    EXPECT_EQ(client_command(client, {"CLIENT"}).reply, "-ERR wrong number of arguments for 'client' command\r\n");
}

TEST(connection_commands, client_setinfo_is_checked_as_redis_does) {
    client_state client{1, {}, true};
    EXPECT_EQ(client_command(client, {"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}).reply, "+OK\r\n");
    EXPECT_EQ(client_command(client, {"CLIENT", "SETINFO", "lib-ver", "5.0.1"}).reply, "+OK\r\n");
    EXPECT_EQ(client_command(client, {"CLIENT", "SETINFO", "color", "red"}).reply,
              "-ERR Unrecognized option 'color'\r\n");
    EXPECT_EQ(client_command(client, {"CLIENT", "SETINFO", "lib-ver", "5 1"}).reply,
              "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n");
}

TEST(connection_commands, client_subcommands_that_change_the_connection_pin_and_others_pass_on) {
    client_state client{1, {}, true};
    for (std::string_view sub : {"TRACKING", "reply", "KILL", "caching", "GETREDIR", "TRACKINGINFO", "NO-EVICT", "no-touch"})
        EXPECT_EQ(client_command(client, {"CLIENT", sub, "ON"}).verdict, connection_verdict::pin) << sub;
    const answered list = client_command(client, {"CLIENT", "LIST"});
    EXPECT_EQ(list.verdict, connection_verdict::pass_on);
    EXPECT_EQ(list.reply, "");
}

TEST(connection_commands, auth_with_requirepass) {
    client_state client{1, {}, false};
    const answered wrong = auth(client, {"AUTH", "nope"});
    EXPECT_EQ(wrong.verdict, connection_verdict::auth_failed);
    EXPECT_EQ(wrong.reply, wrongpass);
    EXPECT_FALSE(client.authenticated);
    EXPECT_EQ(auth(client, {"AUTH", "default", "s3cret"}).reply, "+OK\r\n");
    EXPECT_TRUE(client.authenticated);
    // A failed AUTH leaves an authenticated client authenticated, as in Redis.
    EXPECT_EQ(auth(client, {"AUTH", "nope"}).verdict, connection_verdict::auth_failed);
    EXPECT_TRUE(client.authenticated);
    EXPECT_EQ(auth(client, {"AUTH"}).reply, "-ERR wrong number of arguments for 'auth' command\r\n");
    EXPECT_EQ(auth(client, {"AUTH", "a", "b", "c"}).reply, "-ERR syntax error\r\n");
}

TEST(connection_commands, reset_clears_the_name_and_the_authentication) {
    client_state client{1, "app", true};
    std::string out;
    EXPECT_EQ(answer_reset(client, args{"RESET"}, out), connection_verdict::replied);
    EXPECT_EQ(out, "+RESET\r\n");
    EXPECT_EQ(client.name, "");
    EXPECT_FALSE(client.authenticated);
    out.clear();
    answer_reset(client, args{"RESET", "x"}, out);
    EXPECT_EQ(out, "-ERR wrong number of arguments for 'reset' command\r\n");
}

TEST(connection_commands, info_goes_where_its_sections_say) {
    EXPECT_EQ(route_info(args{"INFO"}, false), info_route::local);
    EXPECT_EQ(route_info(args{"INFO", "sidecar"}, false), info_route::local);
    EXPECT_EQ(route_info(args{"INFO", "SIDECAR"}, true), info_route::sidecar_alone);
    EXPECT_EQ(route_info(args{"INFO"}, true), info_route::forward_appending_sidecar);
    EXPECT_EQ(route_info(args{"INFO", "server", "sidecar"}, true), info_route::forward_appending_sidecar);
    EXPECT_EQ(route_info(args{"INFO", "server"}, true), info_route::forward);
    EXPECT_EQ(info_for_redis(args{"INFO", "server", "Sidecar", "clients"}), (args{"INFO", "server", "clients"}));
}
