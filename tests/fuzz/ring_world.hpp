// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the lcore fuzz targets share: an abort that libFuzzer reports, and
// the test EAL's net_ring ports started with one queue each (what a burst
// sends on one comes back on its RX, where the target reads it).

#include "tests/dataplane/eal.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <cstdint>
#include <cstdlib>

namespace bulwark::dataplane::testing {

inline void check(bool ok)
{
    if (!ok)
        std::abort();
}

// net_ring0..net_ring(N-1), started, their RX buffers from a pool named `pool`.
template <std::size_t N>
std::array<std::uint16_t, N> start_ring_ports(const char* pool)
{
    ensure_eal();
    rte_mempool* rx_pool = rte_pktmbuf_pool_create(pool, 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    check(rx_pool != nullptr);
    const char* names[] = {"net_ring0", "net_ring1", "net_ring2"};
    static_assert(N <= std::size(names));
    std::array<std::uint16_t, N> ports{};
    for (std::size_t s = 0; s < N; ++s) {
        check(rte_eth_dev_get_port_by_name(names[s], &ports[s]) == 0);
        rte_eth_conf conf{};
        check(rte_eth_dev_configure(ports[s], 1, 1, &conf) == 0);
        check(rte_eth_rx_queue_setup(ports[s], 0, 256, 0, nullptr, rx_pool) == 0);
        check(rte_eth_tx_queue_setup(ports[s], 0, 256, 0, nullptr) == 0);
        check(rte_eth_dev_start(ports[s]) == 0);
    }
    return ports;
}

} // namespace bulwark::dataplane::testing
