// SPDX-License-Identifier: Apache-2.0
// rte_acl tries for the shield's filter rules. Each config rule becomes one
// ACL rule per (sport range, dport range) pair; its priority falls with its
// position, so the first rule of the file wins, as the config says.
#include "dataplane/acl_table.hpp"

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_errno.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <netinet/in.h>

namespace bulwark::dataplane {

namespace {

// What classify() hands rte_acl: the fields in network byte order. The
// first field is one byte, the others fill 4-byte input words (rte_acl's
// layout rule); both ports share one word.
struct key4 {
    std::uint8_t proto;
    std::uint8_t pad[3];
    std::uint32_t src, dst;
    std::uint16_t sport, dport;
};
struct key6 {
    std::uint8_t proto;
    std::uint8_t pad[3];
    std::uint32_t src[4], dst[4];
    std::uint16_t sport, dport;
};

constexpr unsigned fields4 = 5, fields6 = 11;
RTE_ACL_RULE_DEF(rule4, fields4);
RTE_ACL_RULE_DEF(rule6, fields6);

rte_acl_config config4()
{
    rte_acl_config c{};
    c.num_categories = 1;
    c.num_fields = fields4;
    c.defs[0] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, 0, offsetof(key4, proto)};
    c.defs[1] = {RTE_ACL_FIELD_TYPE_MASK, 4, 1, 1, offsetof(key4, src)};
    c.defs[2] = {RTE_ACL_FIELD_TYPE_MASK, 4, 2, 2, offsetof(key4, dst)};
    c.defs[3] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 3, 3, offsetof(key4, sport)};
    c.defs[4] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 4, 3, offsetof(key4, dport)};
    return c;
}

rte_acl_config config6()
{
    rte_acl_config c{};
    c.num_categories = 1;
    c.num_fields = fields6;
    c.defs[0] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, 0, offsetof(key6, proto)};
    for (std::uint8_t w = 0; w < 4; ++w) {
        c.defs[1 + w] = {RTE_ACL_FIELD_TYPE_MASK, 4, std::uint8_t(1 + w), std::uint8_t(1 + w),
                         std::uint32_t(offsetof(key6, src) + 4 * w)};
        c.defs[5 + w] = {RTE_ACL_FIELD_TYPE_MASK, 4, std::uint8_t(5 + w), std::uint8_t(5 + w),
                         std::uint32_t(offsetof(key6, dst) + 4 * w)};
    }
    c.defs[9] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 9, 9, offsetof(key6, sport)};
    c.defs[10] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 10, 9, offsetof(key6, dport)};
    return c;
}

std::uint32_t word_of(const ip_addr& a, unsigned w)
{
    return std::uint32_t(a.bytes[4 * w]) << 24 | std::uint32_t(a.bytes[4 * w + 1]) << 16 |
           std::uint32_t(a.bytes[4 * w + 2]) << 8 | a.bytes[4 * w + 3];
}

// The prefix bits of a /len that fall in 32-bit word w.
std::uint32_t bits_in_word(unsigned len, unsigned w)
{
    int b = int(len) - 32 * int(w);
    return std::uint32_t(std::clamp(b, 0, 32));
}

void set_range(rte_acl_field& f, port_range r)
{
    f.value.u16 = r.lo;
    f.mask_range.u16 = r.hi;
}

struct ctx_deleter {
    void operator()(rte_acl_ctx* c) const { rte_acl_free(c); }
};
using ctx_ptr = std::unique_ptr<rte_acl_ctx, ctx_deleter>;

template <class Rule>
result<ctx_ptr> compile(const std::vector<Rule>& rules, unsigned fields, const rte_acl_config& cfg, const std::string& name)
{
    if (rules.empty())
        return ctx_ptr{};
    rte_acl_param p{};
    p.name = name.c_str();
    p.socket_id = SOCKET_ID_ANY;
    p.rule_size = RTE_ACL_RULE_SZ(fields);
    p.max_rule_num = static_cast<std::uint32_t>(rules.size());
    ctx_ptr ctx{rte_acl_create(&p)};
    if (!ctx)
        return fail(fmt::format("rte_acl_create({}): {}", name, rte_strerror(rte_errno)));
    int rc = rte_acl_add_rules(ctx.get(), reinterpret_cast<const rte_acl_rule*>(rules.data()),
                               static_cast<std::uint32_t>(rules.size()));
    if (rc != 0)
        return fail(fmt::format("rte_acl_add_rules({}): {}", name, rte_strerror(-rc)));
    rc = rte_acl_build(ctx.get(), &cfg);
    if (rc != 0)
        return fail(fmt::format("rte_acl_build({}): {}", name, rte_strerror(-rc)));
    return ctx;
}

} // namespace

