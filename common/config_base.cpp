// SPDX-License-Identifier: Apache-2.0
#include "common/config_base.hpp"

namespace bulwark {

const char* section_name(unsigned sec)
{
    switch (sec) {
    case sec_global: return "global";
    case sec_defaults: return "defaults";
    case sec_frontend: return "frontend";
    case sec_backend: return "backend";
    case sec_listen: return "listen";
    case sec_shield: return "shield";
    }
    return "?";
}

} // namespace bulwark
