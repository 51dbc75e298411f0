// SPDX-License-Identifier: Apache-2.0
// Fragment trains and ICMP through process_burst on the test EAL's net_ring
// ports (tests/dataplane/ring_ports.hpp): stateless with the default
// config's reflection rule, and stateful with flows.
#include "controlplane/parser.hpp"
#include "dataplane/acl_table.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/frag_table.hpp"
#include "tests/dataplane/ring_ports.hpp"

#include <rte_cycles.h>

using namespace bulwark;
using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

dataplane::shield_section shield_with(const std::string& body)
{
    auto r = controlplane::load_text("shield edge\n    eal -l 0-1\n    port outside p0\n    port inside p1\n" + body,
                                     "t.cfg", {});
    REQUIRE_FALSE(r.diag.failed());
    REQUIRE(r.cfg.shields.size() == 1);
    return r.cfg.shields[0];
}

constexpr std::uint16_t mf = 0x2000;
const bytes outer{203, 0, 113, 5}, server{10, 10, 0, 2};

// A UDP datagram from src:sport to dst:dport in three fragments of a
// 1 500-byte payload: [0, 488), [488, 976), [976, 1508).
std::vector<bytes> udp_train(bytes src, std::uint16_t sport, bytes dst, std::uint16_t dport, std::uint16_t id)
{
    bytes whole = udp(sport, dport, 1500);
    // the checksum over the whole datagram, as a real sender computes it
    fix_l4(whole, 17, src, dst);
    const auto piece = [&](std::size_t lo, std::size_t hi) {
        return bytes(whole.begin() + static_cast<std::ptrdiff_t>(lo), whole.begin() + static_cast<std::ptrdiff_t>(hi));
    };
    return {v4frame({.proto = 17, .src = src, .dst = dst, .frag = mf, .id = id}, piece(0, 488)),
            v4frame({.proto = 17, .src = src, .dst = dst, .frag = mf | 61, .id = id}, piece(488, 976)),
            v4frame({.proto = 17, .src = src, .dst = dst, .frag = 122, .id = id}, piece(976, whole.size()))};
}

struct rig {
    mbuf_pool pool;
    lcore_ctx w;
    explicit rig(const char* name, std::size_t rules, std::array<std::uint16_t, 2> ports)
        : pool(name), w(rules, {}, ports)
    {
        w.tsc_hz = rte_get_tsc_hz();
    }
    // the frames in one burst from `from`: how many were forwarded
    std::size_t burst(side from, const std::vector<bytes>& frames)
    {
        std::vector<rte_mbuf*> ms;
        for (const bytes& f : frames)
            ms.push_back(pool.frame(f));
        auto out = forwarded(w, from, ms.data(), static_cast<unsigned>(ms.size()));
        const std::size_t n = out.size();
        free_all(out);
        return n;
    }
    std::uint64_t drops(side s, drop_reason r) const { return w.counters.port[s].drops[std::size_t(r)]; }
};

} // namespace

TEST_CASE("pipeline, stateless: a fragmented memcached reflection is dropped whole by the port rule; a valid "
          "fragmented datagram passes whole",
          "[dataplane][pipeline][frag]")
{
    const auto ports = ring_ports();
    auto sh = shield_with("    mode stateless\n    deny udp sport 19,123,1900,11211\n    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_fr");
    REQUIRE(acl);
    frag_table frags(1024, 11);
    rig r("t_pool_fr", (*acl)->rules(), ports);
    r.w.acl = acl->get();
    r.w.frags = &frags;

    // the first fragment matches the rule; the later ones carry no ports and inherit its drop
    CHECK(r.burst(outside, udp_train(outer, 11211, server, 40000, 1)) == 0);
    CHECK(r.drops(outside, drop_reason::acl_deny) == 3);
    CHECK(r.w.rule_hits[0] == 1); // the rule saw the first fragment; the later ones matched no port rule
    // the same, one frame per burst
    for (const bytes& f : udp_train(outer, 11211, server, 40000, 2))
        CHECK(r.burst(outside, {f}) == 0);
    CHECK(r.drops(outside, drop_reason::acl_deny) == 6);

    // a valid datagram: every fragment forwarded, the train completed and freed
    CHECK(r.burst(outside, udp_train(outer, 40001, server, 4000, 3)) == 3);
    CHECK(r.w.frag_counts.trains == 3);
    CHECK(r.w.frag_counts.later == 6);
    CHECK(r.w.frag_counts.completed == 1);
    // a later fragment of no train
    CHECK(r.burst(outside, {udp_train(outer, 40001, server, 4000, 4)[1]}) == 0);
    CHECK(r.drops(outside, drop_reason::frag_no_first) == 1);
    // a fragment overlapping its train's bytes, then the rest of that train
    auto t = udp_train(outer, 40001, server, 4000, 5);
    const bytes overlap = v4frame({.proto = 17, .src = outer, .dst = server, .frag = mf | 50, .id = 5}, bytes(200, 0));
    CHECK(r.burst(outside, {t[0], t[1], overlap, t[2]}) == 2);
    CHECK(r.drops(outside, drop_reason::frag_overlap_train) == 2);
    CHECK(rte_mempool_in_use_count(r.pool.mp) == 0);
}

