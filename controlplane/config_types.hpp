// SPDX-License-Identifier: Apache-2.0
#pragma once

// The configuration model: what a loaded file says, with every name resolved
// and every value checked. Each engine owns the types its part compiles into
// (proxy/config_types.hpp, dataplane/config_types.hpp); the control plane
// fills them and holds them together here.

#include "dataplane/config_types.hpp"
#include "proxy/config_types.hpp"

#include <string>
#include <vector>

namespace bulwark::controlplane {

// The parser fills the engines' types: their names, here, are its own.
using proxy::acl_def;
using proxy::bind_line;
using proxy::capture_line;
using proxy::condition;
using proxy::global_settings;
using proxy::proxy_mode;
using proxy::proxy_section;
using proxy::rule;
using proxy::sample_expr;
using proxy::server_line;
using proxy::timeouts;
using dataplane::shield_rule;
using dataplane::shield_section;
using dataplane::verdict;

// Who the daemon runs as once its ports, sockets and files are open:
// global 'user', 'group' and 'chroot' (empty: unchanged).
struct process_settings {
    std::string user, group, chroot;
    source_loc at; // the first of the three lines
};

// A whole file: the proxy's part (global, frontends, backends, listens),
// the shield sections and the process settings of global.
struct config : proxy::proxies_config {
    std::vector<shield_section> shields;
    process_settings process;
};

} // namespace bulwark::controlplane
