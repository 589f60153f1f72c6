#pragma once
/// The local keyspace: string values with per-key expiry, the dict Redis's SCAN guarantees rely on,
/// lazy and active expiry, and approximate-LRU eviction under a byte budget.
///
/// Standard library only; not thread-safe (the owner serialises access). Time is always passed in
/// by the caller as absolute unix milliseconds, so tests control it fully.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace redis_sidecar::local {

/// `expire_at` of a key without a time to live (Redis's -1).
inline constexpr std::int64_t no_expiry = -1;

/// In-memory keyspace with Redis's expiry and SCAN semantics.
class keyspace {
public:
    /// A stored key. Read through the accessors; change it only through the keyspace, which keeps
    /// memory accounting and the expiry index right.
    class entry {
    public:
        /// The key's name.
        std::string_view key() const { return key_; }
        /// The key's string value.
        std::string_view value() const { return value_; }
        /// Absolute unix ms at which the key expires, or `no_expiry`.
        std::int64_t expire_at() const { return expire_at_; }
        /// True when the key has a time to live.
        bool has_expiry() const { return expire_at_ != no_expiry; }
        /// True when the eviction predicate allowed this key to be evicted.
        bool evictable() const { return evictable_; }

    private:
        friend class keyspace;
        static constexpr std::size_t npos = static_cast<std::size_t>(-1);

        std::string key_;
        std::string value_;
        std::int64_t expire_at_ = no_expiry;
        std::uint64_t lru_ = 0;  // logical access clock, higher is more recent
        std::size_t hash_ = 0;
        entry* next_ = nullptr;              // bucket chain
        std::size_t all_index_ = npos;       // position in all_, which owns the entry
        std::size_t volatile_index_ = npos;  // position in volatile_ while it has an expiry
        std::size_t evictable_index_ = npos;
        bool evictable_ = false;
    };

    /// Decides whether a key may be evicted; asked once when a key is created.
    using evictable_predicate = std::function<bool(std::string_view key)>;
    /// Told of every key a command writes (set, value or expiry changed, deleted), once per write
    /// and before the change, with the entry as it still is (nullptr for a key being created);
    /// not of keys that expire or are evicted. A key may be reported more than once per command.
    /// The observer must not change the keyspace.
    using write_observer = std::function<void(std::string_view key, const entry* before)>;

    /// An empty keyspace; `seed` drives the sampling of active expiry and eviction.
    explicit keyspace(std::uint64_t seed = std::random_device{}());
    ~keyspace();
    keyspace(const keyspace&) = delete;
    keyspace& operator=(const keyspace&) = delete;

    // -- Lookup ----------------------------------------------------------------------------------

    /// The live entry for `key`, or nullptr. A key whose time has passed is deleted here (lazy
    /// expiry). `touch` records an access for LRU, as Redis does for reads and writes but not
    /// for TTL, TYPE or EXISTS.
    entry* find(std::string_view key, std::int64_t now_ms, bool touch = true);

    /// True when `e` expired at `now_ms` (Redis: now > expire time).
    static bool is_expired(const entry& e, std::int64_t now_ms) {
        return e.expire_at_ != no_expiry && now_ms > e.expire_at_;
    }

    /// Number of stored keys, including expired ones not reclaimed yet (as Redis's DBSIZE).
    std::size_t size() const { return all_.size(); }

    /// A uniformly chosen live key, or nullptr when there is none; expired keys met on the way
    /// are deleted.
    entry* random_entry(std::int64_t now_ms);

    /// Calls `visit` for every stored entry (expired ones included) in table order. `visit` must
    /// not change the keyspace.
    void for_each(const std::function<void(const entry&)>& visit) const;

    /// One step of Redis's reverse-binary cursor scan: appends the entries of the bucket(s) at
    /// `cursor` to `found` and returns the next cursor, 0 when the scan is complete. Every key
    /// present from the first to the last call is returned at least once, however the table grows
    /// or shrinks in between. Pointers stay valid until the keyspace is changed.
    std::uint64_t scan(std::uint64_t cursor, std::vector<const entry*>& found) const;

    // -- Changes ---------------------------------------------------------------------------------

    /// Sets `key` to `value` with expiry `expire_at_ms` (`no_expiry` for none), creating it or
    /// replacing value and expiry of an existing key.
    entry& set(std::string_view key, std::string_view value, std::int64_t expire_at_ms = no_expiry);

    /// Replaces value and expiry of `e`, as `set` does for an existing key (without looking it
    /// up again).
    void overwrite(entry& e, std::string_view value, std::int64_t expire_at_ms = no_expiry);

