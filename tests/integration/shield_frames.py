# SPDX-License-Identifier: Apache-2.0
"""Forged frames for the shield's lab tests: one case per validation rule of
dataplane/VALIDATION.md (as tests/dataplane/packet_test.cpp builds them), each
with the frame the rule drops and its nearest valid neighbour, which passes.

A case's builders take the lab's addressing (`Net`) and a marker: bytes put
in the payload, where the frame has room for them, so that the frame is found
again in the server's capture. Every frame carries a right TCP/UDP/ICMP
checksum (scapy's, or with_l4_checksum's for hand-built L4 bytes) unless its
case is about that checksum: bulwarkd verifies them on unfragmented datagrams.
"""
import itertools
import struct
from dataclasses import dataclass
from typing import Callable, Optional

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                                IPv6ExtHdrHopByHop, IPv6ExtHdrRouting)
from scapy.layers.l2 import Ether
from scapy.packet import Raw


@dataclass
class Net:
    """The lab's addresses: the client sends, the server receives."""
    client_mac: str
    server_mac: str
    client: str = "10.10.0.1"
    server: str = "10.10.0.2"
    client6: str = "2001:db8::1"
    server6: str = "2001:db8::2"

    def eth(self, type=None):
        e = Ether(src=self.client_mac, dst=self.server_mac)
        if type is not None:
            e.type = type
        return e

    def ip(self, **kw):
        return self.eth() / IP(**{"src": self.client, "dst": self.server, **kw})

    def ip6(self, **kw):
        return self.eth() / IPv6(**{"src": self.client6, "dst": self.server6, **kw})


def tagged(frame, tpids):
    """`frame` with VLAN tags (TPID, then TCI with VLAN 10, 11, ...) after its MAC addresses."""
    tags = b"".join(struct.pack("!HH", tpid, 10 + i) for i, tpid in enumerate(tpids))
    return frame[:12] + tags + frame[12:]


def ext(next_header, units=0, byte2=0):
    """An IPv6 extension header (as frames.hpp's ext()): `units` 8-byte units after the first."""
    e = bytearray((units + 1) * 8)
    e[0], e[1], e[2] = next_header, units, byte2
    return bytes(e)


def udp_bytes(sport, dport, payload, length=None):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload) if length is None else length, 0) + payload


def tcp_bytes(sport=40000, dport=7, flags=0x02, words=5, payload=b""):
    t = bytearray(20 + max(0, words - 5) * 4)
    struct.pack_into("!HHIIBBH", t, 0, sport, dport, 1, 0, words << 4, flags, 65535)
    return bytes(t) + payload


def flip_ipv4_checksum(frame, l3=14):
    f = bytearray(frame)
    f[l3 + 11] ^= 1
    return bytes(f)


# --------------------------------------------------------------------------
# upper-layer checksums (TCP, UDP, ICMP, ICMPv6), on frames already built

L4_CHECKSUM_AT = {6: 16, 17: 6, 1: 2, 58: 2}   # the checksum field's offset in each header
L4_MINIMUM = {6: 20, 17: 8, 1: 8, 58: 8}
IPV6_EXTENSIONS = {0, 43, 60}                    # the ones these frames use (44, fragments, are not summed)


@dataclass
class L4:
    """Where a frame's upper-layer message is: what its checksum covers."""
    v6: bool
    src: bytes
    dst: bytes
    proto: int
    at: int       # offset of the L4 header in the frame
    end: int      # end of the IP payload
    fragment: bool


