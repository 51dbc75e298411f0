// SPDX-License-Identifier: Apache-2.0
#pragma once

// The shield's allow|deny|punt rules compiled into DPDK ACL tries, one per
// address family (rte_acl). Built by the control plane, read by the worker
// lcores: classify() takes no lock and allocates nothing.

#include "dataplane/config_types.hpp"
#include "common/result.hpp"
#include "dataplane/packet_types.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_acl_ctx;

namespace bulwark::dataplane {


class acl_table {
public:
    // Compiles `rules` (first match wins) for both families. `name` keeps
    // the DPDK object names unique in the process.
    static result<std::unique_ptr<acl_table>> build(const std::vector<shield_rule>& rules,
                                                    verdict default_verdict, const std::string& name);
    ~acl_table();
    acl_table(const acl_table&) = delete;
    acl_table& operator=(const acl_table&) = delete;

    // results[i]: 0 when no rule matched frames[i] (or it is not IP), else
    // the index of the first matching rule plus one. n <= 64.
    void classify(const parsed_frame* const* frames, unsigned n, std::uint32_t* results) const noexcept;

    verdict verdict_of(std::uint32_t result) const noexcept { return result ? verdicts_[result - 1] : default_; }
    verdict default_verdict() const noexcept { return default_; }
    // The rule of `result` is an allow-list: an 'allow' rule naming its
    // sources ('allow ... src CIDR'), whose frames the per-source limits
    // exempt. An 'allow' rule without 'src' (say 'allow tcp dport 80')
    // admits traffic and leaves it limited; so does 'default allow'.
    bool exempts(std::uint32_t result) const noexcept { return result && exempt_[result - 1]; }
    std::size_t rules() const noexcept { return verdicts_.size(); }
    std::size_t acl_rules() const noexcept { return acl_rules_; } // after port-list expansion

private:
    acl_table() = default;
    rte_acl_ctx* v4_ = nullptr;
    rte_acl_ctx* v6_ = nullptr;
    std::vector<verdict> verdicts_;
    std::vector<bool> exempt_;
    verdict default_ = verdict::allow;
    std::size_t acl_rules_ = 0;
};

} // namespace bulwark::dataplane
