// SPDX-License-Identifier: Apache-2.0
#pragma once

// Who a client is, as logs, X-Forwarded-For and 'balance source' need it:
// an endpoint turned into its address text and bytes, and CIDR matching.
// Pure functions, any thread.

#include "proxy/config_types.hpp"
#include "proxy/runtime.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace bulwark::proxy {

struct peer_info {
    std::string addr = "unix"; // as HAProxy logs a unix socket client: "unix:1"
    unsigned port = 1;
    bool ip = false;
    std::array<unsigned char, 16> bytes{};
    std::size_t len = 0; // address bytes (4 or 16); 0 for unix
};

// The peer an endpoint names: an IPv4 or IPv6 address and port, else
// (unix sockets, an unknown family) HAProxy's "unix:1".
peer_info describe(const stream_protocol::endpoint& ep);

// Whether p's address lies in n (an IPv4 client never in an IPv6 network,
// nor the reverse; a unix client in none).
bool in_network(const peer_info& p, const cidr& n);

} // namespace bulwark::proxy
