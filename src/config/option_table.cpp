#include "redis_sidecar/config/option_table.hpp"

#include "option_values.hpp"

namespace redis_sidecar::config {

namespace {

using namespace values;

// What a reload does with a changed option, and whether its value may be shown.
struct handling {
    bool reloadable;
    bool secret;
};
constexpr handling restart{false, false};
constexpr handling reload{true, false};
constexpr handling restart_secret{false, true};
constexpr handling reload_secret{true, true};

// Whole numbers within a range; `unit` (" ms") ends the error message.
whole_number at_least(unsigned min, std::string_view unit = "") {
    return whole_number{min, std::numeric_limits<unsigned>::max(), unit};
}
whole_number between(unsigned min, unsigned max, std::string_view unit = "") { return whole_number{min, max, unit}; }

// Redis accepts at least 1mb for its buffer and bulk limits.
constexpr std::uint64_t min_buffer_limit = 1024 * 1024;

// One row of the table: `member` of settings, filled through `kind`.
template <auto member, class Kind>
option_spec option(std::string_view section, std::string_view name, std::string_view value_name,
                   std::string_view default_text, Kind kind, handling h, std::string_view help) {
    option_spec o{section, name, value_name, default_text, help, h.reloadable, h.secret, Kind::multiword, {}, {}, {}};
    o.parse = [kind, name](const std::vector<std::string>& words, settings& out) {
        if constexpr (Kind::multiword)
            out.*member = kind.parse(words, name);
        else
            out.*member = kind.parse(words.empty() ? std::string() : words.back(), name);
    };
    o.text = [](const settings& s) { return Kind::text(s.*member); };
    o.copy = [](const settings& from, settings& to) { to.*member = from.*member; };
    return o;
}

// The same row, compared by a reload through `text` instead of the member alone.
template <auto member, class Kind>
option_spec option(std::string_view section, std::string_view name, std::string_view value_name,
                   std::string_view default_text, Kind kind, handling h, std::string_view help,
                   std::string (*text)(const settings&)) {
    option_spec o = option<member>(section, name, value_name, default_text, kind, h, help);
    o.text = text;
    return o;
}

constexpr std::string_view clients = "Clients";
constexpr std::string_view upstream = "Upstream Redis";
constexpr std::string_view local = "Local store (answers while Redis is down) and key classes";
constexpr std::string_view process = "Process";
constexpr std::string_view security = "Client security and limits (Redis's options, defaults and replies)";
constexpr std::string_view observability = "Observability";

std::vector<option_spec> make_table() {
    // clang-format off
    return {
        option<&settings::listen>(clients, "listen", "HOST:PORT", "127.0.0.1:6380", host_port{}, restart,
            "TCP address clients connect to"),
        option<&settings::unixsocket>(clients, "unixsocket", "PATH", "", any_text{}, restart,
            "unix socket path for clients (default: none)"),
        option<&settings::unixsocketperm>(clients, "unixsocketperm", "OCTAL", "0", octal_mode{}, restart,
            "octal mode of the unix socket (0: umask)"),
        option<&settings::maxclients>(clients, "maxclients", "N", "10000", at_least(1), reload,
            "client connections accepted at once"),
        option<&settings::max_inflight>(clients, "max-inflight", "N", "4096", at_least(1), reload,
            "pipelined requests per client before reading from it pauses"),

        option<&settings::upstream>(upstream, "upstream", "HOST:PORT", "127.0.0.1:6379", host_port{}, restart,
            "the Redis to forward to"),
        option<&settings::upstream_connections>(upstream, "upstream-connections", "N", "2", between(1, 256), restart,
            "shared pipelined connections to Redis per thread"),
        option<&settings::upstream_spread>(upstream, "upstream-spread", "yes|no", "no", yes_no{}, restart,
            "yes: spread clients over the shared connections; no: all use the first ready one, the others stand by"),
        option<&settings::upstream_batch_delay_us>(upstream, "upstream-batch-delay", "US", "0", between(0, 10000, " us"), restart,
            "us a shared connection holds requests before writing them, for bigger batches (0: none)"),
        option<&settings::upstream_timeout_ms>(upstream, "upstream-timeout", "MS", "500", at_least(1, " ms"), reload,
            "ms before an unanswered request fails its upstream connection"),
        option<&settings::upstream_busy_timeout_ms>(upstream, "upstream-busy-timeout", "MS", "5000", at_least(1, " ms"),
            reload, "ms an unanswered request may wait while a slow command (a script, KEYS...) keeps Redis busy"),
        option<&settings::slow_commands>(upstream, "slow-command", "NAME", "", name_list{}, reload,
            "a further command that can legitimately take long (repeatable)"),
        option<&settings::probe_interval_ms>(upstream, "probe-interval", "MS", "250", at_least(1, " ms"), reload,
            "ms between reconnect probes while Redis is down, and idle heartbeat period while up"),
        option<&settings::upstream_user>(upstream, "upstream-user", "NAME", "", any_text{}, restart,
            "ACL user for AUTH to Redis"),
        // The password read from the file is compared too: a new one needs a restart.
        option<&settings::upstream_password_file>(upstream, "upstream-password-file", "PATH", "", any_text{}, restart_secret,
            "file holding the password for AUTH to Redis",
            [](const settings& s) { return s.upstream_password_file + "\n" + s.upstream_password; }),
        option<&settings::upstream_tls>(upstream, "upstream-tls", "yes|no", "no", yes_no{}, restart,
            "yes: connect to Redis over TLS"),
        option<&settings::upstream_tls_ca_file>(upstream, "upstream-tls-ca-file", "PATH", "", any_text{}, restart,
            "PEM CA bundle to verify Redis's certificate (default: the system's CAs)"),
        option<&settings::upstream_tls_cert_file>(upstream, "upstream-tls-cert-file", "PATH", "", any_text{}, restart,
            "PEM client certificate for Redis's tls-auth-clients (with upstream-tls-key-file)"),
        option<&settings::upstream_tls_key_file>(upstream, "upstream-tls-key-file", "PATH", "", any_text{}, restart,
            "PEM private key of upstream-tls-cert-file"),
        option<&settings::upstream_tls_server_name>(upstream, "upstream-tls-server-name", "NAME", "", any_text{}, restart,
            "name Redis's certificate must carry, sent as SNI (default: the upstream host)"),
        option<&settings::upstream_tls_verify>(upstream, "upstream-tls-verify", "yes|no", "yes", yes_no{}, restart,
            "no: do not verify Redis's certificate (logs a warning)"),
        option<&settings::max_pinned>(upstream, "max-pinned", "N", "1000", whole_number{}, reload,
            "dedicated upstream connections for stateful clients per thread"),
        option<&settings::pinned_spares>(upstream, "pinned-spares", "N", "2", between(0, 64), restart,
            "dedicated connections kept open ahead per thread, so a first stateful command leaves at once"),

        option<&settings::local_maxmemory>(local, "local-maxmemory", "SIZE", "256mb", byte_size{}, reload,
            "bytes of the local store while Redis is down (LRU eviction past it; Redis's units: 256mb)"),
        option<&settings::blacklist_prefixes>(local, "blacklist-prefix", "P", "jwt_token_blacklist_", prefix_list{}, reload,
            "key prefix of the blacklist class (repeatable)"),
        option<&settings::lock_prefixes>(local, "lock-prefix", "P", "user_request_block_", prefix_list{}, reload,
            "key prefix of the lock class (repeatable)"),
        option<&settings::cache_prefixes>(local, "cache-prefix", "P", "cache:", prefix_list{}, reload,
            "key prefix of the cache class (repeatable)"),
        option<&settings::default_keys_while_down>(local, "default-keys-while-down", "refuse|ephemeral", "refuse",
            one_of{{"refuse", "ephemeral"}}, reload,
            "keys of no class while Redis is down: refused, or answered locally and dropped on recovery"),

        option<&settings::threads>(process, "threads", "N", "1", between(1, 64), restart,
            "event-loop threads"),
        option<&settings::shutdown_timeout_ms>(process, "shutdown-timeout", "MS", "5000", whole_number{}, reload,
            "ms a graceful stop may take before the sidecar exits anyway"),
        option<&settings::log_level>(process, "log-level", "LEVEL", "info",
            one_of{{"trace", "debug", "info", "warn", "error", "critical", "off"}}, reload,
            "trace|debug|info|warn|error|critical|off"),
        option<&settings::journal_fsync>(process, "journal-fsync", "always|everysec", "always", one_of{{"always", "everysec"}}, restart,
            "always: durable writes reach the disk before their reply; everysec: at most 1 s of them may be lost on power loss"),
        option<&settings::data_dir>(process, "data-dir", "DIR", "/var/lib/redis-sidecar", any_text{}, restart,
            "directory for durable state"),

        // Reported for both options: either may change the password clients must give.
        option<&settings::requirepass>(security, "requirepass", "PASSWORD", "", any_text{}, reload_secret,
            "password clients must give with AUTH before other commands (default: none; prefer requirepass-file)",
            [](const settings& s) { return s.requirepass_file + "\n" + s.requirepass; }),
        option<&settings::requirepass_file>(security, "requirepass-file", "PATH", "", any_text{}, reload_secret,
            "file whose first line is the password clients must give",
            [](const settings&) { return std::string(); }),
        option<&settings::client_query_buffer_limit>(security, "client-query-buffer-limit", "SIZE", "1gb", byte_size{.min = min_buffer_limit}, reload,
            "a client whose unparsed input exceeds this is closed (1mb minimum)"),
        option<&settings::proto_max_bulk_len>(security, "proto-max-bulk-len", "SIZE", "512mb", byte_size{.min = min_buffer_limit}, reload,
            "largest bulk argument of a request (1mb minimum)"),
        option<&settings::client_output_buffer_limit>(security, "client-output-buffer-limit", "'HARD SOFT SECONDS'", "0 0 0", output_limit{}, reload,
            "'<hard> <soft> <soft-seconds>' for normal clients; a client over it is closed (0 0 0: no limit)"),
        option<&settings::timeout>(security, "timeout", "SECONDS", "0", whole_number{}, reload,
            "seconds an idle client may stay connected (0: for ever)"),

        option<&settings::metrics_listen>(observability, "metrics-listen", "HOST:PORT", "", optional_host_port{}, restart,
            "serves Prometheus /metrics and /healthz over HTTP (default: off)"),
    };
    // clang-format on
}

}  // namespace

const std::vector<option_spec>& option_table() {
    static const std::vector<option_spec> table = make_table();
    return table;
}

const std::vector<command_line_flag>& command_line_flags() {
    static const std::vector<command_line_flag> flags = {
        {"help", "h", "", "print this help and exit"},
        {"version", "v", "", "print the version and exit"},
        {"config", "", "FILE", "read options from this file; flags override it"},
    };
    return flags;
}

// Every option at its default, parsed from the table's text as a config line would be.
settings::settings() {
    for (const option_spec& o : option_table())
        if (!o.default_text.empty()) o.parse({std::string(o.default_text)}, *this);
}

}  // namespace redis_sidecar::config
