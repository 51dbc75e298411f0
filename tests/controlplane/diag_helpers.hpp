// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the config tests read from a load: its alerts and warnings as text,
// and an empty environment for hermetic loads.

#include "controlplane/parser.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bulwark::controlplane::testing {

inline env_lookup no_env()
{
    return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

inline std::vector<std::string> alerts(const load_result& r)
{
    std::vector<std::string> out;
    for (const auto& d : r.diag.all())
        if (d.sev == severity::alert)
            out.push_back(d.text());
    return out;
}

// Warnings other than "not built yet": the ones about the config itself.
inline std::vector<std::string> warnings(const load_result& r)
{
    std::vector<std::string> out;
    for (const auto& d : r.diag.all())
        if (d.sev == severity::warning && d.message.find("not built yet") == std::string::npos)
            out.push_back(d.text());
    return out;
}

} // namespace bulwark::controlplane::testing
