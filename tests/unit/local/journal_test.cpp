#include "redis_sidecar/local/journal.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace redis_sidecar::local {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string make_temp_dir() {
    std::string tmpl = "/tmp/journal_test.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return tmpl;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::string binary_value(std::size_t size, int seed) {
    std::string v(size, '\0');
    for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<char>((i * 31 + static_cast<std::size_t>(seed)) % 256);
    return v;
}

// Records of every kind, binary keys and values included.
journal_record sample_record(int i) {
    switch (i % 4) {
    case 0:
        return journal_record::make_set("jwt_token_blacklist_" + std::to_string(i), binary_value(i % 50, i),
                                        1'700'000'000'000 + i, 1);
    case 1:
        return journal_record::make_set(std::string("lock\0", 5) + std::to_string(i), "token", record_no_expiry, 2);
    case 2:
        return journal_record::make_del("cache:" + std::to_string(i));
    default:
        return journal_record::make_del_pattern("cache:user:" + std::to_string(i) + ":*");
    }
}

// A temporary journal directory, removed with everything in it.
class journal_test : public ::testing::Test {
protected:
    void TearDown() override { fs::remove_all(root_); }

    std::string file() const { return dir_ + "/journal.rsj"; }

    journal_open_result open(fsync_policy policy = fsync_policy::always, journal_clock clock = {}) {
        auto result = journal::open(dir_, policy, std::move(clock));
        EXPECT_FALSE(result.error) << result.error_message;
        EXPECT_NE(result.journal, nullptr);
        return result;
    }

    // Appends `count` sample records and flushes after each one; returns them with their sequences
    // and, in `offsets`, the file offset at which each starts.
    std::vector<journal_record> append_each(journal& j, int count, std::vector<std::uint64_t>* offsets = nullptr) {
        std::vector<journal_record> written;
        for (int i = 0; i < count; ++i) {
            if (offsets != nullptr) offsets->push_back(j.size_bytes());
            journal_record r = sample_record(i);
            r.sequence = j.append(r);
            EXPECT_FALSE(j.flush());
            written.push_back(std::move(r));
        }
        return written;
    }

    std::string root_ = make_temp_dir();
    std::string dir_ = root_;  // the journal's directory; tests may point it below root_
};

// -- Open -----------------------------------------------------------------------------------------

TEST_F(journal_test, open_creates_the_directory_and_a_header_only_file) {
    dir_ += "/nested/journal";
    auto opened = open();
    ASSERT_TRUE(opened.journal);
    EXPECT_TRUE(opened.recovery.created);
    EXPECT_TRUE(opened.records.empty());
    EXPECT_EQ(opened.journal->size_bytes(), journal::header_size);
    EXPECT_EQ(fs::file_size(file()), journal::header_size);
    EXPECT_EQ(read_file(file()).substr(0, 8), "RSJOURNL");
    EXPECT_EQ(opened.journal->path(), file());
}

TEST_F(journal_test, a_directory_that_cannot_be_created_is_a_clear_error) {
    write_file(dir_ + "/a_file", "x");
    const std::string bad = dir_ + "/a_file/journal";
    auto opened = journal::open(bad, fsync_policy::always);
    EXPECT_TRUE(opened.error);
    EXPECT_EQ(opened.journal, nullptr);
    EXPECT_NE(opened.error_message.find("journal directory"), std::string::npos) << opened.error_message;
    EXPECT_NE(opened.error_message.find(bad), std::string::npos) << opened.error_message;
}

TEST_F(journal_test, a_directory_that_is_not_writable_is_a_clear_error) {
    // root ignores permission bits, so it gets a read-only mount instead.
    bool mounted = false;
    if (::geteuid() == 0) {
        if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_RDONLY, "size=16k") != 0) GTEST_SKIP() << "cannot mount tmpfs";
        mounted = true;
    } else {
        ASSERT_EQ(::chmod(dir_.c_str(), 0500), 0);
    }
    auto opened = journal::open(dir_, fsync_policy::always);
    if (mounted) ::umount2(dir_.c_str(), MNT_DETACH);
    ::chmod(dir_.c_str(), 0700);
    EXPECT_TRUE(opened.error);
    EXPECT_EQ(opened.journal, nullptr);
    EXPECT_NE(opened.error_message.find("not writable"), std::string::npos) << opened.error_message;
    EXPECT_NE(opened.error_message.find(dir_), std::string::npos) << opened.error_message;
}

