#pragma once
/// The local store shared by every event loop: the sidecar's answers while Redis is down, and
/// what must survive until Redis has it. One engine behind a mutex (uncontended with the
/// default single thread), and the journal under `data-dir`:
/// - blacklist and lock keys written locally are journaled with their value and absolute expiry
///   (a revoked token or a held lock must survive a crash of the sidecar);
/// - cache keys written or deleted while down, and SCAN/KEYS MATCH patterns over a cache prefix,
///   are journaled as invalidations that Redis must apply before it serves that cache again;
/// - default keys written while down are remembered (not journaled): they are dropped on recovery.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/config/config.hpp"
#include "redis_sidecar/local/engine.hpp"
#include "redis_sidecar/local/journal.hpp"
#include "redis_sidecar/local/key_classes.hpp"
#include "redis_sidecar/store/error_stats.hpp"
#include "redis_sidecar/store/figures.hpp"
#include "redis_sidecar/upstream/readback_queue.hpp"
#include "redis_sidecar/upstream/reconciler.hpp"

namespace redis_sidecar::store {

using upstream::reconciliation_work;

/// What a readback from Redis (upstream/readback_queue.hpp) does to the local copy of a key.
enum class readback_effect : std::uint8_t {
    keep,  ///< the local copy stays as it is
    hold,  ///< the local copy takes Redis's value and expiry, as a copy of Redis's (not pushed back)
    drop,  ///< the local copy is deleted
};

/// The rules for a readback of a key of class `c`, which Redis holds (`in_redis`) or not:
/// - a lock `owed_to_redis` (taken or released here while Redis could not see it) is recovery's
///   to settle: kept, whatever Redis says;
/// - a key Redis holds is held here as Redis holds it;
/// - a lock Redis does not hold is dropped, unless it was `asked_again`: a write mirrored since
///   this readback was taken may have run in Redis after it, and the next readback will tell;
///   until then a held copy is the safe side (a second holder is worse than a wait);
/// - a blacklist entry is never dropped: the mirror fails closed.
readback_effect readback_effect_for(local::key_class c, bool owed_to_redis, bool in_redis, bool asked_again);

/// What running a command on the local store asks of its caller.
struct local_result {
    /// The command wrote journal records that must be stored (commit) before its reply may go out.
    bool needs_commit = false;
    /// Refused journal writes counted before the command ran: the caller hands it to commit(),
    /// which tells from it whether a refusal since took this command's records with it.
    std::uint64_t refusals_before = 0;
    explicit operator bool() const { return needs_commit; }
};

class local_service {
public:
    /// Opens (or creates) the journal under settings.data_dir and loads what it holds.
    /// Throws std::runtime_error naming data-dir when the directory cannot be used.
    explicit local_service(const config::settings& settings);

    /// Runs `args` on the local store, appending Redis's reply to `out`. The result says whether
    /// the command wrote keys whose journal records must reach the disk (commit()) before the
    /// reply may be sent.
    local_result execute(std::span<const std::string_view> args, std::string& out);

    /// True when `args` (a write Redis is about to run, `command` in the catalogue) writes any
    /// blacklist or lock key, in any key position: their local copies must follow Redis.
    bool mirrors(const catalogue::command_info& command, std::span<const std::string_view> args) const;
    /// Redis ran `args` with reply `redis_reply` (not an error): the local copy follows, for every
    /// durable key the command wrote. A command the local store runs, on durable keys only, is run
    /// here too; for any other (RENAME, COPY, a write that also touches cache keys...) each
    /// durable key written is read back from Redis. Journal records reach the disk with the next
    /// background flush (Redis has the write). Replies of different connections may be processed
    /// out of Redis's order, so the lock keys written (and blacklist keys the write removed) are
    /// asked to be read back too (`set_readbacks`).
    void mirror(const catalogue::command_info& command, std::span<const std::string_view> args,
                std::string_view redis_reply);
    /// Where `mirror` asks for readbacks; none by default. Set before any session runs.
    void set_readbacks(std::shared_ptr<upstream::readback_queue> readbacks);
    /// A readback found `key` held by Redis with `value` until `expire_at_ms` (-1: no expiry), or
    /// (no value) absent; `asked_again`: see readback_effect_for, which decides.
    void apply_readback(std::string_view key, std::optional<std::string_view> value, std::int64_t expire_at_ms,
                        bool asked_again);
    /// Redis holds `key` with `value` until `expire_at_ms` (-1: no expiry): the mirror follows
    /// (revocations made elsewhere, found by the mirror feed).
    void mirror_entry(std::string_view key, std::string_view value, std::int64_t expire_at_ms);
    /// The lock keys the local store holds a copy of (the lock follower has them read back, so
    /// that Redis tracks them for it).
    std::vector<std::string> held_lock_keys();
    /// True for a blacklist key: a GET of it fails closed.
    bool fails_closed(std::string_view key) const;
    /// The local copy of a blacklist key, if there is one.
    std::optional<std::string> durable_value(std::string_view key);

    /// Writes the journal records of every command run since the last commit, fsyncing per the
    /// policy: one disk write for all of them (group commit). An error means the writes whose
    /// results carried `refusals_before` may not be acknowledged: this write, or another since
    /// they ran (the background flush, another event loop's commit), was refused by the disk.
    /// A refused write is undone in the local store: its keys hold what they held before, and
    /// nothing of it is replayed to Redis. (Conservative: a refusal of other writes since
    /// `refusals_before` also fails these.)
    std::error_code commit(std::uint64_t refusals_before);