result<std::unique_ptr<acl_table>> acl_table::build(const std::vector<shield_rule>& rules,
                                                    verdict default_verdict, const std::string& name)
{
    std::unique_ptr<acl_table> t{new acl_table};
    t->default_ = default_verdict;
    std::vector<rule4> r4;
    std::vector<rule6> r6;
    const port_range any{0, 65535};
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto& r = rules[i];
        t->verdicts_.push_back(r.v);
        t->exempt_.push_back(r.v == verdict::allow && r.src);
        bool fam4 = true, fam6 = true;
        for (const auto& a : {r.src, r.dst})
            if (a) {
                fam4 &= a->net.fam == family::ipv4;
                fam6 &= a->net.fam == family::ipv6;
            }
        fam4 &= r.proto != IPPROTO_ICMPV6;
        fam6 &= r.proto != IPPROTO_ICMP;
        std::vector<port_range> sports = r.sport.empty() ? std::vector{any} : r.sport;
        std::vector<port_range> dports = r.dport.empty() ? std::vector{any} : r.dport;
        rte_acl_rule_data data{};
        data.category_mask = 1;
        // first in the file, highest priority
        data.priority = static_cast<std::int32_t>(RTE_ACL_MAX_PRIORITY - i);
        data.userdata = static_cast<std::uint32_t>(i + 1);
        for (auto sp : sports)
            for (auto dp : dports) {
                if (fam4) {
                    rule4 a{};
                    a.data = data;
                    a.field[0].value.u8 = r.proto;
                    a.field[0].mask_range.u8 = r.proto ? 0xff : 0;
                    if (r.src) {
                        a.field[1].value.u32 = word_of(r.src->net, 0);
                        a.field[1].mask_range.u32 = r.src->prefix;
                    }
                    if (r.dst) {
                        a.field[2].value.u32 = word_of(r.dst->net, 0);
                        a.field[2].mask_range.u32 = r.dst->prefix;
                    }
                    set_range(a.field[3], sp);
                    set_range(a.field[4], dp);
                    r4.push_back(a);
                }
                if (fam6) {
                    rule6 a{};
                    a.data = data;
                    a.field[0].value.u8 = r.proto;
                    a.field[0].mask_range.u8 = r.proto ? 0xff : 0;
                    for (unsigned w = 0; w < 4; ++w) {
                        if (r.src) {
                            a.field[1 + w].value.u32 = word_of(r.src->net, w);
                            a.field[1 + w].mask_range.u32 = bits_in_word(r.src->prefix, w);
                        }
                        if (r.dst) {
                            a.field[5 + w].value.u32 = word_of(r.dst->net, w);
                            a.field[5 + w].mask_range.u32 = bits_in_word(r.dst->prefix, w);
                        }
                    }
                    set_range(a.field[9], sp);
                    set_range(a.field[10], dp);
                    r6.push_back(a);
                }
            }
    }
    t->acl_rules_ = r4.size() + r6.size();
    auto c4 = compile(r4, fields4, config4(), name + "4");
    if (!c4)
        return fail(c4.message());
    auto c6 = compile(r6, fields6, config6(), name + "6");
    if (!c6)
        return fail(c6.message());
    t->v4_ = c4->release();
    t->v6_ = c6->release();
    return t;
}

acl_table::~acl_table()
{
    rte_acl_free(v4_);
    rte_acl_free(v6_);
}

void acl_table::classify(const parsed_frame* const* frames, unsigned n, std::uint32_t* results) const noexcept
{
    constexpr unsigned max = 64;
    key4 k4[max];
    key6 k6[max];
    const std::uint8_t* d4[max];
    const std::uint8_t* d6[max];
    std::uint32_t r4[max], r6[max];
    std::uint8_t i4[max], i6[max];
    unsigned n4 = 0, n6 = 0;
    n = std::min(n, max);
    for (unsigned i = 0; i < n; ++i) {
        const parsed_frame& f = *frames[i];
        results[i] = 0;
        if (f.l3 == l3_kind::ipv4 && v4_) {
            key4& k = k4[n4];
            k.proto = f.proto;
            std::memcpy(&k.src, f.src.data(), 4);
            std::memcpy(&k.dst, f.dst.data(), 4);
            k.sport = rte_cpu_to_be_16(f.sport);
            k.dport = rte_cpu_to_be_16(f.dport);
            d4[n4] = reinterpret_cast<const std::uint8_t*>(&k);
            i4[n4++] = static_cast<std::uint8_t>(i);
        } else if (f.l3 == l3_kind::ipv6 && v6_) {
            key6& k = k6[n6];
            k.proto = f.proto;
            std::memcpy(k.src, f.src.data(), 16);
            std::memcpy(k.dst, f.dst.data(), 16);
            k.sport = rte_cpu_to_be_16(f.sport);
            k.dport = rte_cpu_to_be_16(f.dport);
            d6[n6] = reinterpret_cast<const std::uint8_t*>(&k);
            i6[n6++] = static_cast<std::uint8_t>(i);
        }
    }
    if (n4 && rte_acl_classify(v4_, d4, r4, n4, 1) == 0)
        for (unsigned j = 0; j < n4; ++j)
            results[i4[j]] = r4[j];
    if (n6 && rte_acl_classify(v6_, d6, r6, n6, 1) == 0)
        for (unsigned j = 0; j < n6; ++j)
            results[i6[j]] = r6[j];
}

} // namespace bulwark::dataplane
