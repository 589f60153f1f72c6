#include "redis_sidecar/local/journal_record.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace redis_sidecar::local {
namespace {

journal_record round_trip(const journal_record& r) {
    std::string bytes;
    encode(r, bytes);
    EXPECT_EQ(bytes.size(), encoded_size(r));
    journal_record back;
    EXPECT_TRUE(decode(bytes, back));
    return back;
}

std::string all_bytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
}

std::vector<journal_record> one_of_each_kind() {
    auto set = journal_record::make_set("jwt_token_blacklist_abc", "1", 1'700'000'000'123, 1);
    set.sequence = 7;
    auto del = journal_record::make_del("cache:user:1");
    del.sequence = 8;
    auto pattern = journal_record::make_del_pattern("cache:user:*");
    pattern.sequence = 9;
    auto replayed = journal_record::make_replayed(8);
    replayed.sequence = 10;
    return {set, del, pattern, replayed};
}

TEST(journal_record, every_kind_round_trips) {
    for (const auto& r : one_of_each_kind()) EXPECT_EQ(round_trip(r), r);
}

TEST(journal_record, binary_keys_and_values_with_nuls_round_trip) {
    const std::string binary = all_bytes() + std::string(3, '\0') + all_bytes();
    auto set = journal_record::make_set(binary, std::string("\0v\0", 3) + binary, record_no_expiry, 2);
    EXPECT_EQ(round_trip(set), set);
    EXPECT_EQ(round_trip(journal_record::make_del(binary)), journal_record::make_del(binary));
    EXPECT_EQ(round_trip(journal_record::make_del_pattern(binary)), journal_record::make_del_pattern(binary));
}

TEST(journal_record, empty_key_and_value_round_trip) {
    const auto set = journal_record::make_set("", "", record_no_expiry, 0);
    EXPECT_EQ(round_trip(set), set);
}

TEST(journal_record, one_megabyte_value_round_trips) {
    std::string value(1 << 20, '\0');
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>((i * 131) % 251);
    auto set = journal_record::make_set("k", value, 1'700'000'000'000, 1);
    set.sequence = 123456789;
    EXPECT_EQ(round_trip(set), set);
}

TEST(journal_record, extreme_numbers_round_trip) {
    for (const std::int64_t expire : {record_no_expiry, std::int64_t{0}, std::int64_t{1}, std::int64_t{-2},
                                      std::int64_t{1'700'000'000'000}, std::numeric_limits<std::int64_t>::max(),
                                      std::numeric_limits<std::int64_t>::min()}) {
        for (const std::uint64_t sequence : {std::uint64_t{0}, std::uint64_t{127}, std::uint64_t{128},
                                             std::numeric_limits<std::uint64_t>::max()}) {
            auto set = journal_record::make_set("k", "v", expire, 255);
            set.sequence = sequence;
            EXPECT_EQ(round_trip(set), set) << expire << " " << sequence;
        }
    }
    auto replayed = journal_record::make_replayed(std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(round_trip(replayed), replayed);
}

TEST(journal_record, encoding_is_compact) {
    // version, kind, sequence, class, key length, key, value length, value, expiry (-1: one byte)
    auto set = journal_record::make_set("jwt_token_blacklist_abc", "1", record_no_expiry, 1);
    set.sequence = 5;
    EXPECT_EQ(encoded_size(set), 2u + 1u + 1u + 1u + 23u + 1u + 1u + 1u);
    // An absolute unix ms expiry of today takes 6 bytes.
    set.expire_at_ms = 1'700'000'000'000;
    EXPECT_EQ(encoded_size(set), 2u + 1u + 1u + 1u + 23u + 1u + 1u + 6u);
    EXPECT_EQ(encoded_size(journal_record::make_del("k")), 2u + 1u + 1u + 1u);
}

TEST(journal_record, encoding_starts_with_version_and_kind) {
    std::string bytes;
    encode(journal_record::make_del("k"), bytes);
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), record_format_version);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[1]), static_cast<std::uint8_t>(record_kind::del));
}

TEST(journal_record, encode_appends) {
    std::string bytes = "prefix";
    encode(journal_record::make_del("k"), bytes);
    EXPECT_EQ(bytes.substr(0, 6), "prefix");
    journal_record back;
    EXPECT_TRUE(decode(std::string_view(bytes).substr(6), back));
    EXPECT_EQ(back.key, "k");
}

TEST(journal_record, decode_resets_fields_of_the_target) {
    journal_record target = journal_record::make_set("old", "old", 5, 3);
    target.applied_through = 99;
    std::string bytes;
    encode(journal_record::make_del("k"), bytes);
    ASSERT_TRUE(decode(bytes, target));
    EXPECT_EQ(target, journal_record::make_del("k"));
}

