#include "redis_sidecar/local/keyspace.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

namespace redis_sidecar::local {

namespace {

constexpr std::size_t initial_buckets = 4;        // Redis's DICT_HT_INITIAL_SIZE
constexpr std::size_t min_fill_percent = 10;      // Redis's HASHTABLE_MIN_FILL
constexpr std::size_t expire_round_keys = 20;     // ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP
constexpr std::size_t expire_stale_percent = 10;  // ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE
constexpr std::size_t eviction_samples = 5;       // maxmemory-samples
constexpr std::size_t eviction_pool_size = 16;    // EVPOOL_SIZE

std::uint64_t reverse_bits(std::uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(v);  // std::byteswap is C++23
}

// Sets the bits above the mask, then increments the reversed cursor: the next bucket in
// reverse-binary order, which is what keeps the scan complete across resizes.
std::uint64_t next_cursor(std::uint64_t v, std::uint64_t mask) {
    v |= ~mask;
    v = reverse_bits(v);
    ++v;
    return reverse_bits(v);
}

}  // namespace

keyspace::keyspace(std::uint64_t seed) : rng_(seed) {}

keyspace::~keyspace() = default;

std::size_t keyspace::hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }

// -- The dict: two tables while rehashing, incrementally, as Redis's dict.c -------------------

keyspace::entry* keyspace::lookup(std::string_view key, std::size_t hash) {
    if (rehashing()) rehash_step(1);
    for (int t = 0; t < 2; ++t) {
        const table& tab = tables_[t];
        if (tab.buckets.empty()) continue;
        for (entry* e = tab.buckets[hash & tab.mask()]; e != nullptr; e = e->next_) {
            if (e->hash_ == hash && e->key_ == key) return e;
        }
        if (!rehashing()) break;
    }
    return nullptr;
}

void keyspace::link(entry& e) {
    expand_if_needed();
    table& tab = tables_[rehashing() ? 1 : 0];
    entry*& head = tab.buckets[e.hash_ & tab.mask()];
    e.next_ = head;
    head = &e;
    ++tab.used;
}

void keyspace::unlink(entry& e) {
    for (int t = 0; t < 2; ++t) {
        table& tab = tables_[t];
        if (tab.buckets.empty()) continue;
        for (entry** link = &tab.buckets[e.hash_ & tab.mask()]; *link != nullptr; link = &(*link)->next_) {
            if (*link == &e) {
                *link = e.next_;
                e.next_ = nullptr;
                --tab.used;
                return;
            }
        }
        if (!rehashing()) break;
    }
    assert(false && "entry not linked");
}

void keyspace::rehash_step(std::size_t buckets) {
    if (!rehashing()) return;
    table& from = tables_[0];
    table& to = tables_[1];
    // Bound the work on long runs of empty buckets, as dictRehash does.
    std::size_t empty_visits = buckets * 10;
    while (buckets-- > 0 && from.used != 0) {
        auto index = static_cast<std::size_t>(rehash_index_);
        while (from.buckets[index] == nullptr) {
            rehash_index_ = static_cast<std::ptrdiff_t>(++index);
            if (--empty_visits == 0) return;
        }
        for (entry* e = from.buckets[index]; e != nullptr;) {
            entry* next = e->next_;
            entry*& head = to.buckets[e->hash_ & to.mask()];
            e->next_ = head;
            head = e;
            --from.used;
            ++to.used;
            e = next;
        }
        from.buckets[index] = nullptr;
        rehash_index_ = static_cast<std::ptrdiff_t>(index + 1);
    }
    if (from.used == 0) {
        tables_[0] = std::move(tables_[1]);
        tables_[1] = table{};
        rehash_index_ = -1;
    }
}

void keyspace::expand_if_needed() {
    if (rehashing()) return;
    if (tables_[0].buckets.empty()) {
        resize(initial_buckets);
    } else if (tables_[0].used >= tables_[0].buckets.size()) {
        resize(tables_[0].used + 1);
    }
}

