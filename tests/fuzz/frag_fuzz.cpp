// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a sequence of frames through one lcore's fragment
// trains (dataplane/frag_table.hpp), and every ICMP error's quoted header
// through icmp_track's reader. Input: records of [flags byte][length
// byte][frame bytes]; the flags say whether the earlier stages dropped the
// frame, whether to set its IPv4 header checksum right (mutated headers get
// past validation to the trains) and how many seconds pass before it. Beyond ASan's checks, the
// invariants:
//  * a later fragment is forwarded only when a live train with a forward
//    verdict was there before it;
//  * no two later fragments forwarded for one train overlap each other or
//    the first fragment's bytes (RFC 5722: the table must drop overlaps);
//  * a frame that is not a fragment keeps its verdict; a dropped frame
//    stays dropped;
//  * the live trains never exceed the table's capacity.
#include "dataplane/frag_table.hpp"
#include "dataplane/icmp_track.hpp"
#include "dataplane/packet.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

using namespace bulwark::dataplane;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

struct key_less {
    bool operator()(const frag_key& a, const frag_key& b) const { return std::memcmp(&a, &b, sizeof a) < 0; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    frag_table t(32, 7); // small: the fuzzer fills it
    std::uint32_t now = 1;
    // the byte ranges forwarded for each train since its first fragment was recorded
    std::map<frag_key, std::vector<std::pair<std::uint32_t, std::uint32_t>>, key_less> sent;
    std::size_t at = 0;
    while (at + 2 <= size) {
        const std::uint8_t flags = data[at];
        const std::size_t len = std::min<std::size_t>(data[at + 1] * 8u, size - at - 2);
        std::vector<std::uint8_t> bytes(data + at + 2, data + at + 2 + len);
        at += 2 + len;
        if ((flags & 2) && len >= 34 && bytes[12] == 0x08 && bytes[13] == 0x00) {
            const std::size_t ihl = std::min<std::size_t>((bytes[14] & 0x0f) * 4u, len - 14);
            bytes[24] = bytes[25] = 0;
            const std::uint16_t sum = internet_checksum(std::as_bytes(std::span(bytes.data() + 14, ihl)));
            bytes[24] = static_cast<std::uint8_t>(sum >> 8);
            bytes[25] = static_cast<std::uint8_t>(sum);
        }
        const auto frame = std::as_bytes(std::span(bytes));
        now += flags >> 5; // 0..7 s
        parsed_frame f;
        const drop_reason why = parse_frame(frame, f);
        pkt_verdict v{why == drop_reason::none ? pkt_action::forward : pkt_action::drop, why};
        if (why == drop_reason::none && (flags & 1))
            v = {pkt_action::drop, drop_reason::acl_deny}; // an earlier stage's drop
        if (why == drop_reason::none && f.l3 != l3_kind::other && !f.later_fragment &&
            (f.proto == 1 || f.proto == 58) && classify_icmp(f) == icmp_kind::error) {
            keyed k;
            (void)quoted_flow(frame, f, k);
        }
        const frag_key key = frag_key_of(f);
        const frag_train* before = f.fragment ? t.find(key, now) : nullptr;
        const bool had_forward = before && before->verdict.action != pkt_action::drop;
        const pkt_verdict in = v;
        t.apply(&f, &v, 1, now);
        check(t.live(now) <= t.capacity());
        if (!f.fragment) {
            check(v == in);
            continue;
        }
        if (in.action == pkt_action::drop)
            check(v.action == pkt_action::drop);
        auto& ranges = sent[key];
        if (!f.later_fragment) {
            if (!before && v.action != pkt_action::drop && t.find(key, now))
                ranges.assign(1, {0u, f.frag_length}); // a new train
            continue;
        }
        if (v.action == pkt_action::drop)
            continue;
        check(had_forward);
        const std::uint32_t lo = f.frag_offset, hi = lo + f.frag_length;
        for (auto [a, b] : ranges)
            check(!(lo < b && a < hi));
        ranges.emplace_back(lo, hi);
    }
    return 0;
}
