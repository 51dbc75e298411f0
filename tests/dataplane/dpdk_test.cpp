// SPDX-License-Identifier: Apache-2.0
// The DPDK layer of the pipeline, on EAL in memory: the rte_acl tries, the
// blocklist, a burst through the stages of one lcore_ctx with exact
// counters and drop samples, where each verdict sends a frame (net_ring
// ports that loop TX back to RX, and a punt ring), the lcore mailbox, and
// the pcapng EPB encoding.
#include "controlplane/parser.hpp"
#include "dataplane/acl_table.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/flow_census.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/pcapng_writer.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/syn_guard.hpp"
#include "dataplane/tcp_rewrite.hpp"
#include "dataplane/worker.hpp"
#include "tests/dataplane/eal.hpp"
#include "tests/dataplane/frames.hpp"
#include "tests/dataplane/ring_ports.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

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
    return v4frame({.proto = 6, .src = src, .dst = dst}, bulwark::dataplane::testing::tcp(40000, dport));
}
const bytes c1{192, 0, 2, 9};

bulwark::cidr net(std::string_view w)
{
    auto c = bulwark::parse_cidr(w);
    REQUIRE(c);
    return *c;
}
bulwark::ip_addr addr(std::string_view w) { return net(w).net; }

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
    CHECK(classify(a, eth(0x86dd, ipv6(6, bulwark::dataplane::testing::tcp(40000, 22), out48, v6b))) == 3);

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
    CHECK(b.blocked(addr("203.0.113.7")));
    CHECK_FALSE(b.blocked(addr("203.0.113.8")));
    CHECK(b.blocked(addr("198.51.100.0")));
    CHECK(b.blocked(addr("198.51.100.255")));
    CHECK_FALSE(b.blocked(addr("198.51.101.0")));
    CHECK(b.blocked(addr("10.200.3.4")));
    CHECK(b.blocked(addr("2001:db8::5")));
    CHECK_FALSE(b.blocked(addr("2001:db8::6")));
    CHECK(b.blocked(addr("2001:db8:bad:ffff::1")));
    CHECK_FALSE(b.blocked(addr("2001:db8:bae::1")));

    // a TTL: blocked now, not once it has passed (the readers check it),
    // then expire() removes it
    const std::uint64_t hz = rte_get_tsc_hz();
    REQUIRE(b.add(net("192.0.2.1"), std::chrono::seconds(30)));
    REQUIRE(b.add(net("192.0.2.128/25"), std::chrono::seconds(30)));
    parsed_frame f1, f2;
    f1.l3 = f2.l3 = l3_kind::ipv4;
    f1.src = addr("192.0.2.1").bytes;
    f2.src = addr("192.0.2.200").bytes;
    const parsed_frame* fs[] = {&f1, &f2};
    drop_reason hit[2];
    b.lookup(fs, 2, rte_rdtsc(), hit);
    CHECK(hit[0] == drop_reason::blocklisted);
    CHECK(hit[1] == drop_reason::blocklisted);
    b.lookup(fs, 2, rte_rdtsc() + 31 * hz, hit);
    CHECK(hit[0] == drop_reason::none);
    CHECK(hit[1] == drop_reason::none);
    CHECK(b.size() == 7);
    CHECK(b.expire(rte_rdtsc()) == 0);
    CHECK(b.expire(rte_rdtsc() + 31 * hz) == 2);
    CHECK(b.size() == 5);
    CHECK(b.blocked(addr("10.1.1.1"))); // permanent entries stay

    // re-adding refreshes; removal of each kind
    REQUIRE(b.add(net("203.0.113.7")));
    CHECK(b.size() == 5);
    CHECK(b.remove(net("203.0.113.7")));
    CHECK_FALSE(b.remove(net("203.0.113.7")));
    CHECK_FALSE(b.blocked(addr("203.0.113.7")));
    CHECK(b.remove(net("10.0.0.0/8")));
    CHECK_FALSE(b.blocked(addr("10.1.1.1")));
    CHECK(b.blocked(addr("198.51.100.9")));
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
    const auto ports = ring_ports();
    lcore_ctx w((*acl)->rules(), {samples, ring, 2}, ports);
    w.acl = acl->get();
    w.blocks = bl->get();

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
    auto out = forwarded(w, outside, pkts, static_cast<unsigned>(burst.size()));
    REQUIRE(out.size() == 3);
    CHECK(out[0] == keep[0]);
    CHECK(out[1] == keep[1]);
    CHECK(out[2] == keep[2]);
    CHECK(sent_on(ports[outside]).empty());
    const port_counters& c = w.counters.port[outside];
    CHECK(c.rx == 9);
    CHECK(w.counters.port[inside].tx == 3);
    CHECK(c.tx == 0);
    CHECK(c.drops[std::size_t(drop_reason::ipv4_bad_checksum)] == 3);
    CHECK(c.drops[std::size_t(drop_reason::acl_deny)] == 2);
    CHECK(c.drops[std::size_t(drop_reason::blocklisted)] == 1);
    std::uint64_t total = 0;
    for (const auto& d : c.drops)
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
        CHECK(s->port_id == ports[outside]);
        CHECK(s->side == outside);
        CHECK(s->caplen == s->len);
        rte_mempool_put(samples, obj);
    }
    // in frame order; the third bad checksum is over the budget
    CHECK(reasons == std::vector{drop_reason::acl_deny, drop_reason::ipv4_bad_checksum, drop_reason::blocklisted,
                                 drop_reason::ipv4_bad_checksum, drop_reason::acl_deny});
    free_all(out);
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