TEST_F(journal_test, a_second_journal_on_the_same_directory_is_refused_while_the_first_lives) {
    auto first = open();
    auto second = journal::open(dir_, fsync_policy::always);
    EXPECT_TRUE(second.error);
    EXPECT_NE(second.error_message.find("in use"), std::string::npos) << second.error_message;
    first.journal.reset();
    EXPECT_TRUE(open().journal);
}

// -- Round trips ----------------------------------------------------------------------------------

TEST_F(journal_test, many_records_round_trip_across_a_crash) {
    std::vector<journal_record> written;
    {
        auto opened = open();
        journal& j = *opened.journal;
        for (int i = 0; i < 2000; ++i) {
            journal_record r = sample_record(i);
            r.sequence = j.append(r);
            written.push_back(std::move(r));
            if (i % 7 == 0) {
                ASSERT_FALSE(j.flush());  // group commits of varying size
            }
        }
        ASSERT_FALSE(j.flush());
        EXPECT_EQ(j.record_count(), written.size());
        EXPECT_EQ(j.size_bytes(), fs::file_size(file()));
        EXPECT_EQ(j.pending_records(), 0u);
    }  // "crash": the journal goes away without any shutdown step
    auto reopened = open();
    EXPECT_FALSE(reopened.recovery.created);
    EXPECT_EQ(reopened.recovery.damage, tail_damage::none);
    EXPECT_EQ(reopened.records, written);
    EXPECT_EQ(reopened.journal->record_count(), written.size());
}

TEST_F(journal_test, sequences_increase_and_continue_after_reopen) {
    std::uint64_t last = 0;
    {
        auto opened = open();
        for (int i = 0; i < 5; ++i) {
            const std::uint64_t s = opened.journal->append(sample_record(i));
            EXPECT_EQ(s, last + 1);
            last = s;
        }
        ASSERT_FALSE(opened.journal->flush());
        EXPECT_EQ(opened.journal->last_sequence(), last);
    }
    auto reopened = open();
    EXPECT_EQ(reopened.journal->last_sequence(), last);
    EXPECT_EQ(reopened.journal->append(sample_record(0)), last + 1);
}

TEST_F(journal_test, large_binary_values_round_trip) {
    std::vector<journal_record> written;
    {
        auto opened = open();
        // Values larger than the read buffer, next to small records.
        for (const std::size_t size : {std::size_t{3} << 20, std::size_t{1}, std::size_t{1} << 20, std::size_t{0}}) {
            journal_record r = journal_record::make_set(std::string("k\0ey", 4), binary_value(size, 7), 5, 1);
            r.sequence = opened.journal->append(r);
            written.push_back(std::move(r));
        }
        ASSERT_FALSE(opened.journal->flush());
    }
    EXPECT_EQ(open().records, written);
}

TEST_F(journal_test, records_not_flushed_are_never_written) {
    {
        auto opened = open();
        append_each(*opened.journal, 2);
        opened.journal->append(sample_record(9));
        EXPECT_EQ(opened.journal->pending_records(), 1u);
    }
    EXPECT_EQ(open().records.size(), 2u);
}

// -- Damaged tails --------------------------------------------------------------------------------