void keyspace::shrink_if_needed() {
    if (rehashing()) return;
    const std::size_t buckets = tables_[0].buckets.size();
    if (buckets > initial_buckets && tables_[0].used * 100 / buckets < min_fill_percent) {
        resize(tables_[0].used);
    }
}

void keyspace::resize(std::size_t wanted) {
    const std::size_t buckets = std::bit_ceil(std::max(wanted, initial_buckets));
    table& current = tables_[0];
    if (buckets == current.buckets.size()) return;
    if (current.used == 0) {
        // Nothing to move: swap the table at once.
        current.buckets.assign(buckets, nullptr);
        return;
    }
    tables_[1].buckets.assign(buckets, nullptr);
    tables_[1].used = 0;
    rehash_index_ = 0;
}

std::uint64_t keyspace::scan(std::uint64_t cursor, std::vector<const entry*>& found) const {
    if (all_.empty()) return 0;
    auto emit = [&found](const entry* e) {
        for (; e != nullptr; e = e->next_) found.push_back(e);
    };
    std::uint64_t v = cursor;
    if (!rehashing()) {
        const table& t0 = tables_[0];
        emit(t0.buckets[v & t0.mask()]);
        return next_cursor(v, t0.mask());
    }
    // While rehashing, visit the bucket of the smaller table and every bucket of the larger
    // one that its entries can move to.
    const table* small = &tables_[0];
    const table* large = &tables_[1];
    if (small->buckets.size() > large->buckets.size()) std::swap(small, large);
    const std::uint64_t m0 = small->mask();
    const std::uint64_t m1 = large->mask();
    emit(small->buckets[v & m0]);
    do {
        emit(large->buckets[v & m1]);
        v = next_cursor(v, m1);
    } while ((v & (m0 ^ m1)) != 0);
    return v;
}

void keyspace::for_each(const std::function<void(const entry&)>& visit) const {
    for (const table& tab : tables_) {
        for (const entry* head : tab.buckets) {
            for (const entry* e = head; e != nullptr; e = e->next_) visit(*e);
        }
    }
}

// -- Indexes for sampling --------------------------------------------------------------------

void keyspace::index_volatile(entry& e) {
    if (e.volatile_index_ != entry::npos) return;
    e.volatile_index_ = volatile_.size();
    volatile_.push_back(&e);
}

void keyspace::unindex_volatile(entry& e) {
    if (e.volatile_index_ == entry::npos) return;
    entry* last = volatile_.back();
    volatile_[e.volatile_index_] = last;
    last->volatile_index_ = e.volatile_index_;
    volatile_.pop_back();
    e.volatile_index_ = entry::npos;
}

void keyspace::index_evictable(entry& e) {
    if (e.evictable_index_ != entry::npos) return;
    e.evictable_index_ = evictable_.size();
    evictable_.push_back(&e);
}

void keyspace::unindex_evictable(entry& e) {
    if (e.evictable_index_ == entry::npos) return;
    entry* last = evictable_.back();
    evictable_[e.evictable_index_] = last;
    last->evictable_index_ = e.evictable_index_;
    evictable_.pop_back();
    e.evictable_index_ = entry::npos;
}

// -- Lookup and changes ----------------------------------------------------------------------

keyspace::entry* keyspace::find(std::string_view key, std::int64_t now_ms, bool touch) {
    if (all_.empty()) return nullptr;
    entry* e = lookup(key, hash_of(key));
    if (e == nullptr) return nullptr;
    if (is_expired(*e, now_ms)) {
        expire(*e);
        return nullptr;
    }
    if (touch) e->lru_ = ++lru_clock_;
    return e;
}

keyspace::entry* keyspace::random_entry(std::int64_t now_ms) {
    while (!all_.empty()) {
        std::uniform_int_distribution<std::size_t> pick(0, all_.size() - 1);
        entry* e = all_[pick(rng_)].get();
        if (!is_expired(*e, now_ms)) return e;
        expire(*e);
    }
    return nullptr;
}

