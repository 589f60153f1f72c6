#include "redis_sidecar/config/config.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
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

// Redis accepts at least 1mb for its buffer and bulk limits; the largest size is a signed 64-bit one.
constexpr std::uint64_t min_buffer_limit = 1024 * 1024;
constexpr std::uint64_t max_size = 9223372036854775807ULL;

// A size option, given in Redis's syntax ("1gb"), checked when the options are notified.
po::typed_value<std::string>* size_value(std::uint64_t& target, const char* option, const char* default_text,
                                         std::uint64_t minimum = min_buffer_limit) {
    const auto check = [&target, option, minimum](const std::string& text) {
        const std::optional<std::uint64_t> size = parse_size(text);
        if (!size) invalid(option, "'" + text + "' is not a size (bytes, or a number with b k kb m mb g gb)");
        if (*size < minimum)
            invalid(option, "'" + text + "' must be between " + std::to_string(minimum) + " and " +
                                std::to_string(max_size) + " bytes");
        target = *size;
    };
    return po::value<std::string>()->default_value(default_text)->notifier(check);
}

// Three words, as one quoted argument or three, or one line of the config file.
po::typed_value<std::vector<std::string>>* output_limit_value(output_buffer_limit& target) {
    return po::value<std::vector<std::string>>()
        ->multitoken()
        ->default_value({"0 0 0"}, "0 0 0")
        ->notifier([&target](const std::vector<std::string>& words) {
            std::string text;
            for (const std::string& word : words) text += (text.empty() ? "" : " ") + word;
            target = parse_output_buffer_limit(text, "client-output-buffer-limit");
        });
}

// Options whose text is parsed after Program_options has read it.
struct option_texts {
    std::string listen;
    std::string upstream;
    std::string unixsocketperm;
    std::string upstream_tls;
    std::string upstream_spread;
    std::string upstream_tls_verify;
    std::string metrics_listen;
};

