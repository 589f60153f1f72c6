#pragma once
/// Keys whose local mirror must be read back from Redis, on the mirror feed's one connection.
///
/// Why: while Redis is up, a write to a lock key is forwarded over one of many pooled connections
/// and mirrored locally once its reply is processed. Redis runs the writes of all connections in
/// one order, but the sidecar processes the replies of different connections in whatever order
/// its event loops read them, so two mirrored writes to one key can be applied in the opposite
/// order (Redis's writer even sends pending replies newest client first). A readback asked for
/// after a mirrored write was applied runs in Redis after that write; and since every readback
/// goes over one connection, they are applied in Redis's order. So the last thing applied to a
/// key is a readback that ran after every write the sidecar mirrored: the copy converges to Redis.
///
/// Any thread may ask (`request`); the feed, on event loop 0, takes what is asked in batches. A key
/// asked for twice before the feed takes it is read back once: one readback sent after both
/// writes covers both. No Asio here: the feed wakes itself up through `set_waker`.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace redis_sidecar::upstream {

/// The keys waiting to be read back, deduplicated and bounded; every member is thread-safe.
class readback_queue {
public:
    /// Keys that may wait at once by default: far more than the lock writes of one round trip.
    static constexpr std::size_t default_capacity = 65536;

    explicit readback_queue(std::size_t capacity = default_capacity) : capacity_(capacity) {}
    readback_queue(const readback_queue&) = delete;
    readback_queue& operator=(const readback_queue&) = delete;

    /// Asks for `key` to be read back. A key already waiting is not added twice. Past the
    /// capacity the key is dropped: counted, and logged once per overflow (the copy of that key
    /// may then stay out of Redis's order until its next write). Any thread. False when dropped.
    bool request(std::string_view key);

    /// Every waiting key, in the order first asked for; none waits afterwards. They count as
    /// in flight until `finished` or `give_back`.
    std::vector<std::string> take();

    /// `count` keys taken were read back and applied.
    void finished(std::size_t count);

    /// Keys taken whose readback was not applied (the connection failed, or the feed was
    /// replaced): they wait again, ahead of those asked for since, once each.
    void give_back(std::span<const std::string> keys);

    /// True while `key` waits: a readback of it was asked for after the last `take`.
    bool waiting(std::string_view key) const;

    /// Keys waiting.
    std::size_t size() const;

    /// Keys waiting or in flight: readbacks asked for and not applied yet.
    std::size_t pending() const;

    /// Keys dropped because the queue was full.
    std::uint64_t dropped() const;

    /// Called when a request finds no key waiting (the feed may be asleep); it runs with the
    /// queue's lock held on the requesting thread, so it must only hand work on (asio::post).
    /// Empty to stop.
    void set_waker(std::function<void()> waker);

private:
    mutable std::mutex mutex_;
    std::size_t capacity_;
    // Lookups by string_view without building a string.
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
    };
    std::vector<std::string> order_;                                        // waiting keys, first asked first
    std::unordered_set<std::string, key_hash, std::equal_to<>> waiting_;  // the same keys, for dedupe
    std::size_t in_flight_ = 0;  // taken, not finished nor given back
    std::uint64_t dropped_ = 0;
    bool overflowing_ = false;  // dropped since the queue last had room: logged already
    std::function<void()> waker_;
};

}  // namespace redis_sidecar::upstream
