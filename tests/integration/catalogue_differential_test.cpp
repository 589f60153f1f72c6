// Differential test of the command catalogue against a real redis-server:
// - the built-in table is Redis's own description: every command and subcommand the server's
//   COMMAND reply describes (parsed by upstream/command_reply, as the sidecar learns it) has the
//   same arity, flags and key specifications in the built-in catalogue (for a Redis 7.0; another
//   version is only checked for what it describes the same way);
// - the keys the catalogue finds in a request are those `COMMAND GETKEYS` gives, in order, for
//   every key position form (index, keyword forwards and backwards, range with step and limit,
//   key counts, SORT's STORE, MIGRATE's KEYS).
//
// Usage: catalogue_differential_tests path/to/redis-server [gtest flags]

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/upstream/command_reply.hpp"

namespace {

namespace catalogue = redis_sidecar::catalogue;
using strings = std::vector<std::string>;

std::string redis_server_path;

int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

class redis_process {
public:
    redis_process() : port_(free_port()) {
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const std::string port = std::to_string(port_);
            ::execl(redis_server_path.c_str(), redis_server_path.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~redis_process() {
        if (fd_ >= 0) ::close(fd_);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }

    bool connect() {
        for (int attempt = 0; attempt < 200; ++attempt) {
            fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<std::uint16_t>(port_));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return true;
            ::close(fd_);
            fd_ = -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // One request, its whole reply (framed by the sidecar's own framer).
    std::string call(const strings& args) {
        std::string request = "*" + std::to_string(args.size()) + "\r\n";
        for (const std::string& a : args) request += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
        EXPECT_EQ(::send(fd_, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
        std::string reply;
        redis_sidecar::protocol::reply_framer framer;
        char buffer[65536];
        for (;;) {
            const auto framed = framer.next(reply);
            if (framed.status == redis_sidecar::protocol::frame_status::complete) return reply;
            if (framed.status == redis_sidecar::protocol::frame_status::error) return {};
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) return {};
            reply.append(buffer, static_cast<std::size_t>(n));
        }
    }

private:
    int port_;
    pid_t pid_ = -1;
    int fd_ = -1;
};

// The bulk strings of a flat array reply, or nothing for an error.
std::optional<strings> bulks_of(const std::string& reply) {
    if (!reply.starts_with('*')) return std::nullopt;
    strings out;
    std::size_t pos = reply.find("\r\n") + 2;
    while (pos < reply.size()) {
        const std::size_t end = reply.find("\r\n", pos);
        const std::size_t length = std::stoul(reply.substr(pos + 1, end - pos - 1));
        out.push_back(reply.substr(end + 2, length));
        pos = end + 2 + length + 2;
    }
    return out;
}

class catalogue_differential : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(redis_.connect()) << "redis-server did not start"; }
    redis_process redis_;
};

std::string describe(const catalogue::key_spec& k) {
    return std::to_string(k.flags) + "/" + std::to_string(static_cast<int>(k.begin)) + ":" + std::to_string(k.index) +
           ":" + k.keyword + ":" + std::to_string(k.startfrom) + "/" + std::to_string(static_cast<int>(k.find)) + ":" +
           std::to_string(k.lastkey) + ":" + std::to_string(k.keystep) + ":" + std::to_string(k.limit) + ":" +
           std::to_string(k.keynumidx) + ":" + std::to_string(k.firstkey);
}

void expect_same(const catalogue::command_info& from_redis, const catalogue::command_info* built_in) {
    ASSERT_NE(built_in, nullptr) << from_redis.name << " is missing from the built-in table";
    EXPECT_EQ(built_in->arity, from_redis.arity) << from_redis.name;
    EXPECT_EQ(built_in->flags & 0xffffu, from_redis.flags) << from_redis.name;
    ASSERT_EQ(built_in->keys.size(), from_redis.keys.size()) << from_redis.name;
    for (std::size_t i = 0; i < from_redis.keys.size(); ++i)
        EXPECT_EQ(describe(built_in->keys[i]), describe(from_redis.keys[i])) << from_redis.name << " spec " << i;
    for (const catalogue::command_info& sub : from_redis.subcommands)
        expect_same(sub, catalogue::command_catalogue::find_subcommand(*built_in, sub.name.substr(sub.name.find('|') + 1)));
}

TEST_F(catalogue_differential, the_built_in_table_is_redis_7_0s_own_description) {
    const std::string info = redis_.call({"INFO", "server"});
    if (info.find("redis_version:7.0.") == std::string::npos) GTEST_SKIP() << "not a Redis 7.0";
    const auto described = redis_sidecar::upstream::parse_command_reply(redis_.call({"COMMAND"}));
    ASSERT_TRUE(described.has_value());
    const auto built_in = catalogue::command_catalogue::builtin();
    EXPECT_GE(described->size(), 200u);
    for (const catalogue::command_info& command : *described) expect_same(command, built_in->find_name(command.name));
}

TEST_F(catalogue_differential, keys_are_those_redis_finds) {
    const std::vector<strings> requests = {
        {"GET", "a"},
        {"SET", "a", "1", "EX", "10", "NX"},
        {"MSET", "a", "1", "b", "2", "c", "3"},
        {"DEL", "a", "b", "c"},
        {"RENAME", "a", "b"},
        {"COPY", "a", "b", "REPLACE"},
        {"EVAL", "return 1", "2", "a", "b", "x", "y"},
        {"EVALSHA", "0123456789012345678901234567890123456789", "1", "a", "x"},
        {"FCALL", "f", "2", "a", "b", "x"},
        {"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"},
        {"ZINTER", "2", "a", "b", "WITHSCORES"},
        {"XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s1", "s2", "0", "0"},
        {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", ">"},
        {"SORT", "l", "BY", "w_*", "LIMIT", "0", "1", "GET", "o_*", "STORE", "d"},
        {"SORT", "l", "ALPHA"},
        {"MIGRATE", "127.0.0.1", "1", "", "0", "1000", "COPY", "KEYS", "a", "b"},
        {"MIGRATE", "127.0.0.1", "1", "k", "0", "1000"},
        {"GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"},
        {"GEORADIUSBYMEMBER", "g", "m", "1", "km", "STOREDIST", "d"},
        {"LMPOP", "2", "a", "b", "LEFT"},
        {"BLMPOP", "0", "2", "a", "b", "LEFT"},
        {"BZMPOP", "0", "1", "z", "MIN"},
        {"SINTERCARD", "2", "a", "b", "LIMIT", "1"},
        {"LMOVE", "a", "b", "LEFT", "RIGHT"},
        {"BLPOP", "a", "b", "0"},
        {"OBJECT", "ENCODING", "k"},
        {"MEMORY", "USAGE", "k"},
        {"XINFO", "STREAM", "s"},
        {"BITOP", "AND", "d", "a", "b"},
        {"PFMERGE", "d", "a", "b"},
        {"SMOVE", "a", "b", "m"},
        {"GETEX", "k", "PERSIST"},
        {"TOUCH", "a", "b"},
        {"WATCH", "a", "b"},
        {"EXISTS", "a", "b"},
    };
    const auto catalogue = catalogue::command_catalogue::builtin();
    for (const strings& request : requests) {
        strings getkeys{"COMMAND", "GETKEYS"};
        getkeys.insert(getkeys.end(), request.begin(), request.end());
        const std::optional<strings> redis_keys = bulks_of(redis_.call(getkeys));
        ASSERT_TRUE(redis_keys.has_value()) << request[0] << ": Redis found no keys";
        const std::vector<std::string_view> args(request.begin(), request.end());
        const catalogue::command_info* command = catalogue->find(args);
        ASSERT_NE(command, nullptr) << request[0];
        strings ours;
        catalogue::for_each_key(*command, args, [&](catalogue::key_position k) { ours.emplace_back(args[k.index]); });
        EXPECT_EQ(ours, *redis_keys) << request[0] << " " << (request.size() > 1 ? request[1] : "");
    }
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s path/to/redis-server [gtest flags]\n", argv[0]);
        return 2;
    }
    redis_server_path = argv[1];
    return RUN_ALL_TESTS();
}
