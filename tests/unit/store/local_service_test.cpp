// The local store's durability rules (README "Nothing lost"), on a real journal in a temp dir.
#include "redis_sidecar/store/local_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store_test_support.hpp"

using redis_sidecar::store::local_result;
using redis_sidecar::store::local_service;

namespace {

class local_service_test : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fresh_test_dir("local_service_test");
        settings_.data_dir = dir_.string();
        // Most tests use keys of no class to exercise the engine: answered locally, as the
        // option allows (default_keys_are_refused_while_down checks the default).
        settings_.default_keys_while_down = "ephemeral";
        open();
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }
    // A restart: the journal is all that survives.
    void open() {
        store_.reset();
        store_ = std::make_unique<local_service>(settings_);
    }
    std::string run(std::vector<std::string_view> args, bool* durable = nullptr) {
        std::string out;
        const local_result result = store_->execute(args, out);
        if (durable) *durable = result.needs_commit;
        if (result) {
            EXPECT_FALSE(store_->commit(result.refusals_before));
        }
        return out;
    }

    // Redis ran `args` and answered `reply`: the local copy follows, as the session has it do.
    void mirror(std::vector<std::string_view> args, std::string_view reply) {
        const auto* command = redis_sidecar::catalogue::command_catalogue::builtin()->find(args);
        ASSERT_NE(command, nullptr) << args[0];
        store_->mirror(*command, args, reply);
    }
    bool mirrors(std::vector<std::string_view> args) {
        const auto* command = redis_sidecar::catalogue::command_catalogue::builtin()->find(args);
        return command != nullptr && store_->mirrors(*command, args);
    }

    std::filesystem::path dir_;
    redis_sidecar::config::settings settings_;
    std::unique_ptr<local_service> store_;
};

}  // namespace

TEST_F(local_service_test, blacklist_and_lock_writes_are_durable_across_a_restart) {
    bool durable = false;
    EXPECT_EQ(run({"SET", "jwt_token_blacklist_a", "1", "EX", "604800"}, &durable), "+OK\r\n");
    EXPECT_TRUE(durable);
    EXPECT_EQ(run({"SET", "user_request_block_1", "me", "NX", "PX", "60000"}, &durable), "+OK\r\n");
    EXPECT_TRUE(durable);
    EXPECT_EQ(run({"SET", "plain", "x"}, &durable), "+OK\r\n");
    EXPECT_FALSE(durable);  // default keys are ephemeral: no fsync on their path
    open();
    EXPECT_EQ(run({"GET", "jwt_token_blacklist_a"}), "$1\r\n1\r\n");
    EXPECT_EQ(run({"GET", "user_request_block_1"}), "$2\r\nme\r\n");
    EXPECT_EQ(run({"GET", "plain"}), "$-1\r\n");
    const std::string ttl = run({"TTL", "jwt_token_blacklist_a"});
    EXPECT_TRUE(ttl == ":604800\r\n" || ttl == ":604799\r\n") << ttl;
}

TEST_F(local_service_test, a_released_lock_stays_released_after_a_restart) {
    run({"SET", "user_request_block_1", "me", "PX", "60000"});
    run({"DEL", "user_request_block_1"});
    open();
    EXPECT_EQ(run({"EXISTS", "user_request_block_1"}), ":0\r\n");
}

TEST_F(local_service_test, recovery_work_names_what_redis_is_owed) {
    run({"SET", "jwt_token_blacklist_a", "1"});
    run({"SET", "user_request_block_1", "me", "PX", "60000"});
    run({"SET", "cache:user:42:a", "v"});
    run({"DEL", "cache:user:42:b"});
    run({"SCAN", "0", "MATCH", "cache:user:42:*"});
    run({"SCAN", "0", "MATCH", "session:*"});  // not over a cache prefix: no invalidation
    run({"SET", "plain", "x"});
    const auto work = store_->pending_reconciliation(true);
    ASSERT_EQ(work.blacklist.size(), 1u);
    EXPECT_EQ(work.blacklist[0].key, "jwt_token_blacklist_a");
    EXPECT_EQ(work.blacklist[0].expire_at_ms, -1);
    ASSERT_EQ(work.locks.size(), 1u);
    EXPECT_GT(work.locks[0].expire_at_ms, 0);
    EXPECT_EQ(work.cache_keys, (std::vector<std::string>{"cache:user:42:a", "cache:user:42:b"}));
    EXPECT_EQ(work.cache_patterns, (std::vector<std::string>{"cache:user:42:*"}));
    EXPECT_EQ(work.default_keys, (std::vector<std::string>{"plain"}));
    // Invalidations survive a crash; default keys do not need to.
    open();
    const auto after_restart = store_->pending_reconciliation(true);
    EXPECT_EQ(after_restart.cache_keys, work.cache_keys);
    EXPECT_EQ(after_restart.cache_patterns, work.cache_patterns);
    EXPECT_EQ(after_restart.locks.size(), 1u);
}

