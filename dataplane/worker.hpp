// SPDX-License-Identifier: Apache-2.0
#pragma once

// A worker lcore's loop (DESIGN.md section 2), run to completion: an RX
// burst from each port through the pipeline's stages, then up to
// mailbox_per_loop control commands, then a quiescent state for the RCU
// readers of the tables, until *ctx.quit.

#include "dataplane/lcore_ctx.hpp"

namespace bulwark::dataplane {

// The lcore_function_t rte_eal_remote_launch() runs; arg is the lcore's
// lcore_ctx, filled in (queues, tables, mailbox, qs, quit). Returns 0 when
// quit is set.
int worker_main(void* arg) noexcept;

} // namespace bulwark::dataplane