    /// Replaces the value of `e`, keeping its expiry.
    void set_value(entry& e, std::string_view value);

    /// Appends `suffix` to the value of `e`.
    void append_value(entry& e, std::string_view suffix);

    /// Sets (or with `no_expiry` removes) the expiry of `e`.
    void set_expiry(entry& e, std::int64_t expire_at_ms);

    /// Deletes `e`; `e` is invalid afterwards.
    void erase(entry& e);

    /// Deletes `key` if it is live; true when it was.
    bool erase(std::string_view key, std::int64_t now_ms);

    /// Deletes every key.
    void clear();

    // -- Expiry and eviction ---------------------------------------------------------------------

    /// Active expiry, to be called periodically: samples at most `budget` keys that have a TTL
    /// in rounds of 20 as Redis does, deletes those that expired, and stops early once a round
    /// finds at most 10% of its sample expired. Returns the number of keys deleted.
    std::size_t active_expire_cycle(std::int64_t now_ms, std::size_t budget);

    /// The memory budget in bytes (as estimated by `used_memory`); 0 means unlimited.
    void set_maxmemory(std::size_t bytes) { maxmemory_ = bytes; }
    /// The current memory budget, 0 when unlimited.
    std::size_t maxmemory() const { return maxmemory_; }

    /// Which keys eviction may remove (by default: every key). Re-classifies existing keys.
    void set_evictable(evictable_predicate predicate);

    /// Reports writes to `observer` (the durable journal's feed); empty to stop.
    void set_write_observer(write_observer observer) { write_observer_ = std::move(observer); }

    /// Evicts evictable keys, least recently used first (approximately, by sampling as Redis's
    /// allkeys-lru does), until `used_memory() <= maxmemory()` or nothing evictable is left.
    /// Returns the number of keys evicted. Never touches keys the predicate calls non-evictable.
    std::size_t evict_if_needed(std::int64_t now_ms);

    /// Estimated bytes held: keys, values, per-key overhead and the bucket tables.
    std::size_t used_memory() const;

    /// Keys deleted because their time passed (lazily or actively) since construction.
    std::uint64_t expired_keys() const { return expired_keys_; }
    /// Keys evicted under the memory budget since construction.
    std::uint64_t evicted_keys() const { return evicted_keys_; }
    /// Keys that have an expiry (INFO keyspace's "expires").
    std::size_t volatile_count() const { return volatile_.size(); }

    /// Estimated per-key overhead used by `used_memory`, for callers that size budgets.
    static constexpr std::size_t entry_overhead = sizeof(entry) + 4 * sizeof(void*);

private:
    struct table {
        std::vector<entry*> buckets;
        std::size_t used = 0;
        std::size_t mask() const { return buckets.size() - 1; }
    };
    struct eviction_candidate {
        std::uint64_t lru;
        std::string key;
    };

    static std::size_t hash_of(std::string_view key);
    entry* lookup(std::string_view key, std::size_t hash);
    void link(entry& e);
    void unlink(entry& e);
    bool rehashing() const { return rehash_index_ >= 0; }
    void rehash_step(std::size_t buckets);
    void expand_if_needed();
    void shrink_if_needed();
    void resize(std::size_t wanted);
    void index_volatile(entry& e);
    void unindex_volatile(entry& e);
    void index_evictable(entry& e);
    void unindex_evictable(entry& e);
    void expire(entry& e);
    void remove(entry& e);  // erase without reporting a write (expiry, eviction)
    void notify_write(std::string_view key, const entry* before);
    // The changes without the write notification, which the public callers send once.
    void assign_value(entry& e, std::string_view value);
    void assign_expiry(entry& e, std::int64_t expire_at_ms);
    std::size_t data_bytes(const entry& e) const { return e.key_.size() + e.value_.size() + entry_overhead; }
    void fill_eviction_pool(std::int64_t now_ms);
    bool evict_one(std::int64_t now_ms);

    table tables_[2];
    std::ptrdiff_t rehash_index_ = -1;  // next bucket of tables_[0] to move; -1: not rehashing
    std::vector<std::unique_ptr<entry>> all_;
    write_observer write_observer_;
    std::vector<entry*> volatile_;
    std::vector<entry*> evictable_;
    evictable_predicate evictable_predicate_;
    std::vector<eviction_candidate> eviction_pool_;
    std::size_t data_bytes_ = 0;
    std::size_t maxmemory_ = 0;
    std::uint64_t lru_clock_ = 0;
    std::uint64_t expired_keys_ = 0;
    std::uint64_t evicted_keys_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace redis_sidecar::local
