#include "redis_sidecar/server/info.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "redis_sidecar/store/error_stats.hpp"
#include "redis_sidecar/server/local_info.hpp"

using namespace redis_sidecar::server;
using redis_sidecar::store::error_stats;

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

// -- INFO while Redis is down: Redis 7.0's sections and fields -----------------------------------

namespace {

// Redis 7.0's INFO fields per section, in its order, for a standalone master without replicas,
// AOF or loading in progress (genRedisInfoString in Redis 7.0's server.c). Modules,
// Commandstats, Errorstats, Latencystats and Keyspace list entries that depend on state.
const std::map<std::string, std::vector<std::string>, std::less<>> redis_fields = {
    {"Server",
     {"redis_version", "redis_git_sha1", "redis_git_dirty", "redis_build_id", "redis_mode", "os", "arch_bits",
      "monotonic_clock", "multiplexing_api", "atomicvar_api", "gcc_version", "process_id", "process_supervised",
      "run_id", "tcp_port", "server_time_usec", "uptime_in_seconds", "uptime_in_days", "hz", "configured_hz",
      "lru_clock", "executable", "config_file", "io_threads_active"}},
    {"Clients",
     {"connected_clients", "cluster_connections", "maxclients", "client_recent_max_input_buffer",
      "client_recent_max_output_buffer", "blocked_clients", "tracking_clients", "clients_in_timeout_table"}},
    {"Memory",
     {"used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human", "used_memory_peak",
      "used_memory_peak_human", "used_memory_peak_perc", "used_memory_overhead", "used_memory_startup",
      "used_memory_dataset", "used_memory_dataset_perc", "allocator_allocated", "allocator_active",
      "allocator_resident", "total_system_memory", "total_system_memory_human", "used_memory_lua",
      "used_memory_vm_eval", "used_memory_lua_human", "used_memory_scripts_eval", "number_of_cached_scripts",
      "number_of_functions", "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
      "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts", "used_memory_scripts_human",
      "maxmemory", "maxmemory_human", "maxmemory_policy", "allocator_frag_ratio", "allocator_frag_bytes",
      "allocator_rss_ratio", "allocator_rss_bytes", "rss_overhead_ratio", "rss_overhead_bytes",
      "mem_fragmentation_ratio", "mem_fragmentation_bytes", "mem_not_counted_for_evict", "mem_replication_backlog",
      "mem_total_replication_buffers", "mem_clients_slaves", "mem_clients_normal", "mem_cluster_links",
      "mem_aof_buffer", "mem_allocator", "active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"}},
    {"Persistence",
     {"loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age",
      "current_fork_perc", "current_save_keys_processed", "current_save_keys_total", "rdb_changes_since_last_save",
      "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec",
      "rdb_current_bgsave_time_sec", "rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired",
      "rdb_last_load_keys_loaded", "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
      "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrites",
      "aof_rewrites_consecutive_failures", "aof_last_write_status", "aof_last_cow_size", "module_fork_in_progress",
      "module_fork_last_cow_size"}},
    {"Stats",
     {"total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
      "total_net_input_bytes", "total_net_output_bytes", "total_net_repl_input_bytes",
      "total_net_repl_output_bytes", "instantaneous_input_kbps", "instantaneous_output_kbps",
      "instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps", "rejected_connections", "sync_full",
      "sync_partial_ok", "sync_partial_err", "expired_keys", "expired_stale_perc", "expired_time_cap_reached_count",
      "expire_cycle_cpu_milliseconds", "evicted_keys", "evicted_clients", "total_eviction_exceeded_time",
      "current_eviction_exceeded_time", "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns",
      "pubsubshard_channels", "latest_fork_usec", "total_forks", "migrate_cached_sockets",
      "slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits",
      "active_defrag_key_misses", "total_active_defrag_time", "current_active_defrag_time", "tracking_total_keys",
      "tracking_total_items", "tracking_total_prefixes", "unexpected_error_replies", "total_error_replies",
      "dump_payload_sanitizations", "total_reads_processed", "total_writes_processed",
      "io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks",
      "reply_buffer_expands"}},
    {"Replication",
     {"role", "connected_slaves", "master_failover_state", "master_replid", "master_replid2", "master_repl_offset",
      "second_repl_offset", "repl_backlog_active", "repl_backlog_size", "repl_backlog_first_byte_offset",
      "repl_backlog_histlen"}},
    {"CPU",
     {"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children", "used_cpu_sys_main_thread",
      "used_cpu_user_main_thread"}},
    {"Cluster", {"cluster_enabled"}},
};

const std::vector<std::string> default_order = {"Server", "Clients",     "Memory",  "Persistence",
                                                "Stats",  "Replication", "CPU",     "Modules",
                                                "Errorstats", "Cluster", "Keyspace", "Sidecar"};
const std::vector<std::string> all_order = {"Server",       "Clients",      "Memory",     "Persistence", "Stats",
                                            "Replication",  "CPU",          "Modules",    "Commandstats",
                                            "Errorstats",   "Latencystats", "Cluster",    "Keyspace",
                                            "Sidecar"};

struct parsed_info {
    std::vector<std::string> sections;
    std::map<std::string, std::vector<std::string>> fields;  // names, in order
    std::map<std::string, std::string> values;
};

parsed_info parse(const std::string& text) {
    parsed_info info;
    std::string current;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find("\r\n", start);
        const std::string line = text.substr(start, end - start);
        start = end == std::string::npos ? text.size() : end + 2;
        if (line.starts_with("# ")) {
            current = line.substr(2);
            info.sections.push_back(current);
        } else if (const std::size_t colon = line.find(':'); colon != std::string::npos) {
            info.fields[current].push_back(line.substr(0, colon));
            info.values[line.substr(0, colon)] = line.substr(colon + 1);
        }
    }
    return info;
}

