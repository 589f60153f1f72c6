#include "redis_sidecar/config/config.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <typeinfo>

namespace po = boost::program_options;

namespace redis_sidecar::config {

namespace {

[[noreturn]] void invalid(const std::string& option, const std::string& why) {
    throw std::runtime_error("invalid option '" + option + "': " + why);
}

// Program_options reads "-1" into an unsigned option as 4294967295 (lexical_cast wraps it), so
// the text of every integer option is checked first, whatever its type: digits only (a '-' for
// signed types) and within the type's range.
template <class T>
bool check_integer_as(const std::type_info& type, const std::string& text, const std::string& option) {
    if (type != typeid(T)) return false;
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        invalid(option, "'" + text + "' is not an integer from " + std::to_string(std::numeric_limits<T>::min()) +
                            " to " + std::to_string(std::numeric_limits<T>::max()));
    return true;
}

template <class... T>
void check_integer(const std::type_info& type, const std::string& text, const std::string& option) {
    (void)(check_integer_as<T>(type, text, option) || ...);
}

void check_integers(const po::parsed_options& parsed, const po::options_description& options) {
    for (const po::option& o : parsed.options) {
        const po::option_description* d = options.find_nothrow(o.string_key, false);
        const auto* typed = d == nullptr ? nullptr : dynamic_cast<const po::typed_value_base*>(d->semantic().get());
        if (typed == nullptr) continue;
        for (const std::string& text : o.value)
            check_integer<unsigned short, unsigned, unsigned long, unsigned long long, short, int, long, long long>(
                typed->value_type(), text, o.string_key);
    }
}

po::options_description make_options(settings& s, std::string& listen, std::string& upstream,
                                     std::string& unixsocketperm) {
    po::options_description d("Options (each also a 'name = value' line of the --config file)");
    // clang-format off
    d.add_options()
        ("help,h", "print this help and exit")
        ("version,v", "print the version and exit")
        ("config", po::value<std::string>(), "read options from this file; flags override it")
        ("listen", po::value(&listen)->default_value("127.0.0.1:6380"), "HOST:PORT clients connect to over TCP")
        ("unixsocket", po::value(&s.unixsocket), "unix socket path for clients (default: none)")
        ("unixsocketperm", po::value(&unixsocketperm)->default_value("0"), "octal mode of the unix socket (0: umask)")
        ("upstream", po::value(&upstream)->default_value("127.0.0.1:6379"), "HOST:PORT of Redis")
        ("upstream-connections", po::value(&s.upstream_connections)->default_value(s.upstream_connections), "shared pipelined connections to Redis per thread")
        ("upstream-timeout", po::value(&s.upstream_timeout_ms)->default_value(s.upstream_timeout_ms), "ms before an unanswered request fails its upstream connection")
        ("probe-interval", po::value(&s.probe_interval_ms)->default_value(s.probe_interval_ms), "ms between reconnect probes while Redis is down, and idle heartbeat period while up")
        ("upstream-user", po::value(&s.upstream_user), "ACL user for AUTH to Redis")
        ("upstream-password-file", po::value(&s.upstream_password_file), "file holding the password for AUTH to Redis")
        ("max-pinned", po::value(&s.max_pinned)->default_value(s.max_pinned), "dedicated upstream connections for stateful clients per thread")
        ("max-inflight", po::value(&s.max_inflight)->default_value(s.max_inflight), "pipelined requests per client before reading from it pauses")
        ("maxclients", po::value(&s.maxclients)->default_value(s.maxclients), "client connections accepted at once")
        ("threads", po::value(&s.threads)->default_value(s.threads), "event-loop threads")
        ("shutdown-timeout", po::value(&s.shutdown_timeout_ms)->default_value(s.shutdown_timeout_ms), "ms a graceful stop may take before the sidecar exits anyway")
        ("log-level", po::value(&s.log_level)->default_value(s.log_level), "trace|debug|info|warn|error|critical|off")
        ("local-maxmemory", po::value(&s.local_maxmemory)->default_value(s.local_maxmemory), "bytes of the local store while Redis is down (LRU eviction past it)")
        ("blacklist-prefix", po::value(&s.blacklist_prefixes)->multitoken(), "key prefix of the blacklist class (repeatable; default jwt_token_blacklist_)")
        ("lock-prefix", po::value(&s.lock_prefixes)->multitoken(), "key prefix of the lock class (repeatable; default user_request_block_)")
        ("cache-prefix", po::value(&s.cache_prefixes)->multitoken(), "key prefix of the cache class (repeatable; default cache:)")
        ("journal-fsync", po::value(&s.journal_fsync)->default_value(s.journal_fsync), "always: durable writes reach the disk before their reply; everysec: at most 1 s of them may be lost on power loss")
        ("data-dir", po::value(&s.data_dir)->default_value(s.data_dir), "directory for durable state");
    // clang-format on
    return d;
}

unsigned parse_octal(const std::string& text, const std::string& option) {
    std::size_t used = 0;
    unsigned long value = 0;
    try {
        value = std::stoul(text, &used, 8);
    } catch (const std::exception&) {
        invalid(option, "'" + text + "' is not an octal mode");
    }
    if (used != text.size() || value > 0777) invalid(option, "'" + text + "' is not an octal mode");
    return static_cast<unsigned>(value);
}

std::string read_password(const std::string& path) {
    std::ifstream in(path);
    if (!in) invalid("upstream-password-file", "cannot read '" + path + "'");
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) invalid("upstream-password-file", "'" + path + "' has an empty first line");
    return line;
}

void validate(settings& s) {
    if (s.upstream_connections == 0 || s.upstream_connections > 256)
        invalid("upstream-connections", "must be 1 to 256");
    if (s.upstream_timeout_ms == 0) invalid("upstream-timeout", "must be at least 1 ms");
    if (s.journal_fsync != "always" && s.journal_fsync != "everysec")
        invalid("journal-fsync", "'" + s.journal_fsync + "' is not always or everysec");
    if (s.probe_interval_ms == 0) invalid("probe-interval", "must be at least 1 ms");
    for (const auto& [option, prefixes] : {std::pair{"blacklist-prefix", &s.blacklist_prefixes},
                                           std::pair{"lock-prefix", &s.lock_prefixes},
                                           std::pair{"cache-prefix", &s.cache_prefixes}})
        for (const std::string& prefix : *prefixes)
            if (prefix.empty()) invalid(option, "a prefix may not be empty");
    if (s.max_inflight == 0) invalid("max-inflight", "must be at least 1");
    if (s.maxclients == 0) invalid("maxclients", "must be at least 1");
    if (s.threads == 0 || s.threads > 64) invalid("threads", "must be 1 to 64");
    static const char* const levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    bool level_ok = false;
    for (const char* level : levels) level_ok = level_ok || s.log_level == level;
    if (!level_ok) invalid("log-level", "'" + s.log_level + "' is not one of trace|debug|info|warn|error|critical|off");
    if (!s.upstream_password_file.empty()) s.upstream_password = read_password(s.upstream_password_file);
}

}  // namespace