TEST(journal_record, every_truncation_is_rejected) {
    for (const auto& r : one_of_each_kind()) {
        std::string bytes;
        encode(r, bytes);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            journal_record back;
            EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n), back)) << static_cast<int>(r.kind) << " " << n;
        }
    }
}

TEST(journal_record, trailing_bytes_are_rejected) {
    for (const auto& r : one_of_each_kind()) {
        std::string bytes;
        encode(r, bytes);
        bytes.push_back('\0');
        journal_record back;
        EXPECT_FALSE(decode(bytes, back));
    }
}

TEST(journal_record, unknown_version_or_kind_is_rejected) {
    std::string bytes;
    encode(journal_record::make_del("k"), bytes);
    journal_record back;
    for (const int version : {0, 2, 255}) {
        std::string b = bytes;
        b[0] = static_cast<char>(version);
        EXPECT_FALSE(decode(b, back)) << version;
    }
    for (const int kind : {0, 5, 255}) {
        std::string b = bytes;
        b[1] = static_cast<char>(kind);
        EXPECT_FALSE(decode(b, back)) << kind;
    }
}

TEST(journal_record, length_past_the_end_is_rejected) {
    // version 1, del, sequence 1, key length 100 with 1 byte of key
    const std::string bytes("\x01\x02\x01\x64k", 5);
    journal_record back;
    EXPECT_FALSE(decode(bytes, back));
}

TEST(journal_record, overlong_varints_are_rejected) {
    journal_record back;
    // A varint still continuing at its tenth byte does not fit 64 bits.
    std::string eleven("\x01\x04", 2);
    eleven.append(10, '\xFF');
    eleven.push_back('\x01');
    eleven.push_back('\x00');
    EXPECT_FALSE(decode(eleven, back));
    // A tenth byte above 1 overflows 64 bits.
    std::string overflow("\x01\x04", 2);
    overflow.append(9, '\xFF');
    overflow.push_back('\x02');
    overflow.push_back('\x00');  // applied_through varint
    EXPECT_FALSE(decode(overflow, back));
    // A tenth byte of 1 is the largest sequence.
    std::string largest("\x01\x04", 2);
    largest.append(9, '\xFF');
    largest.push_back('\x01');
    largest.push_back('\x00');
    ASSERT_TRUE(decode(largest, back));
    EXPECT_EQ(back.sequence, std::numeric_limits<std::uint64_t>::max());
}

// -- CRC32C --------------------------------------------------------------------------------------

TEST(crc32c, known_vectors) {
    EXPECT_EQ(crc32c(""), 0u);
    EXPECT_EQ(crc32c("a"), 0xC1D04330u);
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC catalogue's check value
    // RFC 3720 (iSCSI) appendix B.4
    EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
    EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
    std::string ascending;
    std::string descending;
    for (int i = 0; i < 32; ++i) {
        ascending.push_back(static_cast<char>(i));
        descending.push_back(static_cast<char>(31 - i));
    }
    EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
    EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
    const unsigned char iscsi_read[48] = {
        0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
        0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(crc32c(std::string_view(reinterpret_cast<const char*>(iscsi_read), sizeof iscsi_read)), 0xD9963A56u);
}

TEST(crc32c, continues_across_any_split_and_alignment) {
    std::string data;
    for (int i = 0; i < 100; ++i) data.push_back(static_cast<char>(i * 7 + 3));
    const std::uint32_t whole = crc32c(data);
    for (std::size_t split = 0; split <= data.size(); ++split) {
        const std::string_view v(data);
        EXPECT_EQ(crc32c(v.substr(split), crc32c(v.substr(0, split))), whole) << split;
    }
    // The same bytes at every start alignment give the same CRC (the 8-byte loop reads unaligned).
    for (std::size_t shift = 0; shift < 8; ++shift) {
        const std::string shifted = std::string(shift, 'x') + data;
        EXPECT_EQ(crc32c(std::string_view(shifted).substr(shift)), whole) << shift;
    }
}

TEST(crc32c, detects_every_single_bit_flip) {
    const std::string data = "jwt_token_blacklist_eyJhbGciOiJIUzI1NiJ9";
    const std::uint32_t good = crc32c(data);
    for (std::size_t i = 0; i < data.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string flipped = data;
            flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
            EXPECT_NE(crc32c(flipped), good) << i << ":" << bit;
        }
    }
}

}  // namespace
}  // namespace redis_sidecar::local
