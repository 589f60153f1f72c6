#include "redis_sidecar/local/sha1.hpp"

#include <bit>
#include <cstring>

namespace redis_sidecar::local {

namespace {

struct sha1_state {
    std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};

    void compress(const std::uint8_t* block) {
        std::uint32_t w[80];
        for (int i = 0; i < 16; ++i) {
            w[i] = (std::uint32_t{block[i * 4]} << 24) | (std::uint32_t{block[i * 4 + 1]} << 16) |
                   (std::uint32_t{block[i * 4 + 2]} << 8) | std::uint32_t{block[i * 4 + 3]};
        }
        for (int i = 16; i < 80; ++i) w[i] = std::rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i) {
            std::uint32_t f;
            std::uint32_t k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            const std::uint32_t t = std::rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = std::rotl(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
};

}  // namespace

sha1_digest sha1(std::string_view data) {
    sha1_state state;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    const std::size_t full_blocks = data.size() / 64;
    for (std::size_t i = 0; i < full_blocks; ++i) state.compress(bytes + i * 64);

    // The tail, the 0x80 marker and the 64-bit bit length fill one or two final blocks.
    std::uint8_t tail[128] = {};
    const std::size_t rest = data.size() % 64;
    if (rest != 0) std::memcpy(tail, bytes + full_blocks * 64, rest);
    tail[rest] = 0x80;
    const std::size_t tail_size = rest < 56 ? 64 : 128;
    const std::uint64_t bit_length = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 0; i < 8; ++i) {
        tail[tail_size - 1 - static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(bit_length >> (8 * i));
    }
    state.compress(tail);
    if (tail_size == 128) state.compress(tail + 64);

    sha1_digest digest;
    for (std::size_t i = 0; i < 5; ++i) {
        digest[i * 4] = static_cast<std::uint8_t>(state.h[i] >> 24);
        digest[i * 4 + 1] = static_cast<std::uint8_t>(state.h[i] >> 16);
        digest[i * 4 + 2] = static_cast<std::uint8_t>(state.h[i] >> 8);
        digest[i * 4 + 3] = static_cast<std::uint8_t>(state.h[i]);
    }
    return digest;
}

sha1_hex sha1_to_hex(std::string_view data) {
    static constexpr char digits[] = "0123456789abcdef";
    const sha1_digest digest = sha1(data);
    sha1_hex hex;
    for (std::size_t i = 0; i < digest.size(); ++i) {
        hex[i * 2] = digits[digest[i] >> 4];
        hex[i * 2 + 1] = digits[digest[i] & 0x0f];
    }
    return hex;
}

}  // namespace redis_sidecar::local