TEST_F(journal_test, every_cut_of_the_last_record_recovers_the_earlier_ones) {
    std::vector<journal_record> written;
    std::vector<std::uint64_t> offsets;
    {
        auto opened = open();
        written = append_each(*opened.journal, 5, &offsets);
    }
    const std::string full = read_file(file());
    const std::uint64_t last = offsets.back();
    const std::vector<journal_record> earlier(written.begin(), written.end() - 1);
    for (std::uint64_t cut = last; cut < full.size(); ++cut) {
        write_file(file(), std::string_view(full).substr(0, cut));
        auto opened = open();
        ASSERT_TRUE(opened.journal);
        EXPECT_EQ(opened.records, earlier) << cut;
        const tail_damage expected = cut == last                                  ? tail_damage::none
                                     : cut - last < journal::frame_header_size ? tail_damage::short_frame_header
                                                                                : tail_damage::short_payload;
        EXPECT_EQ(opened.recovery.damage, expected) << cut;
        if (expected != tail_damage::none) {
            EXPECT_EQ(opened.recovery.truncated_at, last) << cut;
            EXPECT_EQ(opened.recovery.dropped_bytes, cut - last) << cut;
        }
        EXPECT_EQ(fs::file_size(file()), last) << cut;
        EXPECT_EQ(opened.journal->size_bytes(), last) << cut;
    }
    // A recovered journal takes appends as usual.
    {
        auto opened = open();
        opened.journal->append(sample_record(4));
        ASSERT_FALSE(opened.journal->flush());
    }
    auto reopened = open();
    EXPECT_EQ(reopened.recovery.damage, tail_damage::none);
    EXPECT_EQ(reopened.records.size(), 5u);
}

TEST_F(journal_test, any_flipped_byte_in_the_middle_record_drops_it_and_what_follows) {
    std::vector<journal_record> written;
    std::vector<std::uint64_t> offsets;
    {
        auto opened = open();
        written = append_each(*opened.journal, 5, &offsets);
    }
    const std::string full = read_file(file());
    const std::vector<journal_record> before(written.begin(), written.begin() + 2);
    for (std::uint64_t at = offsets[2]; at < offsets[3]; ++at) {
        std::string damaged = full;
        damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
        write_file(file(), damaged);
        auto opened = open();
        ASSERT_TRUE(opened.journal);
        EXPECT_EQ(opened.records, before) << at;
        EXPECT_NE(opened.recovery.damage, tail_damage::none) << at;
        EXPECT_EQ(opened.recovery.truncated_at, offsets[2]) << at;
        EXPECT_EQ(opened.recovery.dropped_bytes, full.size() - offsets[2]) << at;
        EXPECT_EQ(fs::file_size(file()), offsets[2]) << at;
    }
}

TEST_F(journal_test, a_flipped_payload_byte_is_reported_as_a_crc_mismatch) {
    std::vector<std::uint64_t> offsets;
    {
        auto opened = open();
        append_each(*opened.journal, 5, &offsets);
    }
    std::string damaged = read_file(file());
    damaged[offsets[2] + journal::frame_header_size + 3] ^= 0x01;
    write_file(file(), damaged);
    auto opened = open();
    EXPECT_EQ(opened.recovery.damage, tail_damage::crc_mismatch);
    EXPECT_EQ(tail_damage_name(opened.recovery.damage), "crc_mismatch");
    EXPECT_EQ(opened.records.size(), 2u);
}