po::options_description make_options(settings& s, option_texts& t) {
    po::options_description d("Options (each also a 'name = value' line of the --config file)");
    // clang-format off
    d.add_options()
        ("help,h", "print this help and exit")
        ("version,v", "print the version and exit")
        ("config", po::value<std::string>(), "read options from this file; flags override it")
        ("listen", po::value(&t.listen)->default_value("127.0.0.1:6380"), "HOST:PORT clients connect to over TCP")
        ("unixsocket", po::value(&s.unixsocket), "unix socket path for clients (default: none)")
        ("unixsocketperm", po::value(&t.unixsocketperm)->default_value("0"), "octal mode of the unix socket (0: umask)")
        ("upstream", po::value(&t.upstream)->default_value("127.0.0.1:6379"), "HOST:PORT of Redis")
        ("upstream-connections", po::value(&s.upstream_connections)->default_value(s.upstream_connections), "shared pipelined connections to Redis per thread")
        ("upstream-spread", po::value(&t.upstream_spread)->default_value("no"), "yes: spread clients over the shared connections; no: all use the first ready one, the others stand by")
        ("upstream-timeout", po::value(&s.upstream_timeout_ms)->default_value(s.upstream_timeout_ms), "ms before an unanswered request fails its upstream connection")
        ("upstream-batch-delay", po::value(&s.upstream_batch_delay_us)->default_value(s.upstream_batch_delay_us), "us a shared connection holds requests before writing them, for bigger batches (0: none)")
        ("probe-interval", po::value(&s.probe_interval_ms)->default_value(s.probe_interval_ms), "ms between reconnect probes while Redis is down, and idle heartbeat period while up")
        ("upstream-user", po::value(&s.upstream_user), "ACL user for AUTH to Redis")
        ("upstream-password-file", po::value(&s.upstream_password_file), "file holding the password for AUTH to Redis")
        ("upstream-tls", po::value(&t.upstream_tls)->default_value("no"), "yes: connect to Redis over TLS")
        ("upstream-tls-ca-file", po::value(&s.upstream_tls_ca_file), "PEM CA bundle to verify Redis's certificate (default: the system's CAs)")
        ("upstream-tls-cert-file", po::value(&s.upstream_tls_cert_file), "PEM client certificate for Redis's tls-auth-clients (with upstream-tls-key-file)")
        ("upstream-tls-key-file", po::value(&s.upstream_tls_key_file), "PEM private key of upstream-tls-cert-file")
        ("upstream-tls-server-name", po::value(&s.upstream_tls_server_name), "name Redis's certificate must carry, sent as SNI (default: the upstream host)")
        ("upstream-tls-verify", po::value(&t.upstream_tls_verify)->default_value("yes"), "no: do not verify Redis's certificate (logs a warning)")
        ("max-pinned", po::value(&s.max_pinned)->default_value(s.max_pinned), "dedicated upstream connections for stateful clients per thread")
        ("max-inflight", po::value(&s.max_inflight)->default_value(s.max_inflight), "pipelined requests per client before reading from it pauses")
        ("maxclients", po::value(&s.maxclients)->default_value(s.maxclients), "client connections accepted at once")
        ("threads", po::value(&s.threads)->default_value(s.threads), "event-loop threads")
        ("shutdown-timeout", po::value(&s.shutdown_timeout_ms)->default_value(s.shutdown_timeout_ms), "ms a graceful stop may take before the sidecar exits anyway")
        ("log-level", po::value(&s.log_level)->default_value(s.log_level), "trace|debug|info|warn|error|critical|off")
        ("local-maxmemory", size_value(s.local_maxmemory, "local-maxmemory", "256mb", 0), "bytes of the local store while Redis is down (LRU eviction past it; Redis's units: 256mb)")
        ("blacklist-prefix", po::value(&s.blacklist_prefixes)->multitoken(), "key prefix of the blacklist class (repeatable; default jwt_token_blacklist_)")
        ("lock-prefix", po::value(&s.lock_prefixes)->multitoken(), "key prefix of the lock class (repeatable; default user_request_block_)")
        ("cache-prefix", po::value(&s.cache_prefixes)->multitoken(), "key prefix of the cache class (repeatable; default cache:)")
        ("journal-fsync", po::value(&s.journal_fsync)->default_value(s.journal_fsync), "always: durable writes reach the disk before their reply; everysec: at most 1 s of them may be lost on power loss")
        ("data-dir", po::value(&s.data_dir)->default_value(s.data_dir), "directory for durable state")
        ("metrics-listen", po::value(&t.metrics_listen), "HOST:PORT serving Prometheus /metrics and /healthz over HTTP (default: off)")
        ("requirepass", po::value(&s.requirepass), "password clients must give with AUTH before other commands (default: none; prefer requirepass-file)")
        ("requirepass-file", po::value(&s.requirepass_file), "file whose first line is the password clients must give")
        ("client-query-buffer-limit", size_value(s.client_query_buffer_limit, "client-query-buffer-limit", "1gb"), "a client whose unparsed input exceeds this is closed (1mb minimum)")
        ("proto-max-bulk-len", size_value(s.proto_max_bulk_len, "proto-max-bulk-len", "512mb"), "largest bulk argument of a request (1mb minimum)")
        ("client-output-buffer-limit", output_limit_value(s.client_output_buffer_limit), "'<hard> <soft> <soft-seconds>' for normal clients; a client over it is closed (0 0 0: no limit)")
        ("timeout", po::value(&s.timeout)->default_value(s.timeout), "seconds an idle client may stay connected (0: for ever)");
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

bool parse_yes_no(const std::string& text, const std::string& option) {
    if (text == "yes") return true;
    if (text == "no") return false;
    invalid(option, "'" + text + "' is not yes or no");
}

void require_readable(const std::string& path, const std::string& option) {
    if (!std::ifstream(path)) invalid(option, "cannot read '" + path + "'");
}

// The files are loaded (and their contents checked) when the sidecar builds its TLS context; here
// only what can be said from the options themselves.
void validate_tls(const settings& s) {
    const std::pair<const char*, const std::string*> options[] = {
        {"upstream-tls-ca-file", &s.upstream_tls_ca_file},
        {"upstream-tls-cert-file", &s.upstream_tls_cert_file},
        {"upstream-tls-key-file", &s.upstream_tls_key_file},
        {"upstream-tls-server-name", &s.upstream_tls_server_name}};
    for (const auto& [option, value] : options)
        if (!s.upstream_tls && !value->empty()) invalid(option, "is set but upstream-tls is no");
    if (!s.upstream_tls) return;
    if (s.upstream_tls_cert_file.empty() != s.upstream_tls_key_file.empty())
        invalid(s.upstream_tls_key_file.empty() ? "upstream-tls-key-file" : "upstream-tls-cert-file",
                "a client certificate needs both upstream-tls-cert-file and upstream-tls-key-file");
    for (const auto& [option, value] : {options[0], options[1], options[2]})
        if (!value->empty()) require_readable(*value, option);
}

std::string read_password(const std::string& path, const std::string& option = "upstream-password-file") {
    std::ifstream in(path);
    if (!in) invalid(option, "cannot read '" + path + "'");
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) invalid(option, "'" + path + "' has an empty first line");
    return line;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_lower(std::string_view text, std::string_view lowercase) {
    if (text.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (lower(text[i]) != lowercase[i]) return false;
    return true;
}

void validate(settings& s) {
    if (s.upstream_connections == 0 || s.upstream_connections > 256)
        invalid("upstream-connections", "must be 1 to 256");
    if (s.upstream_timeout_ms == 0) invalid("upstream-timeout", "must be at least 1 ms");
    if (s.journal_fsync != "always" && s.journal_fsync != "everysec")
        invalid("journal-fsync", "'" + s.journal_fsync + "' is not always or everysec");
    if (s.probe_interval_ms == 0) invalid("probe-interval", "must be at least 1 ms");
    if (s.upstream_batch_delay_us > 10000) invalid("upstream-batch-delay", "must be 0 to 10000 us");
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
    validate_tls(s);
    if (!s.requirepass_file.empty()) {
        if (!s.requirepass.empty()) invalid("requirepass-file", "give requirepass or requirepass-file, not both");
        s.requirepass = read_password(s.requirepass_file, "requirepass-file");
    }
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

namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
    return out;
}

std::string endpoint_text(const endpoint& e) { return e.host + ":" + std::to_string(e.port); }

// Every option as text, and whether a running sidecar can take a new value of it. An option
// missing here would be silently ignored by a reload; the unit test checks the list is complete.
struct option_value {
    const char* name;
    bool reloadable;
    bool secret;
    std::function<std::string(const settings&)> text;
};

const std::vector<option_value>& every_option() {
    static const std::vector<option_value> options = {
        {"listen", false, false, [](const settings& s) { return endpoint_text(s.listen); }},
        {"unixsocket", false, false, [](const settings& s) { return s.unixsocket; }},
        {"unixsocketperm", false, false, [](const settings& s) { return std::to_string(s.unixsocketperm); }},
        {"upstream", false, false, [](const settings& s) { return endpoint_text(s.upstream); }},
        {"upstream-connections", false, false, [](const settings& s) { return std::to_string(s.upstream_connections); }},
        {"upstream-spread", false, false, [](const settings& s) { return std::to_string(s.upstream_spread); }},
        {"upstream-timeout", true, false, [](const settings& s) { return std::to_string(s.upstream_timeout_ms); }},
        {"upstream-batch-delay", false, false, [](const settings& s) { return std::to_string(s.upstream_batch_delay_us); }},
        {"probe-interval", true, false, [](const settings& s) { return std::to_string(s.probe_interval_ms); }},
        {"upstream-user", false, false, [](const settings& s) { return s.upstream_user; }},
        {"upstream-password-file", false, true, [](const settings& s) { return s.upstream_password_file + "\n" + s.upstream_password; }},
        {"max-pinned", true, false, [](const settings& s) { return std::to_string(s.max_pinned); }},
        {"max-inflight", true, false, [](const settings& s) { return std::to_string(s.max_inflight); }},
        {"maxclients", true, false, [](const settings& s) { return std::to_string(s.maxclients); }},
        {"threads", false, false, [](const settings& s) { return std::to_string(s.threads); }},
        {"shutdown-timeout", true, false, [](const settings& s) { return std::to_string(s.shutdown_timeout_ms); }},
        {"log-level", true, false, [](const settings& s) { return s.log_level; }},
        {"local-maxmemory", true, false, [](const settings& s) { return std::to_string(s.local_maxmemory); }},
        {"blacklist-prefix", true, false, [](const settings& s) { return joined(s.blacklist_prefixes); }},
        {"lock-prefix", true, false, [](const settings& s) { return joined(s.lock_prefixes); }},
        {"cache-prefix", true, false, [](const settings& s) { return joined(s.cache_prefixes); }},
        {"journal-fsync", false, false, [](const settings& s) { return s.journal_fsync; }},
        {"data-dir", false, false, [](const settings& s) { return s.data_dir; }},
        {"upstream-tls", false, false, [](const settings& s) { return std::to_string(s.upstream_tls); }},
        {"upstream-tls-ca-file", false, false, [](const settings& s) { return s.upstream_tls_ca_file; }},
        {"upstream-tls-cert-file", false, false, [](const settings& s) { return s.upstream_tls_cert_file; }},
        {"upstream-tls-key-file", false, false, [](const settings& s) { return s.upstream_tls_key_file; }},
        {"upstream-tls-server-name", false, false, [](const settings& s) { return s.upstream_tls_server_name; }},
        {"upstream-tls-verify", false, false, [](const settings& s) { return std::to_string(s.upstream_tls_verify); }},
        {"requirepass", true, true, [](const settings& s) { return s.requirepass_file + "\n" + s.requirepass; }},
        {"client-query-buffer-limit", true, false,
         [](const settings& s) { return std::to_string(s.client_query_buffer_limit); }},
        {"proto-max-bulk-len", true, false, [](const settings& s) { return std::to_string(s.proto_max_bulk_len); }},
        {"client-output-buffer-limit", true, false,
         [](const settings& s) {
             const output_buffer_limit& l = s.client_output_buffer_limit;
             return std::to_string(l.hard_bytes) + " " + std::to_string(l.soft_bytes) + " " +
                    std::to_string(l.soft_seconds);
         }},
        {"timeout", true, false, [](const settings& s) { return std::to_string(s.timeout); }},
        {"metrics-listen", false, false,
         [](const settings& s) { return s.metrics_listen ? endpoint_text(*s.metrics_listen) : std::string(); }},
    };
    return options;
}

}  // namespace

reload_plan plan_reload(const settings& running, const settings& fresh) {
    reload_plan plan;
    for (const option_value& option : every_option()) {
        const std::string before = option.text(running);
        const std::string after = option.text(fresh);
        if (before == after) continue;
        if (!option.reloadable)
            plan.need_restart.emplace_back(option.name);
        else if (option.secret)
            plan.applied.push_back(std::string(option.name) + ": (changed)");
        else
            plan.applied.push_back(std::string(option.name) + ": " + before + " -> " + after);
    }
    return plan;
}

void copy_reloadable(const settings& fresh, settings& target) {
    target.upstream_timeout_ms = fresh.upstream_timeout_ms;
    target.probe_interval_ms = fresh.probe_interval_ms;
    target.max_pinned = fresh.max_pinned;
    target.max_inflight = fresh.max_inflight;
    target.maxclients = fresh.maxclients;
    target.shutdown_timeout_ms = fresh.shutdown_timeout_ms;
    target.log_level = fresh.log_level;
    target.local_maxmemory = fresh.local_maxmemory;
    target.blacklist_prefixes = fresh.blacklist_prefixes;
    target.lock_prefixes = fresh.lock_prefixes;
    target.cache_prefixes = fresh.cache_prefixes;
    target.requirepass = fresh.requirepass;
    target.requirepass_file = fresh.requirepass_file;
    target.client_query_buffer_limit = fresh.client_query_buffer_limit;
    target.proto_max_bulk_len = fresh.proto_max_bulk_len;
    target.client_output_buffer_limit = fresh.client_output_buffer_limit;
    target.timeout = fresh.timeout;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return std::nullopt;
    const std::string_view unit = text.substr(digits);
    std::uint64_t multiplier = 0;
    if (unit.empty() || same_lower(unit, "b"))
        multiplier = 1;
    else if (same_lower(unit, "k"))
        multiplier = 1000;
    else if (same_lower(unit, "kb"))
        multiplier = 1024;
    else if (same_lower(unit, "m"))
        multiplier = 1000 * 1000;
    else if (same_lower(unit, "mb"))
        multiplier = 1024 * 1024;
    else if (same_lower(unit, "g"))
        multiplier = 1000ULL * 1000 * 1000;
    else if (same_lower(unit, "gb"))
        multiplier = 1024ULL * 1024 * 1024;
    else
        return std::nullopt;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (max_size - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    if (value > max_size / multiplier) return std::nullopt;
    return value * multiplier;
}

output_buffer_limit parse_output_buffer_limit(const std::string& text, const std::string& option) {
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string word; in >> word;) words.push_back(word);
    if (words.size() == 4) {
        // redis.conf names the class first; the sidecar's clients are all of the normal class.
        if (!same_lower(words[0], "normal"))
            invalid(option, "'" + words[0] + "' is not a client class the sidecar has (only normal)");
        words.erase(words.begin());
    }
    if (words.size() != 3) invalid(option, "'" + text + "' is not '<hard> <soft> <soft-seconds>'");
    const std::optional<std::uint64_t> hard = parse_size(words[0]);
    const std::optional<std::uint64_t> soft = parse_size(words[1]);
    if (!hard || !soft) invalid(option, "'" + (hard ? words[1] : words[0]) + "' is not a size");
    const std::optional<std::uint64_t> seconds =
        words[2].find_first_not_of("0123456789") == std::string::npos ? parse_size(words[2]) : std::nullopt;
    if (!seconds) invalid(option, "'" + words[2] + "' is not a number of seconds");
    return output_buffer_limit{*hard, *soft, *seconds};
}

parse_outcome parse_command_line(int argc, const char* const argv[], settings& out) {
    option_texts texts;
    const po::options_description options = make_options(out, texts);
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
    out.listen = parse_endpoint(texts.listen, "listen");
    out.upstream = parse_endpoint(texts.upstream, "upstream");
    out.unixsocketperm = parse_octal(texts.unixsocketperm, "unixsocketperm");
    out.upstream_tls = parse_yes_no(texts.upstream_tls, "upstream-tls");
    out.upstream_spread = parse_yes_no(texts.upstream_spread, "upstream-spread");
    out.upstream_tls_verify = parse_yes_no(texts.upstream_tls_verify, "upstream-tls-verify");
    if (!texts.metrics_listen.empty()) out.metrics_listen = parse_endpoint(texts.metrics_listen, "metrics-listen");
    validate(out);
    return parse_outcome::run;
}

}  // namespace redis_sidecar::config
