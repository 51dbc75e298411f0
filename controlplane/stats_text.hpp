// SPDX-License-Identifier: Apache-2.0
#pragma once

// The counters as the daemon prints them on SIGUSR1 and at exit, the
// "bulwarkd: stats: ..." lines the lab tests read: the one place they are
// formatted. Pure functions of the engines' stats structs.

#include "dataplane/config_types.hpp"
#include "dataplane/stats_types.hpp"
#include "proxy/server.hpp"

#include <string>

namespace bulwark::controlplane {

// "bulwarkd: stats: frontend|backend|server|rule ..." lines, one per
// frontend, backend, server, and rule that applied at least once.
std::string proxy_stats_text(const proxy::server::stats& st);

// "bulwarkd: stats: shield NAME ..." lines for the shield `cfg` runs: per
// port rx/tx/dropped/punted and its driver's counters, the non-zero drop
// reasons, the rules that matched, the default verdict's hits, the
// blocklist's size and the drop capture's frames.
std::string shield_stats_text(const dataplane::shield_section& cfg, const dataplane::shield_stats& st);

} // namespace bulwark::controlplane