TEST_F(local_service_test, after_recovery_only_the_blacklist_stays_local_and_nothing_is_owed_twice) {
    run({"SET", "jwt_token_blacklist_a", "1"});
    run({"SET", "user_request_block_1", "me"});
    run({"SET", "cache:x", "v"});
    run({"SET", "plain", "x"});
    store_->reconciled(store_->pending_reconciliation(true));
    const auto next = store_->pending_reconciliation(false);
    EXPECT_TRUE(next.empty());
    EXPECT_TRUE(next.default_keys.empty());
    // Until forwarding resumes the local store still answers: a pushed lock stays held here.
    EXPECT_EQ(run({"SET", "user_request_block_1", "other", "NX"}), "$-1\r\n");
    store_->handover();
    EXPECT_EQ(run({"GET", "jwt_token_blacklist_a"}), "$1\r\n1\r\n");  // backs fail-closed reads
    EXPECT_EQ(run({"EXISTS", "user_request_block_1", "cache:x", "plain"}), ":0\r\n");
    open();  // the journal's replayed marker keeps it that way
    EXPECT_TRUE(store_->pending_reconciliation(false).empty());
    EXPECT_EQ(run({"EXISTS", "user_request_block_1"}), ":0\r\n");
}

TEST_F(local_service_test, the_mirror_follows_what_redis_applied) {
    const std::vector<std::string_view> set_nx{"SET", "user_request_block_1", "me", "NX", "PX", "60000"};
    EXPECT_TRUE(mirrors(set_nx));
    EXPECT_FALSE(mirrors({"SET", "plain", "x"}));
    mirror(set_nx, "$-1\r\n");  // Redis refused: someone else holds it
    EXPECT_EQ(run({"EXISTS", "user_request_block_1"}), ":0\r\n");
    // The copy holds another value than ours, yet Redis said OK: the copy follows Redis.
    run({"SET", "user_request_block_1", "stale"});
    mirror(set_nx, "+OK\r\n");
    EXPECT_EQ(run({"GET", "user_request_block_1"}), "$2\r\nme\r\n");
    EXPECT_TRUE(store_->fails_closed("jwt_token_blacklist_a"));
    EXPECT_FALSE(store_->fails_closed("cache:x"));
    store_->mirror_entry("jwt_token_blacklist_a", "1", -1);
    EXPECT_EQ(store_->durable_value("jwt_token_blacklist_a").value_or(""), "1");
}

TEST_F(local_service_test, only_locks_taken_here_are_pushed_to_redis_even_after_a_restart) {
    // Copied from Redis while it was up: Redis has it, and pushing it back would look like a
    // conflict with its own holder.
    mirror({"SET", "user_request_block_mirrored", "1", "NX", "PX", "60000"},
                   "+OK\r\n");
    run({"GETSET", "user_request_block_local", "1"});
    auto pushed = [&] {
        std::vector<std::string> keys;
        for (const auto& e : store_->pending_reconciliation(true).locks) keys.push_back(e.key);
        return keys;
    };
    EXPECT_EQ(pushed(), std::vector<std::string>{"user_request_block_local"});
    open();
    EXPECT_EQ(pushed(), std::vector<std::string>{"user_request_block_local"});
    store_->reconciled(store_->pending_reconciliation(true));
    EXPECT_TRUE(pushed().empty());  // pushed once, owed no more
}

