#pragma once
/// The sidecar's configuration: one typed struct with defaults, filled from the config file and
/// flags once at start-up, validated, then passed by const reference. No globals.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redis_sidecar::config {

/// A TCP endpoint as written in the config: "HOST:PORT" or "[IPv6]:PORT".
struct endpoint {
    std::string host;
    std::uint16_t port = 0;
};

/// Redis's client-output-buffer-limit for the normal class: a client is closed once its pending
/// output reaches `hard_bytes`, or stays at `soft_bytes` or more for over `soft_seconds`
/// (a zero byte count disables that limit).
struct output_buffer_limit {
    std::uint64_t hard_bytes = 0;
    std::uint64_t soft_bytes = 0;
    std::uint64_t soft_seconds = 0;
};

/// Every option of the sidecar; each field is a long flag and a config-file line of the same name,
/// described once in the option table (option_table.hpp), which also holds the defaults.
struct settings {
    /// Every option at its default from the option table.
    settings();

    /// listen: where clients connect over TCP.
    endpoint listen;
    /// unixsocket: an optional unix socket for clients (empty: none).
    std::string unixsocket;
    /// unixsocketperm: mode bits of the unix socket, as in redis.conf (0: leave the umask's).
    unsigned unixsocketperm{};
    /// upstream: the Redis server everything is forwarded to.
    endpoint upstream;
    /// upstream-connections: shared, pipelined connections to Redis (per thread).
    unsigned upstream_connections{};
    /// upstream-spread: clients spread over the shared connections (by client id) instead of all
    /// using the first ready one while the others stand by.
    bool upstream_spread{};
    /// upstream-timeout: a request Redis has not answered after this long fails its connection.
    unsigned upstream_timeout_ms{};
    /// upstream-busy-timeout: the same limit while a command that can legitimately take long (a
    /// script, KEYS, SORT, FLUSHALL...) is in flight: Redis is busy, not down.
    unsigned upstream_busy_timeout_ms{};
    /// slow-command: names of further commands that can legitimately take long (modules...).
    std::vector<std::string> slow_commands;
    /// default-keys-while-down: "refuse" (a command naming a key of no class gets an error while
    /// Redis is down: nothing acknowledged that recovery would drop) or "ephemeral" (answered from
    /// the local store, and dropped when Redis is back).
    std::string default_keys_while_down;
    /// upstream-batch-delay: microseconds a shared connection holds requests before writing them,
    /// so more of them leave in one write and Redis reads them in one read (0: none).
    unsigned upstream_batch_delay_us{};
    /// probe-interval: while Redis is down, how often reconnecting is tried (backing off to 4x);
    /// while up, how long a shared connection may idle before a heartbeat PING.
    unsigned probe_interval_ms{};
    /// upstream-user: ACL user for AUTH to Redis (empty: the default user).
    std::string upstream_user;
    /// upstream-password-file: file whose first line is the password for AUTH to Redis.
    std::string upstream_password_file;
    /// The password read from upstream_password_file (never taken from argv).
    std::string upstream_password;
    /// upstream-tls: every connection to Redis goes over TLS (config text: yes or no).
    bool upstream_tls{};
    /// upstream-tls-ca-file: PEM CA bundle Redis's certificate must chain to (empty: the system's
    /// default CA paths).
    std::string upstream_tls_ca_file;
    /// upstream-tls-cert-file: PEM client certificate, for Redis's `tls-auth-clients yes` (with
    /// upstream_tls_key_file; both or neither).
    std::string upstream_tls_cert_file;
    /// upstream-tls-key-file: PEM private key of upstream_tls_cert_file.
    std::string upstream_tls_key_file;
    /// upstream-tls-server-name: the name Redis's certificate must carry, also sent as SNI (empty:
    /// the host of `upstream`).
    std::string upstream_tls_server_name;
    /// upstream-tls-verify: verify Redis's certificate chain and name (yes or no; no logs a warning).
    bool upstream_tls_verify{};
    /// max-pinned: dedicated upstream connections for stateful clients (per thread).
    unsigned max_pinned{};
    /// pinned-spares: dedicated connections kept open ahead (per thread), so that a client's first
    /// stateful command leaves at once; they count against max-pinned.
    unsigned pinned_spares{};
    /// max-inflight: requests a client may have waiting for replies before reading from it pauses.
    unsigned max_inflight{};
    /// maxclients: client connections accepted at once; past it Redis's error is sent.
    unsigned maxclients{};
    /// threads: event loops, each with its own listener share and upstream pool.
    unsigned threads{};
    /// shutdown-timeout: at SIGTERM/SIGINT the sidecar stops accepting and closes its connections;
    /// if that has not finished after this many ms, it exits anyway.
    unsigned shutdown_timeout_ms{};
    /// log-level: trace, debug, info, warn, error, critical or off.
    std::string log_level;
    /// local-maxmemory: bytes the local store may use while Redis is down; past it, keys of the
    /// cache and default classes are evicted (approximate LRU).
    std::uint64_t local_maxmemory{};
    /// blacklist-prefix: keys of revoked tokens (repeatable; longest prefix wins over the others).
    std::vector<std::string> blacklist_prefixes;
    /// lock-prefix: keys of per-user request locks (repeatable).
    std::vector<std::string> lock_prefixes;
    /// cache-prefix: keys of the query cache (repeatable).
    std::vector<std::string> cache_prefixes;
    /// journal-fsync: always (a durable write is on disk before its reply) or everysec.
    std::string journal_fsync;
    /// data-dir: where durable state (the journal) lives.
    std::string data_dir;
    /// metrics-listen: where Prometheus's /metrics and the /healthz check are served over HTTP
    /// (empty: not served).
    std::optional<endpoint> metrics_listen;
    /// requirepass: the password clients must give (AUTH, HELLO AUTH) before any other command, as
    /// Redis's requirepass for the default user (empty: none, every client may run commands).
    std::string requirepass;
    /// requirepass-file: file whose first line is requirepass, so the secret is not on argv.
    std::string requirepass_file;
    /// client-query-buffer-limit: a client whose unparsed input grows past this many bytes is
    /// closed without a reply, as Redis does.
    std::uint64_t client_query_buffer_limit{};
    /// proto-max-bulk-len: the largest bulk argument of a request; a longer one is a protocol error.
    std::uint64_t proto_max_bulk_len{};
    /// client-output-buffer-limit: Redis's limit for normal clients (0 0 0: none).
    output_buffer_limit client_output_buffer_limit;
    /// timeout: seconds a client may stay idle (nothing read from it, nothing owed to it) before it
    /// is closed; 0: never. Pinned clients are never closed for idleness.
    unsigned timeout{};
};