def find_l4(frame):
    """The upper-layer message of an Ethernet frame (VLAN tags skipped), or None."""
    if len(frame) < 14:
        return None
    at, etype = 12, struct.unpack_from("!H", frame, 12)[0]
    while etype in (0x8100, 0x88a8) and len(frame) >= at + 6:
        at += 4
        etype = struct.unpack_from("!H", frame, at)[0]
    l3 = at + 2
    if etype == 0x0800 and len(frame) >= l3 + 20:
        ihl = (frame[l3] & 15) * 4
        total = struct.unpack_from("!H", frame, l3 + 2)[0]
        frag = struct.unpack_from("!H", frame, l3 + 6)[0]
        return L4(False, frame[l3 + 12:l3 + 16], frame[l3 + 16:l3 + 20], frame[l3 + 9], l3 + ihl,
                  min(len(frame), l3 + total), (frag & 0x3fff) != 0)
    if etype == 0x86dd and len(frame) >= l3 + 40:
        nh, at = frame[l3 + 6], l3 + 40
        end = min(len(frame), at + struct.unpack_from("!H", frame, l3 + 4)[0])
        fragment = False
        while (nh in IPV6_EXTENSIONS or nh == 44) and at + 8 <= end:
            fragment |= nh == 44
            nh, at = frame[at], at + (8 if nh == 44 else (frame[at + 1] + 1) * 8)
        return L4(True, frame[l3 + 8:l3 + 24], frame[l3 + 24:l3 + 40], nh, at, end, fragment)
    return None


def internet_sum(data):
    """The ones' complement sum of RFC 1071, folded (not complemented)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def l4_checksum(l4, message, pseudo_header=True):
    """The checksum `message` (its own field zero) must carry: over the pseudo-header (RFC 9293 §3.1,
    RFC 768, RFC 8200 §8.1), or the message alone (ICMPv4, RFC 792)."""
    ph = b""
    if pseudo_header:
        ph = (l4.src + l4.dst + struct.pack("!II", len(message), l4.proto) if l4.v6 else
              l4.src + l4.dst + struct.pack("!BBH", 0, l4.proto, len(message)))
    return ~internet_sum(ph + message) & 0xffff


def _l4_span(frame, l4):
    """The bytes the checksum covers: a UDP datagram's own length, the rest of the IP payload otherwise."""
    if l4.proto == 17:
        return l4.at, min(l4.end, l4.at + struct.unpack_from("!H", frame, l4.at + 4)[0])
    return l4.at, l4.end


def with_l4_checksum(frame, pseudo_header=None):
    """`frame` with its TCP/UDP/ICMP/ICMPv6 checksum set right (as a sending stack would). Frames whose
    L4 header is short, missing or a fragment's are returned as they are."""
    l4 = find_l4(frame)
    if l4 is None or l4.fragment or l4.proto not in L4_CHECKSUM_AT or l4.end - l4.at < L4_MINIMUM[l4.proto]:
        return frame
    start, end = _l4_span(frame, l4)
    if end - start < L4_MINIMUM[l4.proto]:
        return frame
    field = l4.at + L4_CHECKSUM_AT[l4.proto]
    f = bytearray(frame)
    f[field:field + 2] = b"\0\0"
    c = l4_checksum(l4, bytes(f[start:end]), l4.proto != 1 if pseudo_header is None else pseudo_header)
    if l4.proto == 17 and c == 0:
        c = 0xffff  # RFC 768: a computed 0 is sent as all ones
    struct.pack_into("!H", f, field, c)
    return bytes(f)


def flip_l4_checksum(frame):
    """`frame` (its L4 checksum right) with its L4 checksum's lowest bit flipped: wrong, and never the
    other form of the right value (0 and 0xffff are the same in ones' complement) nor UDP's 0."""
    l4 = find_l4(frame)
    field = l4.at + L4_CHECKSUM_AT[l4.proto]
    f = bytearray(frame)
    assert bytes(f) == with_l4_checksum(bytes(f)), "flip_l4_checksum wants a frame with its L4 checksum right"
    c = struct.unpack_from("!H", f, field)[0]
    bad = c ^ 1 if c ^ 1 != 0 else c ^ 2
    struct.pack_into("!H", f, field, bad)
    return bytes(f)


def zero_udp_checksum(frame):
    """`frame` with its UDP checksum 0: 'none computed' (RFC 768), which IPv6 forbids (RFC 8200 §8.1)."""
    l4 = find_l4(frame)
    assert l4.proto == 17
    f = bytearray(frame)
    f[l4.at + 6:l4.at + 8] = b"\0\0"
    return bytes(f)


