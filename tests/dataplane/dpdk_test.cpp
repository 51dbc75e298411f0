// SPDX-License-Identifier: Apache-2.0
// The DPDK layer of the pipeline, on EAL in memory: the rte_acl tries, the
// blocklist, a burst through worker_state::filter with exact counters and
// drop samples, and the pcapng EPB encoding.
#include "controlplane/parser.hpp"
#include "dataplane/acl_table.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/pcapng_writer.hpp"
#include "dataplane/pipeline.hpp"
#include "tests/dataplane/eal.hpp"
#include "tests/dataplane/frames.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

using namespace bulwark;
using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

dataplane::shield_section shield_of(const std::string& body)
{
    auto r = controlplane::load_text("shield edge\n    eal -l 0-1\n    port outside p0\n    port inside p1\n"
                                     "    host-port bw0 address 10.10.0.100/24\n" + body,
                                     "t.cfg", {});
    INFO(body);
    REQUIRE_FALSE(r.diag.failed());
    REQUIRE(r.cfg.shields.size() == 1);
    return r.cfg.shields[0];
}

parsed_frame parsed(const bytes& f)
{
    parsed_frame p;
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    return p;
}

std::uint32_t classify(const acl_table& t, const bytes& f)
{
    parsed_frame p = parsed(f);
    const parsed_frame* pp = &p;
    std::uint32_t r = 99;
    t.classify(&pp, 1, &r);
    return r;
}

bytes v4udp(bytes src, std::uint16_t sport, std::uint16_t dport, bytes dst = {10, 10, 0, 2})
{
    return v4frame({.proto = 17, .src = src, .dst = dst}, udp(sport, dport));
}
bytes v4tcp(bytes src, std::uint16_t dport, bytes dst = {10, 10, 0, 2})
{
    return v4frame({.proto = 6, .src = src, .dst = dst}, tcp(40000, dport));
}
const bytes c1{192, 0, 2, 9};

bulwark::cidr net(std::string_view w)
{
    auto c = bulwark::parse_cidr(w);
    REQUIRE(c);
    return *c;
}
bulwark::ip_addr ip(std::string_view w) { return net(w).net; }

} // namespace

TEST_CASE("acl: first match wins, ports, protocols, families, default", "[dataplane][acl]")
{
    ensure_eal();
    auto sh = shield_of("    deny udp sport 19,123,1900,11211\n"          // 1
                        "    allow tcp src 192.0.2.0/24 dport 22\n"       // 2
                        "    deny tcp dport 22\n"                         // 3
                        "    punt tcp dst 10.10.0.100 dport 80,443\n"     // 4
                        "    deny ip src 2001:db8:dead::/48\n"            // 5
                        "    deny icmpv6\n"                               // 6
                        "    allow udp dport 1000-2000\n"                 // 7
                        "    deny 47\n"                                   // 8: gre by number
                        "    default deny\n");
    auto t = acl_table::build(sh.rules, sh.default_verdict, "t_acl_a");
    REQUIRE(t);
    const acl_table& a = **t;
    CHECK(a.rules() == 8);
    // one ACL rule per port pair and family: 4x2 + 1 (v4 src) + 2 + 2 (v4 dst, 2 ports) + 1 (v6 src)
    // + 1 (icmpv6) + 2 + 2
    CHECK(a.acl_rules() == 19);

    // reflection sources, each port of the list, not the neighbours
    for (std::uint16_t p : {19, 123, 1900, 11211})
        CHECK(classify(a, v4udp(c1, p, 5000)) == 1);
    for (std::uint16_t p : {18, 20, 122, 124, 11210, 11212})
        CHECK(classify(a, v4udp(c1, p, 5000)) == 0);
    CHECK(a.verdict_of(1) == verdict::deny);
    CHECK(a.verdict_of(0) == verdict::deny); // the default

    // first match: 192.0.2.0/24 to 22 is allowed before the deny of 22
    CHECK(classify(a, v4tcp(c1, 22)) == 2);
    CHECK(classify(a, v4tcp({192, 0, 3, 1}, 22)) == 3);
    CHECK(classify(a, v4tcp({192, 0, 3, 1}, 23)) == 0);
    // dst and port list
    CHECK(classify(a, v4tcp(c1, 80, {10, 10, 0, 100})) == 4);
    CHECK(classify(a, v4tcp(c1, 443, {10, 10, 0, 100})) == 4);
    CHECK(classify(a, v4tcp(c1, 80, {10, 10, 0, 101})) == 0);
    CHECK(a.verdict_of(4) == verdict::punt);
    // range ends
    CHECK(classify(a, v4udp(c1, 5000, 1000)) == 7);
    CHECK(classify(a, v4udp(c1, 5000, 2000)) == 7);
    CHECK(classify(a, v4udp(c1, 5000, 2001)) == 0);
    CHECK(classify(a, v4udp(c1, 5000, 999)) == 0);
    // protocol by number, no ports
    CHECK(classify(a, v4frame({.proto = 47, .src = c1}, bytes(8, 0))) == 8);

    // IPv6: the /48 source for any protocol, icmpv6, and the v4-less rules
    bytes in48{0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5};
    bytes out48{0x20, 0x01, 0x0d, 0xb8, 0xde, 0xae, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5};
    CHECK(classify(a, eth(0x86dd, ipv6(17, udp(5000, 53), in48, v6b))) == 5);
    CHECK(classify(a, eth(0x86dd, ipv6(17, udp(5000, 53), out48, v6b))) == 0);
    CHECK(classify(a, eth(0x86dd, ipv6(17, udp(123, 53), out48, v6b))) == 1);
    CHECK(classify(a, eth(0x86dd, ipv6(58, icmp(8), out48, v6b))) == 6);
    CHECK(classify(a, eth(0x86dd, ipv6(6, tcp(40000, 22), out48, v6b))) == 3);

    // non-IP frames are not classified
    bytes arp = eth(0x0806, bytes(28, 0));
    parsed_frame p = parsed(arp);
    const parsed_frame* pp = &p;
    std::uint32_t r = 99;
    a.classify(&pp, 1, &r);
    CHECK(r == 0);
}

