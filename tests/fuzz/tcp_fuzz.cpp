// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary segment sequences on one TCP flow. Checks
// what must hold whatever the peers send: a refused segment leaves the
// flow as it was; without pickup a flow only ever starts with the original
// side's SYN; the state stays one of the states.
//
// Input: a first byte (bit 0: pickup), then 12-byte records: side and flags,
// seq (4), ack (4), window (2), payload length (1, times 16).
#include "dataplane/tcp_track.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace bulwark::dataplane::tcp;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

std::uint32_t u32(const std::uint8_t* p)
{
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const bool pickup = data[0] & 1;
    conn c;
    for (std::size_t at = 1; at + 12 <= size; at += 12) {
        const std::uint8_t* r = data + at;
        const side from = (r[0] & 0x80) ? side::reply : side::original;
        segment seg;
        seg.flags = r[0] & 0x3f;
        seg.seq = u32(r + 1);
        seg.ack = u32(r + 5);
        seg.window = static_cast<std::uint16_t>(r[9] << 8 | r[10]);
        seg.payload = r[11] * 16u;
        seg.wscale = (r[0] & 0x40) ? static_cast<std::int8_t>(r[10] & 0x0f) : -1;
        const conn before = c;
        const verdict v = track(c, from, seg, pickup);
        check(static_cast<int>(c.st) < static_cast<int>(state::count_));
        if (v != verdict::accept) {
            check(std::memcmp(&before, &c, sizeof c) == 0);
            continue;
        }
        if (before.st == state::none && c.st != state::none && !pickup)
            check(from == side::original && (seg.flags & flag::syn) && !(seg.flags & flag::ack));
        check(!c.picked_up || pickup);
    }
    return 0;
}