TEST_CASE("pcapng: the capture file is a regular file we create, never a link, FIFO or directory, and has a cap",
          "[dataplane][pcapng]")
{
    ensure_eal();
    char tmpl[] = "/tmp/bw_pcapng_XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    const std::string dir = tmpl;
    const std::string target = dir + "/target", link = dir + "/link", fifo = dir + "/fifo";
    {
        std::FILE* f = std::fopen(target.c_str(), "w");
        REQUIRE(f);
        std::fputs("precious", f);
        std::fclose(f);
    }
    REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto l = pcapng_writer::open(link, 1 << 20);
    REQUIRE_FALSE(l);
    CHECK(l.message() == "cannot open '" + link + "': it is a symbolic link");
    auto f = pcapng_writer::open(fifo, 1 << 20);
    REQUIRE_FALSE(f);
    CHECK(f.message() == "cannot open '" + fifo + "': not a regular file");
    CHECK_FALSE(pcapng_writer::open(dir, 1 << 20));
    struct stat st {};
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK(st.st_size == 8); // the link's target untouched

    // a cap of 8 KiB: the header blocks, then whole frames until the next would not fit
    const std::string cap = dir + "/cap.pcapng";
    auto w = pcapng_writer::open(cap, 8192);
    REQUIRE(w);
    drop_sample s{};
    s.len = s.caplen = sizeof(s.bytes);
    const std::size_t frame = pcapng_writer::epb(s, 0).size();
    for (int i = 0; i < 100; ++i)
        (*w)->add(s);
    (*w)->flush();
    REQUIRE(::stat(cap.c_str(), &st) == 0);
    CHECK(static_cast<std::uint64_t>(st.st_size) <= 8192);
    CHECK(static_cast<std::uint64_t>(st.st_size) + frame > 8192);
    CHECK((*w)->written() + (*w)->refused() == 100);
    CHECK((*w)->refused() > 0);
    w->reset();
    for (const auto& p : {target, link, fifo, cap})
        ::unlink(p.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("pipeline: a frame in two segments is validated whole; a NIC-checked L4 checksum is not summed again",
          "[dataplane][pipeline]")
{
    ensure_eal();
    auto sh = shield_of("    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_s");
    REQUIRE(acl);
    mbuf_pool pool("t_pool_s");
    lcore_ctx w((*acl)->rules(), {}, ring_ports());
    w.acl = acl->get();

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
    auto out = forwarded(w, inside, pkts, 2);
    CHECK(out.size() == 1);
    CHECK(w.counters.port[inside].drops[std::size_t(drop_reason::udp_bad_checksum)] == 1);
    free_all(out);

    // the same bad checksum, marked good by the "NIC": passes (its check is trusted)
    rte_mbuf* m = pool.frame(v4frame({.proto = 6, .src = c1, .bad_l4_checksum = true}, bulwark::dataplane::testing::tcp()));
    m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    rte_mbuf* one[1] = {m};
    out = forwarded(w, inside, one, 1);
    CHECK(out.size() == 1);
    free_all(out);
    rte_mbuf* m2 = pool.frame(v4frame({.proto = 6, .src = c1, .bad_l4_checksum = true}, bulwark::dataplane::testing::tcp()));
    one[0] = m2;
    CHECK(forwarded(w, inside, one, 1).empty()); // unknown: summed, and dropped
    CHECK(w.counters.port[inside].drops[std::size_t(drop_reason::tcp_bad_checksum)] == 1);
    CHECK(rte_mempool_in_use_count(pool.mp) == 0);
}

TEST_CASE("pipeline: each verdict sends its frame where it says, counted on the right port", "[dataplane][pipeline]")
{
    // rows: the verdict a stage set, where the frame must end up
    const auto ports = ring_ports();
    mbuf_pool pool("t_pool_v");
    test_host h("t_punt_v");
    rte_ring* punts = h.punts;
    lcore_ctx w(0, {}, ports);
    h.attach(w);

    const pkt_verdict fwd{pkt_action::forward, drop_reason::none}, reply{pkt_action::reply, drop_reason::none},
        punt{pkt_action::punt, drop_reason::none}, deny{pkt_action::drop, drop_reason::acl_deny};
    const std::vector<pkt_verdict> v{fwd, reply, punt, deny, punt, reply, fwd};
    std::vector<rte_mbuf*> pkts;
    for (std::size_t i = 0; i < v.size(); ++i)
        pkts.push_back(pool.frame(v4udp(c1, 5000, static_cast<std::uint16_t>(i + 1))));
    emit(w, outside, pkts.data(), v.data(), static_cast<unsigned>(v.size()));

    const auto to_inside = sent_on(ports[inside]);   // forward: the other port
    const auto to_outside = sent_on(ports[outside]); // reply: the port it came from
    const auto punted = dequeue_all(punts);
    CHECK(to_inside == std::vector{pkts[0], pkts[6]});
    CHECK(to_outside == std::vector{pkts[1], pkts[5]});
    CHECK(punted == std::vector{pkts[2], pkts[4]});
    const port_counters& o = w.counters.port[outside];
    const port_counters& i = w.counters.port[inside];
    CHECK(i.tx == 2);
    CHECK(o.tx == 2);
    CHECK(o.punted == 2);
    CHECK(i.punted == 0);
    CHECK(o.drops[std::size_t(drop_reason::acl_deny)] == 1);
    CHECK(o.rx == 0); // counted by the parse stage, not by emit
    CHECK(pool.in_use() == 6); // the drop was freed
    free_all(to_inside);
    free_all(to_outside);
    free_all(punted);
    CHECK(pool.in_use() == 0);

    // from the inside: forward goes out, reply back in
    std::vector<rte_mbuf*> two{pool.frame(v4udp(c1, 1, 2)), pool.frame(v4udp(c1, 3, 4))};
    const std::vector<pkt_verdict> fr{fwd, reply};
    emit(w, inside, two.data(), fr.data(), 2);
    const auto out2 = sent_on(ports[outside]);
    const auto in2 = sent_on(ports[inside]);
    CHECK(out2 == std::vector{two[0]});
    CHECK(in2 == std::vector{two[1]});
    CHECK(i.tx == 3);
    CHECK(o.tx == 3);
    free_all(out2);
    free_all(in2);
}

TEST_CASE("pipeline: a full punt ring, or none, drops as punt_full and frees; it never waits",
          "[dataplane][pipeline]")
{
    const auto ports = ring_ports();
    mbuf_pool pool("t_pool_pf");
    test_host h("t_punt_pf", 4); // room for 3
    rte_ring* punts = h.punts;
    lcore_ctx w(0, {}, ports);
    h.attach(w);
    const pkt_verdict punt{pkt_action::punt, drop_reason::none};
    std::vector<pkt_verdict> v(5, punt);
    std::vector<rte_mbuf*> pkts;
    for (unsigned i = 0; i < 5; ++i)
        pkts.push_back(pool.frame(v4tcp(c1, 80)));
    emit(w, inside, pkts.data(), v.data(), 5);
    const port_counters& c = w.counters.port[inside];
    CHECK(c.punted == 3);
    CHECK(c.drops[std::size_t(drop_reason::punt_full)] == 2);
    CHECK(pool.in_use() == 3); // the two it did not take were freed
    const auto queued = dequeue_all(punts);
    CHECK(queued == std::vector{pkts[0], pkts[1], pkts[2]});
    free_all(queued);

    // no host port at all: the same drop, not a crash
    w.host = nullptr;
    rte_mbuf* m = pool.frame(v4tcp(c1, 80));
    emit(w, inside, &m, &punt, 1);
    CHECK(c.punted == 3);
    CHECK(c.drops[std::size_t(drop_reason::punt_full)] == 3);
    CHECK(pool.in_use() == 0);
    CHECK(sent_on(ports[outside]).empty());
    CHECK(sent_on(ports[inside]).empty());
}

TEST_CASE("pipeline: a punt rule forwards inline and counts punted until a host port is attached",
          "[dataplane][pipeline]")
{
    const auto ports = ring_ports();
    auto sh = shield_of("    punt tcp dst 10.10.0.100 dport 80\n    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_pr");
    REQUIRE(acl);
    mbuf_pool pool("t_pool_pr");
    lcore_ctx w((*acl)->rules(), {}, ports);
    w.acl = acl->get();
    const bytes vip = v4tcp(c1, 80, {10, 10, 0, 100});
    const bytes other = v4tcp(c1, 80, {10, 10, 0, 2});

    // today: no ring, so forwarded and counted
    rte_mbuf* pkts[2] = {pool.frame(vip), pool.frame(other)};
    auto out = forwarded(w, outside, pkts, 2);
    CHECK(out == std::vector{pkts[0], pkts[1]});
    CHECK(w.counters.port[outside].punted == 1);
    CHECK(w.counters.port[inside].tx == 2);
    CHECK(w.rule_hits[0] == 1);
    CHECK(w.rule_hits.back() == 1);
    free_all(out);

    // with a host port: the VIP's frame goes to its ring, counted once,
    // addressed to the host's MAC (the kernel takes no frame for another)
    test_host h("t_punt_pr");
    h.attach(w);
    rte_mbuf* again[2] = {pool.frame(vip), pool.frame(other)};
    out = forwarded(w, outside, again, 2);
    CHECK(out == std::vector{again[1]});
    const auto queued = dequeue_all(h.punts);
    CHECK(queued == std::vector{again[0]});
    CHECK(std::memcmp(rte_pktmbuf_mtod(again[0], const void*), h.link.mac.data(), 6) == 0);
    CHECK(w.counters.port[outside].punted == 2);
    CHECK(w.counters.port[inside].tx == 3);
    free_all(out);
    free_all(queued);
    CHECK(pool.in_use() == 0);
}

namespace {

// `f` with its Ethernet addresses replaced
bytes addressed(bytes f, const mac_addr& dst, const mac_addr& src)
{
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(src.begin(), src.end(), f.begin() + 6);
    return f;
}

const mac_addr client_mac{0x02, 0, 0, 0, 0, 0x01}, server_mac{0x02, 0, 0, 0, 0, 0x02},
    broadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// an ARP request (RFC 826) for 10.10.0.100 from the client
bytes arp_request()
{
    bytes arp{0, 1, 0x08, 0, 6, 4, 0, 1};
    arp.insert(arp.end(), client_mac.begin(), client_mac.end());
    arp.insert(arp.end(), {10, 10, 0, 1, 0, 0, 0, 0, 0, 0, 10, 10, 0, 100});
    return addressed(eth(0x0806, arp), broadcast, client_mac);
}

} // namespace

TEST_CASE("host port: the bridge learns stations, floods ARP to the host, and switches the host's frames",
          "[dataplane][pipeline][host]")
{
    const auto ports = ring_ports();
    mbuf_pool pool("t_pool_hb");
    test_host h("t_punt_hb");
    lcore_ctx w(0, {}, ports);
    h.attach(w);
    w.tsc_hz = rte_get_tsc_hz();
    const mac_addr& host_mac = h.link.mac;

    // the client's broadcast ARP: to the inside and to the host (one frame, sent twice)
    rte_mbuf* arp = pool.frame(arp_request());
    process_burst(w, outside, &arp, 1);
    auto in = sent_on(ports[inside]);
    auto punted = dequeue_all(h.punts);
    CHECK(in == std::vector{arp});
    CHECK(punted == std::vector{arp});
    CHECK(rte_mbuf_refcnt_read(arp) == 2);
    free_all(in);
    free_all(punted);
    CHECK(pool.in_use() == 0);
    // the server answers something from inside: learned there
    rte_mbuf* srv = pool.frame(addressed(v4udp(c1, 7, 9), client_mac, server_mac));
    process_burst(w, inside, &srv, 1);
    free_all(sent_on(ports[outside]));
    // a frame from outside spoofing the server's MAC does not move it there (the inside is held)
    rte_mbuf* spoof = pool.frame(addressed(v4udp(c1, 7, 9), client_mac, server_mac));
    process_burst(w, outside, &spoof, 1);
    free_all(sent_on(ports[inside]));

    // the host's frames: to where their destination was learned; unknown and group ones to both ports
    const mac_addr stranger{0x02, 0, 0, 0, 0, 0x77};
    rte_mbuf* from_host[4] = {pool.frame(addressed(v4udp(c1, 1, 2), client_mac, host_mac)),
                              pool.frame(addressed(v4udp(c1, 3, 4), server_mac, host_mac)),
                              pool.frame(addressed(v4udp(c1, 5, 6), stranger, host_mac)),
                              pool.frame(addressed(arp_request(), broadcast, host_mac))};
    process_burst(w, host, from_host, 4);
    const auto out = sent_on(ports[outside]);
    in = sent_on(ports[inside]);
    CHECK(out == std::vector{from_host[0], from_host[2], from_host[3]});
    CHECK(in == std::vector{from_host[1], from_host[2], from_host[3]});
    CHECK(dequeue_all(h.punts).empty());
    CHECK(sent_on(h.link.port_id).empty()); // never back to the host
    CHECK(w.counters.port[host].rx == 4);
    free_all(out);
    free_all(in);
    CHECK(pool.in_use() == 0);

    // to the host's MAC: from inside (a server answering the proxy) it goes to the host; from outside
    // only ARP does, anything else no punt rule named is dropped
    bytes arp_reply = arp_request();
    arp_reply[21] = 2; // the ARP opcode: a reply
    rte_mbuf* to_host[3] = {pool.frame(addressed(v4udp(c1, 80, 41000), host_mac, server_mac)),
                            pool.frame(addressed(v4udp(c1, 80, 41000), host_mac, client_mac)),
                            pool.frame(addressed(arp_reply, host_mac, client_mac))};
    process_burst(w, inside, to_host, 1);
    process_burst(w, outside, to_host + 1, 2);
    punted = dequeue_all(h.punts);
    CHECK(punted == std::vector{to_host[0], to_host[2]});
    CHECK(w.counters.port[outside].drops[std::size_t(drop_reason::host_not_punted)] == 1);
    CHECK(w.counters.port[inside].punted == 1);
    CHECK(sent_on(ports[outside]).empty());
    CHECK(sent_on(ports[inside]).empty());
    free_all(punted);
    CHECK(pool.in_use() == 0);

    // the serving lcore's turn: the punt ring's frames go out on the TAP, the TAP's come in
    w.serves_host = true;
    rte_mbuf* queued = pool.frame(addressed(v4udp(c1, 80, 41000), server_mac, host_mac));
    REQUIRE(rte_ring_enqueue(h.punts, queued) == 0);
    std::array<rte_mbuf*, burst_size> loop_burst;
    // net_ring2 loops what was sent on it back to its RX: the host's turn reads it back as the kernel's
    // and switches it to the server, learned on inside
    drain_punts(w, loop_burst);
    CHECK(poll_host(w, loop_burst) == 1);
    const auto on_inside = sent_on(ports[inside]);
    CHECK(on_inside == std::vector{queued});
    CHECK(w.counters.port[host].tx == 1);
    free_all(on_inside);
    CHECK(pool.in_use() == 0);
}

TEST_CASE("lcore: the mailbox takes commands by value and is drained a bounded number per loop", "[dataplane][lcore]")
{
    ensure_eal();
    lcore_ctx w(0, {}, {0, 1});
    CHECK(drain_mailbox(w) == 0); // no mailbox yet: nothing to do
    CHECK_FALSE(post(w, {mbox_op::ping, 0, 1}));
    REQUIRE(open_mailbox(w, "t_mbox_a"));
    for (std::uint64_t i = 1; i <= 20; ++i)
        REQUIRE(post(w, {mbox_op::ping, 0, i}));
    CHECK(drain_mailbox(w) == mailbox_per_loop);
    CHECK(w.pong.load() == mailbox_per_loop);
    CHECK(drain_mailbox(w) == mailbox_per_loop);
    CHECK(drain_mailbox(w) == 20 - 2 * mailbox_per_loop);
    CHECK(drain_mailbox(w) == 0);
    CHECK(w.pong.load() == 20);
    CHECK(w.commands == 20);
    // a full mailbox refuses; the poster decides what to do
    unsigned taken = 0;
    while (post(w, {mbox_op::ping, 0, 99}))
        ++taken;
    CHECK(taken == mailbox_slots - 1);
}

TEST_CASE("worker: the loop polls both ports, answers its mailbox and stops on quit", "[dataplane][lcore]")
{
    const auto ports = ring_ports();
    lcore_ctx w(0, {}, ports);
    REQUIRE(open_mailbox(w, "t_mbox_w"));
    rte_rcu_qsbr* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("t_qs_w", rte_rcu_qsbr_get_memsize(1), 64));
    REQUIRE(qs);
    REQUIRE(rte_rcu_qsbr_init(qs, 1) == 0);
    std::atomic<bool> quit{false};
    w.qs = qs;
    w.quit = &quit;
    std::thread t([&] { worker_main(&w); });
    REQUIRE(post(w, {mbox_op::ping, 0, 42}));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (w.pong.load(std::memory_order_acquire) != 42 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    quit.store(true);
    t.join();
    CHECK(w.pong.load() == 42);
    CHECK(w.commands == 1);
    CHECK(w.counters.port[outside].rx == 0);
    rte_free(qs);
}

namespace {

// A TCP segment from `src`:sport to `dst`:dport with its sequence fields.
bytes seg(bytes src, std::uint16_t sport, bytes dst, std::uint16_t dport, std::uint8_t flags, std::uint32_t seq,
          std::uint32_t ack, std::size_t payload = 0, const bytes& opts = {}, std::uint16_t window = 64000)
{
    bytes t = bulwark::dataplane::testing::tcp(sport, dport, flags, static_cast<std::uint8_t>(5 + opts.size() / 4),
                                               payload);
    std::copy(opts.begin(), opts.end(), t.begin() + 20);
    put16(t, 4, static_cast<std::uint16_t>(seq >> 16));
    put16(t, 6, static_cast<std::uint16_t>(seq));
    put16(t, 8, static_cast<std::uint16_t>(ack >> 16));
    put16(t, 10, static_cast<std::uint16_t>(ack));
    put16(t, 14, window);
    return v4frame({.proto = 6, .src = src, .dst = dst}, t);
}

} // namespace

TEST_CASE("pipeline, stateful: a handshake and its data pass both ways; what no flow explains is dropped",
          "[dataplane][pipeline][flows]")
{
    const auto ports = ring_ports();
    auto sh = shield_of("    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_f");
    REQUIRE(acl);
    auto flows = flow_table::create("t_flows_p", 1024);
    REQUIRE(flows);
    mbuf_pool pool("t_pool_f");
    lcore_ctx w((*acl)->rules(), {}, ports);
    w.acl = acl->get();
    w.flows = flows->get();
    w.tsc_hz = rte_get_tsc_hz();
    w.pickup_until = 0; // no pickup window: every flow starts with a SYN
    const bytes cl{192, 0, 2, 9}, sv{10, 10, 0, 2};
    auto one = [&](side from, const bytes& f) {
        rte_mbuf* m = pool.frame(f);
        auto out = forwarded(w, from, &m, 1);
        const bool passed = out.size() == 1;
        free_all(out);
        return passed;
    };
    auto drops = [&](side s, drop_reason r) { return std::uint64_t(w.counters.port[s].drops[std::size_t(r)]); };

    // the handshake: SYN from outside, SYN/ACK from inside, ACK, then data both ways
    CHECK(one(outside, seg(cl, 40000, sv, 80, 0x02, 1000, 0)));
    CHECK(one(inside, seg(sv, 80, cl, 40000, 0x12, 5000, 1001)));
    CHECK(one(outside, seg(cl, 40000, sv, 80, 0x10, 1001, 5001)));
    CHECK(one(outside, seg(cl, 40000, sv, 80, 0x18, 1001, 5001, 100)));
    CHECK(one(inside, seg(sv, 80, cl, 40000, 0x18, 5001, 1101, 1000)));
    CHECK(flows->get()->size() == 1);
    CHECK(w.flow_counts.active == 1);
    CHECK(w.flow_counts.created == 1);

    // a mid-stream segment of no flow (an ACK flood), a blind RST and a blind SYN: dropped, each with its reason
    CHECK_FALSE(one(outside, seg(cl, 40001, sv, 80, 0x10, 7, 7)));
    CHECK(drops(outside, drop_reason::tcp_not_syn) == 1);
    CHECK_FALSE(one(outside, seg(cl, 40000, sv, 80, 0x04, 900000, 0)));
    CHECK(drops(outside, drop_reason::tcp_rst_out_of_window) == 1);
    CHECK_FALSE(one(outside, seg(cl, 40000, sv, 80, 0x02, 1200, 0)));
    CHECK(drops(outside, drop_reason::tcp_syn_in_window) == 1);
    CHECK_FALSE(one(inside, seg(sv, 80, cl, 40000, 0x18, 5001 + 200000, 1101, 10)));
    CHECK(drops(inside, drop_reason::tcp_out_of_window) == 1);
    // the session goes on, and closes
    CHECK(one(outside, seg(cl, 40000, sv, 80, 0x11, 1101, 6001)));
    CHECK(one(inside, seg(sv, 80, cl, 40000, 0x11, 6001, 1102)));
    CHECK(one(outside, seg(cl, 40000, sv, 80, 0x10, 1102, 6002)));
    CHECK(flows->get()->at(flows->get()->find(make_flow_key(parsed(seg(cl, 40000, sv, 80, 0x10, 0, 0))).key))
              .tcp.st == bulwark::dataplane::tcp::state::time_wait);

    // in the pickup window the same mid-stream segment creates its flow
    w.pickup_until = ~0ull;
    CHECK(one(outside, seg(cl, 40001, sv, 80, 0x10, 7, 7)));
    CHECK(flows->get()->size() == 2);
    // UDP: a datagram from outside to a service opens a pseudo-flow, and its answer passes
    CHECK(one(outside, v4udp(cl, 5000, 53)));
    CHECK(one(inside, v4udp(sv, 53, 5000, cl)));
    CHECK(flows->get()->size() == 3);
    // an inside client's DNS query and NTP request: their answers pass
    CHECK(one(inside, v4udp(sv, 33000, 53, cl)));
    CHECK(one(outside, v4udp(cl, 53, 33000, sv)));
    CHECK(one(inside, v4udp(sv, 123, 123, cl)));
    CHECK(one(outside, v4udp(cl, 123, 123, sv)));
    // answers nobody asked for: reflections, each with its reason
    const std::pair<std::uint16_t, drop_reason> reflected[] = {
        {53, drop_reason::udp_dns_no_query}, {123, drop_reason::udp_ntp_reflection},
        {1900, drop_reason::udp_ssdp_reflection}, {11211, drop_reason::udp_memcached_reflection},
        {19, drop_reason::udp_chargen_reflection}};
    for (auto [port, reason] : reflected) {
        INFO(port);
        CHECK_FALSE(one(outside, v4udp(cl, port, 34000, sv)));
        CHECK(drops(outside, reason) == 1);
    }
    // the same source ports from inside are requests, not answers
    CHECK(one(inside, v4udp(sv, 11211, 34001, cl)));
    CHECK(rte_mempool_in_use_count(pool.mp) == 0);
}

namespace {

bytes be32b(std::uint32_t v)
{
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v)};
}
// NOP NOP and a timestamp option
bytes ts_opt(std::uint32_t tsval, std::uint32_t tsecr)
{
    return cat(cat(bytes{1, 1, 8, 10}, be32b(tsval)), be32b(tsecr));
}

} // namespace