keyspace::entry& keyspace::set(std::string_view key, std::string_view value, std::int64_t expire_at_ms) {
    const std::size_t hash = hash_of(key);
    entry* e = lookup(key, hash);
    if (e != nullptr) {
        overwrite(*e, value, expire_at_ms);
        return *e;
    }
    notify_write(key, nullptr);
    auto owned = std::make_unique<entry>();
    e = owned.get();
    e->key_.assign(key);
    e->value_.assign(value);
    e->hash_ = hash;
    e->all_index_ = all_.size();
    all_.push_back(std::move(owned));
    link(*e);
    data_bytes_ += data_bytes(*e);
    e->evictable_ = !evictable_predicate_ || evictable_predicate_(key);
    if (e->evictable_) index_evictable(*e);
    assign_expiry(*e, expire_at_ms);
    e->lru_ = ++lru_clock_;
    return *e;
}

void keyspace::overwrite(entry& e, std::string_view value, std::int64_t expire_at_ms) {
    notify_write(e.key_, &e);
    assign_value(e, value);
    assign_expiry(e, expire_at_ms);
    e.lru_ = ++lru_clock_;
}

void keyspace::set_value(entry& e, std::string_view value) {
    notify_write(e.key_, &e);
    assign_value(e, value);
}

void keyspace::append_value(entry& e, std::string_view suffix) {
    notify_write(e.key_, &e);
    e.value_.append(suffix);
    data_bytes_ += suffix.size();
}

void keyspace::set_expiry(entry& e, std::int64_t expire_at_ms) {
    notify_write(e.key_, &e);
    assign_expiry(e, expire_at_ms);
}

// The value's string keeps its capacity: overwriting a value with one no longer allocates.
void keyspace::assign_value(entry& e, std::string_view value) {
    data_bytes_ -= e.value_.size();
    e.value_.assign(value);
    data_bytes_ += e.value_.size();
}

void keyspace::assign_expiry(entry& e, std::int64_t expire_at_ms) {
    if (expire_at_ms == no_expiry) {
        unindex_volatile(e);
    } else {
        index_volatile(e);
    }
    e.expire_at_ = expire_at_ms;
}

void keyspace::erase(entry& e) {
    notify_write(e.key_, &e);
    remove(e);
}

void keyspace::remove(entry& e) {
    unlink(e);
    unindex_volatile(e);
    unindex_evictable(e);
    data_bytes_ -= data_bytes(e);
    const std::size_t index = e.all_index_;
    if (index != all_.size() - 1) {
        std::swap(all_[index], all_.back());
        all_[index]->all_index_ = index;
    }
    all_.pop_back();  // destroys `e`
    rehash_step(1);
    shrink_if_needed();
}

bool keyspace::erase(std::string_view key, std::int64_t now_ms) {
    entry* e = find(key, now_ms, false);
    if (e == nullptr) return false;
    erase(*e);
    return true;
}

void keyspace::notify_write(std::string_view key, const entry* before) {
    if (write_observer_) write_observer_(key, before);
}

void keyspace::clear() {
    tables_[0] = table{};
    tables_[1] = table{};
    rehash_index_ = -1;
    all_.clear();
    volatile_.clear();
    evictable_.clear();
    eviction_pool_.clear();
    data_bytes_ = 0;
}

void keyspace::expire(entry& e) {
    ++expired_keys_;
    remove(e);  // not a write: the expiry was recorded when it was set
}

// -- Active expiry ---------------------------------------------------------------------------

