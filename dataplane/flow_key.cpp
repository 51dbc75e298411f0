// SPDX-License-Identifier: Apache-2.0
#include "dataplane/flow_key.hpp"

#include <cstring>

namespace bulwark::dataplane {

keyed make_flow_key(const parsed_frame& f)
{
    keyed out{};
    flow_key& k = out.key;
    const bool v6 = f.l3 == l3_kind::ipv6;
    const std::size_t len = v6 ? 16 : 4;
    k.proto = f.proto;
    k.v6 = v6 ? 1 : 0;
    // (address, port) of each end, ordered: the lower is a
    int c = std::memcmp(f.src.data(), f.dst.data(), len);
    out.src_is_a = c < 0 || (c == 0 && f.sport <= f.dport);
    const auto& lo = out.src_is_a ? f.src : f.dst;
    const auto& hi = out.src_is_a ? f.dst : f.src;
    std::memcpy(k.a.data(), lo.data(), len);
    std::memcpy(k.b.data(), hi.data(), len);
    k.port_a = out.src_is_a ? f.sport : f.dport;
    k.port_b = out.src_is_a ? f.dport : f.sport;
    return out;
}

unsigned flow_lcore(const flow_key& k, unsigned n)
{
    if (n <= 1)
        return 0;
    // FNV-1a over the whole key: the key is already direction-free
    std::uint32_t h = 2166136261u;
    const auto* p = reinterpret_cast<const std::uint8_t*>(&k);
    for (std::size_t i = 0; i < sizeof k; ++i)
        h = (h ^ p[i]) * 16777619u;
    return static_cast<unsigned>((static_cast<std::uint64_t>(h) * n) >> 32);
}

} // namespace bulwark::dataplane