TEST_F(journal_test, a_well_framed_record_this_version_cannot_read_ends_the_journal) {
    {
        auto opened = open();
        append_each(*opened.journal, 3);
    }
    const std::string payload("\x09\x02\x01\x01k", 5);  // record format version 9
    std::string frame(8, '\0');
    const std::uint32_t crc = crc32c(payload);
    for (int i = 0; i < 4; ++i) {
        frame[i] = static_cast<char>((payload.size() >> (8 * i)) & 0xFF);
        frame[4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    }
    const std::uint64_t good_size = fs::file_size(file());
    write_file(file(), read_file(file()) + frame + payload);
    auto opened = open();
    EXPECT_EQ(opened.recovery.damage, tail_damage::undecodable_record);
    EXPECT_EQ(opened.recovery.truncated_at, good_size);
    EXPECT_EQ(opened.recovery.dropped_bytes, frame.size() + payload.size());
    EXPECT_EQ(opened.records.size(), 3u);
}

TEST_F(journal_test, a_zero_filled_tail_is_cut_off) {
    // What a filesystem can show after a crash: the size grew, the data never arrived.
    {
        auto opened = open();
        append_each(*opened.journal, 3);
    }
    const std::uint64_t good_size = fs::file_size(file());
    write_file(file(), read_file(file()) + std::string(4096, '\0'));
    auto opened = open();
    EXPECT_EQ(opened.records.size(), 3u);
    EXPECT_NE(opened.recovery.damage, tail_damage::none);
    EXPECT_EQ(opened.recovery.dropped_bytes, 4096u);
    EXPECT_EQ(fs::file_size(file()), good_size);
}

// -- Corrupt header -------------------------------------------------------------------------------

class corrupt_header_test : public journal_test, public ::testing::WithParamInterface<int> {};

TEST_P(corrupt_header_test, moves_the_file_aside_and_starts_fresh_with_the_intact_records) {
    {
        auto opened = open();
        append_each(*opened.journal, 3);
    }
    std::string content = read_file(file());
    switch (GetParam()) {
    case 0: content[0] = 'X'; break;                 // magic
    case 1: content[12] ^= 0x01; break;              // base sequence: header CRC mismatch
    case 2: content.resize(10); break;               // torn header
    case 3: {                                        // a newer format, CRC fixed up
        content[8] = 2;
        const std::uint32_t crc = crc32c(std::string_view(content).substr(0, 20));
        for (int i = 0; i < 4; ++i) content[20 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
        break;
    }
    }
    write_file(file(), content);
    // The records behind a damaged header are intact (not behind a torn one): they are kept.
    const std::size_t intact = GetParam() == 2 ? 0 : 3;
    {
        auto opened = open();
        ASSERT_TRUE(opened.journal);
        EXPECT_EQ(opened.records.size(), intact);
        EXPECT_EQ(opened.recovery.salvaged_records, intact);
        const std::string& aside = opened.recovery.moved_aside_to;
        EXPECT_EQ(aside.rfind(file() + ".corrupt-", 0), 0u) << aside;
        EXPECT_FALSE(opened.recovery.moved_aside_reason.empty());
        EXPECT_EQ(read_file(aside), content);  // kept whole for a human to look at
        if (intact == 0) {
            EXPECT_EQ(fs::file_size(file()), journal::header_size);
        }
        opened.journal->append(sample_record(0));
        ASSERT_FALSE(opened.journal->flush());
    }
    auto reopened = open();
    EXPECT_TRUE(reopened.recovery.moved_aside_to.empty());
    EXPECT_EQ(reopened.records.size(), intact + 1);
}

INSTANTIATE_TEST_SUITE_P(journal, corrupt_header_test, ::testing::Values(0, 1, 2, 3));

TEST_F(journal_test, files_moved_aside_in_the_same_second_keep_distinct_names) {
    std::vector<std::string> asides;
    for (int i = 0; i < 3; ++i) {
        write_file(file(), "garbage " + std::to_string(i));
        auto opened = open();
        asides.push_back(opened.recovery.moved_aside_to);
    }
    EXPECT_NE(asides[0], asides[1]);
    EXPECT_NE(asides[1], asides[2]);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(read_file(asides[i]), "garbage " + std::to_string(i));
}

// -- Write errors ---------------------------------------------------------------------------------

TEST_F(journal_test, a_failed_write_keeps_nothing_of_its_batch_and_the_journal_usable) {
    const std::error_code enospc = std::make_error_code(std::errc::no_space_on_device);
    for (const std::size_t bytes_first : {std::size_t{0}, std::size_t{13}, std::size_t{1} << 20}) {
        fs::remove(file());
        std::vector<journal_record> acknowledged;
        {
            auto opened = open();
            journal& j = *opened.journal;
            acknowledged = append_each(j, 3);
            const std::uint64_t durable = j.size_bytes();
            j.append(sample_record(3));
            j.append(sample_record(4));
            // bytes_first past the batch: every byte written, then the error.
            j.fail_next_write_for_testing(enospc, bytes_first);
            EXPECT_EQ(j.flush(), enospc);
            EXPECT_EQ(j.pending_records(), 0u);
            EXPECT_EQ(j.size_bytes(), durable);
            EXPECT_EQ(j.record_count(), 3u);
            EXPECT_EQ(fs::file_size(file()), durable) << bytes_first;

            journal_record later = sample_record(5);
            later.sequence = j.append(later);
            ASSERT_FALSE(j.flush());
            acknowledged.push_back(later);
        }
        auto reopened = open();
        EXPECT_EQ(reopened.recovery.damage, tail_damage::none) << bytes_first;
        EXPECT_EQ(reopened.records, acknowledged) << bytes_first;
    }
}

TEST_F(journal_test, a_failed_fdatasync_fails_the_flush_and_drops_its_batch) {
    std::vector<journal_record> acknowledged;
    {
        auto opened = open();
        journal& j = *opened.journal;
        acknowledged = append_each(j, 2);
        j.append(sample_record(7));
        j.fail_next_sync_for_testing(std::make_error_code(std::errc::io_error));
        EXPECT_EQ(j.flush(), std::make_error_code(std::errc::io_error));
        EXPECT_EQ(fs::file_size(file()), j.size_bytes());
    }
    EXPECT_EQ(open().records, acknowledged);
}

// A real full disk: a 64 KiB tmpfs (needs root; skipped elsewhere).
TEST_F(journal_test, a_full_filesystem_fails_the_flush_and_keeps_the_journal_usable) {
    if (::geteuid() != 0 || ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=64k,mode=0700") != 0) {
        GTEST_SKIP() << "needs root to mount a tmpfs";
    }
    struct unmount_at_exit {
        std::string dir;
        ~unmount_at_exit() { ::umount2(dir.c_str(), MNT_DETACH); }
    } unmount{dir_};
    // Space the "operator" frees once the disk is full.
    write_file(dir_ + "/ballast", std::string(16 << 10, 'b'));

    std::vector<journal_record> acknowledged;
    std::error_code ec;
    {
        auto opened = open();
        journal& j = *opened.journal;
        for (int i = 0; i < 100 && !ec; ++i) {
            journal_record r = journal_record::make_set("k" + std::to_string(i), binary_value(6000, i), -1, 1);
            r.sequence = j.append(r);
            ec = j.flush();
            if (!ec) acknowledged.push_back(std::move(r));
        }
        EXPECT_TRUE(ec == std::errc::no_space_on_device) << ec.message();
        EXPECT_EQ(fs::file_size(file()), j.size_bytes());
    }
    ASSERT_FALSE(acknowledged.empty());
    {
        auto reopened = open();
        EXPECT_EQ(reopened.recovery.damage, tail_damage::none);
        EXPECT_EQ(reopened.records, acknowledged);
        journal& j = *reopened.journal;

        fs::remove(dir_ + "/ballast");
        journal_record after = journal_record::make_del("freed");
        after.sequence = j.append(after);
        ASSERT_FALSE(j.flush());
        acknowledged.push_back(after);

        const std::vector<journal_record> live(acknowledged.end() - 2, acknowledged.end());
        ASSERT_FALSE(j.compact(live));
        acknowledged = live;
    }
    EXPECT_EQ(open().records, acknowledged);
}

// -- Fsync policies -------------------------------------------------------------------------------

TEST_F(journal_test, always_syncs_on_every_flush_that_wrote) {
    auto opened = open(fsync_policy::always);
    journal& j = *opened.journal;
    const std::uint64_t base = j.sync_count();
    j.append(sample_record(0));
    j.append(sample_record(1));
    ASSERT_FALSE(j.flush());
    EXPECT_EQ(j.sync_count(), base + 1);  // one fdatasync per group, not per record
    ASSERT_FALSE(j.flush());
    EXPECT_EQ(j.sync_count(), base + 1);  // nothing to write, nothing to sync
    ASSERT_FALSE(j.sync_if_due(std::chrono::steady_clock::now() + 1h));
    EXPECT_EQ(j.sync_count(), base + 1);
}

TEST_F(journal_test, flush_and_sync_leaves_nothing_unsynced_at_shutdown) {
    const auto now = std::chrono::steady_clock::time_point{} + 1h;
    auto opened = open(fsync_policy::everysec, [&now] { return now; });
    journal& j = *opened.journal;
    const std::uint64_t base = j.sync_count();
    journal_record r = sample_record(1);
    j.append(r);
    ASSERT_FALSE(j.flush_and_sync());  // within the second: everysec alone would not sync
    EXPECT_EQ(j.pending_records(), 0u);
    EXPECT_EQ(j.sync_count(), base + 1);
    EXPECT_EQ(fs::file_size(file()), j.size_bytes());
    ASSERT_FALSE(j.flush_and_sync());
    EXPECT_EQ(j.sync_count(), base + 1);  // nothing new: no sync
}

TEST_F(journal_test, everysec_syncs_at_most_once_a_second) {
    auto now = std::chrono::steady_clock::time_point{} + 1h;
    std::vector<journal_record> written;
    {
        auto opened = open(fsync_policy::everysec, [&now] { return now; });
        journal& j = *opened.journal;
        EXPECT_EQ(j.policy(), fsync_policy::everysec);
        const std::uint64_t base = j.sync_count();
        for (int i = 0; i < 10; ++i) {
            journal_record r = sample_record(i);
            r.sequence = j.append(r);
            ASSERT_FALSE(j.flush());
            written.push_back(std::move(r));
            now += 10ms;
        }
        EXPECT_EQ(j.sync_count(), base);  // flushed 10 times within a second: written, not synced
        EXPECT_EQ(fs::file_size(file()), j.size_bytes());

        now += 500ms;
        ASSERT_FALSE(j.sync_if_due(now));
        EXPECT_EQ(j.sync_count(), base);
        now += 400ms;  // 1 s since open
        ASSERT_FALSE(j.sync_if_due(now));
        EXPECT_EQ(j.sync_count(), base + 1);
        ASSERT_FALSE(j.sync_if_due(now + 10s));
        EXPECT_EQ(j.sync_count(), base + 1);  // nothing written since

        for (int i = 10; i < 12; ++i) {
            journal_record r = sample_record(i);
            r.sequence = j.append(r);
            ASSERT_FALSE(j.flush());
            written.push_back(std::move(r));
            // The first flush comes right after a sync; the second a second later syncs itself.
            EXPECT_EQ(j.sync_count(), base + 1 + (i - 10));
            now += 1s;
        }
    }
    EXPECT_EQ(open().records, written);  // written without a sync: survives a process crash
}

// -- Compaction -----------------------------------------------------------------------------------

TEST_F(journal_test, compaction_keeps_just_the_live_records_and_what_is_buffered) {
    std::vector<journal_record> expected;
    std::uint64_t last_before = 0;
    {
        auto opened = open();
        journal& j = *opened.journal;
        const std::vector<journal_record> written = append_each(j, 200);
        last_before = j.last_sequence();
        const std::uint64_t size_before = j.size_bytes();

        std::vector<journal_record> live = {written[4], written[120], written[199]};
        live.push_back(journal_record::make_set("fresh", "v", -1, 1));  // sequence 0: gets a new one
        journal_record buffered = journal_record::make_del("buffered");
        buffered.sequence = j.append(buffered);

        const std::uint64_t syncs = j.sync_count();
        ASSERT_FALSE(j.compact(live));
        EXPECT_FALSE(fs::exists(file() + ".tmp"));
        EXPECT_EQ(j.record_count(), 5u);
        EXPECT_EQ(j.pending_records(), 0u);
        EXPECT_LT(j.size_bytes(), size_before);
        EXPECT_EQ(j.size_bytes(), fs::file_size(file()));
        const std::uint64_t syncs_after = j.sync_count();
        EXPECT_GT(syncs_after, syncs);
        ASSERT_FALSE(j.flush());  // the buffered record is already in the new file
        EXPECT_EQ(j.sync_count(), syncs_after);

        expected = live;
        expected[3].sequence = last_before + 2;  // after the buffered record's
        expected.push_back(buffered);
        EXPECT_EQ(buffered.sequence, last_before + 1);
    }
    auto reopened = open();
    EXPECT_EQ(reopened.recovery.damage, tail_damage::none);
    EXPECT_EQ(reopened.records, expected);
    EXPECT_EQ(reopened.journal->append(sample_record(0)), last_before + 3);
}

TEST_F(journal_test, sequences_keep_increasing_after_compacting_everything_away) {
    std::uint64_t last = 0;
    {
        auto opened = open();
        append_each(*opened.journal, 10);
        last = opened.journal->last_sequence();
        ASSERT_FALSE(opened.journal->compact({}));
        EXPECT_EQ(opened.journal->size_bytes(), journal::header_size);
        EXPECT_EQ(opened.journal->record_count(), 0u);
    }
    auto reopened = open();
    EXPECT_TRUE(reopened.records.empty());
    EXPECT_EQ(reopened.journal->append(sample_record(0)), last + 1);
}

TEST_F(journal_test, a_failed_compaction_leaves_the_old_journal_in_use) {
    std::vector<journal_record> acknowledged;
    {
        auto opened = open();
        journal& j = *opened.journal;
        acknowledged = append_each(j, 3);
        j.fail_next_write_for_testing(std::make_error_code(std::errc::no_space_on_device), 30);
        EXPECT_EQ(j.compact({acknowledged[0]}), std::make_error_code(std::errc::no_space_on_device));
        EXPECT_FALSE(fs::exists(file() + ".tmp"));
        j.fail_next_sync_for_testing(std::make_error_code(std::errc::io_error));
        EXPECT_EQ(j.compact({acknowledged[0]}), std::make_error_code(std::errc::io_error));
        EXPECT_FALSE(fs::exists(file() + ".tmp"));
        EXPECT_EQ(j.record_count(), 3u);

        journal_record r = sample_record(3);
        r.sequence = j.append(r);
        ASSERT_FALSE(j.flush());
        acknowledged.push_back(std::move(r));
    }
    EXPECT_EQ(open().records, acknowledged);
}

TEST_F(journal_test, a_compaction_interrupted_before_its_rename_is_ignored_and_removed) {
    std::vector<journal_record> acknowledged;
    {
        auto opened = open();
        acknowledged = append_each(*opened.journal, 3);
    }
    // What a crash mid-compaction leaves: a partial copy next to the whole journal.
    write_file(file() + ".tmp", read_file(file()).substr(0, 40));
    auto opened = open();
    EXPECT_TRUE(opened.recovery.removed_tmp);
    EXPECT_FALSE(fs::exists(file() + ".tmp"));
    EXPECT_EQ(opened.records, acknowledged);
    EXPECT_EQ(opened.recovery.damage, tail_damage::none);
}

TEST_F(journal_test, needs_compaction_after_doubling_past_a_megabyte) {
    auto opened = open();
    journal& j = *opened.journal;
    const std::string value(10'000, 'v');
    std::vector<journal_record> written;
    while (j.size_bytes() <= journal::compaction_min_bytes) {
        EXPECT_FALSE(j.needs_compaction());
        journal_record r = journal_record::make_set("k" + std::to_string(written.size()), value, -1, 1);
        r.sequence = j.append(r);
        ASSERT_FALSE(j.flush());
        written.push_back(std::move(r));
    }
    EXPECT_TRUE(j.needs_compaction());

    // 60 live records (~600 KB): the file must reach 1.2 MB before compacting again.
    ASSERT_FALSE(j.compact(std::vector<journal_record>(written.begin(), written.begin() + 60)));
    const std::uint64_t compacted = j.size_bytes();
    EXPECT_FALSE(j.needs_compaction());
    while (j.size_bytes() <= 2 * compacted) {
        EXPECT_FALSE(j.needs_compaction()) << j.size_bytes();
        j.append(journal_record::make_set("again", value, -1, 1));
        ASSERT_FALSE(j.flush());
    }
    EXPECT_TRUE(j.needs_compaction());
}

}  // namespace
}  // namespace redis_sidecar::local