TEST_CASE("pipeline, syn guard: a SYN gets a cookie, its ACK opens the server's side, the flow is translated",
          "[dataplane][pipeline][syn]")
{
    const auto ports = ring_ports();
    auto sh = shield_of("    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_g");
    REQUIRE(acl);
    auto flows = flow_table::create("t_flows_g", 1024);
    REQUIRE(flows);
    mbuf_pool pool("t_pool_g");
    lcore_ctx w((*acl)->rules(), {}, ports);
    w.acl = acl->get();
    w.flows = flows->get();
    w.tsc_hz = rte_get_tsc_hz();
    syn_guard_config gc;
    gc.m = syn_guard_config::mode::always;
    gc.key = {0x1234, 0x5678};
    syn_guard guard(gc, w.tsc_hz);
    w.guard = &guard;
    const bytes cl{192, 0, 2, 9}, sv{10, 10, 0, 2};
    struct out {
        std::vector<bytes> back, on; // sent back where the frame came from, forwarded to the other port
    };
    auto run = [&](side from, const bytes& f) {
        rte_mbuf* m = pool.frame(f);
        process_burst(w, from, &m, 1);
        out o;
        for (auto [s, v] : {std::pair{from, &o.back}, std::pair{other_side(from), &o.on}})
            for (rte_mbuf* x : sent_on(ports[s])) {
                auto* d = rte_pktmbuf_mtod(x, const std::uint8_t*);
                v->emplace_back(d, d + rte_pktmbuf_data_len(x));
                rte_pktmbuf_free(x);
            }
        return o;
    };
    auto options_of = [](const bytes& f) {
        const parsed_frame p = parsed(f);
        return tcp::read_options(std::as_bytes(std::span(f)).subspan(p.l4_offset, (f[p.l4_offset + 12] >> 4) * 4u));
    };
    const bytes syn_opts{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7};

    // 1. the client's SYN: answered on the port it came from, nothing stored, nothing to the server
    out o = run(outside, seg(cl, 40000, sv, 80, 0x02, 1000, 0, 0, syn_opts));
    REQUIRE(o.back.size() == 1);
    CHECK(o.on.empty());
    const parsed_frame synack = parsed(o.back[0]);
    CHECK(synack.tcp_flags == 0x12);
    CHECK(synack.tcp_ack == 1001);
    CHECK(synack.sport == 80);
    CHECK(synack.dport == 40000);
    const std::uint32_t cookie = synack.tcp_seq;
    const tcp::options so = options_of(o.back[0]);
    CHECK(so.mss == 1460);
    CHECK(so.wscale == 7);
    CHECK(so.sack_perm);
    CHECK(so.tsecr == 0x11223344u);
    const std::uint32_t ours = so.tsval;
    CHECK(flows->get()->size() == 0);
    CHECK(w.guard_counts.cookies_sent == 1);

    // 2. its ACK proves the cookie: the flow is made and the ACK becomes the server's SYN
    o = run(outside, seg(cl, 40000, sv, 80, 0x10, 1001, cookie + 1, 0, ts_opt(0x11223345u, ours)));
    REQUIRE(o.on.size() == 1);
    CHECK(o.back.empty());
    const parsed_frame ssyn = parsed(o.on[0]);
    CHECK(ssyn.tcp_flags == 0x02);
    CHECK(ssyn.tcp_seq == 1000);
    CHECK(ssyn.src == parsed(seg(cl, 1, sv, 1, 2, 0, 0)).src);
    const tcp::options sso = options_of(o.on[0]);
    CHECK(sso.mss == 1460);
    CHECK(sso.wscale == 7); // the client's, from the timestamp's low bits
    CHECK(sso.sack_perm);
    CHECK(sso.tsval == 0x11223345u);
    CHECK(flows->get()->size() == 1);
    CHECK(w.guard_counts.cookies_valid == 1);

    // 3. the client's data before the server answered: the SYN again, the data left to the client's retransmission
    o = run(outside, seg(cl, 40000, sv, 80, 0x18, 1001, cookie + 1, 10, ts_opt(0x11223346u, ours)));
    REQUIRE(o.on.size() == 1);
    CHECK(parsed(o.on[0]).tcp_flags == 0x02);
    CHECK(parsed(o.on[0]).tcp_payload == 0);

    // 4. the server's SYN-ACK: answered with the handshake's last ACK, back to the server; nothing to the client
    const bytes srv_opts{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x09, 0, 0x11, 0x22, 0x33, 0x46, 1, 3, 3, 9};
    o = run(inside, seg(sv, 80, cl, 40000, 0x12, 5000, 1001, 0, srv_opts));
    REQUIRE(o.back.size() == 1);
    CHECK(o.on.empty());
    const parsed_frame last = parsed(o.back[0]);
    CHECK(last.tcp_flags == 0x10);
    CHECK(last.tcp_seq == 1001);
    CHECK(last.tcp_ack == 5001);
    CHECK(last.dport == 80);
    CHECK(options_of(o.back[0]).tsval == 0x11223346u);
    CHECK(options_of(o.back[0]).tsecr == 0x900u);

    // 5. data both ways, translated: the client's acks and echoes into the server's space, and back
    o = run(outside, seg(cl, 40000, sv, 80, 0x18, 1001, cookie + 1, 100, ts_opt(0x11223350u, ours + 5)));
    REQUIRE(o.on.size() == 1);
    const parsed_frame up = parsed(o.on[0]); // parsed() checks the checksum
    CHECK(up.tcp_seq == 1001);
    CHECK(up.tcp_ack == 5001);
    CHECK(up.tcp_payload == 100);
    CHECK(options_of(o.on[0]).tsecr == 0x905u);
    o = run(inside, seg(sv, 80, cl, 40000, 0x18, 5001, 1101, 1000, ts_opt(0x901, 0x11223350u), 1000));
    REQUIRE(o.on.size() == 1);
    const parsed_frame down = parsed(o.on[0]);
    CHECK(down.tcp_seq == cookie + 1);
    CHECK(down.tcp_ack == 1101);
    CHECK(down.tcp_window == 4000); // the server scales by 9, the client was told 7
    CHECK(options_of(o.on[0]).tsval == ours + 1);
    // out of the server's window, translated: dropped by the tracker
    o = run(outside, seg(cl, 40000, sv, 80, 0x18, 1001 + 100 + 50'000'000, cookie + 1, 10, ts_opt(1, ours)));
    CHECK(o.on.empty());
    CHECK(w.counters.port[outside].drops[std::size_t(drop_reason::tcp_out_of_window)] == 1);

    // 6. an ACK of no flow whose cookie is not one: counted, dropped as any ACK of no flow
    o = run(outside, seg(cl, 40001, sv, 80, 0x10, 1001, cookie + 1, 0, ts_opt(1, ours)));
    CHECK(o.on.empty());
    CHECK(o.back.empty());
    CHECK(w.guard_counts.cookies_invalid == 1);
    CHECK(w.counters.port[outside].drops[std::size_t(drop_reason::tcp_not_syn)] == 1);

    // 7. a SYN to a multicast address: not answered (the answer would come from it), dropped
    o = run(outside, seg(cl, 40002, {224, 0, 0, 9}, 80, 0x02, 1, 0));
    CHECK(o.back.empty());
    CHECK(o.on.empty());
    CHECK(w.counters.port[outside].drops[std::size_t(drop_reason::tcp_martian_dst)] == 1);

    // 8. a SYN from inside (a server opening) is not the guard's: tracked and forwarded
    o = run(inside, seg(sv, 33000, cl, 443, 0x02, 7, 0));
    CHECK(o.on.size() == 1);
    CHECK(w.guard_counts.cookies_sent == 1);
    CHECK(rte_mempool_in_use_count(pool.mp) == 0);
}