TEST_F(local_service_test, handover_forgets_the_locks_released_during_the_outage) {
    // Released (or expired) here while Redis was away: never pushed, so never reconciled; once a
    // round found nothing owed, nothing is, and INFO's owed_locks says so.
    run({"GETSET", "user_request_block_1", "1"});
    run({"DEL", "user_request_block_1"});
    EXPECT_EQ(store_->store_figures().owed_locks, 1u);
    store_->reconciled(store_->pending_reconciliation(true));
    store_->handover();
    EXPECT_EQ(store_->store_figures().owed_locks, 0u);
}

// --- readbacks: the lock mirror converges to Redis's order (upstream/readback_queue.hpp) --------

using redis_sidecar::store::readback_effect;
using redis_sidecar::store::readback_effect_for;
using redis_sidecar::local::key_class;

TEST(readback_rules, a_lock_follows_redis_unless_it_is_owed_to_redis_or_a_newer_readback_comes) {
    //                                 class            owed   in_redis asked_again
    EXPECT_EQ(readback_effect_for(key_class::lock, false, true, false), readback_effect::hold);
    EXPECT_EQ(readback_effect_for(key_class::lock, false, false, false), readback_effect::drop);
    EXPECT_EQ(readback_effect_for(key_class::lock, false, true, true), readback_effect::hold);
    // Redis may have run a write after this readback: the held copy waits for the next one.
    EXPECT_EQ(readback_effect_for(key_class::lock, false, false, true), readback_effect::keep);
    // Taken or released here during an outage: recovery settles it with Redis, not the mirror.
    EXPECT_EQ(readback_effect_for(key_class::lock, true, true, false), readback_effect::keep);
    EXPECT_EQ(readback_effect_for(key_class::lock, true, false, false), readback_effect::keep);
}

TEST(readback_rules, a_blacklist_entry_is_only_ever_added) {
    EXPECT_EQ(readback_effect_for(key_class::blacklist, false, true, false), readback_effect::hold);
    EXPECT_EQ(readback_effect_for(key_class::blacklist, false, false, false), readback_effect::keep);
    EXPECT_EQ(readback_effect_for(key_class::blacklist, false, false, true), readback_effect::keep);
    EXPECT_EQ(readback_effect_for(key_class::cache, false, true, false), readback_effect::keep);
    EXPECT_EQ(readback_effect_for(key_class::default_class, false, false, false), readback_effect::keep);
}

TEST_F(local_service_test, mirrored_lock_writes_ask_for_readbacks_and_other_keys_do_not) {
    auto readbacks = std::make_shared<redis_sidecar::upstream::readback_queue>();
    store_->set_readbacks(readbacks);
    mirror({"GETSET", "user_request_block_1", "1"}, "$-1\r\n");
    mirror({"EXPIRE", "user_request_block_1", "5"}, ":1\r\n");
    mirror({"DEL", "user_request_block_2", "cache:x", "user_request_block_3"},
                   ":0\r\n");
    // redis-py's Lock release: the key comes after numkeys.
    mirror({"EVALSHA", "0123456789abcdef0123456789abcdef01234567", "1",
                                                 "user_request_block_4", "token"},
                   ":1\r\n");
    // Refused by Redis: nothing applied here, nothing to read back.
    mirror({"SET", "user_request_block_5", "me", "NX", "PX", "1000"}, "$-1\r\n");
    // A revocation added is followed by the tracking pushes; one removed must be checked.
    mirror({"SET", "jwt_token_blacklist_a", "1", "EX", "60"}, "+OK\r\n");
    mirror({"DEL", "jwt_token_blacklist_b"}, ":1\r\n");
    EXPECT_EQ(readbacks->take(), (std::vector<std::string>{"user_request_block_1", "user_request_block_2",
                                                           "user_request_block_3", "user_request_block_4",
                                                           "jwt_token_blacklist_b"}));
}

