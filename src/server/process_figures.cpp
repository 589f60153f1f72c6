// The local INFO's figures that come from the process and the system (local_info.hpp).

#include "redis_sidecar/server/local_info.hpp"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>

namespace redis_sidecar::server {

namespace {

// 40 hex digits from the system's random source, as Redis's getRandomHexChars.
std::string random_hex_id() {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::random_device source;
    std::string id(40, '0');
    for (char& c : id) c = digits[source() % 16];
    return id;
}

std::string os_name() {
    utsname name{};
    if (::uname(&name) != 0) return "";
    return std::string(name.sysname) + " " + name.release + " " + name.machine;
}

std::string executable_path() {
    std::error_code ec;
    const std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : path.string();
}

// systemd's notify socket, which the sidecar reports readiness to, as Redis's `supervised auto`
// detects it.
std::string supervision() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    return socket != nullptr && (socket[0] == '/' || socket[0] == '@') ? "systemd" : "no";
}

// What does not change while the process runs, computed once.
struct process_constants {
    std::string os = os_name();
    std::string run_id = random_hex_id();
    std::string replid = random_hex_id();
    std::string executable = executable_path();
    std::string supervised = supervision();
    std::uint64_t total_system_memory = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                        static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
};

const process_constants& constants() {
    static const process_constants c;
    return c;
}

// Resident pages (the second field of /proc/self/statm) in bytes; 0 when unreadable.
std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0;
    std::uint64_t resident = 0;
    if (!(statm >> size >> resident)) return 0;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

void read_usage(int who, cpu_time& sys, cpu_time& user) {
    rusage usage{};
    if (::getrusage(who, &usage) != 0) return;
    sys = {usage.ru_stime.tv_sec, usage.ru_stime.tv_usec};
    user = {usage.ru_utime.tv_sec, usage.ru_utime.tv_usec};
}

}  // namespace

void fill_process_figures(local_figures& f) {
    const process_constants& c = constants();
    f.os = c.os;
    f.process_id = static_cast<std::uint64_t>(::getpid());
    f.process_supervised = c.supervised;
    f.run_id = c.run_id;
    f.replid = c.replid;
    f.server_time_usec = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    f.executable = c.executable;
    f.used_memory_rss = resident_bytes();
    f.total_system_memory = c.total_system_memory;
    read_usage(RUSAGE_SELF, f.used_cpu_sys, f.used_cpu_user);
    read_usage(RUSAGE_CHILDREN, f.used_cpu_sys_children, f.used_cpu_user_children);
    read_usage(RUSAGE_THREAD, f.used_cpu_sys_main_thread, f.used_cpu_user_main_thread);
}

}  // namespace redis_sidecar::server
