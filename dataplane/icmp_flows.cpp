// SPDX-License-Identifier: Apache-2.0
// ICMP against the lcore's flow table (dataplane/icmp_track.hpp).
#include "dataplane/flow_table.hpp"
#include "dataplane/icmp_track.hpp"

namespace bulwark::dataplane {

drop_reason track_icmp(flow_table& ft, icmp_kind kind, const keyed& k, std::int32_t pos, std::uint32_t now,
                       bool pickup) noexcept
{
    switch (kind) {
    case icmp_kind::other:
        return drop_reason::none;
    case icmp_kind::error:
        // passes without touching the flow: errors keep nothing alive. In
        // the pickup window the flow it quotes may predate the start.
        return pos < 0 && !pickup ? drop_reason::icmp_error_no_flow : drop_reason::none;
    case icmp_kind::echo_reply:
        // an answer from the side the request went to, and only then
        if (pos < 0 || ft.at(pos).original_is_a == k.src_is_a)
            return drop_reason::icmp_reply_no_request;
        ft.at(pos).replied = true;
        break;
    case icmp_kind::echo_request:
        if (pos < 0) {
            pos = ft.insert(k.key, now);
            if (pos < 0)
                return drop_reason::flows_full;
            ft.at(pos).original_is_a = k.src_is_a;
        }
        break;
    }
    flow_entry& e = ft.at(pos);
    e.last_seen = now;
    e.timeout = icmp_timeout;
    e.embryonic = !e.replied; // unanswered pings go first when the table is full
    return drop_reason::none;
}

} // namespace bulwark::dataplane
