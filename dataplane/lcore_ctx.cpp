// SPDX-License-Identifier: Apache-2.0
#include "dataplane/lcore_ctx.hpp"

#include "dataplane/flow_census.hpp"
#include "dataplane/flow_table.hpp"

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <new>
#include <type_traits>

namespace bulwark::dataplane {

static_assert(cache_line == RTE_CACHE_LINE_SIZE);
static_assert(std::is_trivially_destructible_v<counter>, "counter_array frees its storage without destructors");

counter_array::counter_array(std::size_t n) : n_(n)
{
    constexpr std::size_t per_line = cache_line / sizeof(counter);
    const std::size_t padded = std::max<std::size_t>(1, (n + per_line - 1) / per_line) * per_line;
    void* p = ::operator new[](padded * sizeof(counter), std::align_val_t{cache_line});
    for (std::size_t i = 0; i < padded; ++i)
        new (static_cast<counter*>(p) + i) counter;
    c_ = std::launder(static_cast<counter*>(p));
}

counter_array::~counter_array() { ::operator delete[](c_, std::align_val_t{cache_line}); } // trivially destructible

lcore_ctx::lcore_ctx(std::size_t acl_rules, drop_sampling s, std::array<std::uint16_t, 2> ids)
    : port_ids{ids[0], ids[1], 0}, sampling(s), rule_hits(acl_rules + 1), window_len(rte_get_tsc_hz()),
      scratch(65536)
{
}

lcore_ctx::~lcore_ctx() { rte_ring_free(mailbox); }

bool open_mailbox(lcore_ctx& ctx, const std::string& name) noexcept
{
    ctx.mailbox = rte_ring_create_elem(name.c_str(), sizeof(mbox_cmd), mailbox_slots, SOCKET_ID_ANY, RING_F_SC_DEQ);
    return ctx.mailbox != nullptr;
}

bool post(lcore_ctx& ctx, const mbox_cmd& cmd) noexcept
{
    mbox_cmd copy = cmd; // rte_ring_mp_enqueue_elem takes a non-const pointer
    return ctx.mailbox && rte_ring_mp_enqueue_elem(ctx.mailbox, &copy, sizeof(mbox_cmd)) == 0;
}

unsigned drain_mailbox(lcore_ctx& ctx) noexcept
{
    if (!ctx.mailbox)
        return 0;
    std::array<mbox_cmd, mailbox_per_loop> cmds;
    const unsigned n = rte_ring_sc_dequeue_burst_elem(ctx.mailbox, cmds.data(), sizeof(mbox_cmd), mailbox_per_loop, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        switch (cmds[i].op) {
        case mbox_op::ping:
            ctx.pong.store(cmds[i].arg, std::memory_order_release);
            break;
        case mbox_op::census: {
            auto* c = reinterpret_cast<flow_census*>(cmds[i].arg);
            c->begin();
            if (ctx.census) // one at a time: the one before ends here, counted so far
                ctx.census->done.store(true, std::memory_order_release);
            ctx.census = c;
            break;
        }
        case mbox_op::flow_query: {
            auto* q = reinterpret_cast<flow_query*>(cmds[i].arg);
            if (ctx.flows)
                q->answer(*ctx.flows, static_cast<std::uint32_t>(rte_rdtsc() / ctx.tsc_hz));
            else
                q->found = false;
            q->done.store(true, std::memory_order_release);
            break;
        }
        }
    }
    ctx.commands += n;
    return n;
}

void step_census(lcore_ctx& ctx) noexcept
{
    if (!ctx.census)
        return;
    if (!ctx.flows || ctx.census->step(*ctx.flows)) {
        ctx.census->done.store(true, std::memory_order_release);
        ctx.census = nullptr;
    }
}

} // namespace bulwark::dataplane