TEST_CASE("acl: a later fragment has no ports, so port rules pass it", "[dataplane][acl]")
{
    ensure_eal();
    auto sh = shield_of("    deny udp sport 123\n    deny udp src 203.0.113.0/24\n");
    auto t = acl_table::build(sh.rules, sh.default_verdict, "t_acl_f");
    REQUIRE(t);
    // offset 185*8: a later fragment of an NTP reply
    bytes later = v4frame({.proto = 17, .src = c1, .frag = 185}, bytes(64, 0));
    CHECK(classify(**t, later) == 0);
    bytes later2 = v4frame({.proto = 17, .src = {203, 0, 113, 4}, .frag = 185}, bytes(64, 0));
    CHECK(classify(**t, later2) == 2);
}

TEST_CASE("acl: no rules, each default", "[dataplane][acl]")
{
    ensure_eal();
    auto deny = acl_table::build({}, verdict::deny, "t_acl_e1");
    REQUIRE(deny);
    CHECK(classify(**deny, v4tcp(c1, 80)) == 0);
    CHECK((*deny)->verdict_of(0) == verdict::deny);
    auto allow = acl_table::build({}, verdict::allow, "t_acl_e2");
    REQUIRE(allow);
    CHECK((*allow)->verdict_of(0) == verdict::allow);
}

TEST_CASE("blocklist: hosts and prefixes of both families, TTLs, removal", "[dataplane][blocklist]")
{
    ensure_eal();
    auto made = blocklist::create("t_bl_a", 4096, nullptr);
    REQUIRE(made);
    blocklist& b = **made;
    std::vector<bulwark::cidr> nets{net("203.0.113.7"), net("198.51.100.0/24"), net("2001:db8::5"),
                                         net("2001:db8:bad::/48"), net("10.0.0.0/8")};
    REQUIRE(b.add(nets));
    CHECK(b.size() == 5);
    CHECK(b.blocked(ip("203.0.113.7")));
    CHECK_FALSE(b.blocked(ip("203.0.113.8")));
    CHECK(b.blocked(ip("198.51.100.0")));
    CHECK(b.blocked(ip("198.51.100.255")));
    CHECK_FALSE(b.blocked(ip("198.51.101.0")));
    CHECK(b.blocked(ip("10.200.3.4")));
    CHECK(b.blocked(ip("2001:db8::5")));
    CHECK_FALSE(b.blocked(ip("2001:db8::6")));
    CHECK(b.blocked(ip("2001:db8:bad:ffff::1")));
    CHECK_FALSE(b.blocked(ip("2001:db8:bae::1")));

    // a TTL: blocked now, not once it has passed (the readers check it),
    // then expire() removes it
    const std::uint64_t hz = rte_get_tsc_hz();
    REQUIRE(b.add(net("192.0.2.1"), std::chrono::seconds(30)));
    REQUIRE(b.add(net("192.0.2.128/25"), std::chrono::seconds(30)));
    parsed_frame f1, f2;
    f1.l3 = f2.l3 = l3_kind::ipv4;
    f1.src = ip("192.0.2.1").bytes;
    f2.src = ip("192.0.2.200").bytes;
    const parsed_frame* fs[] = {&f1, &f2};
    bool hit[2];
    b.lookup(fs, 2, rte_rdtsc(), hit);
    CHECK(hit[0]);
    CHECK(hit[1]);
    b.lookup(fs, 2, rte_rdtsc() + 31 * hz, hit);
    CHECK_FALSE(hit[0]);
    CHECK_FALSE(hit[1]);
    CHECK(b.size() == 7);
    CHECK(b.expire(rte_rdtsc()) == 0);
    CHECK(b.expire(rte_rdtsc() + 31 * hz) == 2);
    CHECK(b.size() == 5);
    CHECK(b.blocked(ip("10.1.1.1"))); // permanent entries stay

    // re-adding refreshes; removal of each kind
    REQUIRE(b.add(net("203.0.113.7")));
    CHECK(b.size() == 5);
    CHECK(b.remove(net("203.0.113.7")));
    CHECK_FALSE(b.remove(net("203.0.113.7")));
    CHECK_FALSE(b.blocked(ip("203.0.113.7")));
    CHECK(b.remove(net("10.0.0.0/8")));
    CHECK_FALSE(b.blocked(ip("10.1.1.1")));
    CHECK(b.blocked(ip("198.51.100.9")));
    CHECK(b.size() == 3);
}

