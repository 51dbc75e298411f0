// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as an Ethernet frame. Beyond "no crash,
// no read outside the frame" (ASan), it checks that what the parser reports
// lies inside the frame, and that a valid IP frame's verdict and fields do
// not depend on bytes after the datagram (Ethernet padding): the parser
// must read the datagram by its own lengths, not by the frame's. With the
// L4 checksum left to the NIC, the verdict may differ only where the
// checksum was the reason.
#include "dataplane/packet.hpp"

#include <cstdint>
#include <cstdlib>
#include <vector>

using namespace bulwark::dataplane;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    parsed_frame p;
    auto frame = std::as_bytes(std::span(data, size));
    drop_reason r = parse_frame(frame, p);
    check(static_cast<std::size_t>(r) < drop_reason_count);
    check(!reason_name(r).empty());
    parsed_frame nic;
    drop_reason rn = parse_frame(frame, nic, parse_options{.l4_checksum = false});
    const bool checksum_reason =
        r == drop_reason::tcp_bad_checksum || r == drop_reason::udp_bad_checksum || r == drop_reason::icmp_bad_checksum;
    check(checksum_reason ? rn == drop_reason::none : rn == r);
    check(p == nic);
    if (r != drop_reason::none || p.l3 == l3_kind::other)
        return 0;
    check(p.l3_offset <= size);
    check(std::size_t{p.l4_offset} + p.l4_length <= size);
    std::vector<std::uint8_t> padded(data, data + size);
    padded.insert(padded.end(), 18, 0xee);
    parsed_frame q;
    check(parse_frame(std::as_bytes(std::span(padded)), q) == drop_reason::none);
    check(p == q);
    return 0;
}
