// SPDX-License-Identifier: Apache-2.0
#pragma once

// Dropping root once the ports, sockets and files are open: global
// 'chroot', 'group' and 'user', as HAProxy applies them (chroot first,
// then the groups, then the user). glibc applies set*id to every thread of
// the process, EAL's included.

#include "common/result.hpp"
#include "controlplane/config_types.hpp"

#include <string>

namespace bulwark::controlplane {

// Applies p; returns one line for the start banner ("privileges dropped: ..."), or
// an empty one when p asks for nothing. Fails, with the config line, when
// a step fails or when root could be taken back after it.
result<std::string> drop_privileges(const process_settings& p);

} // namespace bulwark::controlplane