TEST_F(local_service_test, a_readback_corrects_a_lock_mirrored_out_of_redis_order) {
    // Redis ran DEL (holder 1) then GETSET (holder 2 acquires); the sidecar processed the replies
    // the other way round, so its copy says free.
    mirror({"GETSET", "user_request_block_1", "1"}, "$-1\r\n");
    mirror({"DEL", "user_request_block_1"}, ":1\r\n");
    EXPECT_EQ(run({"EXISTS", "user_request_block_1"}), ":0\r\n");
    const std::int64_t expire_at = redis_sidecar::local::system_clock_ms() + 60000;
    store_->apply_readback("user_request_block_1", "1", expire_at, false);
    EXPECT_EQ(run({"SET", "user_request_block_1", "me", "NX"}), "$-1\r\n");  // held, as in Redis
    EXPECT_EQ(run({"PEXPIRETIME", "user_request_block_1"}), ":" + std::to_string(expire_at) + "\r\n");
    // Redis's own: recovery would not push it back as a lock taken here.
    EXPECT_TRUE(store_->pending_reconciliation(true).locks.empty());
    // The other way round: the copy says held, Redis says free.
    store_->apply_readback("user_request_block_1", std::nullopt, -1, false);
    EXPECT_EQ(run({"EXISTS", "user_request_block_1"}), ":0\r\n");
    EXPECT_EQ(store_->store_figures().mirror_readbacks, 2u);
    EXPECT_EQ(store_->store_figures().mirror_readback_corrections, 2u);
    store_->apply_readback("user_request_block_1", std::nullopt, -1, false);  // nothing to change
    EXPECT_EQ(store_->store_figures().mirror_readback_corrections, 2u);
}

TEST_F(local_service_test, a_readback_drop_survives_a_restart) {
    mirror({"GETSET", "user_request_block_1", "1"}, "$-1\r\n");
    store_->apply_readback("user_request_block_1", std::nullopt, -1, false);
    store_->background_cycle();  // mirrored records go to the journal in the background
    open();
    EXPECT_EQ(run({"EXISTS", "user_request_block_1"}), ":0\r\n");
}

TEST_F(local_service_test, a_lock_taken_during_an_outage_is_left_to_recovery) {
    run({"GETSET", "user_request_block_1", "1"});  // Redis could not see this one
    store_->apply_readback("user_request_block_1", std::nullopt, -1, false);
    EXPECT_EQ(run({"GET", "user_request_block_1"}), "$1\r\n1\r\n");
    store_->apply_readback("user_request_block_1", "someone else", -1, false);
    EXPECT_EQ(run({"GET", "user_request_block_1"}), "$1\r\n1\r\n");
    ASSERT_EQ(store_->pending_reconciliation(true).locks.size(), 1u);  // still pushed: a conflict to count
}

TEST_F(local_service_test, after_handover_a_lock_released_during_the_outage_follows_redis_again) {
    // Released here while Redis was away (owed nothing: Redis keeps it until its expiry); once
    // forwarding resumed, the mirror follows Redis for it again.
    mirror({"GETSET", "user_request_block_1", "1"}, "$-1\r\n");
    run({"DEL", "user_request_block_1"});
    store_->reconciled(store_->pending_reconciliation(true));
    store_->handover();
    store_->apply_readback("user_request_block_1", "1", -1, false);
    EXPECT_EQ(run({"GET", "user_request_block_1"}), "$1\r\n1\r\n");
}

TEST_F(local_service_test, a_readback_never_drops_a_revocation) {
    mirror({"SET", "jwt_token_blacklist_a", "1"}, "+OK\r\n");
    store_->apply_readback("jwt_token_blacklist_a", std::nullopt, -1, false);
    EXPECT_EQ(store_->durable_value("jwt_token_blacklist_a").value_or(""), "1");
    // Removed here by a DEL processed after a SET that Redis ran later: the readback restores it.
    mirror({"DEL", "jwt_token_blacklist_b"}, ":1\r\n");
    store_->apply_readback("jwt_token_blacklist_b", "1", -1, false);
    EXPECT_EQ(store_->durable_value("jwt_token_blacklist_b").value_or(""), "1");
}

namespace {

std::vector<std::string> keys_of(const std::vector<redis_sidecar::upstream::reconciliation_work::entry>& entries) {
    std::vector<std::string> keys;
    for (const auto& e : entries) keys.push_back(e.key);
    return keys;
}

}  // namespace

