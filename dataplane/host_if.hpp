// SPDX-License-Identifier: Apache-2.0
#pragma once

// The kernel side of the host port: the address the config gives it, set
// on the TAP interface EAL created, as `ip addr add ADDR/LEN dev NAME`
// would (the interface is up once its DPDK port started). Setup time, as
// root; ioctl, no netlink library.

#include "common/result.hpp"
#include "common/units.hpp"

#include <string>

namespace bulwark::dataplane {

// Adds `addr` (the host's own address with the prefix of its network) to
// interface `ifname` and brings the interface up.
result<bool> set_interface_address(const std::string& ifname, const cidr& addr);

} // namespace bulwark::dataplane
