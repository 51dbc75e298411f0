// SPDX-License-Identifier: Apache-2.0
#pragma once

// What every engine's configuration types share: where a line came from and
// which kind of section holds it. The engines' own config types live beside
// their code (proxy/config_types.hpp, dataplane/config_types.hpp); the
// control plane fills them.

#include <chrono>
#include <string>

namespace bulwark {

using ms = std::chrono::milliseconds;

// Section kinds double as capability bits for the keyword registries.
enum section : unsigned {
    sec_global = 1u << 0,
    sec_defaults = 1u << 1,
    sec_frontend = 1u << 2,
    sec_backend = 1u << 3,
    sec_listen = 1u << 4,
    sec_shield = 1u << 5,
};
constexpr unsigned sec_proxies = sec_defaults | sec_frontend | sec_backend | sec_listen;
constexpr unsigned sec_fe = sec_defaults | sec_frontend | sec_listen;  // frontend capability
constexpr unsigned sec_be = sec_defaults | sec_backend | sec_listen;   // backend capability
constexpr unsigned sec_fe_be = sec_frontend | sec_backend | sec_listen;

// "global", "frontend", ... for one bit; "?" otherwise.
const char* section_name(unsigned sec);

struct source_loc {
    std::string file;
    int line = 0;
};

} // namespace bulwark
