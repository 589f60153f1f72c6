// The local store's durability rules (DESIGN.md "Key classes"), on a real journal in a temp dir.
#include "redis_sidecar/server/local_service.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using redis_sidecar::server::local_service;

namespace {

class local_service_test : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("local_service_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        settings_.data_dir = dir_.string();
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
        const bool needs_commit = store_->execute(args, out);
        if (durable) *durable = needs_commit;
        if (needs_commit) {
            EXPECT_FALSE(store_->commit());
        }
        return out;
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
    EXPECT_TRUE(store_->mirrors(set_nx));
    EXPECT_FALSE(store_->mirrors(std::vector<std::string_view>{"SET", "plain", "x"}));
    store_->mirror(set_nx, "$-1\r\n");  // Redis refused: someone else holds it
    EXPECT_EQ(run({"EXISTS", "user_request_block_1"}), ":0\r\n");
    // The copy holds another value than ours, yet Redis said OK: the copy follows Redis.
    run({"SET", "user_request_block_1", "stale"});
    store_->mirror(set_nx, "+OK\r\n");
    EXPECT_EQ(run({"GET", "user_request_block_1"}), "$2\r\nme\r\n");
    EXPECT_TRUE(store_->fails_closed("jwt_token_blacklist_a"));
    EXPECT_FALSE(store_->fails_closed("cache:x"));
    store_->mirror_entry("jwt_token_blacklist_a", "1", -1);
    EXPECT_EQ(store_->durable_value("jwt_token_blacklist_a").value_or(""), "1");
}

TEST_F(local_service_test, only_locks_taken_here_are_pushed_to_redis_even_after_a_restart) {
    // Copied from Redis while it was up: Redis has it, and pushing it back would look like a
    // conflict with its own holder.
    store_->mirror(std::vector<std::string_view>{"SET", "user_request_block_mirrored", "1", "NX", "PX", "60000"},
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
