#include "redis_sidecar/config/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace redis_sidecar::config;

namespace {
settings parse(std::vector<const char*> flags) {
    flags.insert(flags.begin(), "redis-sidecar");
    settings s;
    parse_command_line(static_cast<int>(flags.size()), flags.data(), s);
    return s;
}
std::string error_of(std::vector<const char*> flags) {
    try {
        parse(std::move(flags));
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}
// A config file with `text` in a fresh temp directory, removed with the object.
struct config_file {
    explicit config_file(const std::string& text) {
        if (::mkdtemp(dir.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
        std::ofstream(path()) << text;
    }
    ~config_file() {
        std::remove(path().c_str());
        ::rmdir(dir.c_str());
    }
    std::string path() const { return dir + "/redis-sidecar.conf"; }
    std::string dir = "/tmp/config_test.XXXXXX";
};
// Every integer option of the sidecar (a new one belongs here too).
const char* const integer_options[] = {"upstream-connections", "upstream-timeout", "probe-interval", "max-pinned",
                                       "max-inflight",         "maxclients",       "threads",        "shutdown-timeout",
                                       "local-maxmemory"};
}  // namespace

TEST(config, defaults_are_the_documented_ones) {
    const settings s = parse({});
    EXPECT_EQ(s.listen.host, "127.0.0.1");
    EXPECT_EQ(s.listen.port, 6380);
    EXPECT_EQ(s.upstream.port, 6379);
    EXPECT_EQ(s.upstream_timeout_ms, 500u);
    EXPECT_EQ(s.probe_interval_ms, 250u);
    EXPECT_EQ(s.journal_fsync, "always");
    EXPECT_EQ(s.blacklist_prefixes, std::vector<std::string>{"jwt_token_blacklist_"});
}

TEST(config, endpoints_and_repeated_prefixes) {
    const settings s = parse({"--listen", "[::1]:7000", "--cache-prefix", "c1:", "--cache-prefix", "c2:"});
    EXPECT_EQ(s.listen.host, "::1");
    EXPECT_EQ(s.listen.port, 7000);
    EXPECT_EQ(s.cache_prefixes, (std::vector<std::string>{"c1:", "c2:"}));
}

TEST(config, bad_values_name_their_option) {
    EXPECT_NE(error_of({"--listen", "nohost"}).find("'listen'"), std::string::npos);
    EXPECT_NE(error_of({"--upstream", "h:70000"}).find("'upstream'"), std::string::npos);
    EXPECT_NE(error_of({"--journal-fsync", "never"}).find("'journal-fsync'"), std::string::npos);
    EXPECT_NE(error_of({"--log-level", "loud"}).find("'log-level'"), std::string::npos);
    EXPECT_NE(error_of({"--unixsocketperm", "999"}).find("'unixsocketperm'"), std::string::npos);
    EXPECT_NE(error_of({"--upstream-password-file", "/nonexistent/file"}).find("'upstream-password-file'"),
              std::string::npos);
    EXPECT_NE(error_of({"--cache-prefix", ""}).find("'cache-prefix'"), std::string::npos);
    EXPECT_FALSE(error_of({"--no-such-option", "1"}).empty());
}

// Program_options alone reads "-1" into an unsigned as 4294967295 and runs with it.
TEST(config, negative_numbers_are_refused_not_wrapped) {
    EXPECT_EQ(error_of({"--maxclients=-1"}), "invalid option 'maxclients': '-1' is not an integer from 0 to 4294967295");
    EXPECT_EQ(error_of({"--maxclients", "-1"}), "invalid option 'maxclients': '-1' is not an integer from 0 to 4294967295");
    EXPECT_EQ(error_of({"--local-maxmemory=-5"}),
              "invalid option 'local-maxmemory': '-5' is not an integer from 0 to 18446744073709551615");
    for (const std::string option : integer_options) {
        const std::string flag = "--" + option + "=-1";
        EXPECT_EQ(error_of({flag.c_str()}).rfind("invalid option '" + option + "': '-1' is not an integer", 0), 0u)
            << flag;
    }
}

TEST(config, malformed_or_out_of_range_numbers_name_their_option) {
    for (const char* flag : {"--threads=abc", "--max-inflight=12x", "--shutdown-timeout=+5", "--probe-interval=0x10",
                             "--upstream-timeout=4294967296", "--local-maxmemory=18446744073709551616",
                             "--max-pinned= 7", "--max-pinned=1.5"}) {
        const std::string option = std::string(flag).substr(2, std::string(flag).find('=') - 2);
        EXPECT_EQ(error_of({flag}).rfind("invalid option '" + option + "': '", 0), 0u) << flag << ": " << error_of({flag});
    }
    // The extremes of each type still parse.
    EXPECT_EQ(parse({"--local-maxmemory=18446744073709551615"}).local_maxmemory, 18446744073709551615ull);
    EXPECT_EQ(parse({"--shutdown-timeout=4294967295"}).shutdown_timeout_ms, 4294967295u);
    EXPECT_EQ(parse({"--max-pinned=0"}).max_pinned, 0u);
}

TEST(config, numbers_in_the_config_file_are_checked_too) {
    for (const std::string option : integer_options) {
        const config_file file(option + " = -1\n");
        EXPECT_EQ(error_of({"--config", file.path().c_str()}).rfind("invalid option '" + option + "': '-1'", 0), 0u)
            << option;
    }
    const config_file good("maxclients = 12\nlocal-maxmemory = 1024\n");
    const settings s = parse({"--config", good.path().c_str()});
    EXPECT_EQ(s.maxclients, 12u);
    EXPECT_EQ(s.local_maxmemory, 1024u);
}
