#include "redis_sidecar/store/local_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/reply_writer.hpp"

namespace redis_sidecar::store {

using protocol::equals_lower;

namespace {
// Keys examined per active-expiry cycle, as Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP order.
constexpr std::size_t expire_budget = 200;

// A journaled entry copied from Redis (the mirror) rather than written here: Redis has it.
constexpr std::uint8_t from_redis_flag = 0x80;

// The part of a glob pattern before its first special character.
std::string_view literal_prefix(std::string_view pattern) {
    const auto special = pattern.find_first_of("*?[\\");
    return pattern.substr(0, special);
}

void log_recovery(const local::journal_open_result& opened) {
    const local::journal_recovery& r = opened.recovery;
    if (r.created) spdlog::info("journal: created {}", opened.journal->path());
    if (r.removed_tmp) spdlog::warn("journal: removed the leftover of an interrupted compaction");
    if (r.damage != local::tail_damage::none)
        spdlog::warn("journal: damaged tail ({}), cut at offset {}: {} bytes dropped",
                     local::tail_damage_name(r.damage), r.truncated_at, r.dropped_bytes);
    if (!r.moved_aside_to.empty())
        spdlog::error("journal: unreadable ({}), moved aside to {}; starting a new one with the {} intact "
                      "records found behind the header",
                      r.moved_aside_reason, r.moved_aside_to, r.salvaged_records);
}
}  // namespace

local_service::local_service(const config::settings& settings)
    : classes_(settings.blacklist_prefixes, settings.lock_prefixes, settings.cache_prefixes),
      maxmemory_(settings.local_maxmemory),
      refuse_default_keys_(settings.default_keys_while_down != "ephemeral") {
    engine_.keys().set_maxmemory(settings.local_maxmemory);
    // Only cache and default keys may be evicted: a forgotten revoked token or a held lock would
    // be a security or correctness hole, a forgotten cache entry just a miss.
    engine_.keys().set_evictable([this](std::string_view key) { return !local::is_durable(classes_.classify(key)); });
    const auto policy =
        settings.journal_fsync == "everysec" ? local::fsync_policy::everysec : local::fsync_policy::always;
    local::journal_open_result opened = local::journal::open(settings.data_dir, policy);
    if (!opened.journal)
        throw std::runtime_error("invalid option 'data-dir': " + opened.error_message);
    log_recovery(opened);
    journal_ = std::move(opened.journal);
    load(std::move(opened.records));
    engine_.keys().set_write_observer(
        [this](std::string_view key, const local::keyspace::entry* before) { on_write(key, before); });
}

// Rebuilds the state the journal describes: what a crashed or restarted sidecar had promised.
void local_service::load(std::vector<local::journal_record> records) {
    const std::int64_t now = engine_.now_ms();
    for (local::journal_record& r : records) {
        switch (r.kind) {
            case local::record_kind::set:
                if (classes_.classify(r.key) == local::key_class::lock) {
                    if (r.key_class & from_redis_flag)
                        dirty_lock_keys_.erase(r.key);
                    else
                        dirty_lock_keys_.insert(r.key);
                }
                // Both encode "no expiry" as -1.
                static_assert(local::no_expiry == local::record_no_expiry);
                if (r.expire_at_ms != local::no_expiry && now > r.expire_at_ms)
                    engine_.keys().erase(r.key, now);
                else
                    engine_.keys().set(r.key, r.value, r.expire_at_ms);
                break;
            case local::record_kind::del:
                engine_.keys().erase(r.key, now);
                if (classes_.classify(r.key) == local::key_class::cache) dirty_cache_keys_.insert(std::move(r.key));
                break;
            case local::record_kind::del_pattern:
                cache_patterns_.insert(std::move(r.key));
                break;
            case local::record_kind::replayed:
                // Everything before the marker reached Redis, which holds the locks from then on.
                dirty_cache_keys_.clear();
                cache_patterns_.clear();
                dirty_lock_keys_.clear();
                drop_local_copies({local::key_class::lock, local::key_class::cache, local::key_class::default_class});
                break;
        }
    }
    if (!records.empty())
        spdlog::info("journal: loaded {} records: {} keys, {} cache invalidations pending", records.size(),
                     engine_.keys().size(), dirty_cache_keys_.size() + cache_patterns_.size());
}

// A key of no class is Redis's alone: the local store can neither answer a read of it truthfully
// (it never saw Redis's value) nor keep a write of it (recovery would drop it), so with
// default-keys-while-down refuse a command that names one is refused, whatever the command.
bool local_service::names_a_default_key(std::span<const std::string_view> args) const {
    static const std::shared_ptr<const catalogue::command_catalogue> commands = catalogue::command_catalogue::builtin();
    const catalogue::command_info* command = commands->find(args);
    if (command == nullptr) return false;
    bool found = false;
    catalogue::for_each_key(*command, args, [&](catalogue::key_position key) {
        found = found || classes_.classify(args[key.index]) == local::key_class::default_class;
    });
    return found;
}

void local_service::refuse_default_key(std::span<const std::string_view> args, std::string& out) {
    std::string message = "ERR upstream Redis is unavailable; '";
    for (char c : args[0].substr(0, 64)) message.push_back(protocol::ascii_lower(c));
    message.append(local::down_errors::default_key_refused_suffix);
    protocol::write_error(out, message);
}

local_result local_service::execute(std::span<const std::string_view> args, std::string& out) {
    std::lock_guard lock(mutex_);
    touched_.clear();
    const std::size_t pending_before = journal_->pending_records();
    const std::uint64_t refusals_before = refused_writes_;
    ++total_commands_;
    const std::size_t reply_start = out.size();
    if (refuse_default_keys_ && names_a_default_key(args)) {
        refuse_default_key(args, out);
        errors_.count(std::string_view(out).substr(reply_start));
        return {false, refusals_before};
    }
    const std::string_view command = engine_.execute(args, out);
    errors_.count(std::string_view(out).substr(reply_start));
    note_invalidation_pattern(command, args);
    note_deletions(command, args);
    journal_touched_keys();
    return {journal_->pending_records() > pending_before, refusals_before};
}

void local_service::touched_keys::clear() {
    // A slot that once held a huge key or value gives its memory back rather than keep it for good.
    for (std::size_t i = 0; i < size_; ++i) {
        if (slots_[i].key.capacity() > kept_capacity) std::string().swap(slots_[i].key);
        if (slots_[i].before.value.capacity() > kept_capacity) std::string().swap(slots_[i].before.value);
    }
    size_ = 0;
}

local_service::touched_key* local_service::touched_keys::add(std::string_view key) {
    for (const touched_key& noted : keys())
        if (noted.key == key) return nullptr;
    if (size_ == slots_.size()) slots_.emplace_back();
    touched_key& slot = slots_[size_++];
    slot.key.assign(key);
    return &slot;
}

// Told before each write. The first write of a key in a command notes the key with its class
// and, for the keys whose journaled answers a refused disk write must undo, its state before.
void local_service::on_write(std::string_view key, const local::keyspace::entry* before) {
    if (undoing_) return;
    touched_key* slot = touched_.add(key);
    if (slot == nullptr) return;
    slot->before.cls = classes_.classify(key);
    slot->before.existed = before != nullptr;
    slot->before.expire_at = before != nullptr ? before->expire_at() : local::no_expiry;
    if (before != nullptr && slot->before.cls != local::key_class::default_class && !mirroring_)
        slot->before.value.assign(before->value());
    else
        slot->before.value.clear();
}

bool local_service::owed_to_redis(std::string_view key, local::key_class c) const {
    switch (c) {
        case local::key_class::blacklist: return dirty_blacklist_keys_.contains(key);
        case local::key_class::lock: return dirty_lock_keys_.contains(key);
        case local::key_class::cache: return dirty_cache_keys_.contains(key);
        case local::key_class::default_class: break;
    }
    return false;
}

// Each written key's fate on recovery is decided by its class (README "Nothing lost").
void local_service::journal_touched_keys() {
    if (touched_.keys().empty()) return;  // reads: nothing to decide, not even the time
    const std::int64_t now = engine_.now_ms();
    for (const touched_key& t : touched_.keys()) {
        const std::string& key = t.key;
        const local::key_class c = t.before.cls;
        // A mirrored write is Redis's own: only the durable copies follow it.
        if (mirroring_ && !local::is_durable(c)) continue;
        // A local answer's record: until it is stored, the key's earlier state is kept, for a
        // refused disk write to restore (the first unstored write of the key has it).
        const auto keep_earlier_state = [&] {
            if (mirroring_ || unstored_.contains(key)) return;
            prior_state earlier = t.before;
            earlier.was_owed = owed_to_redis(key, c);
            unstored_.emplace(key, std::move(earlier));
        };
        if (local::is_durable(c)) {
            keep_earlier_state();
            if (c == local::key_class::blacklist) dirty_blacklist_keys_.insert(key);
            if (c == local::key_class::lock && !mirroring_) dirty_lock_keys_.insert(key);
            const local::keyspace::entry* e = engine_.keys().find(key, now, false);
            const auto origin = static_cast<std::uint8_t>(static_cast<std::uint8_t>(c) | (mirroring_ ? from_redis_flag : 0));
            if (e != nullptr)
                journal_->append(local::journal_record::make_set(key, std::string(e->value()), e->expire_at(), origin));
            else
                journal_->append(local::journal_record::make_del(key));
        } else if (c == local::key_class::cache) {
            // Whatever Redis holds for this key is stale now: it is deleted there on recovery.
            if (!dirty_cache_keys_.contains(key)) {
                keep_earlier_state();
                dirty_cache_keys_.insert(key);
                journal_->append(local::journal_record::make_del(key));
            }
        } else {
            dirty_default_keys_.insert(key);
        }
    }
}

// A deletion is an invalidation even of a key the local store never had: Redis may hold it from
// before the outage. The keyspace reports only keys it had, so deletions are noted here.
void local_service::note_deletions(std::string_view command, std::span<const std::string_view> args) {
    if (command != "del" && command != "unlink" && command != "getdel") return;
    for (std::size_t i = 1; i < args.size(); ++i) on_write(args[i], nullptr);  // a key it had is noted already
}

// `SCAN ... MATCH cache:user:42:*` (or KEYS) over a cache prefix is how apps find what to
// invalidate: Redis holds matching keys the local store never saw, so the pattern is replayed.
void local_service::note_invalidation_pattern(std::string_view command, std::span<const std::string_view> args) {
    std::string_view pattern;
    if (command == "keys") {
        pattern = args[1];
    } else if (command == "scan") {
        for (std::size_t i = 2; i + 1 < args.size(); ++i)
            if (equals_lower(args[i], "match")) pattern = args[i + 1];
    }
    if (pattern.empty() || classes_.classify(literal_prefix(pattern)) != local::key_class::cache) return;
    if (cache_patterns_.insert(std::string(pattern)).second) {
        journal_->append(local::journal_record::make_del_pattern(std::string(pattern)));
        unstored_patterns_.emplace_back(pattern);
    }
}

std::error_code local_service::commit(std::uint64_t refusals_before) {
    std::lock_guard lock(mutex_);
    std::error_code ec;
    if (journal_->pending_records() > 0) ec = write_journal();
    // Stored now, or by a flush since; unless one since then was refused and took them along.
    if (!ec && refused_writes_ != refusals_before) ec = last_refusal_;
    return ec;
}

// Every write of the journal's pending records goes through here. When the disk refuses them,
// the local answers among them were never stored, and their clients are told so (commit). The
// store then takes back what would claim more than the disk holds, in the safe direction of each
// class (README "Nothing lost"), see undo_unstored_writes. Mirrored records (Redis has those
// writes) are simply dropped, as before.
std::error_code local_service::write_journal() {
    const std::error_code ec = journal_->flush();
    if (ec && !journal_failing_) spdlog::error("journal: write failed: {}; local answers waiting on it are refused", ec.message());
    if (!ec && journal_failing_) spdlog::info("journal: writes are stored again");
    journal_failing_ = static_cast<bool>(ec);
    if (ec) ++journal_write_failures_;
    if (ec && !(unstored_.empty() && unstored_patterns_.empty())) {
        ++refused_writes_;
        last_refusal_ = ec;
        undo_unstored_writes();
        return ec;
    }
    unstored_.clear();
    unstored_patterns_.clear();
    return ec;
}

// After a refused journal write, by class:
// - lock: the key goes back to what it held before (a lock its client was told it did not get
//   is not held; one whose release failed stays held until its expiry), and what recovery owed
//   Redis for it is as before;
// - blacklist: a revocation is never taken back (the mirror fails closed): one the refused
//   writes added or changed stays, one they removed comes back;
// - cache: the key is dropped locally (a miss is always safe) and stays invalidated in Redis;
//   invalidation patterns stay owed.
// What stays (revocations, invalidations) is journaled again, and tried at the next journal write
// until the disk takes it: it stays listed as unstored meanwhile, so a refusal counts again.
void local_service::undo_unstored_writes() {
    undoing_ = true;
    const std::int64_t now = engine_.now_ms();
    std::unordered_map<std::string, prior_state> refused;
    refused.swap(unstored_);
    std::size_t undone = 0;
    for (const auto& [key, earlier] : refused) {
        const local::keyspace::entry* e = engine_.keys().find(key, now, false);
        switch (earlier.cls) {
            case local::key_class::lock:
                if (earlier.existed)
                    engine_.keys().set(key, earlier.value, earlier.expire_at);
                else if (e != nullptr)
                    engine_.keys().erase(key, now);
                if (!earlier.was_owed) dirty_lock_keys_.erase(key);
                ++undone;
                break;
            case local::key_class::blacklist:
                if (e == nullptr && earlier.existed) {
                    engine_.keys().set(key, earlier.value, earlier.expire_at);  // stored, as before
                    ++undone;
                } else if (e != nullptr) {
                    keep_unstored(key, earlier.cls);
                } else if (!earlier.was_owed) {
                    dirty_blacklist_keys_.erase(key);
                }
                break;
            case local::key_class::cache:
                if (e != nullptr) engine_.keys().erase(key, now);
                keep_unstored(key, earlier.cls);
                break;
            case local::key_class::default_class: break;  // not journaled
        }
    }
    for (const std::string& pattern : unstored_patterns_)
        journal_->append(local::journal_record::make_del_pattern(pattern));
    undoing_ = false;
    if (undone > 0) spdlog::warn("journal: {} lock or revocation removals refused by the disk are undone", undone);
}

// Journals `key` again as it is now, to be stored by a later journal write.
void local_service::keep_unstored(const std::string& key, local::key_class c) {
    const local::keyspace::entry* e = engine_.keys().find(key, engine_.now_ms(), false);
    if (c == local::key_class::blacklist && e != nullptr)
        journal_->append(local::journal_record::make_set(key, std::string(e->value()), e->expire_at(),
                                                         static_cast<std::uint8_t>(c)));
    else
        journal_->append(local::journal_record::make_del(key));
    prior_state still;
    still.existed = c == local::key_class::blacklist && e != nullptr;
    still.was_owed = true;
    still.cls = c;
    unstored_.emplace(key, std::move(still));
}

void local_service::background_cycle() {
    std::lock_guard lock(mutex_);
    engine_.active_expire_cycle(expire_budget);
    engine_.keys().evict_if_needed(engine_.now_ms());
    peak_used_memory_ = std::max<std::uint64_t>(peak_used_memory_, engine_.keys().used_memory());
    // Mirrored writes are in Redis already; their journal records go out in batches.
    // Refusals are logged by write_journal, once while the disk keeps refusing.
    if (journal_->pending_records() > 0) (void)write_journal();
    if (const std::error_code ec = journal_->sync_if_due(std::chrono::steady_clock::now()))
        spdlog::error("journal: fdatasync failed: {}", ec.message());
    if (journal_->pending_records() == 0 && journal_->needs_compaction()) compact();
}

void local_service::reconfigure(const config::settings& settings) {
    std::lock_guard lock(mutex_);
    classes_ = local::key_classifier(settings.blacklist_prefixes, settings.lock_prefixes, settings.cache_prefixes);
    maxmemory_ = settings.local_maxmemory;
    refuse_default_keys_ = settings.default_keys_while_down != "ephemeral";
    engine_.keys().set_maxmemory(settings.local_maxmemory);
}

void local_service::flush_journal_for_shutdown() {
    std::lock_guard lock(mutex_);
    if (const std::error_code ec = journal_->flush_and_sync())
        spdlog::error("journal: final write at shutdown failed: {}", ec.message());
}

// A snapshot of what is still owed replaces the history: durable keys as they are now, and the
// invalidations not yet applied to Redis.
void local_service::compact() {
    std::vector<local::journal_record> live;
    const std::int64_t now = engine_.now_ms();
    engine_.keys().for_each([&](const local::keyspace::entry& e) {
        const local::key_class c = classes_.classify(e.key());
        if (!local::is_durable(c) || local::keyspace::is_expired(e, now)) return;
        const bool ours = c != local::key_class::lock || dirty_lock_keys_.contains(e.key());
        const auto origin = static_cast<std::uint8_t>(static_cast<std::uint8_t>(c) | (ours ? 0 : from_redis_flag));
        live.push_back(local::journal_record::make_set(std::string(e.key()), std::string(e.value()), e.expire_at(), origin));
    });
    for (const std::string& key : dirty_cache_keys_) live.push_back(local::journal_record::make_del(key));
    for (const std::string& pattern : cache_patterns_) live.push_back(local::journal_record::make_del_pattern(pattern));
    const auto before = journal_->size_bytes();
    if (const std::error_code ec = journal_->compact(live))
        spdlog::error("journal: compaction failed: {}", ec.message());
    else
        spdlog::info("journal: compacted {} -> {} bytes ({} records)", before, journal_->size_bytes(), live.size());
}

reconciliation_work local_service::pending_reconciliation(bool every_blacklist_entry) {
    std::lock_guard lock(mutex_);
    reconciliation_work work;
    const std::int64_t now = engine_.now_ms();
    engine_.keys().for_each([&](const local::keyspace::entry& e) {
        if (local::keyspace::is_expired(e, now)) return;
        const local::key_class c = classes_.classify(e.key());
        if (c == local::key_class::lock && dirty_lock_keys_.contains(e.key())) {
            work.locks.push_back({std::string(e.key()), std::string(e.value()), e.expire_at()});
        } else if (c == local::key_class::blacklist &&
                   (every_blacklist_entry || dirty_blacklist_keys_.contains(e.key()))) {
            work.blacklist.push_back({std::string(e.key()), std::string(e.value()), e.expire_at()});
        }
    });
    work.cache_keys.assign(dirty_cache_keys_.begin(), dirty_cache_keys_.end());
    work.cache_patterns.assign(cache_patterns_.begin(), cache_patterns_.end());
    work.default_keys.assign(dirty_default_keys_.begin(), dirty_default_keys_.end());
    return work;
}

void local_service::reconciled(const reconciliation_work& work) {
    std::lock_guard lock(mutex_);
    for (const std::string& key : work.cache_keys) dirty_cache_keys_.erase(key);
    for (const std::string& pattern : work.cache_patterns) cache_patterns_.erase(pattern);
    for (const std::string& key : work.default_keys) dirty_default_keys_.erase(key);
    for (const auto& entry : work.blacklist) dirty_blacklist_keys_.erase(entry.key);
    for (const auto& entry : work.locks) dirty_lock_keys_.erase(entry.key);
}

void local_service::handover() {
    std::lock_guard lock(mutex_);
    engine_.keys().set_write_observer({});  // dropping local copies is not a write to replay
    // Redis holds the locks now, and local cache entries would go stale as Redis moves on.
    drop_local_copies({local::key_class::lock, local::key_class::cache, local::key_class::default_class});
    engine_.keys().set_write_observer(
        [this](std::string_view key, const local::keyspace::entry* before) { on_write(key, before); });
    // Nothing is owed any more (this round found nothing to push): a lock released or expired
    // here during the outage is no longer one taken here, as after the journal's replayed marker
    // on load.
    dirty_lock_keys_.clear();
    journal_->append(local::journal_record::make_replayed(journal_->last_sequence()));
    (void)write_journal();  // a refusal is logged there
}

void local_service::drop_local_copies(std::initializer_list<local::key_class> classes) {
    const std::int64_t now = engine_.now_ms();
    std::vector<std::string> dropped;
    engine_.keys().for_each([&](const local::keyspace::entry& e) {
        const local::key_class c = classes_.classify(e.key());
        if (std::find(classes.begin(), classes.end(), c) != classes.end()) dropped.emplace_back(e.key());
    });
    for (const std::string& key : dropped) engine_.keys().erase(key, now);
}

void local_service::fill(local_figures& figures) {
    std::lock_guard lock(mutex_);
    const local::keyspace& keys = engine_.keys();
    figures.used_memory = keys.used_memory();
    figures.used_memory_peak = peak_used_memory_;
    figures.maxmemory = maxmemory_;
    figures.journal_failing = journal_failing_;
    figures.keys = keys.size();
    figures.keys_with_expiry = keys.volatile_count();
    figures.expired_keys = keys.expired_keys();
    figures.evicted_keys = keys.evicted_keys();
    figures.total_commands = total_commands_;
    figures.command_calls = engine_.command_calls();
    figures.error_counts = errors_.by_code();
    figures.total_error_replies = errors_.total();
}

local_store_figures local_service::store_figures() {
    std::lock_guard lock(mutex_);
    local_store_figures f;
    const std::int64_t now = engine_.now_ms();
    engine_.keys().for_each([&](const local::keyspace::entry& e) {
        if (!local::keyspace::is_expired(e, now)) ++f.keys_by_class[static_cast<std::size_t>(classes_.classify(e.key()))];
    });
    f.journal_bytes = journal_->size_bytes();
    f.journal_records = journal_->record_count();
    f.journal_write_failures = journal_write_failures_;
    f.journal_failing = journal_failing_ ? 1 : 0;
    f.owed_cache_invalidations = dirty_cache_keys_.size() + cache_patterns_.size();
    f.owed_locks = dirty_lock_keys_.size();
    f.owed_default_keys_to_drop = dirty_default_keys_.size();
    f.mirror_readbacks = readbacks_applied_;
    f.mirror_readback_corrections = readback_corrections_;
    return f;
}

std::uint64_t local_service::keys() {
    std::lock_guard lock(mutex_);
    return engine_.keys().size();
}

}  // namespace redis_sidecar::store
