// SPDX-License-Identifier: Apache-2.0
// Peer addresses: an endpoint as logs and X-Forwarded-For tell it, and
// CIDR matching by family.
#include "proxy/peer.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <catch2/catch.hpp>

using namespace bulwark::proxy;
namespace ip = boost::asio::ip;

namespace {

peer_info of(const char* addr, unsigned short port = 80)
{
    return describe(ip::tcp::endpoint(ip::make_address(addr), port));
}

bulwark::cidr net(const char* text)
{
    auto c = bulwark::parse_cidr(text);
    REQUIRE(c.ok());
    return *c;
}

} // namespace

TEST_CASE("an IP endpoint gives its address, port and bytes", "[peer]")
{
    auto p = of("192.0.2.10", 4242);
    CHECK(p.ip);
    CHECK(p.addr == "192.0.2.10");
    CHECK(p.port == 4242);
    CHECK(p.len == 4);
    CHECK(p.bytes[0] == 192);
    CHECK(p.bytes[3] == 10);
    auto q = of("2001:db8::1", 443);
    CHECK(q.ip);
    CHECK(q.addr == "2001:db8::1");
    CHECK(q.len == 16);
    CHECK(q.bytes[0] == 0x20);
    CHECK(q.bytes[15] == 1);
}

TEST_CASE("a unix socket peer is HAProxy's unix:1", "[peer]")
{
    auto p = describe(boost::asio::local::stream_protocol::endpoint("/tmp/bulwark-peer-test.sock"));
    CHECK_FALSE(p.ip);
    CHECK(p.addr == "unix");
    CHECK(p.port == 1);
    CHECK(p.len == 0);
    CHECK_FALSE(in_network(p, net("0.0.0.0/0")));
}

TEST_CASE("CIDR matching by prefix and family", "[peer]")
{
    CHECK(in_network(of("10.1.2.3"), net("10.0.0.0/8")));
    CHECK_FALSE(in_network(of("11.1.2.3"), net("10.0.0.0/8")));
    CHECK(in_network(of("192.168.1.129"), net("192.168.1.128/25")));
    CHECK_FALSE(in_network(of("192.168.1.127"), net("192.168.1.128/25")));
    CHECK(in_network(of("203.0.113.9"), net("203.0.113.9")));
    CHECK(in_network(of("203.0.113.9"), net("0.0.0.0/0")));
    CHECK(in_network(of("2001:db8::5"), net("2001:db8::/32")));
    CHECK_FALSE(in_network(of("2001:db9::5"), net("2001:db8::/32")));
    // No family crosses: an IPv4 client is in no IPv6 network, nor the reverse.
    CHECK_FALSE(in_network(of("10.1.2.3"), net("::/0")));
    CHECK_FALSE(in_network(of("::ffff:10.1.2.3"), net("10.0.0.0/8")));
}
