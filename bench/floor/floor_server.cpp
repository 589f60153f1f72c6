// floor-server: the least a RESP key-value server can do per request on this machine, a yardstick
// for bench/run.sh (bench/README.md, "floor-server"). One thread, one epoll loop, no
// logging, no persistence, no expiry: it parses a request with the sidecar's own parser (protocol/),
// runs SET, GET or INCR on a hash map and writes the replies of a loop's turn at its end, as Redis
// does. What it costs per request is the kernel's socket work plus next to nothing, the floor under
// any server's cost here; and what a client pays to wake it is what it pays to wake any server that
// sleeps when idle.
//
//   floor-server PORT        listens on 127.0.0.1:PORT until killed
//
// Not a product part and not a Redis: it trusts its client (redis-benchmark) beyond framing.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/protocol/numbers.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"

namespace {

namespace protocol = redis_sidecar::protocol;

constexpr std::size_t max_input_bytes = 64 << 20;  // a client past this is dropped

struct connection {
    int fd = -1;
    std::string input;  // from the start of the request not answered yet
    protocol::request_parser parser;  // the sidecar's own: the same framing work per request
    std::string output;
    bool pending = false;    // listed for this turn's writes
    bool want_write = false; // EPOLLOUT armed: the socket was full
};

// Looked up by string_view without building a std::string per request.
struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
std::unordered_map<std::string, std::string, key_hash, std::equal_to<>> store;

enum class command : std::uint8_t { get, set, incr, ping };
constexpr protocol::name_table<command> commands = {
    {"get", command::get}, {"set", command::set}, {"incr", command::incr}, {"ping", command::ping}};

void append_bulk(std::string& out, std::string_view value) {
    out += '$';
    out += std::to_string(value.size());
    out += "\r\n";
    out.append(value);
    out += "\r\n";
}

void run(const std::vector<std::string_view>& args, std::string& out) {
    std::array<char, 4> buffer;
    const command* name = commands.find(protocol::lowercase_into(args[0], buffer));
    if (name != nullptr && *name == command::get && args.size() == 2) {
        const auto it = store.find(args[1]);
        if (it == store.end()) out += "$-1\r\n";
        else append_bulk(out, it->second);
    } else if (name != nullptr && *name == command::set && args.size() == 3) {
        const auto it = store.find(args[1]);
        if (it == store.end()) store.emplace(args[1], args[2]);
        else it->second.assign(args[2]);
        out += "+OK\r\n";
    } else if (name != nullptr && *name == command::incr && args.size() == 2) {
        auto it = store.find(args[1]);
        if (it == store.end()) it = store.emplace(args[1], "0").first;
        std::int64_t value = 0;
        protocol::parse_int64(it->second, value);
        it->second = std::to_string(value + 1);
        out += ':';
        out += it->second;
        out += "\r\n";
    } else if (name != nullptr && *name == command::ping) {
        out += "+PONG\r\n";
    } else {
        out += "-ERR floor-server runs only GET, SET, INCR and PING\r\n";
    }
}

class server {
public:
    explicit server(int port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 4096) != 0) {
            std::perror("floor-server: bind/listen");
            std::exit(1);
        }
        epoll_ = ::epoll_create1(0);
        watch(listener_, EPOLLIN, EPOLL_CTL_ADD);
    }

    [[noreturn]] void serve() {
        std::vector<epoll_event> events(512);
        for (;;) {
            const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == listener_) accept_all();
                else handle(fd, events[i].events);
            }
            write_turn();
        }
    }

private:
    void watch(int fd, std::uint32_t events, int op) {
        epoll_event event{};
        event.events = events;
        event.data.fd = fd;
        ::epoll_ctl(epoll_, op, fd, &event);
    }

    void accept_all() {
        for (;;) {
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK);
            if (fd < 0) return;
            const int yes = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
            if (static_cast<std::size_t>(fd) >= connections_.size()) connections_.resize(fd + 1);
            connections_[fd] = std::make_unique<connection>();
            connections_[fd]->fd = fd;
            watch(fd, EPOLLIN, EPOLL_CTL_ADD);
        }
    }

    void close_connection(int fd) {
        ::close(fd);  // also leaves the epoll set
        connections_[fd].reset();
    }

    void handle(int fd, std::uint32_t events) {
        connection* c = connections_[fd].get();
        if (c == nullptr) return;
        if ((events & EPOLLOUT) != 0 && !flush(*c)) return;
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
        char buffer[16384];
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (got <= 0 || c->input.size() + static_cast<std::size_t>(got) > max_input_bytes) {
            close_connection(fd);
            return;
        }
        c->input.append(buffer, static_cast<std::size_t>(got));
        answer(*c);
    }

    void answer(connection& c) {
        std::size_t answered = 0;
        for (;;) {
            const protocol::parse_result parsed = c.parser.parse(std::string_view(c.input).substr(answered));
            if (parsed.status == protocol::parse_status::need_more) break;
            if (parsed.status == protocol::parse_status::error) {
                c.output += "-ERR ";
                c.output += c.parser.error();
                c.output += "\r\n";
                c.parser.reset();
                answered = c.input.size();
                break;
            }
            answered += parsed.consumed;
            if (parsed.status == protocol::parse_status::complete) run(c.parser.args(), c.output);
        }
        c.input.erase(0, answered);
        if (!c.output.empty() && !c.pending) {
            c.pending = true;
            pending_.push_back(c.fd);
        }
    }

    // The replies of this turn, one send per connection, as Redis writes before it sleeps.
    void write_turn() {
        for (const int fd : pending_) {
            connection* c = connections_[fd].get();
            if (c == nullptr) continue;
            c->pending = false;
            flush(*c);
        }
        pending_.clear();
    }

    // False when the connection was closed.
    bool flush(connection& c) {
        while (!c.output.empty()) {
            const ssize_t sent = ::send(c.fd, c.output.data(), c.output.size(), MSG_NOSIGNAL);
            if (sent < 0 && errno == EAGAIN) break;
            if (sent <= 0) {
                close_connection(c.fd);
                return false;
            }
            c.output.erase(0, static_cast<std::size_t>(sent));
        }
        const bool full = !c.output.empty();
        if (full != c.want_write) {
            c.want_write = full;
            watch(c.fd, full ? EPOLLIN | EPOLLOUT : EPOLLIN, EPOLL_CTL_MOD);
        }
        return true;
    }

    int listener_ = -1;
    int epoll_ = -1;
    std::vector<std::unique_ptr<connection>> connections_;
    std::vector<int> pending_;
};

}  // namespace

int main(int argc, char** argv) {
    std::int64_t port = 0;
    if (argc != 2 || !protocol::parse_int64(argv[1], port) || port < 1 || port > 65535) {
        std::fprintf(stderr, "usage: floor-server PORT   (listens on 127.0.0.1:PORT)\n");
        return 2;
    }
    server(static_cast<int>(port)).serve();
}