/// What `parse_command_line` asks the caller to do.
enum class parse_outcome { run, exit_success };

/// Fills `out` from argv and the --config file (flags win), then validates it.
/// Prints --help/--version text to stdout and returns exit_success for them.
/// Throws std::runtime_error with one line naming the option for any invalid input.
parse_outcome parse_command_line(int argc, const char* const argv[], settings& out);

/// Parses "HOST:PORT" or "[IPv6]:PORT"; throws std::runtime_error naming `option` if malformed.
endpoint parse_endpoint(const std::string& text, const std::string& option);

/// What a SIGHUP reload found between the running settings and the file read again.
struct reload_plan {
    /// "name: old -> new" for each option that changes in place (secrets shown as "(changed)").
    std::vector<std::string> applied;
    /// Names of changed options that only a restart applies.
    std::vector<std::string> need_restart;
};

/// Compares `running` with `fresh` option by option (every option of the option table).
reload_plan plan_reload(const settings& running, const settings& fresh);

/// Copies the options that may change in a running sidecar (those the option table marks
/// reloadable) from `fresh` into `target`.
void copy_reloadable(const settings& fresh, settings& target);

/// The --help text: every flag, grouped as the config file groups them, with its default.
std::string help_text();

/// A size in Redis's syntax: digits, then optionally b, k (1000), kb (1024), m, mb, g or gb, in any
/// case ("1gb", "512mb", "1048576"). Empty when `text` is not one or does not fit in 63 bits.
std::optional<std::uint64_t> parse_size(std::string_view text);

/// Parses "[normal] <hard> <soft> <soft-seconds>" (sizes in Redis's syntax); throws
/// std::runtime_error naming `option` if malformed.
output_buffer_limit parse_output_buffer_limit(const std::string& text, const std::string& option);

}  // namespace redis_sidecar::config
