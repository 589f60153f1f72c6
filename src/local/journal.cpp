#include "redis_sidecar/local/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <limits>
#include <utility>

namespace redis_sidecar::local {

namespace {

constexpr std::string_view file_magic = "RSJOURNL";
constexpr std::uint32_t file_format_version = 1;
constexpr std::string_view tmp_suffix = ".tmp";
constexpr std::string_view corrupt_suffix = ".corrupt-";
constexpr auto everysec_interval = std::chrono::seconds(1);
// Reads at open and writes of a compaction go through buffers of this size.
constexpr std::size_t io_chunk = 1u << 20;
// pending_ keeps its capacity between flushes up to this, so a burst of large values does not pin
// memory forever.
constexpr std::size_t pending_keep_capacity = 1u << 20;

std::error_code last_error() { return {errno, std::system_category()}; }

void put_le32(std::uint32_t v, char* p) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
}

void append_le32(std::uint32_t v, std::string& out) {
    char b[4];
    put_le32(v, b);
    out.append(b, 4);
}

void append_le64(std::uint64_t v, std::string& out) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

std::uint64_t get_le(std::string_view p, std::size_t bytes) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    return v;
}

std::string make_header(std::uint64_t base_sequence) {
    std::string h(file_magic);
    append_le32(file_format_version, h);
    append_le64(base_sequence, h);
    append_le32(crc32c(h), h);
    return h;
}

// Empty when `h` is a header this version reads (and sets `base_sequence`), else what is wrong.
std::string check_header(std::string_view h, std::uint64_t& base_sequence) {
    if (h.size() < journal::header_size) return "file shorter than the header (" + std::to_string(h.size()) + " bytes)";
    if (h.substr(0, file_magic.size()) != file_magic) return "bad magic";
    if (get_le(h.substr(20), 4) != crc32c(h.substr(0, 20))) return "header CRC mismatch";
    const std::uint64_t version = get_le(h.substr(8), 4);
    if (version != file_format_version) return "unsupported format version " + std::to_string(version);
    base_sequence = get_le(h.substr(12), 8);
    return {};
}

// Appends [length][crc][payload] for `record` under `sequence`; false (nothing appended) when the
// payload would not fit the 32-bit length.
bool append_frame(const journal_record& record, std::uint64_t sequence, std::string& out) {
    if (encoded_size(record) > std::numeric_limits<std::uint32_t>::max()) return false;
    const std::size_t start = out.size();
    out.append(journal::frame_header_size, '\0');
    detail::encode_with_sequence(record, sequence, out);
    const std::string_view payload = std::string_view(out).substr(start + journal::frame_header_size);
    put_le32(static_cast<std::uint32_t>(payload.size()), &out[start]);
    put_le32(crc32c(payload), &out[start + 4]);
    return true;
}

std::error_code read_exact(int fd, char* p, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
        const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return last_error();
        // The file shrank under us: someone else is writing it.
        if (got == 0) return std::make_error_code(std::errc::io_error);
        p += got;
        n -= static_cast<std::size_t>(got);
        offset += static_cast<std::uint64_t>(got);
    }
    return {};
}

// Sequential reads through a large buffer: a journal of small records would otherwise cost two
// syscalls per record at open.
class chunk_reader {
public:
    chunk_reader(int fd, std::uint64_t offset, std::uint64_t end) : fd_(fd), file_pos_(offset), end_(end) {}

    // Bytes left after what was taken.
    std::uint64_t remaining() const { return end_ - file_pos_ + (buf_.size() - pos_); }

    // Takes the next `n` (<= remaining()) bytes; `out` stays valid until the next call.
    std::error_code take(std::size_t n, std::string_view& out) {
        assert(n <= remaining());
        if (buf_.size() - pos_ < n) {
            buf_.erase(0, pos_);
            pos_ = 0;
            const std::uint64_t want = std::max<std::uint64_t>(n - buf_.size(), io_chunk);
            const auto count = static_cast<std::size_t>(std::min(want, end_ - file_pos_));
            const std::size_t old = buf_.size();
            buf_.resize(old + count);
            if (auto ec = read_exact(fd_, buf_.data() + old, count, file_pos_)) return ec;
            file_pos_ += count;
        }
        out = std::string_view(buf_).substr(pos_, n);
        pos_ += n;
        return {};
    }

private:
    int fd_;
    std::uint64_t file_pos_;  // file offset of the end of buf_
    std::uint64_t end_;
    std::string buf_;
    std::size_t pos_ = 0;  // first byte of buf_ not taken
};