TEST_CASE("syn guard: auto switches on above its share of the threshold, and off after a quiet window",
          "[dataplane][syn]")
{
    syn_guard_config gc;
    gc.m = syn_guard_config::mode::automatic;
    gc.threshold = 100; // per second: 10 per 100 ms window
    syn_guard g(gc, 1000); // 1000 ticks a second: a window is 100 ticks, the hold 10 000
    std::uint64_t t = 1'000'000;
    for (int i = 0; i < 10; ++i)
        CHECK_FALSE(g.answers(t + std::uint64_t(i)));
    CHECK(g.answers(t + 20)); // the 11th in the window
    CHECK(g.switched_on() == 1);
    CHECK(g.answers(t + 150)); // later windows: held on
    CHECK(g.answers(t + 9'000));
    CHECK_FALSE(g.answers(t + 10'050)); // the hold is over and the window before was quiet: off
    for (int i = 1; i < 10; ++i)
        CHECK_FALSE(g.answers(t + 10'050 + std::uint64_t(i)));
    CHECK(g.answers(t + 10'060)); // a flood again
    CHECK(g.switched_on() == 2);
    gc.m = syn_guard_config::mode::always;
    syn_guard always(gc, 1000);
    CHECK(always.answers(0));
}

TEST_CASE("flow census: counts by state and top sources, taken through the mailbox a few slots per loop",
          "[dataplane][flows]")
{
    const auto ports = ring_ports();
    auto sh = shield_of("    default allow\n");
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "t_acl_c");
    REQUIRE(acl);
    auto flows = flow_table::create("t_flows_c", 4096);
    REQUIRE(flows);
    REQUIRE(flows->get()->slots() > 2 * flow_census::slots_per_step); // the walk takes several loops
    mbuf_pool pool("t_pool_c");
    lcore_ctx w((*acl)->rules(), {}, ports);
    REQUIRE(open_mailbox(w, "t_mbox_c"));
    w.acl = acl->get();
    w.flows = flows->get();
    w.tsc_hz = rte_get_tsc_hz();
    auto one = [&](side from, const bytes& f) {
        rte_mbuf* m = pool.frame(f);
        free_all(forwarded(w, from, &m, 1));
    };
    const bytes a{192, 0, 2, 1}, b{192, 0, 2, 2}, sv{10, 10, 0, 2};
    for (std::uint16_t port = 40000; port < 40003; ++port) { // a: three established flows
        one(outside, seg(a, port, sv, 80, 0x02, 100, 0));
        one(inside, seg(sv, 80, a, port, 0x12, 500, 101));
        one(outside, seg(a, port, sv, 80, 0x10, 101, 501));
    }
    one(outside, seg(b, 40000, sv, 80, 0x02, 100, 0)); // b: one half-open
    one(outside, v4udp(b, 5000, 53));                  // and one UDP datagram, unanswered
    one(inside, v4udp(sv, 33000, 53, a));              // an inside client's query: source 10.10.0.2

    flow_census census(64);
    census.done.store(false);
    REQUIRE(post(w, {mbox_op::census, 0, reinterpret_cast<std::uint64_t>(&census)}));
    unsigned loops = 0;
    while (!census.done.load(std::memory_order_acquire) && loops < 1000) {
        drain_mailbox(w);
        step_census(w);
        ++loops;
    }
    REQUIRE(census.done.load());
    CHECK(loops == (flows->get()->slots() + flow_census::slots_per_step - 1) / flow_census::slots_per_step);
    CHECK(w.census == nullptr);
    const flow_summary s = summarize({&census}, 2);
    CHECK(s.counts.tcp[std::size_t(tcp::state::established)] == 3);
    CHECK(s.counts.tcp[std::size_t(tcp::state::syn_sent)] == 1);
    CHECK(s.counts.udp_one_way == 2);
    CHECK(s.counts.total() == 6);
    REQUIRE(s.top.size() == 2);
    CHECK(s.top[0].addr[3] == 1);
    CHECK(s.top[0].flows == 3);
    CHECK(s.top[1].addr[3] == 2);
    CHECK(s.top[1].flows == 2);

    // one flow, asked either way round
    flow_query q;
    q.key = make_flow_key(parsed(seg(sv, 80, a, 40001, 0x10, 0, 0))).key;
    q.done.store(false);
    REQUIRE(post(w, {mbox_op::flow_query, 0, reinterpret_cast<std::uint64_t>(&q)}));
    drain_mailbox(w);
    REQUIRE(q.done.load());
    CHECK(q.found);
    CHECK(q.st == tcp::state::established);
    CHECK(q.timeout == tcp::timeout_seconds(tcp::state::established));
    q.key = make_flow_key(parsed(seg(sv, 80, a, 49999, 0x10, 0, 0))).key;
    q.done.store(false);
    REQUIRE(post(w, {mbox_op::flow_query, 0, reinterpret_cast<std::uint64_t>(&q)}));
    drain_mailbox(w);
    CHECK_FALSE(q.found);

    // a census table too small for every source: what does not fit is counted, not lost silently
    flow_census tiny(1);
    tiny.begin();
    while (!tiny.step(*flows->get())) {
    }
    // three sources, one slot: the first source met has it, the flows of the other two are counted as left out
    REQUIRE(tiny.sources().size() == 1);
    CHECK(tiny.sources()[0].flows + tiny.sources_uncounted() == 6);
    CHECK(tiny.sources_uncounted() >= 3);
    CHECK(rte_mempool_in_use_count(pool.mp) == 0);
}
