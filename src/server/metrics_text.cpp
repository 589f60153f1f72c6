#include "redis_sidecar/server/metrics_text.hpp"

#include "redis_sidecar/metrics/exposition.hpp"

namespace redis_sidecar::server {

namespace {
void gauge(metrics::exposition& e, std::string_view name, std::string_view help, std::uint64_t value) {
    e.family(name, "gauge", help);
    e.sample(name, value);
}
void counter(metrics::exposition& e, std::string_view name, std::string_view help, std::uint64_t value) {
    e.family(name, "counter", help);
    e.sample(name, value);
}

void write_requests(metrics::exposition& e, const sidecar_figures& f) {
    e.family("redis_sidecar_requests_total", "counter",
             "Client requests by route: forwarded over the shared pool, answered locally, sent on a pinned "
             "connection, or failed because Redis failed.");
    e.sample("redis_sidecar_requests_total", f.requests_forwarded, {{"route", "forwarded"}});
    e.sample("redis_sidecar_requests_total", f.requests_local, {{"route", "local"}});
    e.sample("redis_sidecar_requests_total", f.requests_pinned, {{"route", "pinned"}});
    e.sample("redis_sidecar_requests_total", f.requests_failed, {{"route", "error"}});
    e.family("redis_sidecar_request_duration_seconds", "histogram",
             "From reading a request to its reply being ready to send, by who answered it.");
    e.histogram("redis_sidecar_request_duration_seconds", f.latency_forwarded, {{"route", "forwarded"}});
    e.histogram("redis_sidecar_request_duration_seconds", f.latency_local, {{"route", "local"}});
    counter(e, "redis_sidecar_protocol_errors_total", "Clients closed for a protocol error.", f.protocol_errors);
    counter(e, "redis_sidecar_busy_replies_total", "-BUSY replies from Redis (busy with a script, not down).",
            f.busy_replies);
    counter(e, "redis_sidecar_slow_commands_waited_on_total",
            "Replies that came later than upstream-timeout while a slow command kept Redis busy.",
            f.slow_commands_waited_on);
}

void write_connections(metrics::exposition& e, const sidecar_figures& f) {
    gauge(e, "redis_sidecar_connected_clients", "Client connections open now.", f.connected_clients);
    counter(e, "redis_sidecar_connections_total", "Client connections accepted.", f.total_connections);
    counter(e, "redis_sidecar_rejected_connections_total", "Client connections refused at maxclients.",
            f.rejected_connections);
    gauge(e, "redis_sidecar_pinned_connections", "Clients on a dedicated upstream connection now.",
          f.pinned_connections);
    counter(e, "redis_sidecar_pinned_sessions_total", "Clients moved to a dedicated upstream connection.",
            f.pinned_sessions_total);
}

void write_upstream(metrics::exposition& e, const sidecar_figures& f) {
    gauge(e, "redis_sidecar_upstream_up", "1 while Redis answers and clients are served by it, else 0.",
          f.upstream_up ? 1 : 0);
    gauge(e, "redis_sidecar_serving_local", "1 while the local store answers clients (Redis down or recovering).",
          f.recovery.serving == "redis" ? 0 : 1);
    gauge(e, "redis_sidecar_upstream_connections", "Shared upstream connections configured.", f.upstream_connections);
    gauge(e, "redis_sidecar_upstream_connections_ready", "Shared upstream connections ready now.",
          f.upstream_connections_ready);
    counter(e, "redis_sidecar_upstream_connection_failures_total", "Upstream connections that failed or could not open.",
            f.upstream_connection_failures);
    counter(e, "redis_sidecar_mode_transitions_total", "Changes between Redis up and Redis down.", f.mode_transitions);
}

void write_local_store(metrics::exposition& e, const sidecar_figures& f) {
    e.family("redis_sidecar_local_keys", "gauge", "Live keys in the local store, by key class.");
    for (const local::key_class c : reported_key_classes)
        e.sample("redis_sidecar_local_keys", f.local.keys_by_class[static_cast<std::size_t>(c)],
                 {{"class", local::key_class_name(c)}});
    gauge(e, "redis_sidecar_journal_bytes", "Size of the journal on disk.", f.local.journal_bytes);
    gauge(e, "redis_sidecar_journal_records", "Records in the journal.", f.local.journal_records);
    counter(e, "redis_sidecar_journal_write_failures_total",
            "Journal writes the disk refused; the local answers waiting on each got an error.",
            f.local.journal_write_failures);
    gauge(e, "redis_sidecar_journal_failing", "1 while the last journal write was refused (full or failing disk).",
          f.local.journal_failing);
    e.family("redis_sidecar_replay_backlog", "gauge", "What the next recovery owes Redis, by kind.");
    e.sample("redis_sidecar_replay_backlog", f.local.owed_cache_invalidations, {{"kind", "cache_invalidations"}});
    e.sample("redis_sidecar_replay_backlog", f.local.owed_locks, {{"kind", "locks"}});
    e.sample("redis_sidecar_replay_backlog", f.local.owed_default_keys_to_drop, {{"kind", "default_keys_to_drop"}});
    counter(e, "redis_sidecar_mirror_readbacks_total", "Keys read back from Redis after mirrored writes.",
            f.local.mirror_readbacks);
    counter(e, "redis_sidecar_mirror_readback_corrections_total",
            "Readbacks that changed the local copy's value or presence (a mirrored write applied out of "
            "Redis's order).",
            f.local.mirror_readback_corrections);
    gauge(e, "redis_sidecar_mirror_readbacks_pending", "Readbacks asked for and not applied yet.",
          f.local.mirror_readbacks_pending);
    counter(e, "redis_sidecar_mirror_readbacks_dropped_total",
            "Readbacks not asked for because too many waited already.", f.local.mirror_readbacks_dropped);
    counter(e, "redis_sidecar_mirror_lock_invalidations_total",
            "Lock keys held here that Redis said changed (released, taken or expired elsewhere).",
            f.local.mirror_lock_invalidations);
}

void write_recovery(metrics::exposition& e, const sidecar_figures& f) {
    const recovery_figures& r = f.recovery;
    gauge(e, "redis_sidecar_recovery_backlog", "Entries of the recovery in progress not yet applied to Redis.",
          r.backlog);
    counter(e, "redis_sidecar_recovery_runs_total", "Recovery rounds run.", r.runs);
    counter(e, "redis_sidecar_recovery_failures_total", "Recovery rounds that failed (retried).", r.failures);
    e.family("redis_sidecar_recovery_applied_total", "counter", "What recovery applied to Redis, by kind.");
    e.sample("redis_sidecar_recovery_applied_total", r.blacklist_written, {{"kind", "blacklist"}});
    e.sample("redis_sidecar_recovery_applied_total", r.cache_keys_deleted, {{"kind", "cache_keys_deleted"}});
    e.sample("redis_sidecar_recovery_applied_total", r.locks_written, {{"kind", "locks"}});
    e.sample("redis_sidecar_recovery_applied_total", r.default_keys_dropped, {{"kind", "default_keys_dropped"}});
    counter(e, "redis_sidecar_recovery_lock_conflicts_total",
            "Locks held here that Redis had given to another client meanwhile.", r.lock_conflicts);
}
}  // namespace

std::string format_prometheus(const sidecar_figures& f) {
    metrics::exposition e;
    e.family("redis_sidecar_info", "gauge", "Build and upstream of this sidecar.");
    e.sample("redis_sidecar_info", 1,
             {{"version", REDIS_SIDECAR_VERSION}, {"upstream", f.upstream_address}, {"redis_version", f.redis_version}});
    gauge(e, "redis_sidecar_uptime_seconds", "Seconds since the sidecar started.", f.uptime_seconds);
    write_upstream(e, f);
    write_connections(e, f);
    write_requests(e, f);
    write_local_store(e, f);
    write_recovery(e, f);
    return e.text();
}

}  // namespace redis_sidecar::server
