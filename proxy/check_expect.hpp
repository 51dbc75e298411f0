// SPDX-License-Identifier: Apache-2.0
#pragma once

// 'http-check expect': the compiled expectation and the verdict on a
// check's response. Pure: the health checker (health_check.cpp) reads the
// response, the config checker validates the status lists.

#include "common/result.hpp"
#include "proxy/config_types.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::rules {
class regex;
}

namespace bulwark::proxy {

struct status_range {
    int lo = 0, hi = 0;
};

// HAProxy's status list: "200", "200-399", "200,302,400-404". Nullopt when
// it is none of these (codes are 100..599).
std::optional<std::vector<status_range>> parse_status_list(std::string_view s);

struct check_expect {
    enum class kind : std::uint8_t { status, rstatus, string, rstring } k = kind::status;
    bool negate = false;
    std::vector<status_range> codes;            // status
    std::string text;                           // string
    std::shared_ptr<const rules::regex> re;     // rstatus, rstring
    bool needs_body() const { return k == kind::string || k == kind::rstring; }
};

// Compiles a checked 'http-check expect' line.
result<check_expect> compile_expect(const http_expect& e);

// The verdict on a check's response: "" when it passes, else HAProxy's
// "Layer7 ..." reason. Without an expectation (null), a 2xx or 3xx passes.
// `body`: what was read of the body (empty unless e->needs_body()).
std::string check_verdict(const check_expect* e, int code, std::string_view reason, std::string_view body);

} // namespace bulwark::proxy
