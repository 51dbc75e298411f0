// SPDX-License-Identifier: Apache-2.0
#pragma once

// The SYN guard (issue #13, `syn-guard auto RATE|always|off`): a SYN
// proxy in the manner of netfilter's SYNPROXY target, on each worker lcore.
//
// When the guard is on, a SYN from outside that opens no known flow is
// answered by the appliance itself (the reply verdict: the frame becomes
// the SYN-ACK, on the port it came from) with a SYN cookie
// (dataplane/syn_cookie.hpp) as its sequence number; nothing is stored. A
// spoofed flood therefore costs one frame rewritten per SYN and no state.
// When the client's ACK proves a cookie, the flow is created and that ACK
// becomes the SYN to the server, with the MSS, window scale, SACK and
// timestamp the client offered; the server's SYN-ACK becomes the ACK that
// completes the server's handshake (sent back on the inside port), and
// from then on each segment of the flow is translated between the
// client's view of the server's sequence numbers (the cookie's) and the
// server's own (tcp_rewrite.hpp), and its timestamps and window likewise.
//
// The guard switches itself on (`auto`) when more SYNs of no flow reach
// an lcore than its share of the threshold within 100 ms, and off when a
// 100 ms window after at least 10 s on saw fewer than half that (checked
// at the next SYN). Flows are never moved between the two ways: a flow
// opened without the guard stays untranslated when it switches on, a
// proxied one stays translated when it switches off, and an ACK that
// proves a cookie is accepted whatever the guard's state.
//
// Client segments that arrive while the server side is still opening
// (the client thinks the handshake done) make the guard send the SYN
// again; their data is not kept, and the client retransmits it.

#include "dataplane/flow_key.hpp"
#include "dataplane/pipeline_types.hpp"
#include "dataplane/syn_cookie.hpp"

#include <cstdint>

struct rte_mbuf;

namespace bulwark::dataplane {

struct lcore_ctx;

struct syn_guard_config {
    enum class mode : std::uint8_t { off, always, automatic };
    mode m = mode::off;
    std::uint64_t threshold = 0;  // automatic: SYN of no flow per second on this lcore
    std::uint16_t mss4 = 1460, mss6 = 1440; // the MSS the SYN-ACK offers clients
    std::uint8_t wscale = 7;      // the window scale it offers clients that offer theirs
    syn::sipkey key;              // the cookies' master key: random, per start
};

// One lcore's guard: its switch and its cookie keys. The lcore's alone.
class syn_guard {
public:
    syn_guard(const syn_guard_config& cfg, std::uint64_t tsc_hz) noexcept;

    // A SYN of no flow from outside at `tsc`: counted (auto); whether the
    // guard answers it.
    bool answers(std::uint64_t tsc) noexcept;
    bool on() const noexcept { return on_; }
    std::uint64_t switched_on() const noexcept { return switched_on_; }
    const syn_guard_config& config() const noexcept { return cfg_; }
    syn::cookie_jar& jar() noexcept { return jar_; }

private:
    syn_guard_config cfg_;
    syn::cookie_jar jar_;
    std::uint64_t window_len_, hold_len_, per_window_;
    std::uint64_t window_start_ = 0, on_until_ = 0, syns_ = 0, switched_on_ = 0;
    bool on_;
};

// The pipeline's calls, one frame each (stage_flows, mode stateful with a
// guard). `tsc` is the burst's rte_rdtsc(); m's bytes may be rewritten.

// A SYN of no flow from outside that the guard answers.
pkt_verdict guard_syn(lcore_ctx& c, rte_mbuf* m, const parsed_frame& f, std::uint64_t tsc) noexcept;
// An ACK of no flow from outside: true when its acknowledgement proves a
// cookie (`out` says what became of it: the server-side SYN, forwarded);
// false when it does not, and the caller tracks it as any segment.
// `limited`: the flow it opens is subject to its source's flow limits
// (limits.hpp), which may drop it with their reason.
bool guard_ack(lcore_ctx& c, rte_mbuf* m, const parsed_frame& f, const keyed& k, std::uint64_t tsc, bool limited,
               pkt_verdict& out) noexcept;
// A segment, from either side, of a flow the guard opened (entry `pos`).
pkt_verdict guard_segment(lcore_ctx& c, rte_mbuf* m, const parsed_frame& f, const keyed& k, std::int32_t pos,
                          std::uint64_t tsc) noexcept;

} // namespace bulwark::dataplane
