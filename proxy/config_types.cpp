// SPDX-License-Identifier: Apache-2.0
#include "proxy/config_types.hpp"

namespace bulwark::proxy {

const proxy_section* proxies_config::find_backend(std::string_view name) const
{
    for (const auto& p : proxies)
        if (p.has_be() && p.name == name)
            return &p;
    return nullptr;
}

const proxy_section* proxies_config::find_frontend(std::string_view name) const
{
    for (const auto& p : proxies)
        if (p.has_fe() && p.name == name)
            return &p;
    return nullptr;
}

} // namespace bulwark::proxy
