#pragma once
/// The durable journal of the local component: an append-only file of `journal_record`s that
/// holds what must survive a crash of the sidecar until it has been replayed to Redis (blacklist
/// entries, locks and invalidations made while Redis is down).
///
/// Standard library and POSIX only; errors are `std::error_code` values, never exceptions. Not
/// thread-safe: the owner serialises calls.
///
/// File `<directory>/journal.rsj`:
///   header  (24 bytes): "RSJOURNL", u32 version, u64 base sequence, u32 CRC32C of the 20 bytes before
///   records: [u32 payload length][u32 CRC32C of payload][payload = encoded journal_record] ...
/// Integers are little endian. The base sequence is the first sequence the file's writer could
/// assign, so sequences keep increasing across compactions that drop every record.
///
/// Group commit: `append` only buffers; `flush` writes every buffered record with one pwrite(2)
/// and, per the fsync policy, fdatasync. Acknowledge a client only after the `flush` that follows
/// its `append` returned no error.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "redis_sidecar/local/journal_record.hpp"

namespace redis_sidecar::local {

/// When written records reach the disk.
enum class fsync_policy : std::uint8_t {
    always,    ///< every flush() fdatasyncs before it returns: an acknowledged record survives power loss
    everysec,  ///< flush() writes, fdatasync at most once a second: survives kill -9, may lose ~1 s on power loss
};

/// Why the end of the journal was cut off at open.
enum class tail_damage : std::uint8_t {
    none,                ///< the journal ended on a record boundary
    short_frame_header,  ///< fewer than the 8 bytes of a frame header were left (torn append)
    short_payload,       ///< the payload was shorter than its length said (torn append)
    crc_mismatch,        ///< the payload's CRC32C did not match (torn or corrupt)
    undecodable_record,  ///< the CRC matched but the payload is not a record this version reads
};

/// `damage` as log lines and metrics spell it.
std::string_view tail_damage_name(tail_damage damage);

/// What open() found and repaired; log every field that is set.
struct journal_recovery {
    /// No journal existed (or it was empty): a fresh one was started.
    bool created = false;
    /// A leftover `journal.rsj.tmp` of an interrupted compaction was deleted (it is never read).
    bool removed_tmp = false;
    /// Why the tail was cut off, or `none`.
    tail_damage damage = tail_damage::none;
    /// When damaged: the offset at which the file was truncated (end of the last good record).
    std::uint64_t truncated_at = 0;
    /// When damaged: how many bytes were cut off.
    std::uint64_t dropped_bytes = 0;
    /// When the header was unreadable: where the old file was moved (a fresh journal was started).
    std::string moved_aside_to;
    /// When the header was unreadable: what was wrong with it.
    std::string moved_aside_reason;
    /// When moved aside: intact records found after the bad header, copied into the new journal
    /// (a damaged header must not cost the revocations behind it).
    std::size_t salvaged_records = 0;
};

class journal;

namespace detail {
struct journal_opener;
}  // namespace detail

/// The outcome of journal::open().
struct journal_open_result {
    /// The open journal, or null when `error` is set.
    std::unique_ptr<local::journal> journal;
    /// Every record read back, in file order (replayed markers included).
    std::vector<journal_record> records;
    /// What was found and repaired (also filled as far as open got when `error` is set).
    journal_recovery recovery;
    /// Set when the journal could not be opened (directory not creatable or not writable, I/O error).
    std::error_code error;
    /// A message for the operator when `error` is set, naming the path and the cause.
    std::string error_message;
};

/// Monotonic time source for the everysec policy; tests substitute their own.
using journal_clock = std::function<std::chrono::steady_clock::time_point()>;

/// An append-only, CRC-framed, group-committed journal file. Movable only through its unique_ptr.
class journal {
public:
    /// Size of the file header.
    static constexpr std::size_t header_size = 24;
    /// Size of a record's frame header (length and CRC).
    static constexpr std::size_t frame_header_size = 8;
    /// The journal file's name inside its directory.
    static constexpr std::string_view file_name = "journal.rsj";
    /// needs_compaction() is false below this size.
    static constexpr std::uint64_t compaction_min_bytes = 1u << 20;

    /// Opens (creating it and the directory if missing) the journal in `directory`, reads every
    /// record back and repairs what a crash can leave behind: a torn or corrupt tail is truncated
    /// after the last good record, a corrupt header moves the file aside, a leftover compaction
    /// file is deleted. Fails only when the directory or file cannot be used (the result says why);
    /// never because of the journal's content. Takes an exclusive lock on the directory, so a second
    /// journal on it (in any process) fails until this one is destroyed. `clock` defaults to
    /// std::chrono::steady_clock.
    static journal_open_result open(const std::string& directory, fsync_policy policy, journal_clock clock = {});

    /// Closes the file. Buffered records that were not flushed are dropped, never written: nobody
    /// was acknowledged for them.
    ~journal();
    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;

