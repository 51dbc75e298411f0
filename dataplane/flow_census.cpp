// SPDX-License-Identifier: Apache-2.0
#include "dataplane/flow_census.hpp"

#include "dataplane/flow_table.hpp"

#include <algorithm>
#include <cstring>
#include <map>

namespace bulwark::dataplane {

namespace {

constexpr unsigned max_probes = 32;

std::size_t hash_of(const flow_source& s) noexcept
{
    std::uint64_t h = 1469598103934665603ull; // FNV-1a
    for (std::uint8_t b : s.addr)
        h = (h ^ b) * 1099511628211ull;
    return static_cast<std::size_t>(h ^ s.v6);
}

} // namespace

std::uint64_t flow_state_counts::total() const noexcept
{
    std::uint64_t n = udp_one_way + udp_answered;
    for (auto c : tcp)
        n += c;
    return n;
}

flow_state_counts& flow_state_counts::operator+=(const flow_state_counts& o) noexcept
{
    for (std::size_t i = 0; i < tcp.size(); ++i)
        tcp[i] += o.tcp[i];
    udp_one_way += o.udp_one_way;
    udp_answered += o.udp_answered;
    proxied += o.proxied;
    return *this;
}

flow_census::flow_census(std::size_t source_slots) : sources_(std::max<std::size_t>(source_slots, 1)) {}

void flow_census::begin() noexcept
{
    counts_ = {};
    std::fill(sources_.begin(), sources_.end(), flow_source{});
    uncounted_ = 0;
    at_ = 0;
}

void flow_census::count_source(const flow_source& s) noexcept
{
    std::size_t i = hash_of(s) % sources_.size();
    for (unsigned probe = 0; probe < max_probes; ++probe, i = (i + 1) % sources_.size()) {
        flow_source& slot = sources_[i];
        if (slot.flows == 0) {
            slot = s;
            slot.flows = 1;
            return;
        }
        if (slot.v6 == s.v6 && slot.addr == s.addr) {
            ++slot.flows;
            return;
        }
    }
    ++uncounted_;
}

bool flow_census::step(const flow_table& ft, unsigned budget) noexcept
{
    const std::size_t end = std::min(ft.slots(), at_ + budget);
    for (; at_ < end; ++at_) {
        const auto pos = static_cast<std::int32_t>(at_);
        const flow_entry& e = ft.at(pos);
        const flow_key* k = e.in_use ? ft.key_at(pos) : nullptr;
        if (!k)
            continue;
        if (k->proto == 6) {
            ++counts_.tcp[static_cast<std::size_t>(e.tcp.st)];
            counts_.proxied += e.proxy.ph != proxy_state::phase::none;
        } else {
            ++(e.replied ? counts_.udp_answered : counts_.udp_one_way);
        }
        flow_source s;
        s.addr = e.original_is_a ? k->a : k->b;
        s.v6 = k->v6;
        count_source(s);
    }
    return at_ >= ft.slots();
}

flow_summary summarize(const std::vector<const flow_census*>& censuses, std::size_t top)
{
    flow_summary out;
    std::map<std::pair<bool, std::array<std::uint8_t, 16>>, std::uint64_t> by_source;
    for (const flow_census* c : censuses) {
        out.counts += c->counts();
        out.sources_uncounted += c->sources_uncounted();
        for (const flow_source& s : c->sources())
            if (s.flows)
                by_source[{s.v6, s.addr}] += s.flows;
    }
    for (const auto& [k, n] : by_source) {
        flow_source s;
        s.v6 = k.first;
        s.addr = k.second;
        s.flows = static_cast<std::uint32_t>(std::min<std::uint64_t>(n, UINT32_MAX));
        out.top.push_back(s);
    }
    const std::size_t n = std::min(top, out.top.size());
    std::partial_sort(out.top.begin(), out.top.begin() + static_cast<std::ptrdiff_t>(n), out.top.end(),
                      [](const flow_source& a, const flow_source& b) {
                          return a.flows != b.flows ? a.flows > b.flows : a.addr < b.addr;
                      });
    out.top.resize(n);
    return out;
}

void flow_query::answer(const flow_table& ft, std::uint32_t now) noexcept
{
    const std::int32_t pos = ft.find(key);
    found = pos >= 0;
    if (!found)
        return;
    const flow_entry& e = ft.at(pos);
    st = e.tcp.st;
    udp = key.proto != 6;
    replied = e.replied;
    proxied = e.proxy.ph != proxy_state::phase::none;
    idle = now - e.last_seen;
    timeout = e.timeout;
}

} // namespace bulwark::dataplane