    /// Expires keys whose time has come, evicts past the memory bound, syncs the journal when
    /// `everysec` says so and compacts it when it has grown.
    void background_cycle();

    /// SIGHUP: new key-class prefixes and memory bound. What a key already owes Redis (a cache
    /// invalidation, a lock to push) stays owed under the class it had when written.
    void reconfigure(const config::settings& settings);

    /// Shutdown: writes and fdatasyncs whatever the journal still buffers (mirrored writes wait
    /// for the background flush; `everysec` for its second).
    void flush_journal_for_shutdown();

    /// A snapshot of what recovery must apply to Redis: with `every_blacklist_entry`, all the
    /// blacklist entries known (the first round after an outage: Redis may have restarted
    /// empty), otherwise only those written since the last snapshot.
    reconciliation_work pending_reconciliation(bool every_blacklist_entry);
    /// Recovery applied `work` to Redis: what it held is owed no more. The local store still
    /// answers (and keeps its copies) until `handover`.
    void reconciled(const reconciliation_work& work);
    /// Forwarding resumes: drop the local copies Redis now holds or that would go stale (locks,
    /// cache and default keys; blacklist entries stay, they back fail-closed reads), and journal
    /// that everything before is in Redis.
    void handover();

    /// The local store's part of the local INFO's figures.
    void fill(local_figures& figures);

    std::uint64_t keys();

    /// Local keys by class, the journal's size and what recovery would owe Redis now (INFO
    /// sidecar, /metrics). Counts every key: call it per scrape, not per request.
    local_store_figures store_figures();

private:
    // A key's class and its state before the first write of it whose journal record is not
    // stored yet, and whether recovery owed Redis something for it then.
    struct prior_state {
        bool existed = false;
        std::string value;
        std::int64_t expire_at = local::no_expiry;
        bool was_owed = false;
        local::key_class cls = local::key_class::default_class;
    };

    void on_write(std::string_view key, const local::keyspace::entry* before);
    bool names_a_default_key(std::span<const std::string_view> args) const;
    static void refuse_default_key(std::span<const std::string_view> args, std::string& out);
    void journal_touched_keys();
    std::error_code write_journal();
    void undo_unstored_writes();
    void keep_unstored(const std::string& key, local::key_class c);
    bool owed_to_redis(std::string_view key, local::key_class c) const;
    void note_invalidation_pattern(std::string_view command, std::span<const std::string_view> args);
    void note_deletions(std::string_view command, std::span<const std::string_view> args);
    void load(std::vector<local::journal_record> records);
    void compact();
    void drop_local_copies(std::initializer_list<local::key_class> classes);
    void hold_as_redis(std::string_view key, std::string_view value, std::int64_t expire_at_ms);
    void drop_as_redis(std::string_view key);
    bool copy_matches(std::string_view key, std::optional<std::string_view> value);
    void ask_for_readbacks(std::span<const std::string_view> written);

    std::mutex mutex_;
    local::key_classifier classes_;
    local::engine engine_;
    std::unique_ptr<local::journal> journal_;
    std::uint64_t maxmemory_;
    bool refuse_default_keys_;  // default-keys-while-down refuse

    // A key the running command wrote, with its class and its state before the command (the
    // value only for the classes whose writes are journaled for the local answer's sake).
    struct touched_key {
        std::string key;
        prior_state before;
    };

    // Keys the running command wrote, each once. The strings keep their capacity from one
    // command to the next, so noting a key allocates nothing once the slots have grown.
    class touched_keys {
    public:
        void clear();
        /// Notes `key`, unless the command wrote it before; returns its slot when it is new.
        touched_key* add(std::string_view key);
        std::span<const touched_key> keys() const { return {slots_.data(), size_}; }

    private:
        static constexpr std::size_t kept_capacity = 1024;
        std::vector<touched_key> slots_;
        std::size_t size_ = 0;
    };

    touched_keys touched_;
    bool undoing_ = false;  // the writes are undone: not a command's, nothing to journal
    // Local answers whose records are appended but not stored: their keys' earlier states, and
    // the invalidation patterns they added. A refused journal write restores them.
    std::unordered_map<std::string, prior_state> unstored_;
    std::vector<std::string> unstored_patterns_;
    std::uint64_t refused_writes_ = 0;  // journal writes refused while holding local answers
    std::error_code last_refusal_;
    bool journal_failing_ = false;  // the last journal write was refused (logged once per episode)
    std::uint64_t journal_write_failures_ = 0;
    bool mirroring_ = false;            // the running command replays a write Redis made
    std::set<std::string, std::less<>> dirty_blacklist_keys_;
    // Locks taken here while Redis could not see them; a lock copied from Redis (the mirror) is
    // Redis's already and is never pushed back.
    std::set<std::string, std::less<>> dirty_lock_keys_;
    std::set<std::string, std::less<>> dirty_cache_keys_;
    std::set<std::string, std::less<>> cache_patterns_;
    std::set<std::string, std::less<>> dirty_default_keys_;

    std::shared_ptr<upstream::readback_queue> readbacks_;
    std::uint64_t readbacks_applied_ = 0;
    std::uint64_t readback_corrections_ = 0;  // readbacks that found another value, or none

    std::uint64_t total_commands_ = 0;
    error_stats errors_;                 // error replies of local answers (INFO errorstats)
    std::uint64_t peak_used_memory_ = 0;  // the store's highest used_memory, sampled at hz as Redis does
};

}  // namespace redis_sidecar::store