TEST_CASE("blocklist: a full host table is refused with a message, nothing lost", "[dataplane][blocklist]")
{
    ensure_eal();
    auto made = blocklist::create("t_bl_full", 1024, nullptr);
    REQUIRE(made);
    std::vector<bulwark::cidr> many;
    for (unsigned i = 0; i < 5000; ++i) {
        bulwark::cidr c;
        c.prefix = 32;
        c.net.bytes = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
        many.push_back(c);
    }
    auto r = (*made)->add(many);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.message(), Catch::Contains("the table is full"));
    CHECK((*made)->blocked(many[0].net)); // what went in before stays
}

namespace {

struct mbuf_pool {
    rte_mempool* mp;
    explicit mbuf_pool(const char* name) : mp(rte_pktmbuf_pool_create(name, 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0))
    {
        REQUIRE(mp);
    }
    ~mbuf_pool() { rte_mempool_free(mp); }
    rte_mbuf* frame(const bytes& f)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(mp);
        REQUIRE(m);
        char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size()));
        REQUIRE(d);
        std::memcpy(d, f.data(), f.size());
        return m;
    }
};

} // namespace

TEST_CASE("pipeline: a burst is filtered in order, every drop counted and sampled with its reason", "[dataplane][pipeline]")
{
    ensure_eal();
    auto sh = shield_of("    block src 203.0.113.0/24\n    deny udp sport 123\n    allow icmp\n    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_p");
    REQUIRE(acl);
    auto bl = blocklist::create("t_bl_p", 1024, nullptr);
    REQUIRE(bl);
    REQUIRE((*bl)->add(sh.blocks));
    mbuf_pool pool("t_pool_p");
    rte_mempool* samples = rte_mempool_create("t_samples", 63, sizeof(drop_sample), 0, 0, nullptr, nullptr, nullptr,
                                              nullptr, 0, 0);
    rte_ring* ring = rte_ring_create("t_samples", 64, 0, RING_F_SC_DEQ);
    REQUIRE(samples);
    REQUIRE(ring);
    worker_state w((*acl)->rules(), {samples, ring, 2}, {7, 8});
    pipeline_tables t{acl->get(), bl->get()};

    const bytes ok = v4udp(c1, 5000, 53);
    const bytes ntp = v4udp(c1, 123, 5000);
    const bytes bad = v4frame({.proto = 17, .src = c1, .bad_checksum = true}, udp());
    const bytes listed = v4udp({203, 0, 113, 9}, 5000, 53);
    const bytes arp = eth(0x0806, bytes(28, 0));
    std::vector<bytes> burst{ok, ntp, bad, listed, arp, bad, ok, bad, ntp};
    rte_mbuf* pkts[burst_size];
    for (std::size_t i = 0; i < burst.size(); ++i)
        pkts[i] = pool.frame(burst[i]);
    rte_mbuf* keep[3] = {pkts[0], pkts[4], pkts[6]};
    unsigned pass = w.filter(t, outside, pkts, static_cast<unsigned>(burst.size()));
    REQUIRE(pass == 3);
    CHECK(pkts[0] == keep[0]);
    CHECK(pkts[1] == keep[1]);
    CHECK(pkts[2] == keep[2]);
    const port_counters& c = w.counters.port[outside];
    CHECK(c.rx == 9);
    CHECK(c.drops[std::size_t(drop_reason::ipv4_bad_checksum)] == 3);
    CHECK(c.drops[std::size_t(drop_reason::acl_deny)] == 2);
    CHECK(c.drops[std::size_t(drop_reason::blocklisted)] == 1);
    std::uint64_t total = 0;
    for (auto d : c.drops)
        total += d;
    CHECK(total == 6);
    CHECK(w.counters.port[inside].rx == 0);
    CHECK(w.rule_hits[0] == 2);           // deny udp sport 123
    CHECK(w.rule_hits[1] == 0);           // allow icmp
    CHECK(w.rule_hits.back() == 2);       // the default: the two valid UDP frames (not ARP)

    // samples: two per reason per second, so 2 + 2 + 1
    std::vector<drop_reason> reasons;
    void* obj;
    while (rte_ring_sc_dequeue(ring, &obj) == 0) {
        auto* s = static_cast<drop_sample*>(obj);
        reasons.push_back(s->reason);
        CHECK(s->port_id == 7);
        CHECK(s->side == outside);
        CHECK(s->caplen == s->len);
        rte_mempool_put(samples, obj);
    }
    // in frame order; the third bad checksum is over the budget
    CHECK(reasons == std::vector{drop_reason::acl_deny, drop_reason::ipv4_bad_checksum, drop_reason::blocklisted,
                                 drop_reason::ipv4_bad_checksum, drop_reason::acl_deny});
    rte_pktmbuf_free_bulk(pkts, pass);
    CHECK(rte_mempool_in_use_count(pool.mp) == 0); // the drops were freed
    rte_ring_free(ring);
    rte_mempool_free(samples);
}