@dataclass
class Case:
    id: str
    reason: str                              # the drop counter the bad frame raises
    bad: Callable[[Net, bytes], bytes]       # (net, marker) -> frame bytes
    good: Callable[[Net, bytes], bytes]      # its nearest valid neighbour
    note: Optional[str] = None               # why the lab may not carry the bad frame
    ipv4_fragment: bool = False              # af_packet ports never see it (see IPV4_FRAGMENTS)
    train: bool = False                      # good() gives a list of frames to send once each (REPEAT trains)


# DPDK's af_packet PMD joins its sockets to a fanout group with
# PACKET_FANOUT_FLAG_DEFRAG: the kernel reassembles IPv4 fragments before the
# port sees them (and a lone fragment waits in its queue until it expires), so
# the cases built of IPv4 fragments run on net_pcap ports, which see frames as
# they are on the wire.
IPV4_FRAGMENTS = "the af_packet PMD's sockets reassemble IPv4 fragments (PACKET_FANOUT_FLAG_DEFRAG)"


def _udp(n, m, sport=40000, dport=7001, **ip):
    return bytes(n.ip(**ip) / UDP(sport=sport, dport=dport) / Raw(m))


def _udp6(n, m, sport=40000, dport=7001, **ip6):
    return bytes(n.ip6(**ip6) / UDP(sport=sport, dport=dport) / Raw(m))


def _tcp(n, m, flags="S", sport=40000, dport=7002, **ip):
    return bytes(n.ip(**ip) / TCP(sport=sport, dport=dport, flags=flags) / Raw(m))


def _tcp6(n, m, flags="S", sport=40000, dport=7002, **ip6):
    return bytes(n.ip6(**ip6) / TCP(sport=sport, dport=dport, flags=flags) / Raw(m))


def _raw4(n, proto, l4, **ip):
    """IPv4 around L4 bytes scapy leaves alone but for their checksum, set right (with_l4_checksum)."""
    return with_l4_checksum(bytes(n.ip(proto=proto, **ip) / Raw(l4)))


def _raw6(n, nh, payload, **ip6):
    return with_l4_checksum(bytes(n.ip6(nh=nh, **ip6) / Raw(payload)))


def _icmp6_echo(n, m, **ip6):
    return bytes(n.ip6(**ip6) / ICMPv6EchoRequest(id=0x4242, seq=1, data=m))


def _first_fragment_bad_checksum(n, m):
    """A first TCP fragment (MF) with the wrong checksum of flip_l4_checksum(_tcp(n, m, flags="A"))."""
    wrong = Ether(flip_l4_checksum(_tcp(n, m, flags="A")))[TCP].chksum
    return bytes(n.ip(flags="MF", id=fresh_id()) / TCP(sport=40000, dport=7002, flags="A", chksum=wrong) / Raw(m))


def _v4_later_fragment(n, m, proto, offset_units):
    """A later IPv4 fragment (more follow) at `offset_units` × 8 bytes: payload only, the marker in it."""
    return bytes(n.ip(proto=proto, flags="MF", frag=offset_units) / Raw(m.ljust(32, b"x")))


def _v6_later_fragment(n, m, nh, offset_units):
    return bytes(n.ip6() / IPv6ExtHdrFragment(nh=nh, offset=offset_units, m=1, id=0x4242) / Raw(m.ljust(32, b"x")))


# A later fragment passes only after its train's first fragment (fragment
# trains, dataplane/VALIDATION.md): a valid neighbour that is a later
# fragment is sent as REPEAT trains, each with its own id, of a first
# fragment of `first_len` bytes (a valid L4 header first) and the later
# fragment with the marker, its last unless `last` is False.
REPEAT = 3
# bulwarkd remembers a train 5 s, a dropped one too: a valid first fragment reusing the id of one sent just
# before (by this case or the previous) would be a second, different first fragment of it (frag_overlap_train)
_ids = itertools.count(0x5100)


