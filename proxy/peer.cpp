// SPDX-License-Identifier: Apache-2.0
#include "proxy/peer.hpp"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <cstring>
#include <sys/socket.h>

namespace bulwark::proxy {

peer_info describe(const stream_protocol::endpoint& ep)
{
    peer_info p;
    int family = ep.data()->sa_family;
    if (family != AF_INET && family != AF_INET6)
        return p;
    boost::asio::ip::tcp::endpoint te;
    std::memcpy(te.data(), ep.data(), std::min(ep.size(), sizeof(sockaddr_in6)));
    te.resize(ep.size());
    auto a = te.address();
    p.addr = a.to_string();
    p.port = te.port();
    p.ip = true;
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), p.bytes.begin());
        p.len = b.size();
    } else {
        auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), p.bytes.begin());
        p.len = b.size();
    }
    return p;
}

bool in_network(const peer_info& p, const cidr& n)
{
    const std::size_t len = n.net.fam == family::ipv4 ? 4 : 16;
    if (p.len != len)
        return false;
    for (std::size_t bit = 0; bit < n.prefix; ++bit) {
        const unsigned mask = 0x80u >> (bit % 8);
        if ((p.bytes[bit / 8] & mask) != (n.net.bytes[bit / 8] & mask))
            return false;
    }
    return true;
}

} // namespace bulwark::proxy