TEST_CASE("pipeline, stateful: fragments inherit the flow stage's verdicts; ICMP echoes and errors",
          "[dataplane][pipeline][frag][icmp]")
{
    const auto ports = ring_ports();
    auto sh = shield_with("    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_fs");
    REQUIRE(acl);
    auto flows = flow_table::create("t_flows_fs", 1024);
    REQUIRE(flows);
    frag_table frags(1024, 12);
    rig r("t_pool_fs", (*acl)->rules(), ports);
    r.w.acl = acl->get();
    r.w.flows = flows->get();
    r.w.frags = &frags;
    r.w.pickup_until = 0;

    // an unasked memcached answer, fragmented: the reflection drop takes the whole train
    CHECK(r.burst(outside, udp_train(outer, 11211, server, 40000, 1)) == 0);
    CHECK(r.drops(outside, drop_reason::udp_memcached_reflection) == 3);
    // asked for from inside, its fragmented answer passes whole
    CHECK(r.burst(inside, {v4frame({.proto = 17, .src = server, .dst = outer}, udp(40002, 11211))}) == 1);
    CHECK(r.burst(outside, udp_train(outer, 11211, server, 40002, 2)) == 3);

    // ping from inside, its reply; a reply nobody asked for
    bytes echo{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
    bytes reply = echo;
    reply[0] = 0;
    CHECK(r.burst(inside, {v4frame({.proto = 1, .src = server, .dst = outer}, echo)}) == 1);
    CHECK(r.burst(outside, {v4frame({.proto = 1, .src = outer, .dst = server}, reply)}) == 1);
    bytes other = reply;
    other[5] = 0x35; // another identifier
    CHECK(r.burst(outside, {v4frame({.proto = 1, .src = outer, .dst = server}, other)}) == 0);
    CHECK(r.drops(outside, drop_reason::icmp_reply_no_request) == 1);
    // a "reply" from the side that asked is no answer either
    CHECK(r.burst(inside, {v4frame({.proto = 1, .src = server, .dst = outer}, reply)}) == 0);
    CHECK(r.drops(inside, drop_reason::icmp_reply_no_request) == 1);
    // a ping from outside opens its own flow; its reply from inside passes
    bytes echo2 = echo;
    echo2[5] = 0x99;
    bytes reply2 = echo2;
    reply2[0] = 0;
    CHECK(r.burst(outside, {v4frame({.proto = 1, .src = outer, .dst = server}, echo2)}) == 1);
    CHECK(r.burst(inside, {v4frame({.proto = 1, .src = server, .dst = outer}, reply2)}) == 1);

    // errors: a port unreachable quoting the inside server's tracked UDP flow passes; one quoting a flow that
    // does not exist, or nothing readable, is dropped
    const bytes sent = v4frame({.proto = 17, .src = server, .dst = outer}, udp(40002, 11211));
    const auto error_quoting = [&](const bytes& quoted_frame) {
        bytes m{3, 3, 0, 0, 0, 0, 0, 0};
        m.insert(m.end(), quoted_frame.begin() + 14, quoted_frame.begin() + 14 + 28);
        return v4frame({.proto = 1, .src = {198, 51, 100, 1}, .dst = server}, m);
    };
    CHECK(r.burst(outside, {error_quoting(sent)}) == 1);
    CHECK(r.burst(outside, {error_quoting(v4frame({.proto = 17, .src = server, .dst = outer}, udp(40003, 11211)))}) == 0);
    bytes nothing{3, 3, 0, 0, 0, 0, 0, 0, 0x45, 0};
    CHECK(r.burst(outside, {v4frame({.proto = 1, .src = {198, 51, 100, 1}, .dst = server}, nothing)}) == 0);
    CHECK(r.drops(outside, drop_reason::icmp_error_no_flow) == 2);
    // in the pickup window an error quoting an unknown flow passes (it may predate the start); an unreadable
    // quote still does not
    r.w.pickup_until = ~0ull;
    CHECK(r.burst(outside, {error_quoting(v4frame({.proto = 17, .src = server, .dst = outer}, udp(40003, 11211)))}) == 1);
    CHECK(r.burst(outside, {v4frame({.proto = 1, .src = {198, 51, 100, 1}, .dst = server}, nothing)}) == 0);
    CHECK(r.drops(outside, drop_reason::icmp_error_no_flow) == 3);
    r.w.pickup_until = 0;
    // types not tracked pass: a timestamp request, an IPv6 neighbour solicitation
    CHECK(r.burst(outside, {v4frame({.proto = 1, .src = outer, .dst = server}, bytes{13, 0, 0, 0, 0, 1, 0, 1})}) == 1);
    CHECK(r.burst(outside, {eth(0x86dd, ipv6(58, bytes{135, 0, 0, 0, 0, 0, 0, 0}, v6a, v6b))}) == 1);
    CHECK(flows->get()->size() == 3); // the UDP flow and the two echoes
    CHECK(rte_mempool_in_use_count(r.pool.mp) == 0);
}
