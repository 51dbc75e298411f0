// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace bulwark::proxy {

// The response HAProxy sends for an error status it produces (400, 403,
// 408, 413, 414, 431, 500, 502, 503, 504), with the same bodies, ending
// the connection. Other statuses get a minimal body.
std::string error_response(int status);

} // namespace bulwark::proxy