// UTC, sortable and free of ':' so the name is easy to handle in a shell.
std::string utc_timestamp() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return std::string(buf, n);
}

std::string with_cause(std::string what, const std::string& path, std::error_code ec) {
    return what + " '" + path + "': " + ec.message();
}

}  // namespace

std::string_view tail_damage_name(tail_damage damage) {
    switch (damage) {
    case tail_damage::none: return "none";
    case tail_damage::short_frame_header: return "short_frame_header";
    case tail_damage::short_payload: return "short_payload";
    case tail_damage::crc_mismatch: return "crc_mismatch";
    case tail_damage::undecodable_record: return "undecodable_record";
    }
    return "unknown";
}

// The steps of journal::open(), each small enough to read on its own. Every step fills
// result.error and result.error_message when it fails and returns false.
struct detail::journal_opener {
    journal& j;
    journal_open_result& result;

    bool fail(std::error_code ec, const char* what, const std::string& path) {
        result.error = ec;
        result.error_message = with_cause(what, path, ec);
        return false;
    }

    // errno is read first: building the message may allocate, which may change it.
    bool fail_errno(const char* what, const std::string& path) { return fail(last_error(), what, path); }

    bool prepare_directory() {
        std::error_code ec;
        std::filesystem::create_directories(j.directory_, ec);
        if (ec) return fail(ec, "cannot create the journal directory", j.directory_);
        j.dir_fd_ = ::open(j.directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (j.dir_fd_ < 0) return fail_errno("cannot open the journal directory", j.directory_);
        // Checked up front: compaction creates files next to the journal, long after start-up.
        if (::faccessat(j.dir_fd_, ".", W_OK | X_OK, AT_EACCESS) != 0) {
            return fail_errno("the journal directory is not writable", j.directory_);
        }
        // Two writers on one journal would interleave records; the lock goes when the fd closes,
        // so a killed sidecar never leaves it behind.
        if (::flock(j.dir_fd_, LOCK_EX | LOCK_NB) != 0) {
            return fail_errno("the journal directory is in use by another journal (flock)", j.directory_);
        }
        return true;
    }

    bool remove_leftover_tmp() {
        // A compaction that did not reach its rename: the journal itself is whole, the copy is not
        // trusted.
        const std::string tmp = j.path_ + std::string(tmp_suffix);
        if (::unlink(tmp.c_str()) == 0) {
            result.recovery.removed_tmp = true;
            return true;
        }
        if (errno == ENOENT) return true;
        return fail_errno("cannot remove the leftover compaction file", tmp);
    }

    bool open_file() {
        j.fd_ = ::open(j.path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (j.fd_ < 0) return fail_errno("cannot open the journal", j.path_);
        return true;
    }

    bool file_size(std::uint64_t& size) {
        struct stat st {};
        if (::fstat(j.fd_, &st) != 0) return fail_errno("cannot stat the journal", j.path_);
        size = static_cast<std::uint64_t>(st.st_size);
        return true;
    }

    bool sync_directory() {
        if (auto ec = j.sync_directory()) return fail(ec, "cannot fsync the journal directory", j.directory_);
        return true;
    }

    // An empty journal file: a fresh journal, or a crash between creating the file and its header.
    bool start_fresh(std::uint64_t base_sequence) {
        const std::string header = make_header(base_sequence);
        std::error_code ec;
        if (::ftruncate(j.fd_, 0) != 0) ec = last_error();
        if (!ec) ec = j.write_all(j.fd_, header, 0);
        if (!ec) ec = j.sync_file(j.fd_, false);
        if (ec) return fail(ec, "cannot write the journal header", j.path_);
        j.file_size_ = journal::header_size;
        j.next_sequence_ = base_sequence;
        // The file is new (or newly named): only a directory fsync makes its name durable.
        return sync_directory();
    }

    bool move_aside(const std::string& reason) {
        std::string target = j.path_ + std::string(corrupt_suffix) + utc_timestamp();
        const std::string stem = target;
        for (int n = 1; ::access(target.c_str(), F_OK) == 0; ++n) target = stem + "." + std::to_string(n);
        if (::rename(j.path_.c_str(), target.c_str()) != 0) {
            return fail_errno("cannot move the corrupt journal aside", j.path_);
        }
        result.recovery.moved_aside_to = target;
        result.recovery.moved_aside_reason = reason;
        ::close(j.fd_);
        j.fd_ = -1;
        return open_file() && start_fresh(1);
    }

    // The records behind a damaged header are read as far as they are intact, then written to the
    // fresh journal that replaces the file (which is kept aside for a post-mortem).
    bool salvage_and_move_aside(std::uint64_t size, const std::string& problem) {
        std::uint64_t good_end = 0;
        std::uint64_t max_sequence = 0;
        if (size > journal::header_size && !read_records(size, good_end, max_sequence)) return false;
        std::vector<journal_record> salvaged = std::move(result.records);
        result.records.clear();
        result.recovery.damage = tail_damage::none;  // that file is set aside whole, not truncated
        if (!move_aside(problem)) return false;
        if (salvaged.empty()) return true;
        for (journal_record& record : salvaged) record.sequence = j.append(record);
        if (auto ec = j.flush()) return fail(ec, "cannot write the salvaged records", j.path_);
        result.recovery.salvaged_records = salvaged.size();
        result.records = std::move(salvaged);
        return true;
    }

    bool read_header(std::uint64_t size, std::uint64_t& base_sequence, std::string& problem) {
        std::string header(static_cast<std::size_t>(std::min<std::uint64_t>(size, journal::header_size)), '\0');
        if (auto ec = read_exact(j.fd_, header.data(), header.size(), 0)) {
            return fail(ec, "cannot read the journal", j.path_);
        }
        problem = check_header(header, base_sequence);
        return true;
    }

    // Reads records from the header on; stops at the first damaged one and says why.
    bool read_records(std::uint64_t size, std::uint64_t& good_end, std::uint64_t& max_sequence) {
        chunk_reader in(j.fd_, journal::header_size, size);
        good_end = journal::header_size;
        journal_record record;
        while (in.remaining() > 0) {
            tail_damage damage = tail_damage::none;
            std::string_view bytes;
            if (in.remaining() < journal::frame_header_size) {
                damage = tail_damage::short_frame_header;
            } else if (auto ec = in.take(journal::frame_header_size, bytes)) {
                return fail(ec, "cannot read the journal", j.path_);
            } else {
                const std::uint64_t length = get_le(bytes, 4);
                const auto crc = static_cast<std::uint32_t>(get_le(bytes.substr(4), 4));
                if (length > in.remaining()) {
                    damage = tail_damage::short_payload;
                } else if (auto ec2 = in.take(static_cast<std::size_t>(length), bytes)) {
                    return fail(ec2, "cannot read the journal", j.path_);
                } else if (crc32c(bytes) != crc) {
                    damage = tail_damage::crc_mismatch;
                } else if (!decode(bytes, record)) {
                    damage = tail_damage::undecodable_record;
                }
            }
            if (damage != tail_damage::none) {
                result.recovery.damage = damage;
                break;
            }
            good_end += journal::frame_header_size + bytes.size();
            max_sequence = std::max(max_sequence, record.sequence);
            result.records.push_back(std::move(record));
        }
        return true;
    }

    bool truncate_tail(std::uint64_t size, std::uint64_t good_end) {
        result.recovery.truncated_at = good_end;
        result.recovery.dropped_bytes = size - good_end;
        std::error_code ec;
        if (::ftruncate(j.fd_, static_cast<off_t>(good_end)) != 0) ec = last_error();
        if (!ec) ec = j.sync_file(j.fd_, true);
        if (ec) return fail(ec, "cannot truncate the damaged tail of the journal", j.path_);
        return true;
    }

    bool load_existing(std::uint64_t size) {
        std::uint64_t base_sequence = 1;
        std::string problem;
        if (!read_header(size, base_sequence, problem)) return false;
        if (!problem.empty()) return salvage_and_move_aside(size, problem);
        std::uint64_t good_end = 0;
        std::uint64_t max_sequence = 0;
        if (!read_records(size, good_end, max_sequence)) return false;
        if (result.recovery.damage != tail_damage::none && !truncate_tail(size, good_end)) return false;
        j.file_size_ = good_end;
        j.file_records_ = result.records.size();
        j.next_sequence_ = std::max({base_sequence, max_sequence + 1, std::uint64_t{1}});
        return true;
    }

    bool run() {
        if (!prepare_directory() || !remove_leftover_tmp() || !open_file()) return false;
        std::uint64_t size = 0;
        if (!file_size(size)) return false;
        if (size == 0) {
            result.recovery.created = true;
            return start_fresh(1);
        }
        return load_existing(size);
    }
};

journal::journal(std::string directory, fsync_policy policy, journal_clock clock)
    : directory_(std::move(directory)),
      path_((std::filesystem::path(directory_) / file_name).string()),
      policy_(policy),
      clock_(clock ? std::move(clock) : journal_clock([] { return std::chrono::steady_clock::now(); })) {}

journal::~journal() {
    if (fd_ >= 0) ::close(fd_);
    if (dir_fd_ >= 0) ::close(dir_fd_);
}

journal_open_result journal::open(const std::string& directory, fsync_policy policy, journal_clock clock) {
    journal_open_result result;
    std::unique_ptr<journal> j(new journal(directory, policy, std::move(clock)));
    if (!detail::journal_opener{*j, result}.run()) return result;
    j->last_sync_ = j->clock_();
    result.journal = std::move(j);
    return result;
}

std::uint64_t journal::append(const journal_record& record) {
    const std::uint64_t sequence = next_sequence_++;
    if (append_frame(record, sequence, pending_)) {
        ++pending_records_;
    } else {
        pending_oversized_ = true;
    }
    return sequence;
}

std::error_code journal::flush() {
    if (pending_oversized_) {
        drop_pending();
        return std::make_error_code(std::errc::file_too_large);
    }
    if (pending_.empty()) return {};
    const std::uint64_t before = file_size_;
    std::error_code ec;
    if (tail_garbage_) ec = cut_back_to(before);
    if (!ec) ec = write_all(fd_, pending_, before);
    if (!ec) {
        unsynced_ = true;
        const auto now = clock_();
        if (policy_ == fsync_policy::always || sync_due(now)) ec = sync_now(now);
    }
    if (ec) {
        // Nobody will be acknowledged for this batch, so no part of it may be read back later.
        (void)cut_back_to(before);
        drop_pending();
        return ec;
    }
    file_size_ += pending_.size();
    file_records_ += pending_records_;
    drop_pending();
    return {};
}

std::error_code journal::sync_if_due(std::chrono::steady_clock::time_point now) {
    if (policy_ == fsync_policy::always || !sync_due(now)) return {};
    return sync_now(now);
}

std::error_code journal::flush_and_sync() {
    if (auto ec = flush()) return ec;
    return unsynced_ ? sync_now(clock_()) : std::error_code{};
}

bool journal::sync_due(std::chrono::steady_clock::time_point now) const {
    return unsynced_ && now - last_sync_ >= everysec_interval;
}

std::error_code journal::sync_now(std::chrono::steady_clock::time_point now) {
    if (auto ec = sync_file(fd_, true)) return ec;
    unsynced_ = false;
    last_sync_ = now;
    return {};
}

std::error_code journal::cut_back_to(std::uint64_t size) {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
        // Left for the next flush to retry; until then the bytes past `size` are garbage that a
        // pwrite at `size` overwrites only in part.
        tail_garbage_ = true;
        return last_error();
    }
    tail_garbage_ = false;
    // The cut must reach the disk before whole frames of the failed batch could be read back.
    return sync_file(fd_, true);
}

void journal::drop_pending() {
    pending_.clear();
    if (pending_.capacity() > pending_keep_capacity) std::string().swap(pending_);
    pending_records_ = 0;
    pending_oversized_ = false;
}

std::error_code journal::write_all(int fd, std::string_view data, std::uint64_t offset) {
    // pwrite, not write: after a failed batch is cut off, the next batch must land at the cut,
    // whatever the file offset says.
    if (injected_write_error_) {
        data = data.substr(0, std::min(injected_write_bytes_, data.size()));
    }
    while (!data.empty()) {
        const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_error();
        if (n == 0) return std::make_error_code(std::errc::io_error);
        data.remove_prefix(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return std::exchange(injected_write_error_, {});
}

std::error_code journal::sync_file(int fd, bool data_only) {
    ++sync_count_;
    if (injected_sync_error_) return std::exchange(injected_sync_error_, {});
    const int rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
    return rc == 0 ? std::error_code{} : last_error();
}

std::error_code journal::compact(const std::vector<journal_record>& live) {
    if (pending_oversized_) drop_pending();  // the batch fails anyway; flush() still reports it
    // Sequences stay increasing: fresh ones come after every sequence the journal or `live` used.
    std::uint64_t first_fresh = next_sequence_;
    std::uint64_t fresh = 0;
    for (const auto& r : live) {
        if (r.sequence == 0) ++fresh;
        else first_fresh = std::max(first_fresh, r.sequence + 1);
    }
    const std::uint64_t base_sequence = first_fresh + fresh;

    const std::string tmp = path_ + std::string(tmp_suffix);
    const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return last_error();
    std::uint64_t size = 0;
    std::error_code ec = write_snapshot(fd, live, first_fresh, base_sequence, size);
    if (!ec) ec = sync_file(fd, false);
    if (!ec && ::rename(tmp.c_str(), path_.c_str()) != 0) ec = last_error();
    if (ec) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return ec;
    }
    // From the rename on, the new file is the journal whatever happens next.
    ::close(fd_);
    fd_ = fd;
    file_size_ = size;
    file_records_ = live.size() + pending_records_;
    compacted_size_ = size;
    next_sequence_ = base_sequence;
    drop_pending();
    unsynced_ = false;
    tail_garbage_ = false;
    last_sync_ = clock_();
    return sync_directory();
}

std::error_code journal::write_snapshot(int fd, const std::vector<journal_record>& live, std::uint64_t first_fresh,
                                        std::uint64_t base_sequence, std::uint64_t& size) {
    std::string buf = make_header(base_sequence);
    size = 0;
    for (const auto& r : live) {
        const std::uint64_t sequence = r.sequence != 0 ? r.sequence : first_fresh++;
        if (!append_frame(r, sequence, buf)) return std::make_error_code(std::errc::file_too_large);
        if (buf.size() >= io_chunk) {
            if (auto ec = write_all(fd, buf, size)) return ec;
            size += buf.size();
            buf.clear();
        }
    }
    // Records appended since the caller took its snapshot come after it, as they would have.
    buf += pending_;
    if (auto ec = write_all(fd, buf, size)) return ec;
    size += buf.size();
    return {};
}

std::error_code journal::sync_directory() {
    // The rename is durable only once the directory is; until then a crash shows the old journal,
    // which is whole too.
    if (::fsync(dir_fd_) != 0) return last_error();
    return {};
}

bool journal::needs_compaction() const {
    return file_size_ > compaction_min_bytes && file_size_ > 2 * compacted_size_;
}

void journal::fail_next_write_for_testing(std::error_code ec, std::size_t bytes_first) {
    injected_write_error_ = ec;
    injected_write_bytes_ = bytes_first;
}

void journal::fail_next_sync_for_testing(std::error_code ec) { injected_sync_error_ = ec; }

}  // namespace redis_sidecar::local
