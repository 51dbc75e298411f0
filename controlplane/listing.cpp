// SPDX-License-Identifier: Apache-2.0
// "bulwarkd --keywords": every registry row, with what it waits for.
#include "controlplane/parse_ctx.hpp"
#include "controlplane/parser.hpp"
#include "proxy/registry.hpp"

#include <fmt/format.h>
#include <utility>

namespace bulwark::controlplane {

namespace {

std::string status(std::string_view pending)
{
    return pending.empty() ? std::string("built") : fmt::format("waits for {}", pending);
}

std::string sections_of(unsigned secs)
{
    std::string out;
    for (unsigned s : {sec_global, sec_defaults, sec_frontend, sec_backend, sec_listen, sec_shield})
        if (secs & s)
            out += fmt::format("{}{}", out.empty() ? "" : ",", section_name(s));
    return out;
}

} // namespace

std::string keyword_listing()
{
    std::string out = "# KIND      NAME                            WHERE                              STATUS\n";
    auto line = [&](std::string_view kind, std::string_view name, std::string_view where, std::string_view pending) {
        out += fmt::format("{:<11} {:<31} {:<34} {}\n", kind, name, where, status(pending));
    };
    for (auto table : {global_keywords(), proxy_keywords(), shield_keywords()})
        for (const auto& k : table)
            line("keyword", k.name, sections_of(k.sections), k.pending);
    list_proxy_subkeywords([&](std::string_view kind, std::string_view name, std::string_view pending) {
        line(kind, name, "", pending);
    });
    for (const auto& f : proxy::fetch_keywords())
        line("fetch", f.name, f.derivable ? "acl derivatives _beg _sub ..." : "", f.pending);
    for (const auto& c : proxy::converter_keywords())
        line("converter", c.name, "", c.pending);
    for (const auto& m : proxy::matcher_keywords())
        line("matcher", fmt::format("-m {}", m.name), "", m.pending);
    for (const auto& a : proxy::action_keywords())
        line("action", a.name, a.family, a.pending);
    return out;
}

std::string keyword_help(std::string_view name)
{
    if (name.starts_with("-m "))
        name.remove_prefix(3);
    std::string out;
    auto entry = [&](std::string_view kind, std::string_view what, std::string_view where, std::string_view doc,
                     std::string_view pending) {
        out += fmt::format("{} {}: {}\n", kind, what, doc);
        if (!where.empty())
            out += fmt::format("  where: {}\n", where);
        out += fmt::format("  status: {}\n", status(pending));
    };
    if (auto f = proxy::find_fetch(name); f && f->implied_matcher.empty()) {
        std::string where;
        for (auto [bit, word] : {std::pair{proxy::at_conn, "connection"}, {proxy::at_hello, "content"},
                                 {proxy::at_req, "request"}, {proxy::at_res, "response"}, {proxy::at_tls, "tls"}})
            if (f->fetch->where & bit)
                where += fmt::format("{}{}", where.empty() ? "" : ", ", word);
        entry("fetch", f->fetch->name, where, f->fetch->doc, f->fetch->pending);
    }
    if (const auto* c = proxy::find_converter(name))
        entry("converter", c->name, "", c->doc, c->pending);
    if (const auto* m = proxy::find_matcher(name))
        entry("matcher", fmt::format("-m {}", m->name), "", m->doc, m->pending);
    for (const auto& a : proxy::action_keywords())
        if (a.name == name || (a.name.ends_with('(') && a.name.substr(0, a.name.size() - 1) == name))
            entry("action", a.name, a.family, a.doc, a.pending);
    return out;
}

} // namespace bulwark::controlplane