// A local answer the disk refused is told to its client as an error (session), and the store
// must not claim more than the disk holds, in each class's safe direction: a lock is undone, a
// revocation is never taken back, a cache key is invalidated; what stays is stored later.
TEST_F(local_service_test, a_write_the_disk_refused_is_undone_in_the_safe_direction) {
    EXPECT_EQ(run({"SET", "jwt_token_blacklist_kept", "1", "EX", "604800"}), "+OK\r\n");
    EXPECT_EQ(run({"SET", "user_request_block_held", "1", "PX", "60000"}), "+OK\r\n");
    EXPECT_EQ(run({"SET", "cache:kept", "old"}), "+OK\r\n");
    {
        const disk_refusal refusal(dir_);
        std::string out;
        const auto execute = [&](std::vector<std::string_view> args) { return store_->execute(args, out); };
        const std::uint64_t before = execute({"SET", "jwt_token_blacklist_new", "1"}).refusals_before;
        execute({"DEL", "jwt_token_blacklist_kept"});
        execute({"SET", "user_request_block_new", "1", "NX", "PX", "60000"});
        execute({"GETSET", "user_request_block_held", "2"});
        execute({"SET", "cache:new", "v"});
        execute({"SCAN", "0", "MATCH", "cache:user:*"});
        EXPECT_TRUE(store_->commit(before)) << "the disk refused nothing: the test's limit did not apply";
        EXPECT_EQ(store_->store_figures().journal_write_failures, 1u);
        EXPECT_EQ(store_->store_figures().journal_failing, 1u);
        redis_sidecar::store::local_figures figures;
        store_->fill(figures);
        EXPECT_TRUE(figures.journal_failing);  // INFO persistence: aof_last_write_status:err
    }
    // Locks: as before the refused writes.
    EXPECT_EQ(run({"GET", "user_request_block_new"}), "$-1\r\n");
    EXPECT_EQ(run({"GET", "user_request_block_held"}), "$1\r\n1\r\n");
    EXPECT_NE(run({"PTTL", "user_request_block_held"}), ":-1\r\n");  // its expiry came back too
    // Revocations: the new one stays, the removed one is back.
    EXPECT_EQ(run({"GET", "jwt_token_blacklist_new"}), "$1\r\n1\r\n");
    EXPECT_EQ(run({"GET", "jwt_token_blacklist_kept"}), "$1\r\n1\r\n");
    // Cache: a miss here, and still deleted in Redis on recovery.
    EXPECT_EQ(run({"GET", "cache:new"}), "$-1\r\n");
    const auto work = store_->pending_reconciliation(false);
    EXPECT_EQ(keys_of(work.locks), std::vector<std::string>{"user_request_block_held"});
    EXPECT_EQ(keys_of(work.blacklist), (std::vector<std::string>{"jwt_token_blacklist_kept", "jwt_token_blacklist_new"}));
    EXPECT_EQ(work.cache_keys, (std::vector<std::string>{"cache:kept", "cache:new"}));
    EXPECT_EQ(work.cache_patterns, std::vector<std::string>{"cache:user:*"});
    // What stayed is stored by the next journal write the disk takes, and survives a restart.
    EXPECT_EQ(run({"SET", "plain", "x"}), "+OK\r\n");
    store_->background_cycle();
    EXPECT_EQ(store_->store_figures().journal_failing, 0u);  // the disk takes writes again
    EXPECT_EQ(store_->store_figures().journal_write_failures, 1u);
    open();
    EXPECT_EQ(run({"GET", "jwt_token_blacklist_new"}), "$1\r\n1\r\n");
    EXPECT_EQ(run({"GET", "user_request_block_new"}), "$-1\r\n");
    EXPECT_EQ(run({"GET", "user_request_block_held"}), "$1\r\n1\r\n");
    const auto after_restart = store_->pending_reconciliation(true);
    EXPECT_EQ(after_restart.cache_keys, (std::vector<std::string>{"cache:kept", "cache:new"}));
    EXPECT_EQ(after_restart.cache_patterns, std::vector<std::string>{"cache:user:*"});
    EXPECT_EQ(keys_of(after_restart.locks), std::vector<std::string>{"user_request_block_held"});
}

