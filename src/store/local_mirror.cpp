// The local store's copies of Redis's durable keys while Redis is up: writes forwarded to Redis
// are followed here (mirror), keys are read back from Redis (readbacks), and revocations made
// elsewhere arrive from the mirror feed (mirror_entry). Part of local_service (local_service.hpp).

#include <algorithm>

#include "redis_sidecar/store/local_service.hpp"

namespace redis_sidecar::store {

using protocol::equals_lower;

readback_effect readback_effect_for(local::key_class c, bool owed_to_redis, bool in_redis, bool asked_again) {
    if (c == local::key_class::blacklist) return in_redis ? readback_effect::hold : readback_effect::keep;
    if (c != local::key_class::lock || owed_to_redis) return readback_effect::keep;
    if (in_redis) return readback_effect::hold;
    return asked_again ? readback_effect::keep : readback_effect::drop;
}

bool local_service::mirrors(const catalogue::command_info& command, std::span<const std::string_view> args) const {
    bool durable_key_written = false;
    catalogue::for_each_key(command, args, [&](catalogue::key_position key) {
        if (!durable_key_written && catalogue::key_may_be_written(key.flags))
            durable_key_written = local::is_durable(classes_.classify(args[key.index]));
    });
    return durable_key_written;
}

void local_service::mirror_entry(std::string_view key, std::string_view value, std::int64_t expire_at_ms) {
    std::lock_guard lock(mutex_);
    hold_as_redis(key, value, expire_at_ms);
}

// The local copy becomes what Redis holds, journaled as Redis's own (never pushed back); nothing
// is written when it is that already.
void local_service::hold_as_redis(std::string_view key, std::string_view value, std::int64_t expire_at_ms) {
    const local::keyspace::entry* e = engine_.keys().find(key, engine_.now_ms(), false);
    if (e != nullptr && e->value() == value && e->expire_at() == expire_at_ms) return;
    mirroring_ = true;
    touched_.clear();
    engine_.keys().set(key, value, expire_at_ms);
    journal_touched_keys();
    mirroring_ = false;
}

// Redis does not hold the key: neither does the local copy, and the journal says so.
void local_service::drop_as_redis(std::string_view key) {
    mirroring_ = true;
    touched_.clear();
    engine_.keys().erase(key, engine_.now_ms());
    journal_touched_keys();
    mirroring_ = false;
}

void local_service::set_readbacks(std::shared_ptr<upstream::readback_queue> readbacks) {
    std::lock_guard lock(mutex_);
    readbacks_ = std::move(readbacks);
}

void local_service::apply_readback(std::string_view key, std::optional<std::string_view> value,
                                   std::int64_t expire_at_ms, bool asked_again) {
    std::lock_guard lock(mutex_);
    ++readbacks_applied_;
    const local::key_class c = classes_.classify(key);
    const bool owed = c == local::key_class::lock && dirty_lock_keys_.contains(key);
    const readback_effect effect = readback_effect_for(c, owed, value.has_value(), asked_again);
    // Counted when what a client sees differs (held or not, by which value); expiries differ by
    // the clocks' milliseconds after every EXPIRE and are taken from Redis silently.
    if (effect != readback_effect::keep && !copy_matches(key, value)) ++readback_corrections_;
    if (effect == readback_effect::hold) hold_as_redis(key, *value, expire_at_ms);
    if (effect == readback_effect::drop) drop_as_redis(key);
}

bool local_service::copy_matches(std::string_view key, std::optional<std::string_view> value) {
    const local::keyspace::entry* e = engine_.keys().find(key, engine_.now_ms(), false);
    return e == nullptr ? !value : value && e->value() == *value;
}

std::vector<std::string> local_service::held_lock_keys() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    const std::int64_t now = engine_.now_ms();
    engine_.keys().for_each([&](const local::keyspace::entry& e) {
        if (!local::keyspace::is_expired(e, now) && classes_.classify(e.key()) == local::key_class::lock)
            keys.emplace_back(e.key());
    });
    return keys;
}

bool local_service::fails_closed(std::string_view key) const {
    return classes_.classify(key) == local::key_class::blacklist;
}

std::optional<std::string> local_service::durable_value(std::string_view key) {
    std::lock_guard lock(mutex_);
    const local::keyspace::entry* e = engine_.keys().find(key, engine_.now_ms(), false);
    if (e == nullptr) return std::nullopt;
    return std::string(e->value());
}

namespace {
// Whether Redis applied a conditional write, from its reply: SET NX/XX answers nil when it did
// not (with GET: NX answers the old value, XX nil), SETNX answers 0.
bool conditional_write_applied(std::span<const std::string_view> args, std::string_view reply) {
    constexpr std::string_view nil = "$-1\r\n";
    if (equals_lower(args[0], "setnx")) return reply == ":1\r\n";
    if (!equals_lower(args[0], "set")) return true;
    bool nx = false, xx = false, get = false;
    for (std::size_t i = 3; i < args.size(); ++i) {
        nx = nx || equals_lower(args[i], "nx");
        xx = xx || equals_lower(args[i], "xx");
        get = get || equals_lower(args[i], "get");
    }
    if (nx && get) return reply == nil;
    if (nx || xx) return reply != nil;
    return true;
}
}  // namespace

void local_service::mirror(const catalogue::command_info& command, std::span<const std::string_view> args,
                           std::string_view redis_reply) {
    if (!conditional_write_applied(args, redis_reply)) return;  // Redis changed nothing
    const std::vector<std::string_view> written = catalogue::written_keys(command, args);
    std::lock_guard lock(mutex_);
    const bool only_durable_keys = std::all_of(written.begin(), written.end(),
                                               [&](std::string_view key) { return local::is_durable(classes_.classify(key)); });
    if (!command.has(catalogue::answered_locally) || !only_durable_keys) {
        // The local store cannot run it (RENAME, COPY, SETRANGE...), or it also writes keys whose
        // local copies must not exist while Redis is up (a cache entry would go stale): each
        // durable key it wrote is read back from Redis instead.
        for (std::string_view key : written)
            if (readbacks_ && local::is_durable(classes_.classify(key))) readbacks_->request(key);
        return;
    }
    // Redis decided the condition held: the copy follows that verdict, whatever the copy holds.
    std::vector<std::string_view> applied(args.begin(), args.end());
    if (equals_lower(args[0], "set") && applied.size() > 3)  // options follow key and value
        applied.erase(std::remove_if(applied.begin() + 3, applied.end(),
                                     [](std::string_view a) { return equals_lower(a, "nx") || equals_lower(a, "xx"); }),
                      applied.end());
    std::string ignored;
    mirroring_ = true;
    touched_.clear();
    engine_.execute(applied, ignored, local::call_origin::replay);
    journal_touched_keys();
    mirroring_ = false;
    ask_for_readbacks(written);
}

// Asked after the write is applied here, so the readback runs in Redis after the write and its
// result is applied here after it. Whatever the local engine made of the write (even a script it
// does not know), the readback brings Redis's result.
void local_service::ask_for_readbacks(std::span<const std::string_view> written) {
    if (!readbacks_) return;
    const std::int64_t now = engine_.now_ms();
    for (std::string_view key : written) {
        const local::key_class c = classes_.classify(key);
        // A blacklist entry matters only when the write removed it: a revocation Redis holds
        // must not be lost to two writes applied here in the wrong order. Other blacklist
        // writes are read back by the tracking pushes already.
        if (c == local::key_class::lock ||
            (c == local::key_class::blacklist && engine_.keys().find(key, now, false) == nullptr))
            readbacks_->request(key);
    }
}

}  // namespace redis_sidecar::store
