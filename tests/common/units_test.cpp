// SPDX-License-Identifier: Apache-2.0
#include "common/units.hpp"

#include <catch2/catch.hpp>

using namespace bulwark;

TEST_CASE("parse_time reads HAProxy time units", "[units]")
{
    CHECK(parse_time("100")->count() == 100);
    CHECK(parse_time("100ms")->count() == 100);
    CHECK(parse_time("1500us")->count() == 2); // rounds up: never shorter than asked
    CHECK(parse_time("10s")->count() == 10'000);
    CHECK(parse_time("2m")->count() == 120'000);
    CHECK(parse_time("1h")->count() == 3'600'000);
    CHECK(parse_time("1d")->count() == 86'400'000);
    CHECK(parse_time("24d")->count() == 2'073'600'000);
    CHECK(parse_time("25d").message() == "time '25d' is too large (at most 2147483647ms, about 24.8 days)");
    CHECK(parse_time("10x").message() == "invalid time unit 'x' in '10x', expected us|ms|s|m|h|d");
    CHECK(parse_time("s").message() == "invalid time 's', expected a number with an optional unit us|ms|s|m|h|d");
    CHECK(parse_time("").message() == "invalid time '', expected a number with an optional unit us|ms|s|m|h|d");
    CHECK(parse_time("-1s").message() == "invalid time '-1s', expected a number with an optional unit us|ms|s|m|h|d");
    CHECK_FALSE(parse_time("99999999999999999999s").ok());
}

TEST_CASE("parse_size reads k, m and g as powers of 1024", "[units]")
{
    CHECK(*parse_size("512") == 512);
    CHECK(*parse_size("512k") == 512 * 1024);
    CHECK(*parse_size("4m") == 4u << 20);
    CHECK(*parse_size("2g") == 2ull << 30);
    CHECK(parse_size("4t").message() == "invalid size suffix 't' in '4t', expected k|m|g");
    CHECK(parse_size("99999999999999g").message() == "size '99999999999999g' is too large");
    CHECK_FALSE(parse_size("k").ok());
}

TEST_CASE("parse_address reads every HAProxy address form", "[units]")
{
    auto a = parse_address("10.0.0.1:80", port_need::required);
    REQUIRE(a.ok());
    CHECK(a->k == address::kind::ip);
    CHECK(a->str() == "10.0.0.1:80");
    CHECK(parse_address(":443", port_need::required)->any);
    CHECK(parse_address("*:443", port_need::required)->str() == "0.0.0.0:443");
    CHECK(parse_address("[::1]:8443", port_need::required)->str() == "[::1]:8443");
    CHECK(parse_address("::1", port_need::optional)->str() == "[::1]");
    CHECK(parse_address("ipv6@:80", port_need::required)->ip.fam == family::ipv6);
    CHECK(parse_address("unix@/var/run/x.sock", port_need::required)->str() == "unix@/var/run/x.sock");
    CHECK(parse_address("/var/run/x.sock", port_need::required)->k == address::kind::unix_path);
    CHECK(parse_address("abns@ssl-ecc", port_need::required)->str() == "abns@ssl-ecc");
    CHECK(parse_address("www.example.com:80", port_need::optional)->k == address::kind::host);
    CHECK(parse_address("10.0.0.2", port_need::optional)->ports.lo == 0);
    auto r = parse_address("0.0.0.0:8000-8010", port_need::range_ok);
    REQUIRE(r.ok());
    CHECK(r->ports == port_range{8000, 8010});

    CHECK(parse_address("10.0.0.1", port_need::required).message() ==
          "invalid address '10.0.0.1': missing port, expected ADDR:PORT");
    CHECK(parse_address("10.0.0.1:0", port_need::required).message() ==
          "invalid address '10.0.0.1:0': invalid port '0', expected 1 to 65535");
    CHECK(parse_address("10.0.0.1:70000", port_need::required).message() ==
          "invalid address '10.0.0.1:70000': invalid port '70000', expected 1 to 65535");
    CHECK(parse_address("10.0.0.1:80-90", port_need::required).message() ==
          "invalid address '10.0.0.1:80-90': a port range is not allowed here");
    CHECK(parse_address("[::1:80", port_need::required).message() == "invalid address '[::1:80': missing ']'");
    CHECK(parse_address("udp@1.2.3.4:53", port_need::required).message() ==
          "invalid address 'udp@1.2.3.4:53': unknown address family 'udp@', expected one of 'ipv4@', 'ipv6@', "
          "'unix@', 'abns@'");
    CHECK(parse_address("ipv4@::1:80", port_need::required).message() ==
          "invalid address 'ipv4@::1:80': not an IPv4 address");
    CHECK(parse_address("bad host!:80", port_need::required).message() ==
          "invalid address 'bad host!:80': 'bad host!' is neither an IP address nor a host name");
    CHECK(parse_address("unix@", port_need::required).message() == "invalid address 'unix@': empty socket path");
}

TEST_CASE("parse_cidr reads networks, netmasks and hosts", "[units]")
{
    CHECK(parse_cidr("203.0.113.0/24")->str() == "203.0.113.0/24");
    CHECK(parse_cidr("203.0.113.77/24")->str() == "203.0.113.0/24"); // host bits cleared
    CHECK(parse_cidr("10.1.2.3")->str() == "10.1.2.3/32");
    CHECK(parse_cidr("10.0.0.0/255.255.0.0")->str() == "10.0.0.0/16");
    CHECK(parse_cidr("2001:db8::1/32")->str() == "2001:db8::/32");
    CHECK(parse_cidr("::/0")->str() == "::/0");
    CHECK(parse_cidr("10.0.0.0/33").message() == "invalid prefix length '33' in '10.0.0.0/33', expected 0 to 32");
    CHECK(parse_cidr("10.0.0.0/255.0.255.0").message() ==
          "invalid netmask '255.0.255.0' in '10.0.0.0/255.0.255.0': not contiguous");
    CHECK(parse_cidr("10.0.0/8").message() == "invalid network '10.0.0/8', expected ADDR or ADDR/LEN");
}

TEST_CASE("parse_port_list reads lists and ranges", "[units]")
{
    auto l = parse_port_list("19,123,1900,11211");
    REQUIRE(l.ok());
    CHECK(l->size() == 4);
    CHECK((*l)[3] == port_range{11211, 11211});
    CHECK((*parse_port_list("1024-65535"))[0] == port_range{1024, 65535});
    CHECK(parse_port_list("80,").message() == "invalid port '' in '80,', expected 1 to 65535");
    CHECK(parse_port_list("90-80").message() == "invalid port range '90-80': 90 is above 80");
    CHECK(parse_port_list("0").message() == "invalid port '0' in '0', expected 1 to 65535");
}