TEST_CASE("pcapng: an enhanced packet block carries the frame and the drop reason as its comment", "[dataplane][pcapng]")
{
    drop_sample s{};
    s.port_id = 1;
    s.side = inside;
    s.reason = drop_reason::tcp_bad_flags;
    s.len = 60;
    s.caplen = 5;
    std::memcpy(s.bytes, "abcde", 5);
    auto b = pcapng_writer::epb(s, 0x0000000100000002ull);
    auto u32 = [&](std::size_t at) {
        std::uint32_t v;
        std::memcpy(&v, b.data() + at, 4);
        return v;
    };
    REQUIRE(b.size() % 4 == 0);
    CHECK(u32(0) == 6);
    CHECK(u32(4) == b.size());
    CHECK(u32(b.size() - 4) == b.size());
    CHECK(u32(8) == 1);  // interface = port
    CHECK(u32(12) == 1); // timestamp high
    CHECK(u32(16) == 2); // timestamp low
    CHECK(u32(20) == 5);
    CHECK(u32(24) == 60);
    CHECK(std::memcmp(b.data() + 28, "abcde\0\0\0", 8) == 0);
    std::string text(reinterpret_cast<const char*>(b.data()) + 40, b.size() - 40);
    CHECK_THAT(text, Catch::Contains("bulwark drop: tcp_bad_flags (port 1, inside)"));
}

TEST_CASE("pipeline: a frame in two segments is validated whole; a NIC-checked L4 checksum is not summed again",
          "[dataplane][pipeline]")
{
    ensure_eal();
    auto sh = shield_of("    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_s");
    REQUIRE(acl);
    mbuf_pool pool("t_pool_s");
    worker_state w((*acl)->rules(), {}, {0, 1});
    pipeline_tables t{acl->get(), nullptr};

    // a 3000-byte UDP datagram split after 1000 bytes, as a PMD chains a jumbo frame
    auto chained = [&](const bytes& f) {
        rte_mbuf* head = pool.frame(bytes(f.begin(), f.begin() + 1000));
        rte_mbuf* tail = pool.frame(bytes(f.begin() + 1000, f.end()));
        REQUIRE(rte_pktmbuf_chain(head, tail) == 0);
        return head;
    };
    const bytes big = v4frame({.proto = 17, .src = c1}, udp(5000, 53, 3000));
    const bytes big_bad = v4frame({.proto = 17, .src = c1, .bad_l4_checksum = true}, udp(5000, 53, 3000));
    rte_mbuf* pkts[2] = {chained(big), chained(big_bad)};
    REQUIRE(pkts[0]->nb_segs == 2);
    unsigned pass = w.filter(t, inside, pkts, 2);
    CHECK(pass == 1);
    CHECK(w.counters.port[inside].drops[std::size_t(drop_reason::udp_bad_checksum)] == 1);
    rte_pktmbuf_free_bulk(pkts, pass);

    // the same bad checksum, marked good by the "NIC": passes (its check is trusted)
    rte_mbuf* m = pool.frame(v4frame({.proto = 6, .src = c1, .bad_l4_checksum = true}, tcp()));
    m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    rte_mbuf* one[1] = {m};
    CHECK(w.filter(t, inside, one, 1) == 1);
    rte_pktmbuf_free(m);
    rte_mbuf* m2 = pool.frame(v4frame({.proto = 6, .src = c1, .bad_l4_checksum = true}, tcp()));
    one[0] = m2;
    CHECK(w.filter(t, inside, one, 1) == 0); // unknown: summed, and dropped
    CHECK(w.counters.port[inside].drops[std::size_t(drop_reason::tcp_bad_checksum)] == 1);
    CHECK(rte_mempool_in_use_count(pool.mp) == 0);
}
