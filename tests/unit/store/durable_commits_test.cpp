// The group commit: every waiter of a turn is told once, after one commit that stores what they
// answered, through the commit_waiter interface (no session involved).
#include "redis_sidecar/store/durable_commits.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "redis_sidecar/store/local_service.hpp"
#include "store_test_support.hpp"

using redis_sidecar::store::commit_waiter;
using redis_sidecar::store::durable_commits;
using redis_sidecar::store::local_result;
using redis_sidecar::store::local_service;

namespace {

class recording_waiter final : public commit_waiter {
public:
    void on_journal_committed(std::error_code ec) override { told.push_back(ec); }
    std::vector<std::error_code> told;
};

class durable_commits_test : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fresh_test_dir("durable_commits_test");
        settings_.data_dir = dir_.string();
        store_ = std::make_unique<local_service>(settings_);
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }
    local_result revoke(std::string_view key) {
        std::string reply;
        const std::vector<std::string_view> args{"SET", key, "1"};
        const local_result result = store_->execute(args, reply);
        EXPECT_EQ(reply, "+OK\r\n");
        EXPECT_TRUE(result) << "a blacklist write must wait for the journal";
        return result;
    }
    // What a restarted sidecar finds: the journal is all that survives. (A durable_commits of
    // the store before must not be used any more.)
    std::string get_after_restart(std::string_view key) {
        store_.reset();
        store_ = std::make_unique<local_service>(settings_);
        std::string reply;
        const std::vector<std::string_view> args{"GET", key};
        store_->execute(args, reply);
        return reply;
    }

    std::filesystem::path dir_;
    redis_sidecar::config::settings settings_;
    std::unique_ptr<local_service> store_;
    boost::asio::io_context io_;
};

const std::vector<std::error_code> told_once_without_error{std::error_code{}};

}  // namespace

TEST_F(durable_commits_test, waiters_of_one_turn_are_told_after_the_commit_at_its_end) {
    durable_commits commits(io_.get_executor(), *store_);
    const auto first = std::make_shared<recording_waiter>();
    const auto second = std::make_shared<recording_waiter>();
    commits.wait(first, revoke("jwt_token_blacklist_a").refusals_before);
    commits.wait(second, revoke("jwt_token_blacklist_b").refusals_before);
    EXPECT_TRUE(first->told.empty()) << "told before the turn of the event loop ended";
    EXPECT_TRUE(second->told.empty());
    io_.run();
    EXPECT_EQ(first->told, told_once_without_error);
    EXPECT_EQ(second->told, told_once_without_error);
    EXPECT_EQ(get_after_restart("jwt_token_blacklist_a"), "$1\r\n1\r\n");
    EXPECT_EQ(get_after_restart("jwt_token_blacklist_b"), "$1\r\n1\r\n");
}

TEST_F(durable_commits_test, commit_now_tells_every_waiter_at_once) {
    durable_commits commits(io_.get_executor(), *store_);
    const auto waiter = std::make_shared<recording_waiter>();
    commits.wait(waiter, revoke("jwt_token_blacklist_now").refusals_before);
    commits.commit_now();
    EXPECT_EQ(waiter->told, told_once_without_error);
    io_.run();  // the commit posted by wait() finds nobody left to tell
    EXPECT_EQ(waiter->told, told_once_without_error);
    EXPECT_EQ(get_after_restart("jwt_token_blacklist_now"), "$1\r\n1\r\n");
}

TEST_F(durable_commits_test, a_refused_commit_is_told_to_every_waiter) {
    durable_commits commits(io_.get_executor(), *store_);
    const auto first = std::make_shared<recording_waiter>();
    const auto second = std::make_shared<recording_waiter>();
    {
        const disk_refusal refusal(dir_);
        commits.wait(first, revoke("jwt_token_blacklist_x").refusals_before);
        commits.wait(second, revoke("jwt_token_blacklist_y").refusals_before);
        io_.run();
    }
    ASSERT_EQ(first->told.size(), 1u);
    ASSERT_EQ(second->told.size(), 1u);
    EXPECT_TRUE(first->told[0]) << "the disk refused the commit, and the waiter was told it succeeded";
    EXPECT_TRUE(second->told[0]);
}