// The background flush (or another event loop's commit) may write the records of an answer
// still waiting for its own commit: when the disk refuses that write, the commit must say so
// although nothing of that answer is pending any more.
TEST_F(local_service_test, a_refusal_by_another_flush_fails_the_commit_of_the_writes_it_took) {
    std::string out;
    local_result waiting;
    {
        const disk_refusal refusal(dir_);
        waiting = store_->execute(std::vector<std::string_view>{"SET", "user_request_block_a", "1", "NX"}, out);
        ASSERT_TRUE(waiting);
        store_->background_cycle();  // writes the pending records: refused
    }
    EXPECT_TRUE(store_->commit(waiting.refusals_before));
    EXPECT_EQ(run({"GET", "user_request_block_a"}), "$-1\r\n");
    // A write after the refusal is judged by its own commit.
    EXPECT_EQ(run({"SET", "user_request_block_b", "1", "NX"}), "+OK\r\n");
}

// --- every durable key a write names is followed, whatever the command and the key's position ---

TEST_F(local_service_test, a_write_of_a_durable_key_in_any_position_is_mirrored) {
    EXPECT_TRUE(mirrors({"DEL", "cache:a", "user_request_block_b"}));
    EXPECT_TRUE(mirrors({"MSET", "cache:z", "2", "user_request_block_m", "1"}));
    EXPECT_TRUE(mirrors({"RENAME", "cache:a", "user_request_block_r"}));
    EXPECT_TRUE(mirrors({"COPY", "cache:a", "user_request_block_c"}));
    EXPECT_TRUE(mirrors({"SETRANGE", "user_request_block_s", "0", "x"}));
    EXPECT_TRUE(mirrors({"APPEND", "user_request_block_a", "x"}));
    EXPECT_TRUE(mirrors({"INCR", "user_request_block_i"}));
    EXPECT_TRUE(mirrors({"EVAL", "return 1", "2", "cache:a", "user_request_block_e"}));
    EXPECT_TRUE(mirrors({"SORT", "list", "STORE", "jwt_token_blacklist_s"}));
    EXPECT_TRUE(mirrors({"ZUNIONSTORE", "user_request_block_z", "1", "cache:a"}));
    // Read, not written: COPY's source, SORT's list.
    EXPECT_FALSE(mirrors({"COPY", "user_request_block_c", "cache:a"}));
    EXPECT_FALSE(mirrors({"SORT", "user_request_block_l", "STORE", "cache:a"}));
    EXPECT_FALSE(mirrors({"MSET", "cache:z", "user_request_block_m"}));  // the lock name is a value
}

TEST_F(local_service_test, a_mixed_or_unknown_write_reads_its_durable_keys_back_and_keeps_no_cache_copy) {
    auto readbacks = std::make_shared<redis_sidecar::upstream::readback_queue>();
    store_->set_readbacks(readbacks);
    mirror({"MSET", "cache:z", "2", "user_request_block_m", "1"}, "+OK\r\n");
    mirror({"DEL", "cache:a", "user_request_block_b"}, ":2\r\n");
    mirror({"RENAME", "user_request_block_r", "jwt_token_blacklist_r"}, "+OK\r\n");
    mirror({"SETRANGE", "user_request_block_s", "0", "x"}, ":1\r\n");
    EXPECT_EQ(readbacks->take(), (std::vector<std::string>{"user_request_block_m", "user_request_block_b",
                                                           "user_request_block_r", "jwt_token_blacklist_r",
                                                           "user_request_block_s"}));
    // A local cache copy made while Redis is up would be served stale once Redis is down.
    EXPECT_EQ(run({"EXISTS", "cache:z", "user_request_block_m"}), ":0\r\n");
}

TEST_F(local_service_test, a_lock_deleted_beside_a_cache_key_is_dropped_by_its_readback) {
    auto readbacks = std::make_shared<redis_sidecar::upstream::readback_queue>();
    store_->set_readbacks(readbacks);
    mirror({"SET", "user_request_block_b", "1", "EX", "100"}, "+OK\r\n");
    (void)readbacks->take();
    mirror({"DEL", "cache:a", "user_request_block_b"}, ":2\r\n");
    EXPECT_EQ(readbacks->take(), std::vector<std::string>{"user_request_block_b"});
    store_->apply_readback("user_request_block_b", std::nullopt, -1, false);
    EXPECT_EQ(run({"GETSET", "user_request_block_b", "1"}), "$-1\r\n");
}

