#include "redis_sidecar/local/journal_record.hpp"

#include <array>
#include <utility>

namespace redis_sidecar::local {

namespace {

// -- CRC32C, slicing-by-8 ------------------------------------------------------------------------
// Eight tables let the loop fold 8 bytes per step; a 1 MB value is checksummed on every append and
// on every open, so the few extra KB of tables pay for themselves.

constexpr std::uint32_t crc32c_polynomial = 0x82F63B78u;

using crc_tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr crc_tables make_crc_tables() {
    crc_tables t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ crc32c_polynomial : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t k = 1; k < 8; ++k) {
        for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
    }
    return t;
}

constexpr crc_tables crc_table = make_crc_tables();

std::uint32_t load_le32(const unsigned char* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
}

// -- Varints -------------------------------------------------------------------------------------

void put_varint(std::uint64_t v, std::string& out) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7Fu) | 0x80u));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

std::size_t varint_size(std::uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

// Zigzag keeps -1 (no expiry) one byte long while any other int64 still round-trips.
std::uint64_t zigzag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1u);
}

void put_bytes(std::string_view bytes, std::string& out) {
    put_varint(bytes.size(), out);
    out.append(bytes);
}

// A cursor over the payload being decoded; every read fails rather than run past the end.
class reader {
public:
    explicit reader(std::string_view data) : data_(data) {}

    bool done() const { return pos_ == data_.size(); }

    bool byte(std::uint8_t& v) {
        if (pos_ == data_.size()) return false;
        v = static_cast<std::uint8_t>(data_[pos_++]);
        return true;
    }

    bool varint(std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            std::uint8_t b = 0;
            if (!byte(b)) return false;
            // The tenth byte may carry only the top bit of a 64-bit value.
            if (shift == 63 && b > 1) return false;
            v |= std::uint64_t{b & 0x7Fu} << shift;
            if ((b & 0x80u) == 0) return true;
        }
        return false;
    }

    bool bytes(std::string& out) {
        std::uint64_t n = 0;
        if (!varint(n) || n > data_.size() - pos_) return false;
        out.assign(data_.substr(pos_, static_cast<std::size_t>(n)));
        pos_ += static_cast<std::size_t>(n);
        return true;
    }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

bool decode_body(reader& in, journal_record& r) {
    switch (r.kind) {
    case record_kind::set: {
        std::uint64_t expire = 0;
        if (!in.byte(r.key_class) || !in.bytes(r.key) || !in.bytes(r.value) || !in.varint(expire)) return false;
        r.expire_at_ms = unzigzag(expire);
        return true;
    }
    case record_kind::del:
    case record_kind::del_pattern:
        return in.bytes(r.key);
    case record_kind::replayed:
        return in.varint(r.applied_through);
    }
    return false;
}

bool known_kind(std::uint8_t k) {
    return k >= static_cast<std::uint8_t>(record_kind::set) && k <= static_cast<std::uint8_t>(record_kind::replayed);
}

}  // namespace

journal_record journal_record::make_set(std::string key, std::string value, std::int64_t expire_at_ms,
                                        std::uint8_t key_class) {
    journal_record r;
    r.kind = record_kind::set;
    r.key = std::move(key);
    r.value = std::move(value);
    r.expire_at_ms = expire_at_ms;
    r.key_class = key_class;
    return r;
}

journal_record journal_record::make_del(std::string key) {
    journal_record r;
    r.kind = record_kind::del;
    r.key = std::move(key);
    return r;
}

journal_record journal_record::make_del_pattern(std::string pattern) {
    journal_record r;
    r.kind = record_kind::del_pattern;
    r.key = std::move(pattern);
    return r;
}

journal_record journal_record::make_replayed(std::uint64_t applied_through) {
    journal_record r;
    r.kind = record_kind::replayed;
    r.applied_through = applied_through;
    return r;
}

void detail::encode_with_sequence(const journal_record& r, std::uint64_t sequence, std::string& out) {
    out.push_back(static_cast<char>(record_format_version));
    out.push_back(static_cast<char>(r.kind));
    put_varint(sequence, out);
    switch (r.kind) {
    case record_kind::set:
        out.push_back(static_cast<char>(r.key_class));
        put_bytes(r.key, out);
        put_bytes(r.value, out);
        put_varint(zigzag(r.expire_at_ms), out);
        break;
    case record_kind::del:
    case record_kind::del_pattern:
        put_bytes(r.key, out);
        break;
    case record_kind::replayed:
        put_varint(r.applied_through, out);
        break;
    }
}

void encode(const journal_record& record, std::string& out) {
    detail::encode_with_sequence(record, record.sequence, out);
}

std::size_t encoded_size(const journal_record& r) {
    std::size_t n = 2 + varint_size(r.sequence);
    switch (r.kind) {
    case record_kind::set:
        n += 1 + varint_size(r.key.size()) + r.key.size() + varint_size(r.value.size()) + r.value.size() +
             varint_size(zigzag(r.expire_at_ms));
        break;
    case record_kind::del:
    case record_kind::del_pattern:
        n += varint_size(r.key.size()) + r.key.size();
        break;
    case record_kind::replayed:
        n += varint_size(r.applied_through);
        break;
    }
    return n;
}

bool decode(std::string_view data, journal_record& record) {
    reader in(data);
    std::uint8_t version = 0;
    std::uint8_t kind = 0;
    if (!in.byte(version) || version != record_format_version) return false;
    if (!in.byte(kind) || !known_kind(kind)) return false;
    record = journal_record{};
    record.kind = static_cast<record_kind>(kind);
    if (!in.varint(record.sequence) || !decode_body(in, record)) return false;
    // Trailing bytes mean the record is not what its writer encoded.
    return in.done();
}

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    crc = ~crc;
    while (n >= 8) {
        const std::uint32_t lo = load_le32(p) ^ crc;
        const std::uint32_t hi = load_le32(p + 4);
        crc = crc_table[7][lo & 0xFFu] ^ crc_table[6][(lo >> 8) & 0xFFu] ^ crc_table[5][(lo >> 16) & 0xFFu] ^
              crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFFu] ^ crc_table[2][(hi >> 8) & 0xFFu] ^
              crc_table[1][(hi >> 16) & 0xFFu] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFFu];
    return ~crc;
}

}  // namespace redis_sidecar::local
