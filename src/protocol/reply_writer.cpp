#include "redis_sidecar/protocol/reply_writer.hpp"

#include "redis_sidecar/protocol/numbers.hpp"

namespace redis_sidecar::protocol {

namespace {
void write_prefixed_number(std::string& out, char prefix, std::int64_t value) {
    char digits[24];
    const std::size_t n = format_int64(value, digits);
    out.push_back(prefix);
    out.append(digits, n);
    out.append("\r\n", 2);
}
}  // namespace

void write_simple(std::string& out, std::string_view text) {
    out.push_back('+');
    out.append(text);
    out.append("\r\n", 2);
}

void write_error(std::string& out, std::string_view message) {
    out.push_back('-');
    out.append(message);
    out.append("\r\n", 2);
}

void write_integer(std::string& out, std::int64_t value) { write_prefixed_number(out, ':', value); }

void write_bulk(std::string& out, std::string_view value) {
    write_prefixed_number(out, '$', static_cast<std::int64_t>(value.size()));
    out.append(value);
    out.append("\r\n", 2);
}

void write_null_bulk(std::string& out) { out.append("$-1\r\n", 5); }

void write_array_header(std::string& out, std::int64_t count) { write_prefixed_number(out, '*', count); }

void write_null_array(std::string& out) { out.append("*-1\r\n", 5); }

void write_bulk_array(std::string& out, std::initializer_list<std::string_view> items) {
    write_array_header(out, static_cast<std::int64_t>(items.size()));
    for (std::string_view item : items) write_bulk(out, item);
}

}  // namespace redis_sidecar::protocol