// INFO's errorstats and used_memory_peak while down come from the local answers.
TEST_F(local_service_test, local_info_counts_error_replies_by_code_and_the_memory_peak) {
    EXPECT_EQ(run({"SET", "n", "x"}), "+OK\r\n");
    EXPECT_EQ(run({"INCR", "n"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
    EXPECT_EQ(run({"EVALSHA", std::string(40, 'f'), "0"}).substr(0, 9), "-NOSCRIPT");
    // Only the reply of the request counts, not what `out` held before it.
    std::string out = "-ERR an earlier reply\r\n";
    const std::vector<std::string_view> get = {"GET", "n"};
    store_->execute(get, out);
    EXPECT_EQ(out, "-ERR an earlier reply\r\n$1\r\nx\r\n");

    const std::string big(100000, 'v');
    EXPECT_EQ(run({"SET", "cache:big", big}), "+OK\r\n");
    store_->background_cycle();  // samples the peak, as Redis's cron does
    EXPECT_EQ(run({"DEL", "cache:big"}), ":1\r\n");

    redis_sidecar::store::local_figures figures;
    store_->fill(figures);
    EXPECT_EQ(figures.total_error_replies, 3u);
    EXPECT_EQ(figures.error_counts, (std::vector<std::pair<std::string, std::uint64_t>>{{"ERR", 2}, {"NOSCRIPT", 1}}));
    EXPECT_GE(figures.used_memory_peak, big.size());
    EXPECT_LT(figures.used_memory, big.size());
    EXPECT_FALSE(figures.journal_failing);
    EXPECT_EQ(figures.total_commands, 7u);
}

// default-keys-while-down refuse (the default): a command naming a key of no class is refused,
// reads and writes alike, and nothing of it is kept; the classes are served as before.
TEST(local_service_default_keys, default_keys_are_refused_while_down) {
    const auto dir = std::filesystem::temp_directory_path() / ("local_service_refuse_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    redis_sidecar::config::settings settings;
    ASSERT_EQ(settings.default_keys_while_down, "refuse");
    settings.data_dir = dir.string();
    {
        local_service store(settings);
        const auto run = [&](std::vector<std::string_view> args) {
            std::string out;
            const local_result result = store.execute(args, out);
            if (result) {
                EXPECT_FALSE(store.commit(result.refusals_before));
            }
            return out;
        };
        const std::string refused_set =
            "-ERR upstream Redis is unavailable; 'set' of a key outside the blacklist, lock and cache classes is "
            "refused while it is down: the sidecar neither holds such keys nor keeps writes of them "
            "(default-keys-while-down refuse)\r\n";
        EXPECT_EQ(run({"SET", "plain", "1"}), refused_set);
        EXPECT_EQ(run({"GET", "plain"}).substr(0, 48), "-ERR upstream Redis is unavailable; 'get' of a k");
        EXPECT_EQ(run({"MSET", "cache:a", "1", "plain", "2"}).substr(0, 49), "-ERR upstream Redis is unavailable; 'mset' of a k");
        EXPECT_EQ(run({"EXISTS", "cache:a"}), ":0\r\n");  // nothing of the refused MSET was kept
        EXPECT_EQ(run({"SET", "user_request_block_1", "1", "NX"}), "+OK\r\n");
        EXPECT_EQ(run({"SET", "cache:a", "1"}), "+OK\r\n");
        EXPECT_EQ(run({"DBSIZE"}), ":2\r\n");
        EXPECT_TRUE(store.pending_reconciliation(false).default_keys.empty());
        // A reload that chooses ephemeral answers them locally from then on.
        settings.default_keys_while_down = "ephemeral";
        store.reconfigure(settings);
        EXPECT_EQ(run({"SET", "plain", "1"}), "+OK\r\n");
    }
    std::filesystem::remove_all(dir);
}