std::size_t keyspace::active_expire_cycle(std::int64_t now_ms, std::size_t budget) {
    std::size_t expired = 0;
    std::size_t sampled = 0;
    while (sampled < budget && !volatile_.empty()) {
        const std::size_t round = std::min(expire_round_keys, budget - sampled);
        std::size_t round_expired = 0;
        for (std::size_t i = 0; i < round && !volatile_.empty(); ++i) {
            std::uniform_int_distribution<std::size_t> pick(0, volatile_.size() - 1);
            entry* e = volatile_[pick(rng_)];
            if (is_expired(*e, now_ms)) {
                expire(*e);
                ++round_expired;
            }
        }
        sampled += round;
        expired += round_expired;
        // Like Redis: keep going only while a good share of the sample was stale.
        if (round_expired * 100 <= round * expire_stale_percent) break;
    }
    return expired;
}

// -- Eviction --------------------------------------------------------------------------------

void keyspace::set_evictable(evictable_predicate predicate) {
    evictable_predicate_ = std::move(predicate);
    eviction_pool_.clear();
    for (auto& owned : all_) {
        entry& e = *owned;
        e.evictable_ = !evictable_predicate_ || evictable_predicate_(e.key_);
        if (e.evictable_) {
            index_evictable(e);
        } else {
            unindex_evictable(e);
        }
    }
}

void keyspace::fill_eviction_pool(std::int64_t now_ms) {
    const std::size_t samples = std::min(eviction_samples, evictable_.size());
    for (std::size_t i = 0; i < samples && !evictable_.empty(); ++i) {
        std::uniform_int_distribution<std::size_t> pick(0, evictable_.size() - 1);
        entry* e = evictable_[pick(rng_)];
        if (is_expired(*e, now_ms)) {
            // An expired key is the cheapest memory to free.
            expire(*e);
            continue;
        }
        auto same_key = [e](const eviction_candidate& c) { return c.key == e->key_; };
        auto stale = std::find_if(eviction_pool_.begin(), eviction_pool_.end(), same_key);
        if (stale != eviction_pool_.end()) {
            if (stale->lru == e->lru_) continue;
            eviction_pool_.erase(stale);
        }
        if (eviction_pool_.size() == eviction_pool_size && e->lru_ >= eviction_pool_.back().lru) continue;
        auto older = [](const eviction_candidate& c, std::uint64_t lru) { return c.lru < lru; };
        auto at = std::lower_bound(eviction_pool_.begin(), eviction_pool_.end(), e->lru_, older);
        eviction_pool_.insert(at, eviction_candidate{e->lru_, e->key_});
        if (eviction_pool_.size() > eviction_pool_size) eviction_pool_.pop_back();
    }
}

bool keyspace::evict_one(std::int64_t now_ms) {
    const std::size_t before = all_.size();
    // A second attempt starts from an empty pool, so it always has fresh candidates.
    for (int attempt = 0; attempt < 2 && !evictable_.empty(); ++attempt) {
        fill_eviction_pool(now_ms);
        if (all_.size() < before) return true;  // expired keys were freed instead
        while (!eviction_pool_.empty()) {
            eviction_candidate best = std::move(eviction_pool_.front());
            eviction_pool_.erase(eviction_pool_.begin());
            // The candidate may have been deleted or used again since it was sampled.
            entry* e = lookup(best.key, hash_of(best.key));
            if (e != nullptr && e->evictable_ && e->lru_ == best.lru) {
                remove(*e);
                ++evicted_keys_;
                return true;
            }
        }
    }
    return all_.size() < before;
}

std::size_t keyspace::evict_if_needed(std::int64_t now_ms) {
    if (maxmemory_ == 0) return 0;
    const std::uint64_t before = evicted_keys_;
    while (used_memory() > maxmemory_ && !evictable_.empty()) {
        if (!evict_one(now_ms)) break;
    }
    return static_cast<std::size_t>(evicted_keys_ - before);
}

std::size_t keyspace::used_memory() const {
    const std::size_t buckets = tables_[0].buckets.size() + tables_[1].buckets.size();
    return data_bytes_ + buckets * sizeof(entry*);
}

}  // namespace redis_sidecar::local