local_figures sample_figures() {
    local_figures f;
    f.os = "Linux 6.1.0 x86_64";
    f.process_id = 4242;
    f.run_id = std::string(40, 'a');
    f.replid = "0123456789abcdef0123456789abcdef01234567";
    f.server_time_usec = 1700000000123456;
    f.executable = "/usr/bin/redis-sidecar";
    f.used_memory_rss = 8 * 1024 * 1024;
    f.total_system_memory = 16ULL << 30;
    f.used_cpu_sys = {1, 2};
    f.used_cpu_user = {3, 450000};
    f.redis_version = "7.0.15";
    f.tcp_port = 6380;
    f.uptime_seconds = 90061;
    f.connected_clients = 3;
    f.maxclients = 10000;
    f.total_connections = 7;
    f.rejected_connections = 1;
    f.used_memory = 2 * 1024 * 1024;
    f.used_memory_peak = 4 * 1024 * 1024;
    f.maxmemory = 256 * 1024 * 1024;
    f.total_commands = 12;
    f.expired_keys = 5;
    f.evicted_keys = 6;
    f.keys = 2;
    f.keys_with_expiry = 1;
    f.command_calls = {{"get", 3}, {"script|load", 1}};
    f.error_counts = {{"ERR", 2}, {"NOSCRIPT", 1}};
    f.total_error_replies = 3;
    return f;
}

std::string local_info_of(std::vector<std::string_view> sections, const local_figures& f = sample_figures()) {
    return format_local_info(sections, f, "# Sidecar\r\nmode:down\r\n");
}

}  // namespace

