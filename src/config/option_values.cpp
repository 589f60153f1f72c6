#include "option_values.hpp"

#include <cctype>
#include <charconv>
#include <sstream>
#include <stdexcept>

namespace redis_sidecar::config {

namespace {

// Redis accepts sizes up to a signed 64-bit one.
constexpr std::uint64_t max_size = 9223372036854775807ULL;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_lower(std::string_view text, std::string_view lowercase) {
    if (text.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (lower(text[i]) != lowercase[i]) return false;
    return true;
}

// "'never' is not always or everysec", "'loud' is not one of trace|debug|...".
std::string not_one_of(const std::string& text, const std::vector<std::string_view>& words) {
    std::string list;
    const char* separator = words.size() == 2 ? " or " : "|";
    for (const std::string_view word : words) list += (list.empty() ? "" : separator) + std::string(word);
    return "'" + text + "' is not " + (words.size() == 2 ? "" : "one of ") + list;
}

}  // namespace

namespace values {

void invalid(std::string_view option, const std::string& why) {
    throw std::runtime_error("invalid option '" + std::string(option) + "': " + why);
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) out += (out.empty() ? "" : " ") + word;
    return out;
}

// Program_options would read "-1" into an unsigned as 4294967295 (lexical_cast wraps it), so the
// text is read here: digits only, within the type's range, then within the option's.
unsigned whole_number::parse(const std::string& text, std::string_view option) const {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        invalid(option, "'" + text + "' is not an integer from 0 to " +
                            std::to_string(std::numeric_limits<unsigned>::max()));
    if (value < min || value > max) {
        if (max == std::numeric_limits<unsigned>::max())
            invalid(option, "must be at least " + std::to_string(min) + std::string(unit));
        invalid(option, "must be " + std::to_string(min) + " to " + std::to_string(max) + std::string(unit));
    }
    return value;
}

std::uint64_t byte_size::parse(const std::string& text, std::string_view option) const {
    const std::optional<std::uint64_t> size = parse_size(text);
    if (!size) invalid(option, "'" + text + "' is not a size (bytes, or a number with b k kb m mb g gb)");
    if (*size < min)
        invalid(option, "'" + text + "' must be between " + std::to_string(min) + " and " + std::to_string(max_size) +
                            " bytes");
    return *size;
}

bool yes_no::parse(const std::string& text, std::string_view option) const {
    if (text == "yes") return true;
    if (text == "no") return false;
    invalid(option, not_one_of(text, {"yes", "no"}));
}

std::string one_of::parse(const std::string& text, std::string_view option) const {
    for (const std::string_view word : words)
        if (text == word) return text;
    invalid(option, not_one_of(text, words));
}

unsigned octal_mode::parse(const std::string& text, std::string_view option) const {
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

std::string octal_mode::text(unsigned value) {
    std::ostringstream out;
    out << std::oct << value;
    return out.str();
}

endpoint host_port::parse(const std::string& text, std::string_view option) const {
    return parse_endpoint(text, std::string(option));
}

std::string host_port::text(const endpoint& value) { return value.host + ":" + std::to_string(value.port); }

std::optional<endpoint> optional_host_port::parse(const std::string& text, std::string_view option) const {
    if (text.empty()) return std::nullopt;
    return parse_endpoint(text, std::string(option));
}

std::string optional_host_port::text(const std::optional<endpoint>& value) {
    return value ? host_port::text(*value) : std::string();
}

std::vector<std::string> prefix_list::parse(const std::vector<std::string>& words, std::string_view option) const {
    for (const std::string& prefix : words)
        if (prefix.empty()) invalid(option, "a prefix may not be empty");
    return words;
}

std::vector<std::string> name_list::parse(const std::vector<std::string>& words, std::string_view option) const {
    std::vector<std::string> names;
    for (const std::string& word : words) {
        if (word.empty()) invalid(option, "a command name may not be empty");
        std::string name = word;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        names.push_back(std::move(name));
    }
    return names;
}

output_buffer_limit output_limit::parse(const std::vector<std::string>& words, std::string_view option) const {
    return parse_output_buffer_limit(joined(words), std::string(option));
}

std::string output_limit::text(const output_buffer_limit& value) {
    return std::to_string(value.hard_bytes) + " " + std::to_string(value.soft_bytes) + " " +
           std::to_string(value.soft_seconds);
}

}  // namespace values

endpoint parse_endpoint(const std::string& text, const std::string& option) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        values::invalid(option, "'" + text + "' is not HOST:PORT");
    std::string host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']') values::invalid(option, "'" + text + "' has an unclosed '['");
        host = host.substr(1, host.size() - 2);
    }
    const std::string port_text = text.substr(colon + 1);
    std::size_t used = 0;
    unsigned long port = 0;
    try {
        port = std::stoul(port_text, &used, 10);
    } catch (const std::exception&) {
        values::invalid(option, "'" + port_text + "' is not a port");
    }
    if (used != port_text.size() || port == 0 || port > 65535)
        values::invalid(option, "'" + port_text + "' is not a port (1-65535)");
    return endpoint{host, static_cast<std::uint16_t>(port)};
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
            values::invalid(option, "'" + words[0] + "' is not a client class the sidecar has (only normal)");
        words.erase(words.begin());
    }
    if (words.size() != 3) values::invalid(option, "'" + text + "' is not '<hard> <soft> <soft-seconds>'");
    const std::optional<std::uint64_t> hard = parse_size(words[0]);
    const std::optional<std::uint64_t> soft = parse_size(words[1]);
    if (!hard || !soft) values::invalid(option, "'" + (hard ? words[1] : words[0]) + "' is not a size");
    const std::optional<std::uint64_t> seconds =
        words[2].find_first_not_of("0123456789") == std::string::npos ? parse_size(words[2]) : std::nullopt;
    if (!seconds) values::invalid(option, "'" + words[2] + "' is not a number of seconds");
    return output_buffer_limit{*hard, *soft, *seconds};
}

}  // namespace redis_sidecar::config
