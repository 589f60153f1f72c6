#pragma once
/// One journal record (an operation to replay to Redis on recovery) and its binary codec, plus
/// the CRC32C the journal frames records with.
///
/// Standard library only. The encoding is versioned and compact:
///   u8 format version (1), u8 kind, varint sequence, then by kind:
///     set:         u8 key_class, varint key length, key, varint value length, value,
///                  varint zigzag(expire_at_ms)
///     del:         varint key length, key
///     del_pattern: varint pattern length, pattern
///     replayed:    varint applied_through
/// Varints are unsigned LEB128. Every record carries its own version byte because a journal file
/// outlives an upgrade: records of the new format are appended after old ones.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace redis_sidecar::local {

/// What a record asks for on recovery.
enum class record_kind : std::uint8_t {
    set = 1,          ///< SET key value [PXAT expire_at_ms]
    del = 2,          ///< DEL key
    del_pattern = 3,  ///< delete every key matching a glob pattern (SCAN MATCH), an invalidation
    replayed = 4,     ///< marker: records with sequence <= applied_through have been applied to Redis
};

/// `expire_at_ms` of a record whose key has no expiry.
inline constexpr std::int64_t record_no_expiry = -1;

/// The format version `encode` writes.
inline constexpr std::uint8_t record_format_version = 1;

/// One operation kept by the journal until it has been replayed to Redis.
struct journal_record {
    /// What the record asks for; decides which of the fields below mean something.
    record_kind kind = record_kind::set;
    /// Assigned by the journal on append, increasing; 0 before that.
    std::uint64_t sequence = 0;
    /// The key (set, del) or the glob pattern (del_pattern); binary safe.
    std::string key;
    /// The value (set); binary safe.
    std::string value;
    /// Absolute unix ms at which the key expires (set), or `record_no_expiry`.
    std::int64_t expire_at_ms = record_no_expiry;
    /// The numeric value of the key's `local::key_class` when it was written (set).
    std::uint8_t key_class = 0;
    /// Records with sequence <= this have been applied to Redis (replayed).
    std::uint64_t applied_through = 0;

    /// A set of `key` to `value`, expiring at `expire_at_ms` (or never).
    static journal_record make_set(std::string key, std::string value, std::int64_t expire_at_ms,
                                   std::uint8_t key_class);
    /// A deletion of `key`.
    static journal_record make_del(std::string key);
    /// A deletion of every key matching the glob `pattern`.
    static journal_record make_del_pattern(std::string pattern);
    /// The marker that records with sequence <= `applied_through` are in Redis.
    static journal_record make_replayed(std::uint64_t applied_through);

    /// Field-wise equality (fields a kind does not use are compared too).
    friend bool operator==(const journal_record&, const journal_record&) = default;
};

/// Appends the encoding of `record` (with its own sequence) to `out`.
void encode(const journal_record& record, std::string& out);

/// Decodes exactly one record spanning all of `data` into `record`. False when `data` is not
/// one well-formed record (unknown version or kind, truncated, trailing bytes); `record` is then
/// unspecified.
bool decode(std::string_view data, journal_record& record);

/// The number of bytes `encode` appends for `record`.
std::size_t encoded_size(const journal_record& record);

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) of `data`, continuing from `crc` (the
/// CRC of the bytes before `data`; 0 to start): crc32c(b, crc32c(a)) == crc32c(a + b).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

namespace detail {
/// `encode` with `sequence` in place of `record.sequence`: the journal assigns sequences without
/// copying the record.
void encode_with_sequence(const journal_record& record, std::uint64_t sequence, std::string& out);
}  // namespace detail

}  // namespace redis_sidecar::local