TEST(local_info, every_section_has_redis_fields_in_redis_order) {
    const parsed_info info = parse(local_info_of({"everything"}));
    EXPECT_EQ(info.sections, all_order);
    for (const auto& [section, names] : redis_fields) EXPECT_EQ(info.fields.at(section), names) << section;
    EXPECT_EQ(info.fields.count("Modules"), 0u);
    EXPECT_EQ(info.fields.count("Latencystats"), 0u);  // no per-command latency: as latency-tracking off
    EXPECT_EQ(info.fields.at("Commandstats"), (std::vector<std::string>{"cmdstat_get", "cmdstat_script|load"}));
    EXPECT_EQ(info.fields.at("Errorstats"), (std::vector<std::string>{"errorstat_ERR", "errorstat_NOSCRIPT"}));
    EXPECT_EQ(info.fields.at("Keyspace"), std::vector<std::string>{"db0"});
    EXPECT_EQ(info.fields.at("Sidecar"), std::vector<std::string>{"mode"});
}

TEST(local_info, the_sections_asked_for_in_redis_order) {
    using args = std::vector<std::string_view>;
    EXPECT_EQ(parse(local_info_of({})).sections, default_order);
    EXPECT_EQ(parse(local_info_of({"DEFAULT"})).sections, default_order);
    EXPECT_EQ(parse(local_info_of({"all"})).sections, all_order);
    EXPECT_EQ(parse(local_info_of({"Everything"})).sections, all_order);
    EXPECT_EQ(parse(local_info_of({"all", "server"})).sections, all_order);
    const std::map<std::string_view, std::string> single = {
        {"server", "Server"},           {"clients", "Clients"},         {"memory", "Memory"},
        {"persistence", "Persistence"}, {"stats", "Stats"},             {"replication", "Replication"},
        {"cpu", "CPU"},                 {"modules", "Modules"},         {"module_list", "Modules"},
        {"commandstats", "Commandstats"}, {"errorstats", "Errorstats"}, {"latencystats", "Latencystats"},
        {"cluster", "Cluster"},         {"keyspace", "Keyspace"},       {"SIDECAR", "Sidecar"}};
    for (const auto& [name, header] : single) {
        const std::string text = local_info_of(args{name});
        EXPECT_EQ(parse(text).sections, std::vector<std::string>{header}) << name;
        EXPECT_TRUE(text.starts_with("# " + header + "\r\n")) << name;
        EXPECT_FALSE(text.ends_with("\r\n\r\n")) << name;
    }
    // Several at once: Redis's order, each once, sections separated by one empty line.
    const std::string several = local_info_of({"keyspace", "Replication", "cpu", "keyspace", "nosuchsection"});
    EXPECT_EQ(parse(several).sections, (std::vector<std::string>{"Replication", "CPU", "Keyspace"}));
    EXPECT_NE(several.find("repl_backlog_histlen:0\r\n\r\n# CPU\r\n"), std::string::npos) << several;
    EXPECT_EQ(parse(local_info_of({"default", "commandstats"})).sections.size(), default_order.size() + 1);
    // Unknown names give an empty body; a name is compared up to a NUL byte, as Redis does.
    EXPECT_EQ(local_info_of({"nosuchsection"}), "");
    EXPECT_EQ(local_info_of({"sidecars"}), "");
    EXPECT_EQ(parse(local_info_of({std::string_view("cpu\0x", 5)})).sections, std::vector<std::string>{"CPU"});
}

TEST(local_info, replication_is_a_master_without_replicas_or_backlog) {
    EXPECT_EQ(local_info_of({"replication"}),
              "# Replication\r\n"
              "role:master\r\n"
              "connected_slaves:0\r\n"
              "master_failover_state:no-failover\r\n"
              "master_replid:0123456789abcdef0123456789abcdef01234567\r\n"
              "master_replid2:0000000000000000000000000000000000000000\r\n"
              "master_repl_offset:0\r\n"
              "second_repl_offset:-1\r\n"
              "repl_backlog_active:0\r\n"
              "repl_backlog_size:1048576\r\n"
              "repl_backlog_first_byte_offset:0\r\n"
              "repl_backlog_histlen:0\r\n");
}