def fresh_id():
    return next(_ids)


def _first_l4(proto, first_len):
    head = {6: tcp_bytes(40000, 7002, 0x10), 17: udp_bytes(40000, 7001, b"", length=8 + 2000),
            1: b"\x08\x00\x00\x00\x00\x01\x00\x01"}[proto]
    return head.ljust(first_len, b"f")


def _v4_train(n, m, proto, offset_units, later_len=32, last=True, first_len=None):
    first = _first_l4(proto, first_len or offset_units * 8)
    return [f for i in [fresh_id() for _ in range(REPEAT)] for f in (
        bytes(n.ip(proto=proto, flags="MF", id=i) / Raw(first)),
        bytes(n.ip(proto=proto, flags=0 if last else "MF", frag=offset_units, id=i) / Raw(m.ljust(later_len, b"x"))))]


def _v6_train(n, m, nh, offset_units, later_len=32, last=True, first_len=None):
    first = _first_l4(nh, first_len or offset_units * 8)
    return [f for i in [fresh_id() for _ in range(REPEAT)] for f in (
        bytes(n.ip6() / IPv6ExtHdrFragment(nh=nh, offset=0, m=1, id=i) / Raw(first)),
        bytes(n.ip6() / IPv6ExtHdrFragment(nh=nh, offset=offset_units, m=0 if last else 1, id=i) /
              Raw(m.ljust(later_len, b"x"))))]