endpoint parse_endpoint(const std::string& text, const std::string& option) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        invalid(option, "'" + text + "' is not HOST:PORT");
    std::string host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']') invalid(option, "'" + text + "' has an unclosed '['");
        host = host.substr(1, host.size() - 2);
    }
    const std::string port_text = text.substr(colon + 1);
    std::size_t used = 0;
    unsigned long port = 0;
    try {
        port = std::stoul(port_text, &used, 10);
    } catch (const std::exception&) {
        invalid(option, "'" + port_text + "' is not a port");
    }
    if (used != port_text.size() || port == 0 || port > 65535) invalid(option, "'" + port_text + "' is not a port (1-65535)");
    return endpoint{host, static_cast<std::uint16_t>(port)};
}

parse_outcome parse_command_line(int argc, const char* const argv[], settings& out) {
    std::string listen, upstream, unixsocketperm;
    const po::options_description options = make_options(out, listen, upstream, unixsocketperm);
    po::variables_map vm;
    try {
        const po::parsed_options flags = po::parse_command_line(argc, argv, options);
        check_integers(flags, options);
        po::store(flags, vm);
        if (vm.count("help")) {
            std::cout << "Usage: redis-sidecar [options]\n" << options << "\n";
            return parse_outcome::exit_success;
        }
        if (vm.count("version")) {
            std::cout << "redis-sidecar " << REDIS_SIDECAR_VERSION << "\n";
            return parse_outcome::exit_success;
        }
        if (vm.count("config")) {
            const std::string path = vm["config"].as<std::string>();
            std::ifstream file(path);
            if (!file) invalid("config", "cannot read '" + path + "'");
            // Stored after the command line, so flags win over the file.
            const po::parsed_options lines = po::parse_config_file(file, options);
            check_integers(lines, options);
            po::store(lines, vm);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw std::runtime_error(e.what());
    }
    out.listen = parse_endpoint(listen, "listen");
    out.upstream = parse_endpoint(upstream, "upstream");
    out.unixsocketperm = parse_octal(unixsocketperm, "unixsocketperm");
    validate(out);
    return parse_outcome::run;
}

}  // namespace redis_sidecar::config