TEST(local_info, values_are_the_sidecars_figures_in_redis_formats) {
    const std::map<std::string, std::string> v = parse(local_info_of({"everything"})).values;
    const std::map<std::string, std::string> expected = {
        {"redis_version", "7.0.15"},
        {"os", "Linux 6.1.0 x86_64"},
        {"process_id", "4242"},
        {"run_id", std::string(40, 'a')},
        {"tcp_port", "6380"},
        {"server_time_usec", "1700000000123456"},
        {"uptime_in_seconds", "90061"},
        {"uptime_in_days", "1"},
        {"lru_clock", std::to_string(1700000000 & 0xFFFFFF)},
        {"executable", "/usr/bin/redis-sidecar"},
        {"config_file", ""},
        {"connected_clients", "3"},
        {"maxclients", "10000"},
        {"used_memory", "2097152"},
        {"used_memory_human", "2.00M"},
        {"used_memory_rss", "8388608"},
        {"used_memory_rss_human", "8.00M"},
        {"used_memory_peak", "4194304"},
        {"used_memory_peak_human", "4.00M"},
        {"used_memory_peak_perc", "50.00%"},
        {"used_memory_dataset", "2097152"},
        {"used_memory_dataset_perc", "100.00%"},
        {"total_system_memory_human", "16.00G"},
        {"maxmemory", "268435456"},
        {"maxmemory_human", "256.00M"},
        {"allocator_frag_ratio", "4.00"},
        {"allocator_frag_bytes", "6291456"},
        {"mem_fragmentation_ratio", "4.00"},
        {"mem_fragmentation_bytes", "6291456"},
        {"rss_overhead_ratio", "1.00"},
        {"mem_allocator", "libc"},
        {"rdb_last_save_time", std::to_string(1700000000 - 90061)},
        {"rdb_changes_since_last_save", "0"},
        {"aof_last_write_status", "ok"},
        {"current_fork_perc", "0.00"},
        {"total_connections_received", "7"},
        {"total_commands_processed", "12"},
        {"instantaneous_input_kbps", "0.00"},
        {"rejected_connections", "1"},
        {"expired_keys", "5"},
        {"evicted_keys", "6"},
        {"total_error_replies", "3"},
        {"used_cpu_sys", "1.000002"},
        {"used_cpu_user", "3.450000"},
        {"used_cpu_sys_children", "0.000000"},
        {"cmdstat_get", "calls=3,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0"},
        {"cmdstat_script|load", "calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0"},
        {"errorstat_ERR", "count=2"},
        {"errorstat_NOSCRIPT", "count=1"},
        {"cluster_enabled", "0"},
        {"db0", "keys=2,expires=1,avg_ttl=0"},
    };
    for (const auto& [field, value] : expected) {
        ASSERT_TRUE(v.contains(field)) << field;
        EXPECT_EQ(v.at(field), value) << field;
    }
}

TEST(local_info, state_dependent_lines_follow_the_store) {
    local_figures f = sample_figures();
    f.keys = 0;
    f.keys_with_expiry = 0;
    f.command_calls.clear();
    f.error_counts = {{"BAD:CODE#1", 1}};
    f.journal_failing = true;
    f.used_memory = 0;
    f.used_memory_peak = 0;
    const std::string text = local_info_of({"everything"}, f);
    EXPECT_NE(text.find("# Keyspace\r\n\r\n# Sidecar"), std::string::npos) << "an empty store lists no db";
    EXPECT_NE(text.find("# Commandstats\r\n\r\n# Errorstats"), std::string::npos);
    EXPECT_NE(text.find("errorstat_BAD_CODE_1:count=1\r\n"), std::string::npos);  // INFO's separators replaced
    const std::map<std::string, std::string> v = parse(text).values;
    EXPECT_EQ(v.at("aof_last_write_status"), "err");  // the journal refuses writes
    // An empty store: no division by zero.
    EXPECT_EQ(v.at("used_memory_peak_perc"), "0.00%");
    EXPECT_EQ(v.at("used_memory_dataset_perc"), "0.00%");
    EXPECT_EQ(v.at("mem_fragmentation_ratio"), "0.00");
    // The peak is never below the memory used now.
    f.used_memory = 3000;
    f.used_memory_peak = 1000;
    EXPECT_EQ(parse(local_info_of({"memory"}, f)).values.at("used_memory_peak"), "3000");
}