CASES = [
    # Ethernet and VLAN
    Case("eth_truncated", "eth_truncated",
         lambda n, m: bytes(n.eth(0x88b5))[:13],
         lambda n, m: bytes(n.eth(0x88b5) / Raw(m)),
         note="Linux refuses to send a frame shorter than an Ethernet header from a packet socket "
              "(dev_validate_header: min_header_len 14), so no such frame reaches bulwarkd's port; "
              "tests/dataplane/packet_test.cpp covers the rule"),
    # A single tag cut short never reaches the port: the kernel's receive path
    # (skb_vlan_untag) frees it before packet sockets see it. An inner tag cut
    # short does (the kernel moves the outer tag to metadata, libpcap and the
    # af_packet PMD put it back).
    Case("vlan_truncated", "vlan_truncated",
         lambda n, m: tagged(bytes(n.eth(0x0800)), [0x88a8, 0x8100])[:20],  # the inner tag's type missing
         lambda n, m: tagged(_udp(n, m), [0x88a8, 0x8100])),
    Case("vlan_too_deep", "vlan_too_deep",
         lambda n, m: tagged(_udp(n, m), [0x88a8, 0x8100, 0x8100]),
         lambda n, m: tagged(_udp(n, m), [0x88a8, 0x8100])),
    # IPv4 header
    Case("ipv4_truncated", "ipv4_truncated",
         lambda n, m: _udp(n, m)[:14 + 19],
         lambda n, m: _udp(n, m)),
    Case("ipv4_bad_version", "ipv4_bad_version",
         lambda n, m: _udp(n, m, version=5),
         lambda n, m: _udp(n, m, version=4)),
    Case("ipv4_bad_ihl", "ipv4_bad_ihl",
         lambda n, m: _udp(n, m, ihl=4),
         lambda n, m: _udp(n, m, options=[b"\x01\x01\x01\x00"])),  # IHL 6: NOP NOP NOP EOL
    Case("ipv4_bad_total_length", "ipv4_bad_total_length",
         lambda n, m: _udp(n, m, len=1000),
         lambda n, m: _udp(n, m) + bytes(6)),  # the frame longer than the datagram: Ethernet padding
    Case("ipv4_bad_total_length-options_past_it", "ipv4_bad_total_length",
         lambda n, m: bytes(n.ip(ihl=15, len=40, proto=17) / Raw(bytes(40) + udp_bytes(40000, 7001, m))),
         lambda n, m: bytes(n.ip(ihl=15, proto=17) / Raw(bytes(40) + udp_bytes(40000, 7001, m)))),
    Case("ipv4_bad_checksum", "ipv4_bad_checksum",
         lambda n, m: flip_ipv4_checksum(_udp(n, m)),
         lambda n, m: _udp(n, m)),
    # IPv4 addresses
    Case("ipv4_martian_src-loopback", "ipv4_martian_src",
         lambda n, m: _udp(n, m, src="127.0.0.1"),
         lambda n, m: _udp(n, m, src="126.255.255.254")),
    Case("ipv4_martian_src-zero_on_tcp", "ipv4_martian_src",
         lambda n, m: _tcp(n, m, src="0.0.0.0"),
         # a DHCP discover is the one frame 0.0.0.0 sends
         lambda n, m: bytes(Ether(src=n.client_mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
                            / UDP(sport=68, dport=67) / Raw(m))),
    Case("ipv4_martian_src-zero_to_port_53", "ipv4_martian_src",
         lambda n, m: _udp(n, m, src="0.0.0.0", sport=68, dport=53),
         lambda n, m: bytes(Ether(src=n.client_mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
                            / UDP(sport=68, dport=67) / Raw(m))),
    Case("ipv4_martian_src-multicast", "ipv4_martian_src",
         lambda n, m: _udp(n, m, src="224.0.0.5"),
         lambda n, m: _udp(n, m, src="223.255.255.254")),
    Case("ipv4_martian_src-broadcast", "ipv4_martian_src",
         lambda n, m: _udp(n, m, src="255.255.255.255"),
         lambda n, m: _udp(n, m, dst="255.255.255.255")),  # as a destination it is fine
    Case("ipv4_martian_src-class_e", "ipv4_martian_src",
         lambda n, m: _udp(n, m, src="240.0.0.1"),
         lambda n, m: _udp(n, m, dst="239.1.2.3")),
    Case("ipv4_land", "ipv4_land",
         lambda n, m: _tcp(n, m, src="10.10.0.2"),
         lambda n, m: _tcp(n, m)),
    # IPv4 fragments
    Case("ipv4_frag_oversize", "ipv4_frag_oversize",  # the ping of death
         lambda n, m: bytes(n.ip(proto=1, frag=8189) / Raw(m.ljust(100, b"x"))),
         # the last fragment, ending at 65535 (after its train's first fragment)
         lambda n, m: _v4_train(n, m, 1, 8183, later_len=65535 - 8183 * 8, first_len=16),
         ipv4_fragment=True, train=True),
    Case("ipv4_frag_too_small", "ipv4_frag_too_small",  # the tiny fragment attack
         lambda n, m: bytes(n.ip(proto=6, flags="MF") / Raw(bytes(8))),
         # another datagram (id): a second first fragment of the tiny one's would overlap it (frag_overlap_train)
         lambda n, m: bytes(n.ip(flags="MF", id=fresh_id()) / TCP(sport=40000, dport=7002, flags="A") / Raw(m)),
         ipv4_fragment=True),
    # overlapping fragments (RFC 1858 §4, RFC 3128): a later fragment starting
    # inside the 20-byte TCP header the first fragment must hold
    Case("ipv4_frag_overlap-tcp_at_8", "ipv4_frag_overlap",
         lambda n, m: _v4_later_fragment(n, m, 6, 1),
         lambda n, m: _v4_train(n, m, 17, 1),  # past UDP's 8-byte header
         ipv4_fragment=True, train=True),
    Case("ipv4_frag_overlap-tcp_at_16", "ipv4_frag_overlap",
         lambda n, m: _v4_later_fragment(n, m, 6, 2),
         lambda n, m: _v4_train(n, m, 6, 3),  # offset 24: past the TCP header
         ipv4_fragment=True, train=True),
    # a first fragment's checksum covers the whole datagram: not checked, however wrong
    Case("tcp_bad_checksum-first_fragment_not_checked", "tcp_bad_checksum",
         lambda n, m: flip_l4_checksum(_tcp(n, m, flags="A")),
         lambda n, m: _first_fragment_bad_checksum(n, m),
         ipv4_fragment=True),
    # TCP
    Case("tcp_truncated", "tcp_truncated",
         lambda n, m: _raw4(n, 6, tcp_bytes()[:16]),
         lambda n, m: _raw4(n, 6, tcp_bytes(payload=m))),
    Case("tcp_bad_offset", "tcp_bad_offset",
         lambda n, m: _raw4(n, 6, tcp_bytes(words=4, payload=m)),
         lambda n, m: _raw4(n, 6, tcp_bytes(words=15, payload=m))),
    Case("tcp_bad_offset-past_the_segment", "tcp_bad_offset",
         lambda n, m: _raw4(n, 6, tcp_bytes(words=15)[:36]),
         lambda n, m: _raw4(n, 6, tcp_bytes(words=9, payload=m))),
    Case("tcp_bad_flags-syn_fin", "tcp_bad_flags",
         lambda n, m: _tcp(n, m, flags="SF"),
         lambda n, m: _tcp(n, m, flags="FA")),
    Case("tcp_bad_flags-syn_rst", "tcp_bad_flags",
         lambda n, m: _tcp(n, m, flags="SR"),
         lambda n, m: _tcp(n, m, flags="R")),
    Case("tcp_bad_flags-null", "tcp_bad_flags",
         lambda n, m: _tcp(n, m, flags=""),
         lambda n, m: _tcp(n, m, flags="A")),
    Case("tcp_bad_flags-fin_alone", "tcp_bad_flags",
         lambda n, m: _tcp(n, m, flags="F"),
         lambda n, m: _tcp(n, m, flags="FA")),
    Case("tcp_bad_flags-xmas", "tcp_bad_flags",
         lambda n, m: _tcp(n, m, flags="FPU"),
         lambda n, m: _tcp(n, m, flags="SAEC")),  # SYN+ACK with ECE and CWR
    Case("tcp_bad_flags-psh_alone", "tcp_bad_flags",
         lambda n, m: _tcp(n, m, flags="P"),
         lambda n, m: _tcp(n, m, flags="PA")),
    Case("tcp_zero_port-source", "tcp_zero_port",
         lambda n, m: _tcp(n, m, sport=0),
         lambda n, m: _tcp(n, m, sport=1)),
    Case("tcp_zero_port-destination", "tcp_zero_port",
         lambda n, m: _tcp(n, m, dport=0),
         lambda n, m: _tcp(n, m, dport=1)),
    # UDP
    Case("udp_truncated", "udp_truncated",
         lambda n, m: _raw4(n, 17, udp_bytes(40000, 7001, b"")[:7]),
         lambda n, m: _raw4(n, 17, udp_bytes(40000, 7001, m))),
    Case("udp_bad_length-below_8", "udp_bad_length",
         lambda n, m: _raw4(n, 17, udp_bytes(40000, 7001, m, length=7)),
         lambda n, m: _raw4(n, 17, udp_bytes(40000, 7001, m, length=8))),
    Case("udp_bad_length-past_the_datagram", "udp_bad_length",
         lambda n, m: _raw4(n, 17, udp_bytes(40000, 7001, m, length=8 + len(m) + 1)),
         lambda n, m: _raw4(n, 17, udp_bytes(40000, 7001, m, length=8 + len(m) - 1))),  # short of it: padding
    Case("udp_zero_port-source", "udp_zero_port",
         lambda n, m: _udp(n, m, sport=0),
         lambda n, m: _udp(n, m, sport=1)),
    Case("udp_zero_port-destination", "udp_zero_port",
         lambda n, m: _udp(n, m, dport=0),
         lambda n, m: _udp(n, m, dport=1)),
    # upper-layer checksums, summed with the pseudo-header (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1)
    Case("tcp_bad_checksum", "tcp_bad_checksum",
         lambda n, m: flip_l4_checksum(_tcp(n, m)),
         lambda n, m: _tcp(n, m)),
    Case("tcp_bad_checksum-ipv6", "tcp_bad_checksum",
         lambda n, m: flip_l4_checksum(_tcp6(n, m)),
         lambda n, m: _tcp6(n, m)),
    Case("tcp_bad_checksum-options_and_data", "tcp_bad_checksum",
         lambda n, m: flip_l4_checksum(_raw4(n, 6, tcp_bytes(flags=0x18, words=9, payload=m.ljust(1001, b"x")))),
         lambda n, m: _raw4(n, 6, tcp_bytes(flags=0x18, words=9, payload=m.ljust(1001, b"x")))),  # odd length
    Case("udp_bad_checksum", "udp_bad_checksum",
         lambda n, m: flip_l4_checksum(_udp(n, m)),
         lambda n, m: zero_udp_checksum(_udp(n, m))),  # 0 over IPv4: none computed (RFC 768), passes
    Case("udp_bad_checksum-ipv6", "udp_bad_checksum",
         lambda n, m: flip_l4_checksum(_udp6(n, m)),
         lambda n, m: _udp6(n, m)),
    Case("udp_bad_checksum-zero_over_ipv6", "udp_bad_checksum",  # RFC 8200 §8.1
         lambda n, m: zero_udp_checksum(_udp6(n, m)),
         lambda n, m: _udp6(n, m)),
    # ICMP
    Case("icmp_truncated", "icmp_truncated",
         lambda n, m: _raw4(n, 1, bytes([8, 0, 0xf7, 0xff, 0, 0, 0])),
         lambda n, m: bytes(n.ip() / ICMP(type=8, id=0x4242, seq=1) / Raw(m))),
    Case("icmp_truncated-icmpv6", "icmp_truncated",
         lambda n, m: _raw6(n, 58, bytes([128, 0, 0, 0, 0, 0, 0])),
         lambda n, m: _raw6(n, 58, bytes([128, 0, 0, 0, 0, 0, 0, 1]) + m)),
    # ICMP sums the message alone (RFC 792), ICMPv6 with the pseudo-header (RFC 4443 §2.3)
    Case("icmp_bad_checksum", "icmp_bad_checksum",
         lambda n, m: flip_l4_checksum(bytes(n.ip() / ICMP(type=8, id=0x4242, seq=1) / Raw(m))),
         lambda n, m: bytes(n.ip() / ICMP(type=8, id=0x4242, seq=1) / Raw(m))),
    Case("icmp_bad_checksum-icmpv6", "icmp_bad_checksum",
         lambda n, m: flip_l4_checksum(_icmp6_echo(n, m)),
         lambda n, m: _icmp6_echo(n, m)),
    Case("icmp_bad_checksum-icmpv6_without_pseudo_header", "icmp_bad_checksum",
         lambda n, m: with_l4_checksum(_icmp6_echo(n, m), pseudo_header=False),  # summed as ICMPv4 is
         lambda n, m: _icmp6_echo(n, m)),
    # IPv6 header
    Case("ipv6_truncated", "ipv6_truncated",
         lambda n, m: _udp6(n, m)[:14 + 39],
         lambda n, m: _udp6(n, m)),
    Case("ipv6_bad_version", "ipv6_bad_version",
         lambda n, m: _udp6(n, m, version=4),
         lambda n, m: _udp6(n, m, version=6)),
    Case("ipv6_bad_payload_length", "ipv6_bad_payload_length",
         lambda n, m: _udp6(n, m, plen=8 + len(m) + 100),
         lambda n, m: _udp6(n, m) + bytes(6)),  # a frame longer than the packet: padding
    # IPv6 extension headers
    Case("ipv6_ext_overrun-past_the_payload", "ipv6_ext_overrun",
         lambda n, m: _raw6(n, 60, ext(17, 3)[:8]),  # claims 32 bytes, 8 there
         lambda n, m: _raw6(n, 60, ext(17) + udp_bytes(40000, 7001, m))),
    Case("ipv6_ext_overrun-shorter_than_8", "ipv6_ext_overrun",
         lambda n, m: _raw6(n, 60, ext(17)[:6]),
         lambda n, m: _raw6(n, 60, ext(59) + m)),  # a whole one, then no next header
    Case("ipv6_ext_too_many", "ipv6_ext_too_many",
         lambda n, m: _raw6(n, 60, b"".join(ext(60) for _ in range(8)) + ext(17) + udp_bytes(40000, 7001, m)),
         lambda n, m: _raw6(n, 60, b"".join(ext(60) for _ in range(7)) + ext(17) + udp_bytes(40000, 7001, m))),
    Case("ipv6_ext_bad_order", "ipv6_ext_bad_order",  # hop-by-hop after a destination header
         lambda n, m: bytes(n.ip6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / UDP(sport=40000, dport=7001)
                            / Raw(m)),
         lambda n, m: bytes(n.ip6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(sport=40000, dport=7001)
                            / Raw(m))),
    Case("ipv6_rh0", "ipv6_rh0",
         lambda n, m: bytes(n.ip6() / IPv6ExtHdrRouting(type=0) / UDP(sport=40000, dport=7001) / Raw(m)),
         lambda n, m: bytes(n.ip6() / IPv6ExtHdrRouting(type=2) / UDP(sport=40000, dport=7001) / Raw(m))),
    Case("ipv6_martian_src-loopback", "ipv6_martian_src",
         lambda n, m: _udp6(n, m, src="::1"),
         lambda n, m: _udp6(n, m, src="::2")),
    Case("ipv6_martian_src-multicast", "ipv6_martian_src",
         lambda n, m: _udp6(n, m, src="ff02::1"),
         lambda n, m: _udp6(n, m, dst="ff02::1")),
    Case("ipv6_martian_src-unspecified_on_udp", "ipv6_martian_src",
         lambda n, m: _udp6(n, m, src="::"),
         # duplicate address detection sends ICMPv6 from ::
         lambda n, m: _raw6(n, 58, bytes([135, 0, 0, 0, 0, 0, 0, 0]) + m, src="::")),
    Case("ipv6_land", "ipv6_land",
         lambda n, m: _udp6(n, m, src="2001:db8::2"),
         lambda n, m: _udp6(n, m)),
    # IPv6 fragments
    Case("ipv6_frag_oversize", "ipv6_frag_oversize",
         lambda n, m: bytes(n.ip6() / IPv6ExtHdrFragment(nh=17, offset=65528 // 8, m=0) / Raw(m.ljust(16, b"x"))),
         # the last fragment, ending at 65535 (after its train's first fragment)
         lambda n, m: _v6_train(n, m, 17, 65464 // 8, later_len=71, first_len=16), train=True),
    Case("ipv6_frag_too_small", "ipv6_frag_too_small",  # RFC 7112
         lambda n, m: bytes(n.ip6() / IPv6ExtHdrFragment(nh=6, offset=0, m=1) / Raw(bytes(8))),
         lambda n, m: bytes(n.ip6() / IPv6ExtHdrFragment(nh=6, offset=0, m=1, id=fresh_id()) /
                            Raw(tcp_bytes(flags=0x10, payload=m)))),  # another datagram, as for IPv4
    Case("ipv6_frag_overlap-tcp_at_8", "ipv6_frag_overlap",  # RFC 5722
         lambda n, m: _v6_later_fragment(n, m, 6, 1),
         lambda n, m: _v6_train(n, m, 17, 1), train=True),  # past UDP's 8-byte header
    Case("ipv6_frag_overlap-tcp_at_16", "ipv6_frag_overlap",
         lambda n, m: _v6_later_fragment(n, m, 6, 2),
         lambda n, m: _v6_train(n, m, 6, 3), train=True),  # offset 24: past the TCP header
    Case("udp_bad_length-ipv6", "udp_bad_length",
         lambda n, m: _raw6(n, 17, udp_bytes(40000, 7001, m, length=100)),
         lambda n, m: _raw6(n, 17, udp_bytes(40000, 7001, m))),
]
