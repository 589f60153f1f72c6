#include "redis_sidecar/config/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
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
const char* const integer_options[] = {"upstream-connections", "upstream-timeout", "probe-interval", "max-pinned", "upstream-batch-delay",
                                       "max-inflight",         "maxclients",       "threads",        "shutdown-timeout",
                                       "timeout"};
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
               "--blacklist-prefix", "b:", "--lock-prefix", "l:", "--cache-prefix", "c:", "--requirepass", "secret",
               "--client-query-buffer-limit", "2mb", "--client-output-buffer-limit", "1mb 0 0", "--timeout", "5"});
    const reload_plan plan = plan_reload(running, fresh);
    EXPECT_EQ(plan.applied.size(), 15u);
    // A password is never written to the log.
    EXPECT_NE(std::find(plan.applied.begin(), plan.applied.end(), "requirepass: (changed)"), plan.applied.end());
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

TEST(config, upstream_spread_is_off_unless_asked_for) {
    EXPECT_FALSE(parse({}).upstream_spread);
    EXPECT_TRUE(parse({"--upstream-spread", "yes"}).upstream_spread);
    EXPECT_NE(error_of({"--upstream-spread", "1"}).find("'upstream-spread'"), std::string::npos);
}

TEST(config, upstream_batch_delay_is_zero_to_ten_ms) {
    EXPECT_EQ(parse({}).upstream_batch_delay_us, 0u);
    EXPECT_EQ(parse({"--upstream-batch-delay", "50"}).upstream_batch_delay_us, 50u);
    EXPECT_EQ(parse({"--upstream-batch-delay", "10000"}).upstream_batch_delay_us, 10000u);
    EXPECT_NE(error_of({"--upstream-batch-delay", "10001"}).find("'upstream-batch-delay'"), std::string::npos);
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

TEST(config, client_limits_default_to_redis_defaults) {
    const settings s = parse({});
    EXPECT_TRUE(s.requirepass.empty());
    EXPECT_EQ(s.client_query_buffer_limit, 1024ULL * 1024 * 1024);
    EXPECT_EQ(s.proto_max_bulk_len, 512ULL * 1024 * 1024);
    EXPECT_EQ(s.client_output_buffer_limit.hard_bytes, 0u);
    EXPECT_EQ(s.client_output_buffer_limit.soft_bytes, 0u);
    EXPECT_EQ(s.client_output_buffer_limit.soft_seconds, 0u);
    EXPECT_EQ(s.timeout, 0u);
}

TEST(config, sizes_in_redis_syntax) {
    EXPECT_EQ(parse_size("0"), 0u);
    EXPECT_EQ(parse_size("1048576"), 1048576u);
    EXPECT_EQ(parse_size("12b"), 12u);
    EXPECT_EQ(parse_size("2k"), 2000u);
    EXPECT_EQ(parse_size("2kb"), 2048u);
    EXPECT_EQ(parse_size("3m"), 3000000u);
    EXPECT_EQ(parse_size("512mb"), 512ULL * 1024 * 1024);
    EXPECT_EQ(parse_size("512MB"), 512ULL * 1024 * 1024);
    EXPECT_EQ(parse_size("2Mb"), 2ULL * 1024 * 1024);
    EXPECT_EQ(parse_size("1g"), 1000000000u);
    EXPECT_EQ(parse_size("1gb"), 1024ULL * 1024 * 1024);
    EXPECT_EQ(parse_size("9223372036854775807"), 9223372036854775807ULL);
    for (const char* bad : {"", "mb", "-1", "+1", "1.5mb", " 1mb", "1 mb", "1tb", "1kbb", "9223372036854775808",
                            "8589934592gb", "99999999999999999999"})
        EXPECT_FALSE(parse_size(bad).has_value()) << bad;
}

TEST(config, output_buffer_limit_syntax) {
    const output_buffer_limit plain = parse_output_buffer_limit("64mb 16mb 60", "o");
    EXPECT_EQ(plain.hard_bytes, 64ULL * 1024 * 1024);
    EXPECT_EQ(plain.soft_bytes, 16ULL * 1024 * 1024);
    EXPECT_EQ(plain.soft_seconds, 60u);
    const output_buffer_limit with_class = parse_output_buffer_limit("normal 1kb 0 0", "o");
    EXPECT_EQ(with_class.hard_bytes, 1024u);
    EXPECT_EQ(with_class.soft_bytes, 0u);
    for (const char* bad : {"", "1 2", "1 2 3 4", "pubsub 1 2 3", "a 2 3", "1 b 3", "1 2 3s", "1 2 -3"})
        EXPECT_THROW(parse_output_buffer_limit(bad, "o"), std::runtime_error) << bad;
    const settings s = parse({"--client-output-buffer-limit", "4mb", "2mb", "10"});
    EXPECT_EQ(s.client_output_buffer_limit.hard_bytes, 4ULL * 1024 * 1024);
    EXPECT_EQ(s.client_output_buffer_limit.soft_seconds, 10u);
    EXPECT_EQ(parse({"--client-output-buffer-limit", "1mb 0 0"}).client_output_buffer_limit.hard_bytes,
              1024ULL * 1024);
}

TEST(config, client_limit_options) {
    const settings s = parse({"--client-query-buffer-limit", "64mb", "--proto-max-bulk-len", "2mb", "--timeout",
                              "300", "--requirepass", "pw"});
    EXPECT_EQ(s.client_query_buffer_limit, 64ULL * 1024 * 1024);
    EXPECT_EQ(s.proto_max_bulk_len, 2ULL * 1024 * 1024);
    EXPECT_EQ(s.timeout, 300u);
    EXPECT_EQ(s.requirepass, "pw");
    // Redis refuses less than 1mb for both
    EXPECT_NE(error_of({"--client-query-buffer-limit", "1kb"}).find("'client-query-buffer-limit'"),
              std::string::npos);
    EXPECT_NE(error_of({"--proto-max-bulk-len", "1048575"}).find("'proto-max-bulk-len'"), std::string::npos);
    EXPECT_NE(error_of({"--proto-max-bulk-len", "lots"}).find("'proto-max-bulk-len'"), std::string::npos);
    EXPECT_NE(error_of({"--client-output-buffer-limit", "1 2"}).find("'client-output-buffer-limit'"),
              std::string::npos);
    EXPECT_NE(error_of({"--requirepass-file", "/nonexistent/file"}).find("'requirepass-file'"), std::string::npos);
    EXPECT_NE(error_of({"--requirepass", "a", "--requirepass-file", "/etc/hostname"}).find("'requirepass-file'"),
              std::string::npos);
}

TEST(config, local_maxmemory_takes_redis_units) {
    EXPECT_EQ(parse({}).local_maxmemory, 256ULL * 1024 * 1024);
    EXPECT_EQ(parse({"--local-maxmemory", "2mb"}).local_maxmemory, 2ULL * 1024 * 1024);
    EXPECT_EQ(parse({"--local-maxmemory", "2097152"}).local_maxmemory, 2097152u);
    EXPECT_NE(error_of({"--local-maxmemory", "-1"}).find("'local-maxmemory'"), std::string::npos);
    EXPECT_NE(error_of({"--local-maxmemory", "1.5gb"}).find("'local-maxmemory'"), std::string::npos);
}

// Program_options alone reads "-1" into an unsigned as 4294967295 and runs with it.
TEST(config, negative_numbers_are_refused_not_wrapped) {
    EXPECT_EQ(error_of({"--maxclients=-1"}), "invalid option 'maxclients': '-1' is not an integer from 0 to 4294967295");
    EXPECT_EQ(error_of({"--maxclients", "-1"}), "invalid option 'maxclients': '-1' is not an integer from 0 to 4294967295");
    EXPECT_EQ(error_of({"--timeout=-5"}), "invalid option 'timeout': '-5' is not an integer from 0 to 4294967295");
    for (const std::string option : integer_options) {
        const std::string flag = "--" + option + "=-1";
        EXPECT_EQ(error_of({flag.c_str()}).rfind("invalid option '" + option + "': '-1' is not an integer", 0), 0u)
            << flag;
    }
}

TEST(config, malformed_or_out_of_range_numbers_name_their_option) {
    for (const char* flag : {"--threads=abc", "--max-inflight=12x", "--shutdown-timeout=+5", "--probe-interval=0x10",
                             "--upstream-timeout=4294967296", "--timeout=4294967296",
                             "--max-pinned= 7", "--max-pinned=1.5"}) {
        const std::string option = std::string(flag).substr(2, std::string(flag).find('=') - 2);
        EXPECT_EQ(error_of({flag}).rfind("invalid option '" + option + "': '", 0), 0u) << flag << ": " << error_of({flag});
    }
    // The extremes of each type still parse.
    EXPECT_EQ(parse({"--shutdown-timeout=4294967295"}).shutdown_timeout_ms, 4294967295u);
    EXPECT_EQ(parse({"--max-pinned=0"}).max_pinned, 0u);
}

TEST(config, numbers_in_the_config_file_are_checked_too) {
    for (const std::string option : integer_options) {
        const config_file file(option + " = -1\n");
        EXPECT_EQ(error_of({"--config", file.path().c_str()}).rfind("invalid option '" + option + "': '-1'", 0), 0u)
            << option;
    }
    const config_file good("maxclients = 12\nlocal-maxmemory = 1mb\n");
    const settings s = parse({"--config", good.path().c_str()});
    EXPECT_EQ(s.maxclients, 12u);
    EXPECT_EQ(s.local_maxmemory, 1024u * 1024);
}

// Program_options skips a word that follows no option when there are no positional options.
TEST(config, a_word_that_is_no_option_is_refused) {
    EXPECT_EQ(error_of({"6380"}), "unexpected argument '6380': every option is a flag, --name VALUE");
    EXPECT_NE(error_of({"--threads", "2", "extra"}).find("'extra'"), std::string::npos);
}

TEST(config, a_new_requirepass_file_is_applied_as_requirepass_and_never_shown) {
    const config_file first("first-secret\n");
    const config_file second("second-secret\n");
    const settings running = parse({"--requirepass-file", first.path().c_str()});
    EXPECT_EQ(running.requirepass, "first-secret");
    const settings fresh = parse({"--requirepass-file", second.path().c_str()});
    const reload_plan plan = plan_reload(running, fresh);
    EXPECT_EQ(plan.applied, std::vector<std::string>{"requirepass: (changed)"});
    EXPECT_TRUE(plan.need_restart.empty());
    settings copy = running;
    copy_reloadable(fresh, copy);
    EXPECT_EQ(copy.requirepass, "second-secret");
    EXPECT_EQ(copy.requirepass_file, second.path());
}

TEST(config, a_new_upstream_password_needs_a_restart) {
    const config_file first("first-secret\n");
    const config_file second("second-secret\n");
    const settings running = parse({"--upstream-password-file", first.path().c_str()});
    const settings fresh = parse({"--upstream-password-file", second.path().c_str()});
    const reload_plan plan = plan_reload(running, fresh);
    EXPECT_TRUE(plan.applied.empty());
    EXPECT_EQ(plan.need_restart, std::vector<std::string>{"upstream-password-file"});
    settings copy = running;
    copy_reloadable(fresh, copy);
    EXPECT_EQ(copy.upstream_password, "first-secret");
}

// The defaults come from the option table; a parse without options gives the same settings.
TEST(config, a_default_constructed_settings_is_every_default) {
    const settings defaults;
    const settings parsed = parse({});
    for (const std::string& line : plan_reload(defaults, parsed).need_restart) ADD_FAILURE() << line;
    for (const std::string& line : plan_reload(defaults, parsed).applied) ADD_FAILURE() << line;
    EXPECT_EQ(defaults.local_maxmemory, 256ULL * 1024 * 1024);
    EXPECT_EQ(defaults.cache_prefixes, std::vector<std::string>{"cache:"});
    EXPECT_EQ(defaults.data_dir, "/var/lib/redis-sidecar");
    EXPECT_FALSE(defaults.metrics_listen.has_value());
}