TEST(local_info, human_bytes_as_redis_writes_them) {
    EXPECT_EQ(human_bytes(0), "0B");
    EXPECT_EQ(human_bytes(1023), "1023B");
    EXPECT_EQ(human_bytes(1024), "1.00K");
    EXPECT_EQ(human_bytes(941152), "919.09K");
    EXPECT_EQ(human_bytes(1069547), "1.02M");
    EXPECT_EQ(human_bytes((1ULL << 30) - 1), "1024.00M");
    EXPECT_EQ(human_bytes(1ULL << 31), "2.00G");
    EXPECT_EQ(human_bytes(1ULL << 40), "1.00T");
    EXPECT_EQ(human_bytes(3ULL << 50), "3.00P");
    EXPECT_EQ(human_bytes(1ULL << 60), "1152921504606846976B");  // past Redis's largest unit
}

TEST(local_info, process_figures_come_from_the_process) {
    local_figures a;
    local_figures b;
    fill_process_figures(a);
    fill_process_figures(b);
    EXPECT_EQ(a.run_id.size(), 40u);
    EXPECT_EQ(a.run_id.find_first_not_of("0123456789abcdef"), std::string::npos) << a.run_id;
    EXPECT_EQ(a.replid.find_first_not_of("0123456789abcdef"), std::string::npos) << a.replid;
    EXPECT_NE(a.run_id, a.replid);
    EXPECT_EQ(a.run_id, b.run_id);  // drawn once per process
    EXPECT_EQ(a.replid, b.replid);
    EXPECT_EQ(a.process_id, static_cast<std::uint64_t>(::getpid()));
    EXPECT_TRUE(a.os.starts_with("Linux ")) << a.os;
    EXPECT_GT(a.used_memory_rss, 0u);
    EXPECT_GT(a.total_system_memory, a.used_memory_rss);
    EXPECT_GT(a.server_time_usec, 1700000000000000u);
    EXPECT_LE(a.server_time_usec, b.server_time_usec);
    EXPECT_TRUE(a.executable.ends_with("server_unit_tests")) << a.executable;
}

TEST(error_stats, errors_count_under_their_code_as_redis_does) {
    error_stats stats;
    stats.count("+OK\r\n");
    stats.count("$-1\r\n");
    stats.count("");
    stats.count("-ERR wrong number of arguments for 'get' command\r\n");
    stats.count("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    stats.count("-NOSCRIPT No matching script. Please use EVAL.\r\n");
    stats.count("-ERR syntax error\r\n");
    // No space within the first 32 bytes, or none before the line ends: counted as ERR.
    stats.count("-" + std::string(40, 'X') + " message\r\n");
    stats.count("-CODEONLY\r\n+OK with spaces\r\n");
    EXPECT_EQ(stats.total(), 6u);
    EXPECT_EQ(stats.by_code(), (std::vector<std::pair<std::string, std::uint64_t>>{
                                   {"ERR", 4}, {"NOSCRIPT", 1}, {"WRONGTYPE", 1}}));
}

TEST(error_stats, distinct_codes_are_bounded) {
    error_stats stats;
    for (std::size_t i = 0; i < error_stats::max_codes + 10; ++i) stats.count("-C" + std::to_string(i) + " x\r\n");
    stats.count("-C0 again\r\n");
    EXPECT_EQ(stats.total(), error_stats::max_codes + 11);
    EXPECT_EQ(stats.by_code().size(), error_stats::max_codes);
}
