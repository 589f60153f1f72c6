#pragma once
/// Appends RESP2 replies to a caller-owned buffer, byte for byte as Redis writes them.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace redis_sidecar::protocol {

/// `+text\r\n`
void write_simple(std::string& out, std::string_view text);
/// `-message\r\n`; `message` includes its code, e.g. "ERR syntax error".
void write_error(std::string& out, std::string_view message);
/// `:value\r\n`
void write_integer(std::string& out, std::int64_t value);
/// `$len\r\nvalue\r\n`
void write_bulk(std::string& out, std::string_view value);
/// `$-1\r\n`
void write_null_bulk(std::string& out);
/// `*count\r\n`, followed by `count` replies written by the caller.
void write_array_header(std::string& out, std::int64_t count);
/// `*-1\r\n`
void write_null_array(std::string& out);
/// An array of bulk strings.
void write_bulk_array(std::string& out, std::initializer_list<std::string_view> items);

}  // namespace redis_sidecar::protocol