    /// Buffers `record` in memory (its own `sequence` is ignored) and returns the sequence
    /// assigned to it. Nothing reaches the file before flush().
    std::uint64_t append(const journal_record& record);

    /// Writes every buffered record with one pwrite(2) and, per the policy, fdatasyncs. On error
    /// (ENOSPC, EIO, a failed fdatasync) the file is cut back to where it was before the call, so
    /// no part of these records remains, the buffered records are dropped (answer their clients
    /// with an error), and the journal stays usable for later appends.
    std::error_code flush();

    /// everysec: fdatasyncs when something was written since the last sync and at least 1 s
    /// passed since it; for a periodic timer. An error means records already acknowledged may not
    /// survive a power loss (they do survive a crash of the process): log it. No-op under `always`.
    std::error_code sync_if_due(std::chrono::steady_clock::time_point now);

    /// Writes what is buffered and fdatasyncs anything not yet synced, whatever the policy: the
    /// last step of a graceful shutdown, so `everysec` loses nothing there either.
    std::error_code flush_and_sync();

    /// Replaces the journal with a file holding just `live` followed by the still-buffered records
    /// (which are then durable: a following flush() has nothing to write). `live` records keep
    /// their sequence; those with sequence 0 get a fresh one. Written to `journal.rsj.tmp`, fsynced,
    /// renamed over the journal, directory fsynced: a crash at any point leaves either the old or
    /// the new journal whole. On error the old journal stays in use, unchanged, and the buffered
    /// records stay buffered; except when only the final directory fsync fails: the rename has
    /// happened, so the new journal is in use and the error only says its name may not be durable.
    std::error_code compact(const std::vector<journal_record>& live);

    /// True when the file has grown past twice its size after the last compaction (the header's,
    /// right after open, since what part of an old file is live is unknown) and past
    /// `compaction_min_bytes`.
    bool needs_compaction() const;

    /// Bytes in the file (records buffered and not yet flushed excluded).
    std::uint64_t size_bytes() const { return file_size_; }
    /// Records in the file (records buffered and not yet flushed excluded).
    std::uint64_t record_count() const { return file_records_; }
    /// Records appended and not yet flushed.
    std::size_t pending_records() const { return pending_records_; }
    /// The last sequence assigned (0 when none ever was).
    std::uint64_t last_sequence() const { return next_sequence_ - 1; }
    /// fdatasync/fsync calls on the journal file since open, for metrics and tests.
    std::uint64_t sync_count() const { return sync_count_; }
    /// The fsync policy given to open().
    fsync_policy policy() const { return policy_; }
    /// The journal file's path.
    const std::string& path() const { return path_; }

    /// Test hook: the next write to the journal (flush or compaction) writes `bytes_first` bytes
    /// (no more than it has) and then fails with `ec`, as a disk that fills up mid-write.
    void fail_next_write_for_testing(std::error_code ec, std::size_t bytes_first = 0);
    /// Test hook: the next fdatasync/fsync of the journal fails with `ec`.
    void fail_next_sync_for_testing(std::error_code ec);

private:
    journal(std::string directory, fsync_policy policy, journal_clock clock);

    std::error_code write_all(int fd, std::string_view data, std::uint64_t offset);
    std::error_code sync_file(int fd, bool data_only);
    std::error_code sync_now(std::chrono::steady_clock::time_point now);
    bool sync_due(std::chrono::steady_clock::time_point now) const;
    std::error_code cut_back_to(std::uint64_t size);
    void drop_pending();
    std::error_code write_snapshot(int fd, const std::vector<journal_record>& live, std::uint64_t first_fresh,
                                   std::uint64_t base_sequence, std::uint64_t& size);
    std::error_code sync_directory();

    friend struct detail::journal_opener;

    std::string directory_;
    std::string path_;
    fsync_policy policy_;
    journal_clock clock_;
    int fd_ = -1;
    int dir_fd_ = -1;  // held open for directory fsyncs and for the lock on the directory

    std::string pending_;  // framed records waiting for flush(), one pwrite
    std::size_t pending_records_ = 0;
    bool pending_oversized_ = false;  // a record too large to frame was appended: the batch fails
    std::uint64_t next_sequence_ = 1;

    std::uint64_t file_size_ = 0;  // end of the last fully written record
    std::uint64_t file_records_ = 0;
    std::uint64_t compacted_size_ = header_size;
    bool unsynced_ = false;     // written since the last fdatasync (everysec)
    bool tail_garbage_ = false;  // a failed write could not be cut off yet: cut before the next write
    std::chrono::steady_clock::time_point last_sync_{};
    std::uint64_t sync_count_ = 0;

    std::error_code injected_write_error_;
    std::size_t injected_write_bytes_ = 0;
    std::error_code injected_sync_error_;
};

}  // namespace redis_sidecar::local
