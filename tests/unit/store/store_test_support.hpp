#pragma once
// What the store's tests share: a data directory of their own, and a disk that refuses writes.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>

// An empty directory named after the running test (and this process), for its journal.
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      (prefix + "_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    return dir;
}

// Makes the disk refuse the journal's next writes: a file size limit just above the journal's
// size (the kernel then fails write() with EFBIG; SIGXFSZ is ignored meanwhile). The test's own
// output goes to pipes and terminals, which the limit does not concern.
class disk_refusal {
public:
    explicit disk_refusal(const std::filesystem::path& dir) {
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        std::uintmax_t largest = 0;
        for (const auto& f : std::filesystem::directory_iterator(dir))
            if (f.is_regular_file()) largest = std::max(largest, f.file_size());
        rlimit tight = saved_;
        tight.rlim_cur = static_cast<rlim_t>(largest + 1);
        ::setrlimit(RLIMIT_FSIZE, &tight);
    }
    ~disk_refusal() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, old_handler_);
    }
    disk_refusal(const disk_refusal&) = delete;
    disk_refusal& operator=(const disk_refusal&) = delete;

private:
    rlimit saved_{};
    void (*old_handler_)(int) = nullptr;
};
