// SPDX-License-Identifier: Apache-2.0
#pragma once

// EAL for the unit tests of the DPDK layer: started once, on first use, in
// memory only (no hugepages, no PCI, no shared files), on lcore 0. Two
// net_null ports, and three net_ring ports that loop what is sent on them
// back to their RX queue (dpdk_test.cpp reads what a burst sent there; the
// third stands for the host port's TAP).

#include <cstdlib>
#include <rte_eal.h>

namespace bulwark::dataplane::testing {

inline void ensure_eal()
{
    static const bool up = [] {
        const char* args[] = {"unit_tests", "-l", "0", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                              "--log-level=error", "--vdev=net_null0", "--vdev=net_null1",
                              "--vdev=net_ring0", "--vdev=net_ring1", "--vdev=net_ring2"};
        if (rte_eal_init(static_cast<int>(std::size(args)), const_cast<char**>(args)) < 0)
            std::abort();
        std::atexit([] { rte_eal_cleanup(); });
        return true;
    }();
    (void)up;
}

} // namespace bulwark::dataplane::testing
