#include "redis_sidecar/server/info.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

using namespace redis_sidecar::server;

TEST(info, sidecar_section_is_appended_after_an_empty_line) {
    std::string out;
    // Redis ends its INFO body with the last line's CRLF; sections are separated by an empty line.
    append_sidecar_section("$20\r\n# Server\r\na:1\r\nb:2\r\n\r\n", "# Sidecar\r\nmode:up\r\n", out);
    const std::string body = "# Server\r\na:1\r\nb:2\r\n\r\n# Sidecar\r\nmode:up\r\n";
    EXPECT_EQ(out, "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n");
}

TEST(info, an_empty_info_gets_the_section_alone_and_errors_pass) {
    std::string out;
    append_sidecar_section("$0\r\n\r\n", "# Sidecar\r\n", out);
    EXPECT_EQ(out, "$11\r\n# Sidecar\r\n\r\n");
    out.clear();
    append_sidecar_section("-ERR boom\r\n", "# Sidecar\r\n", out);
    EXPECT_EQ(out, "-ERR boom\r\n");
}

TEST(info, the_text_of_an_info_reply_is_a_bulk_strings_body) {
    EXPECT_EQ(info_reply_text("$10\r\n# Server\r\n\r\n"), std::optional<std::string_view>("# Server\r\n"));
    EXPECT_EQ(info_reply_text("$0\r\n\r\n"), std::optional<std::string_view>(""));
    // Anything but a bulk string has no text: an error, a null bulk, a header that is no length.
    EXPECT_FALSE(info_reply_text("-ERR boom\r\n"));
    EXPECT_FALSE(info_reply_text("$-1\r\n"));
    EXPECT_FALSE(info_reply_text("$x\r\n# Server\r\n"));
    EXPECT_FALSE(info_reply_text(""));
}

namespace {
std::string local_info(std::vector<std::string_view> sections) {
    local_figures f;
    f.redis_version = "7.0.15";
    f.keys = 2;
    f.keys_with_expiry = 1;
    f.command_calls = {{"get", 3}};
    return format_local_info(sections, f, "# Sidecar\r\nmode:down\r\n");
}
}  // namespace

TEST(info, local_sections_follow_redis_arguments) {
    const std::string all_default = local_info({});
    for (const char* section : {"# Server\r\nredis_version:7.0.15\r\n", "# Clients\r\n", "# Memory\r\nused_memory:",
                                "# CPU\r\nused_cpu_sys:", "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n",
                                "# Sidecar\r\n"})
        EXPECT_NE(all_default.find(section), std::string::npos) << section;
    EXPECT_EQ(all_default.find("# Commandstats"), std::string::npos);
    EXPECT_NE(local_info({"ALL"}).find("cmdstat_get:calls=3,"), std::string::npos);
    EXPECT_NE(local_info({"everything"}).find("# Commandstats"), std::string::npos);
    const std::string cpu = local_info({"cpu"});
    EXPECT_TRUE(cpu.starts_with("# CPU\r\n")) << cpu;
    EXPECT_EQ(cpu.find("# Server"), std::string::npos);
    EXPECT_EQ(local_info({"nosuchsection"}), "");
    const std::string two = local_info({"keyspace", "server"});
    EXPECT_LT(two.find("# Server"), two.find("# Keyspace"));  // Redis's order, not the arguments'
}

TEST(info, which_requests_get_the_sidecar_section) {
    using sections = std::vector<std::string_view>;
    const auto use = [](const sections& s) { return sidecar_section_in_info(s); };
    EXPECT_EQ(use({"sidecar"}), sidecar_section_use::alone);
    EXPECT_EQ(use({"SIDECAR", "Sidecar"}), sidecar_section_use::alone);
    EXPECT_EQ(use({}), sidecar_section_use::appended);
    for (const std::string_view all : {"default", "ALL", "everything"}) EXPECT_EQ(use({all}), sidecar_section_use::appended);
    EXPECT_EQ(use({"server", "sidecar"}), sidecar_section_use::appended);
    EXPECT_EQ(use({"server"}), sidecar_section_use::absent);
    EXPECT_EQ(use({"keyspace", "nosuchsection"}), sidecar_section_use::absent);
}
