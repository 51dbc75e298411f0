// SPDX-License-Identifier: Apache-2.0
#include "dataplane/syn_cookie.hpp"

#include <bit>
#include <cstring>

namespace bulwark::dataplane::syn {

namespace {

struct sip_state {
    std::uint64_t v0, v1, v2, v3;

    void round() noexcept
    {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    }
    void absorb(std::uint64_t m) noexcept
    {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

std::uint64_t le64(const std::uint8_t* p) noexcept
{
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = v << 8 | p[i];
    return v;
}

void put32(std::uint8_t* p, std::uint32_t v) noexcept
{
    std::memcpy(p, &v, 4); // the MAC's own input: its byte order does not matter
}

} // namespace

std::uint64_t siphash24(const sipkey& k, std::span<const std::uint8_t> data) noexcept
{
    sip_state s{k.k0 ^ 0x736f6d6570736575ULL, k.k1 ^ 0x646f72616e646f6dULL, k.k0 ^ 0x6c7967656e657261ULL,
                k.k1 ^ 0x7465646279746573ULL};
    const std::size_t whole = data.size() & ~std::size_t{7};
    for (std::size_t i = 0; i < whole; i += 8)
        s.absorb(le64(data.data() + i));
    std::uint64_t last = static_cast<std::uint64_t>(data.size() & 0xff) << 56;
    for (std::size_t i = whole; i < data.size(); ++i)
        last |= static_cast<std::uint64_t>(data[i]) << (8 * (i - whole));
    s.absorb(last);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i)
        s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

unsigned mss_index(std::uint16_t mss) noexcept
{
    unsigned i = mss_table.size() - 1;
    while (i > 0 && mss_table[i] > mss)
        --i;
    return i;
}

const sipkey& cookie_jar::key_of(std::uint32_t period) noexcept
{
    const unsigned slot = period & 1;
    if (period_[slot] != period) {
        std::uint8_t in[8] = {'b', 'w', 'c', 'k'};
        put32(in + 4, period);
        keys_[slot].k0 = siphash24(master_, in);
        in[0] = 'B';
        keys_[slot].k1 = siphash24(master_, in);
        period_[slot] = period;
    }
    return keys_[slot];
}

std::uint32_t cookie_jar::mac(const endpoints& e, std::uint32_t isn, unsigned mss_idx, std::uint32_t period) noexcept
{
    std::uint8_t in[16 + 16 + 2 + 2 + 4 + 1];
    std::memcpy(in, e.src.data(), 16);
    std::memcpy(in + 16, e.dst.data(), 16);
    std::memcpy(in + 32, &e.sport, 2);
    std::memcpy(in + 34, &e.dport, 2);
    put32(in + 36, isn);
    in[40] = static_cast<std::uint8_t>(mss_idx);
    return static_cast<std::uint32_t>(siphash24(key_of(period), in)) & 0xffffffu;
}

std::uint32_t cookie_jar::make(const endpoints& e, std::uint32_t isn, std::uint16_t mss, std::uint32_t now) noexcept
{
    const std::uint32_t period = now / period_seconds;
    const unsigned idx = mss_index(mss);
    return (period & 63u) << 26 | idx << 24 | mac(e, isn, idx, period);
}

std::uint16_t cookie_jar::check(const endpoints& e, std::uint32_t isn, std::uint32_t cookie, std::uint32_t now) noexcept
{
    const std::uint32_t period = now / period_seconds;
    const std::uint32_t age = (period - (cookie >> 26)) & 63u;
    if (age > 1)
        return 0;
    const unsigned idx = (cookie >> 24) & 3u;
    if (mac(e, isn, idx, period - age) != (cookie & 0xffffffu))
        return 0;
    return mss_table[idx];
}

std::uint32_t ts_encode(std::uint32_t clock, ts_options o) noexcept
{
    const std::uint32_t ws = o.wscale < 0 ? 0xfu : static_cast<std::uint32_t>(o.wscale & 0xf);
    return (clock & ~0x3fu) | ws | (o.sack ? 0x10u : 0u);
}

ts_options ts_decode(std::uint32_t tsecr) noexcept
{
    ts_options o;
    const unsigned ws = tsecr & 0xfu;
    o.wscale = ws > 14 ? -1 : static_cast<std::int8_t>(ws);
    o.sack = (tsecr & 0x10u) != 0;
    return o;
}

} // namespace bulwark::dataplane::syn
