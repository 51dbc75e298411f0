// SPDX-License-Identifier: Apache-2.0
#include "tools/bench/bench_mixes.hpp"

#include "dataplane/flow_key.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/tcp_track.hpp"

#include <fmt/format.h>

#include <span>
#include <unordered_set>

namespace bulwark::bench {

using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

bytes v4(std::uint32_t a)
{
    return {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16), static_cast<std::uint8_t>(a >> 8),
            static_cast<std::uint8_t>(a)};
}

// A random address of the blocklist's space; 10/8 left to the flows.
std::uint32_t random_addr(std::mt19937& rng)
{
    for (;;) {
        const std::uint32_t a = 0x01000000u + rng() % (99u << 24);
        if (a >> 24 != 10)
            return a;
    }
}

std::uint16_t port(std::mt19937& rng) { return static_cast<std::uint16_t>(1024 + rng() % 64000); }

} // namespace

std::vector<bulwark::cidr> random_sources(std::size_t n, std::mt19937& rng)
{
    std::unordered_set<std::uint32_t> seen;
    std::vector<bulwark::cidr> out;
    out.reserve(n);
    while (out.size() < n) {
        const std::uint32_t a = random_addr(rng);
        if (!seen.insert(a).second)
            continue;
        bulwark::cidr c;
        c.prefix = 32;
        const bytes b = v4(a);
        std::copy(b.begin(), b.end(), c.net.bytes.begin());
        out.push_back(c);
    }
    return out;
}

bytes flow_frame(std::uint32_t i)
{
    return v4frame({.proto = 6, .src = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                                        static_cast<std::uint8_t>(i)}},
                   testing::tcp(static_cast<std::uint16_t>(1024 + (i >> 24)), 80, 0x10));
}

std::uint32_t fill_flows(flow_table& flows, std::uint32_t n)
{
    std::uint32_t i = 0;
    for (; i < n; ++i) {
        const bytes f = flow_frame(i);
        parsed_frame p;
        parse_frame(std::as_bytes(std::span(f)), p);
        const keyed k = make_flow_key(p);
        const std::int32_t at = flows.insert(k.key, 0);
        if (at < 0)
            break;
        flow_entry& e = flows.at(at);
        e.tcp.st = dataplane::tcp::state::established;
        e.tcp.picked_up = true; // windows learnt, not checked: these frames carry no real sequence numbers
        e.original_is_a = k.src_is_a;
        e.timeout = ~0u;
    }
    return i;
}

std::vector<mix> make_mixes(const std::vector<bulwark::cidr>& listed, std::uint32_t flows, std::size_t per_mix,
                            std::mt19937& rng)
{
    std::unordered_set<std::uint32_t> on_list;
    for (const auto& c : listed)
        on_list.insert(std::uint32_t{c.net.bytes[0]} << 24 | std::uint32_t{c.net.bytes[1]} << 16 |
                       std::uint32_t{c.net.bytes[2]} << 8 | c.net.bytes[3]);
    auto unlisted = [&] {
        for (;;)
            if (std::uint32_t a = random_addr(rng); !on_list.count(a))
                return v4(a);
    };
    auto blocked = [&] {
        if (listed.empty())
            return unlisted();
        const auto& b = listed[rng() % listed.size()].net.bytes;
        return bytes(b.begin(), b.begin() + 4);
    };
    auto flow = [&] { return flow_frame(static_cast<std::uint32_t>(rng() % std::max<std::uint32_t>(1, flows))); };
    auto denied = [&] { return v4frame({.proto = 17, .src = unlisted()}, udp(rng() % 2 ? 123 : 11211, port(rng), 48)); };
    auto malformed = [&](std::size_t i) {
        switch (i % 4) {
        case 0:
            return v4frame({.proto = 6, .src = unlisted(), .bad_checksum = true}, testing::tcp(port(rng)));
        case 1:
            return v4frame({.proto = 6, .src = unlisted()}, testing::tcp(port(rng), 80, 0x03)); // SYN+FIN
        case 2:
            return v4frame({.proto = 6, .src = {127, 0, 0, 2}}, testing::tcp(port(rng)));         // martian
        default:
            return v4frame({.proto = 17, .src = unlisted()}, udp(port(rng), 53, 4, 200));         // UDP length
        }
    };

    std::vector<mix> out(7);
    out[0].name = "valid TCP/UDP, stateless (forwarded)";
    out[1].name = fmt::format("valid TCP, stateful, {}k flows (forwarded)", flows / 1000);
    out[1].stateful = true;
    out[2].name = "malformed (dropped)";
    out[3].name = "ACL-denied (dropped)";
    out[4].name = fmt::format("blocklisted of {}k (dropped)", listed.size() / 1000);
    out[6].name = "spoofed SYN flood, syn-guard always (cookies)";
    out[6].stateful = out[6].guarded = true;
    // MSS 1460, SACK permitted, timestamps, window scale 7: Linux's SYN
    const bytes syn_options{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    auto spoofed_syn = [&] {
        bytes t = testing::tcp(port(rng), 80, 0x02, 10);
        std::copy(syn_options.begin(), syn_options.end(), t.begin() + 20);
        for (int k = 4; k < 8; ++k)
            t[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(rng());
        return v4frame({.proto = 6, .src = unlisted()}, t);
    };
    out[5].name = "mixed attack, stateful (1/4 passes)";
    out[5].stateful = true;
    for (std::size_t i = 0; i < per_mix; ++i) {
        if (i % 2)
            out[0].frames.push_back(v4frame({.proto = 6, .src = unlisted()}, testing::tcp(port(rng), 80, i % 4 == 1 ? 0x02 : 0x10)));
        else
            out[0].frames.push_back(v4frame({.proto = 17, .src = unlisted()}, udp(port(rng), 53, 18)));
        out[1].frames.push_back(flow());
        out[2].frames.push_back(malformed(i));
        out[3].frames.push_back(denied());
        out[4].frames.push_back(v4frame({.proto = 6, .src = blocked()}, testing::tcp(port(rng))));
        out[6].frames.push_back(spoofed_syn());
        switch (i % 4) {
        case 0: out[5].frames.push_back(flow()); break;
        case 1: out[5].frames.push_back(v4frame({.proto = 6, .src = blocked()}, testing::tcp(port(rng)))); break;
        case 2: out[5].frames.push_back(denied()); break;
        default: out[5].frames.push_back(malformed(i / 4)); break;
        }
    }
    return out;
}

} // namespace bulwark::bench
