#include "redis_sidecar/config/config.hpp"

#include <gtest/gtest.h>

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

TEST(config, metrics_endpoint_is_off_unless_asked_for) {
    EXPECT_FALSE(parse({}).metrics_listen.has_value());
    const settings s = parse({"--metrics-listen", "127.0.0.1:9121"});
    ASSERT_TRUE(s.metrics_listen.has_value());
    EXPECT_EQ(s.metrics_listen->port, 9121);
    EXPECT_NE(error_of({"--metrics-listen", "9121"}).find("'metrics-listen'"), std::string::npos);
}

TEST(config, reload_plan_separates_what_applies_in_place_from_what_needs_a_restart) {
    const settings running = parse({});
    const settings fresh = parse({"--upstream-timeout", "900", "--cache-prefix", "q:", "--listen", "127.0.0.1:7001",
                                  "--threads", "2"});
    const reload_plan plan = plan_reload(running, fresh);
    EXPECT_EQ(plan.applied, (std::vector<std::string>{"upstream-timeout: 500 -> 900", "cache-prefix: cache: -> q:"}));
    EXPECT_EQ(plan.need_restart, (std::vector<std::string>{"listen", "threads"}));
    EXPECT_TRUE(plan_reload(running, running).applied.empty());
}

TEST(config, every_option_a_reload_applies_is_copied) {
    // Each reloadable option changed at once: after the copy nothing reloadable differs, so no
    // option is announced as applied without being applied.
    const settings running = parse({});
    const settings fresh =
        parse({"--upstream-timeout", "900", "--probe-interval", "100", "--max-pinned", "5", "--max-inflight", "7",
               "--maxclients", "9", "--shutdown-timeout", "1000", "--log-level", "debug", "--local-maxmemory", "1000",
               "--blacklist-prefix", "b:", "--lock-prefix", "l:", "--cache-prefix", "c:"});
    EXPECT_EQ(plan_reload(running, fresh).applied.size(), 11u);
    settings copy = running;
    copy_reloadable(fresh, copy);
    EXPECT_TRUE(plan_reload(copy, fresh).applied.empty());
    EXPECT_TRUE(plan_reload(copy, fresh).need_restart.empty());
}

TEST(config, upstream_tls_is_off_by_default_and_verifies_when_on) {
    const settings off = parse({});
    EXPECT_FALSE(off.upstream_tls);
    EXPECT_TRUE(off.upstream_tls_verify);
    const settings on = parse({"--upstream-tls", "yes", "--upstream-tls-server-name", "redis.internal"});
    EXPECT_TRUE(on.upstream_tls);
    EXPECT_TRUE(on.upstream_tls_verify);
    EXPECT_EQ(on.upstream_tls_server_name, "redis.internal");
    EXPECT_FALSE(parse({"--upstream-tls", "yes", "--upstream-tls-verify", "no"}).upstream_tls_verify);
}

TEST(config, upstream_tls_mistakes_name_their_option) {
    EXPECT_NE(error_of({"--upstream-tls", "true"}).find("'upstream-tls'"), std::string::npos);
    EXPECT_NE(error_of({"--upstream-tls", "yes", "--upstream-tls-verify", "off"}).find("'upstream-tls-verify'"),
              std::string::npos);
    // Files or a name given while TLS is off would be ignored: the plaintext would go unnoticed.
    EXPECT_NE(error_of({"--upstream-tls-server-name", "r"}).find("'upstream-tls-server-name'"), std::string::npos);
    EXPECT_NE(error_of({"--upstream-tls", "yes", "--upstream-tls-ca-file", "/nonexistent/ca.pem"})
                  .find("'upstream-tls-ca-file'"),
              std::string::npos);
    // A client certificate needs both halves.
    EXPECT_NE(error_of({"--upstream-tls", "yes", "--upstream-tls-cert-file", "/nonexistent/c.pem"})
                  .find("'upstream-tls-key-file'"),
              std::string::npos);
    EXPECT_NE(error_of({"--upstream-tls", "yes", "--upstream-tls-key-file", "/nonexistent/k.pem"})
                  .find("'upstream-tls-cert-file'"),
              std::string::npos);
}
