// SPDX-License-Identifier: Apache-2.0
#include "dataplane/host_if.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <linux/ipv6.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bulwark::dataplane {

namespace {

struct fd_closer {
    int fd;
    ~fd_closer()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

result<bool> errno_fail(const std::string& what)
{
    return fail(fmt::format("{}: {}", what, std::strerror(errno)));
}

result<bool> bring_up(int fd, const std::string& ifname)
{
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.c_str(), std::min(ifname.size(), sizeof ifr.ifr_name - 1));
    if (::ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return errno_fail(fmt::format("interface {}", ifname));
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        return errno_fail(fmt::format("bringing {} up", ifname));
    return true;
}

result<bool> set_v4(const std::string& ifname, const cidr& a)
{
    fd_closer s{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0)
        return errno_fail("socket(AF_INET)");
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname.c_str(), std::min(ifname.size(), sizeof ifr.ifr_name - 1));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, a.net.bytes.data(), 4);
    std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    if (::ioctl(s.fd, SIOCSIFADDR, &ifr) < 0)
        return errno_fail(fmt::format("setting {} on {}", a.str(), ifname));
    const std::uint32_t mask = a.prefix ? ~std::uint32_t(0) << (32 - a.prefix) : 0;
    sin.sin_addr.s_addr = htonl(mask);
    std::memcpy(&ifr.ifr_netmask, &sin, sizeof sin);
    if (::ioctl(s.fd, SIOCSIFNETMASK, &ifr) < 0)
        return errno_fail(fmt::format("setting the netmask /{} on {}", a.prefix, ifname));
    return bring_up(s.fd, ifname);
}

result<bool> set_v6(const std::string& ifname, const cidr& a)
{
    fd_closer s{::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0)
        return errno_fail("socket(AF_INET6)");
    const unsigned index = ::if_nametoindex(ifname.c_str());
    if (!index)
        return errno_fail(fmt::format("interface {}", ifname));
    in6_ifreq r{};
    std::memcpy(&r.ifr6_addr, a.net.bytes.data(), 16);
    r.ifr6_prefixlen = a.prefix;
    r.ifr6_ifindex = static_cast<int>(index);
    if (auto up = bring_up(s.fd, ifname); !up) // an address is refused on a down interface
        return up;
    if (::ioctl(s.fd, SIOCSIFADDR, &r) < 0)
        return errno_fail(fmt::format("setting {} on {}", a.str(), ifname));
    return true;
}

} // namespace

result<bool> set_interface_address(const std::string& ifname, const cidr& addr)
{
    return addr.net.fam == family::ipv6 ? set_v6(ifname, addr) : set_v4(ifname, addr);
}

} // namespace bulwark::dataplane
