// SPDX-License-Identifier: Apache-2.0
#pragma once

// The pipeline tests' harness on the test EAL (eal.hpp): an mbuf pool that
// makes frames from bytes, and net_ring0/net_ring1 as the outside and inside
// ports, whose TX comes back on their RX (what a burst sent).

#include "dataplane/lcore_ctx.hpp"
#include "dataplane/pipeline.hpp"
#include "tests/dataplane/eal.hpp"
#include "tests/dataplane/frames.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <vector>

namespace bulwark::dataplane::testing {

struct mbuf_pool {
    rte_mempool* mp;
    explicit mbuf_pool(const char* name) : mp(rte_pktmbuf_pool_create(name, 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0))
    {
        REQUIRE(mp);
    }
    ~mbuf_pool() { rte_mempool_free(mp); }
    unsigned in_use() const { return rte_mempool_in_use_count(mp); }
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

// Two of the test EAL's ports (by name) as the outside and inside ports,
// configured and started with one queue each, RX buffers from `pool`.
inline std::array<std::uint16_t, 2> start_ports(const char* outside_name, const char* inside_name, const char* pool)
{
    ensure_eal();
    rte_mempool* rx_pool = rte_pktmbuf_pool_create(pool, 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    REQUIRE(rx_pool);
    std::array<std::uint16_t, 2> r{};
    for (side s : {outside, inside}) {
        REQUIRE(rte_eth_dev_get_port_by_name(s == outside ? outside_name : inside_name, &r[s]) == 0);
        rte_eth_conf conf{};
        REQUIRE(rte_eth_dev_configure(r[s], 1, 1, &conf) == 0);
        REQUIRE(rte_eth_rx_queue_setup(r[s], 0, 64, 0, nullptr, rx_pool) == 0);
        REQUIRE(rte_eth_tx_queue_setup(r[s], 0, 64, 0, nullptr) == 0);
        REQUIRE(rte_eth_dev_start(r[s]) == 0);
    }
    return r;
}

// The test EAL's net_ring0 and net_ring1 as the outside and inside ports,
// started once: what a burst sends on one comes back on its RX queue.
inline std::array<std::uint16_t, 2> ring_ports()
{
    static const std::array<std::uint16_t, 2> ids = start_ports("net_ring0", "net_ring1", "t_ring_rx");
    return ids;
}

// A host port for the pipeline tests: a punt ring, a MAC table, and
// net_ring2 as the TAP (what is sent on it comes back on its RX).
struct test_host {
    rte_ring* punts;
    mac_table macs{64};
    host_link link;
    explicit test_host(const char* ring, unsigned slots = 64)
        : punts(rte_ring_create(ring, slots, 0, RING_F_SC_DEQ))
    {
        REQUIRE(punts);
        static const std::uint16_t tap = [] {
            ensure_eal();
            rte_mempool* rx_pool = rte_pktmbuf_pool_create("t_tap_rx", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
            REQUIRE(rx_pool);
            std::uint16_t id;
            REQUIRE(rte_eth_dev_get_port_by_name("net_ring2", &id) == 0);
            rte_eth_conf conf{};
            REQUIRE(rte_eth_dev_configure(id, 1, 1, &conf) == 0);
            REQUIRE(rte_eth_rx_queue_setup(id, 0, 64, 0, nullptr, rx_pool) == 0);
            REQUIRE(rte_eth_tx_queue_setup(id, 0, 64, 0, nullptr) == 0);
            REQUIRE(rte_eth_dev_start(id) == 0);
            return id;
        }();
        link = {tap, {0x02, 0, 0, 0, 0, 0x64}, punts, &macs};
    }
    ~test_host() { rte_ring_free(punts); }
    test_host(const test_host&) = delete;
    test_host& operator=(const test_host&) = delete;
    void attach(lcore_ctx& w)
    {
        w.host = &link;
        w.port_ids[host] = link.port_id;
    }
};

// What was sent on a ring port since it was last read, in order.
inline std::vector<rte_mbuf*> sent_on(std::uint16_t port)
{
    std::vector<rte_mbuf*> out;
    std::array<rte_mbuf*, burst_size> b;
    while (std::uint16_t n = rte_eth_rx_burst(port, 0, b.data(), burst_size))
        out.insert(out.end(), b.begin(), b.begin() + n);
    return out;
}

// A burst received on `from` through every stage: what was forwarded on
// the other port (the caller frees it).
inline std::vector<rte_mbuf*> forwarded(lcore_ctx& w, side from, rte_mbuf** pkts, unsigned n)
{
    process_burst(w, from, pkts, n);
    return sent_on(w.port_ids[other_side(from)]);
}

inline void free_all(const std::vector<rte_mbuf*>& v)
{
    for (rte_mbuf* m : v)
        rte_pktmbuf_free(m);
}

inline std::vector<rte_mbuf*> dequeue_all(rte_ring* r)
{
    std::vector<rte_mbuf*> out;
    void* obj;
    while (rte_ring_sc_dequeue(r, &obj) == 0)
        out.push_back(static_cast<rte_mbuf*>(obj));
    return out;
}


} // namespace bulwark::dataplane::testing
