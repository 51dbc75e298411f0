// SPDX-License-Identifier: Apache-2.0
// The stick-counter fetches (HAProxy's src/stick_table.c): sc_*(N[,T]),
// their sc0_/sc1_/sc2_ forms and src_*([T]). sc_* read the entry the
// connection tracks as scN (0 when it tracks none), looked up in T when T
// is another table; src_* the entry of the source address in T, else the
// section's own table (0 when there is none). No sample when the table
// does not store the data type, as HAProxy.
#include "proxy/registry.hpp"
#include "proxy/sample.hpp"
#include "proxy/stick_table.hpp"

#include <array>

namespace bulwark::proxy {

namespace {

using sv = std::string_view;
using sd = stk_data;

// What a fetch does with the entry: read a data type, add 1 to or clear
// a gpc (the data type names which), or say whether scN tracks anything.
enum class op : std::uint8_t { rd, inc, clr, tracked };

void push(eval_ctx& c, std::int64_t n, smp_type t = smp_type::integer)
{
    sample v;
    v.type = t;
    v.num = n;
    c.vals.push_back(v);
}

unsigned gpc_index(stk_data d) { return d == stk_data::gpc1 ? 1u : 0u; }

// o on r (an entry of t, acquired by the caller).
std::optional<std::int64_t> apply(stick_table& t, stk_ref r, op o, stk_data d, std::uint64_t now)
{
    switch (o) {
    case op::inc: return t.inc_gpc(r, now, gpc_index(d));
    case op::clr: return t.clr_gpc(r, now, gpc_index(d));
    default: return t.read(r, d, now);
    }
}

// o on key in t: a read does not create the entry (0 when missing), a
// gpc change does (HAProxy's src_inc_gpc0 makes it).
std::optional<std::int64_t> apply_key(stick_table& t, sv key, op o, stk_data d, std::uint64_t now)
{
    if (o == op::rd)
        return t.read_key(key, d, now);
    auto r = t.acquire(key, now);
    if (!r)
        return std::nullopt;
    auto v = apply(t, r, o, d, now);
    t.release(r, now);
    return v;
}

void sc_push(eval_ctx& c, unsigned n, sv table, op o, stk_data d)
{
    track_state* t = c.txn->trk;
    if (!t || n >= t->sc.size())
        return;
    stk_ref r = t->sc[n];
    if (o == op::tracked)
        return push(c, r ? 1 : 0, smp_type::boolean);
    if (!r)
        return push(c, 0);
    std::optional<std::int64_t> v;
    if (!table.empty() && table != r.table->config().name) {
        stick_table* other = t->table(table);
        if (!other)
            return;
        v = apply_key(*other, r.entry->key, o, d, t->now); // the key is fixed while tracked
    } else {
        v = apply(*r.table, r, o, d, t->now);
    }
    if (v)
        push(c, *v);
}

void src_push(eval_ctx& c, sv table, op o, stk_data d)
{
    track_state* t = c.txn->trk;
    if (!t || !c.txn->src)
        return;
    stick_table* tb = t->table(table);
    if (!tb)
        return;
    std::array<std::uint8_t, 16> buf{};
    const ip_addr& a = *c.txn->src;
    auto key = tb->ip_key(a.bytes.data(), a.fam == family::ipv4 ? 4 : 16, buf);
    if (!key)
        return;
    if (auto v = apply_key(*tb, *key, o, d, t->now))
        push(c, *v);
}

template <op O, stk_data D>
void f_sc(eval_ctx& c, const compiled_expr& e, bool)
{
    unsigned n = e.args.empty() || e.args[0].size() != 1 ? 3u : static_cast<unsigned>(e.args[0][0] - '0');
    sc_push(c, n, e.args.size() > 1 ? sv(e.args[1]) : sv(), O, D);
}
template <unsigned N, op O, stk_data D>
void f_scn(eval_ctx& c, const compiled_expr& e, bool)
{
    sc_push(c, N, e.args.empty() ? sv() : sv(e.args[0]), O, D);
}
template <op O, stk_data D>
void f_src(eval_ctx& c, const compiled_expr& e, bool)
{
    src_push(c, e.args.empty() ? sv() : sv(e.args[0]), O, D);
}

constexpr unsigned l4 = at_conn | at_hello | at_req | at_res;
constexpr auto sci = smp_type::integer;
constexpr auto scb = smp_type::boolean;
// HAProxy's stick-counter fetches not built (kbytes, sessions, trackers, gpt0,
// http_fail): -c warns of them.
constexpr auto P = pending_appliance;

constexpr std::array stick_rows{
    fetch_kw{"sc_http_req_rate", 1, 2, sci, l4, false, f_sc<op::rd, sd::http_req_rate>, {},
             "sc_http_req_rate(N[,TABLE]): of the entry scN tracks, HTTP requests per period"},
    fetch_kw{"sc_http_req_cnt", 1, 2, sci, l4, false, f_sc<op::rd, sd::http_req_cnt>, {},
             "sc_http_req_cnt(N[,TABLE]): of the entry scN tracks, HTTP requests counted"},
    fetch_kw{"sc_http_err_rate", 1, 2, sci, l4, false, f_sc<op::rd, sd::http_err_rate>, {},
             "sc_http_err_rate(N[,TABLE]): of the entry scN tracks, HTTP errors per period"},
    fetch_kw{"sc_http_err_cnt", 1, 2, sci, l4, false, f_sc<op::rd, sd::http_err_cnt>, {},
             "sc_http_err_cnt(N[,TABLE]): of the entry scN tracks, HTTP errors counted"},
    fetch_kw{"sc_conn_cur", 1, 2, sci, l4, false, f_sc<op::rd, sd::conn_cur>, {},
             "sc_conn_cur(N[,TABLE]): of the entry scN tracks, connections tracking it now"},
    fetch_kw{"sc_conn_cnt", 1, 2, sci, l4, false, f_sc<op::rd, sd::conn_cnt>, {},
             "sc_conn_cnt(N[,TABLE]): of the entry scN tracks, connections that tracked it"},
    fetch_kw{"sc_conn_rate", 1, 2, sci, l4, false, f_sc<op::rd, sd::conn_rate>, {},
             "sc_conn_rate(N[,TABLE]): of the entry scN tracks, connections per period"},
    fetch_kw{"sc_bytes_in_rate", 1, 2, sci, l4, false, f_sc<op::rd, sd::bytes_in_rate>, {},
             "sc_bytes_in_rate(N[,TABLE]): of the entry scN tracks, bytes from the client per period"},
    fetch_kw{"sc_bytes_out_rate", 1, 2, sci, l4, false, f_sc<op::rd, sd::bytes_out_rate>, {},
             "sc_bytes_out_rate(N[,TABLE]): of the entry scN tracks, bytes to the client per period"},
    fetch_kw{"sc_get_gpc0", 1, 2, sci, l4, false, f_sc<op::rd, sd::gpc0>, {},
             "sc_get_gpc0(N[,TABLE]): of the entry scN tracks, its gpc0 counter"},
    fetch_kw{"sc_gpc0_rate", 1, 2, sci, l4, false, f_sc<op::rd, sd::gpc0_rate>, {},
             "sc_gpc0_rate(N[,TABLE]): of the entry scN tracks, gpc0 increments per period"},
    fetch_kw{"sc_inc_gpc0", 1, 2, sci, l4, false, f_sc<op::inc, sd::gpc0>, {},
             "sc_inc_gpc0(N[,TABLE]): of the entry scN tracks, adds 1 to its gpc0, returns it"},
    fetch_kw{"sc_clr_gpc0", 1, 2, sci, l4, false, f_sc<op::clr, sd::gpc0>, {},
             "sc_clr_gpc0(N[,TABLE]): of the entry scN tracks, sets its gpc0 to 0, returns the value before"},
    fetch_kw{"sc_get_gpc1", 1, 2, sci, l4, false, f_sc<op::rd, sd::gpc1>, {},
             "sc_get_gpc1(N[,TABLE]): of the entry scN tracks, its gpc1 counter"},
    fetch_kw{"sc_gpc1_rate", 1, 2, sci, l4, false, f_sc<op::rd, sd::gpc1_rate>, {},
             "sc_gpc1_rate(N[,TABLE]): of the entry scN tracks, gpc1 increments per period"},
    fetch_kw{"sc_inc_gpc1", 1, 2, sci, l4, false, f_sc<op::inc, sd::gpc1>, {},
             "sc_inc_gpc1(N[,TABLE]): of the entry scN tracks, adds 1 to its gpc1, returns it"},
    fetch_kw{"sc_clr_gpc1", 1, 2, sci, l4, false, f_sc<op::clr, sd::gpc1>, {},
             "sc_clr_gpc1(N[,TABLE]): of the entry scN tracks, sets its gpc1 to 0, returns the value before"},
    fetch_kw{"sc_tracked", 1, 2, scb, l4, false, f_sc<op::tracked, sd::conn_cur>, {},
             "sc_tracked(N[,TABLE]): true when the connection tracks something as scN"},
    fetch_kw{"sc0_http_req_rate", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::http_req_rate>, {},
             "sc0_http_req_rate([TABLE]): sc_http_req_rate(0)"},
    fetch_kw{"sc0_http_req_cnt", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::http_req_cnt>, {},
             "sc0_http_req_cnt([TABLE]): sc_http_req_cnt(0)"},
    fetch_kw{"sc0_http_err_rate", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::http_err_rate>, {},
             "sc0_http_err_rate([TABLE]): sc_http_err_rate(0)"},
    fetch_kw{"sc0_http_err_cnt", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::http_err_cnt>, {},
             "sc0_http_err_cnt([TABLE]): sc_http_err_cnt(0)"},
    fetch_kw{"sc0_conn_cur", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::conn_cur>, {},
             "sc0_conn_cur([TABLE]): sc_conn_cur(0)"},
    fetch_kw{"sc0_conn_cnt", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::conn_cnt>, {},
             "sc0_conn_cnt([TABLE]): sc_conn_cnt(0)"},
    fetch_kw{"sc0_conn_rate", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::conn_rate>, {},
             "sc0_conn_rate([TABLE]): sc_conn_rate(0)"},
    fetch_kw{"sc0_bytes_in_rate", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::bytes_in_rate>, {},
             "sc0_bytes_in_rate([TABLE]): sc_bytes_in_rate(0)"},
    fetch_kw{"sc0_bytes_out_rate", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::bytes_out_rate>, {},
             "sc0_bytes_out_rate([TABLE]): sc_bytes_out_rate(0)"},
    fetch_kw{"sc0_get_gpc0", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::gpc0>, {},
             "sc0_get_gpc0([TABLE]): sc_get_gpc0(0)"},
    fetch_kw{"sc0_gpc0_rate", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::gpc0_rate>, {},
             "sc0_gpc0_rate([TABLE]): sc_gpc0_rate(0)"},
    fetch_kw{"sc0_inc_gpc0", 0, 1, sci, l4, false, f_scn<0, op::inc, sd::gpc0>, {},
             "sc0_inc_gpc0([TABLE]): sc_inc_gpc0(0)"},
    fetch_kw{"sc0_clr_gpc0", 0, 1, sci, l4, false, f_scn<0, op::clr, sd::gpc0>, {},
             "sc0_clr_gpc0([TABLE]): sc_clr_gpc0(0)"},
    fetch_kw{"sc0_get_gpc1", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::gpc1>, {},
             "sc0_get_gpc1([TABLE]): sc_get_gpc1(0)"},
    fetch_kw{"sc0_gpc1_rate", 0, 1, sci, l4, false, f_scn<0, op::rd, sd::gpc1_rate>, {},
             "sc0_gpc1_rate([TABLE]): sc_gpc1_rate(0)"},
    fetch_kw{"sc0_inc_gpc1", 0, 1, sci, l4, false, f_scn<0, op::inc, sd::gpc1>, {},
             "sc0_inc_gpc1([TABLE]): sc_inc_gpc1(0)"},
    fetch_kw{"sc0_clr_gpc1", 0, 1, sci, l4, false, f_scn<0, op::clr, sd::gpc1>, {},
             "sc0_clr_gpc1([TABLE]): sc_clr_gpc1(0)"},
    fetch_kw{"sc0_tracked", 0, 1, scb, l4, false, f_scn<0, op::tracked, sd::conn_cur>, {},
             "sc0_tracked([TABLE]): sc_tracked(0)"},
    fetch_kw{"sc1_http_req_rate", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::http_req_rate>, {},
             "sc1_http_req_rate([TABLE]): sc_http_req_rate(1)"},
    fetch_kw{"sc1_http_req_cnt", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::http_req_cnt>, {},
             "sc1_http_req_cnt([TABLE]): sc_http_req_cnt(1)"},
    fetch_kw{"sc1_http_err_rate", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::http_err_rate>, {},
             "sc1_http_err_rate([TABLE]): sc_http_err_rate(1)"},
    fetch_kw{"sc1_http_err_cnt", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::http_err_cnt>, {},
             "sc1_http_err_cnt([TABLE]): sc_http_err_cnt(1)"},
    fetch_kw{"sc1_conn_cur", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::conn_cur>, {},
             "sc1_conn_cur([TABLE]): sc_conn_cur(1)"},
    fetch_kw{"sc1_conn_cnt", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::conn_cnt>, {},
             "sc1_conn_cnt([TABLE]): sc_conn_cnt(1)"},
    fetch_kw{"sc1_conn_rate", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::conn_rate>, {},
             "sc1_conn_rate([TABLE]): sc_conn_rate(1)"},
    fetch_kw{"sc1_bytes_in_rate", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::bytes_in_rate>, {},
             "sc1_bytes_in_rate([TABLE]): sc_bytes_in_rate(1)"},
    fetch_kw{"sc1_bytes_out_rate", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::bytes_out_rate>, {},
             "sc1_bytes_out_rate([TABLE]): sc_bytes_out_rate(1)"},
    fetch_kw{"sc1_get_gpc0", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::gpc0>, {},
             "sc1_get_gpc0([TABLE]): sc_get_gpc0(1)"},
    fetch_kw{"sc1_gpc0_rate", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::gpc0_rate>, {},
             "sc1_gpc0_rate([TABLE]): sc_gpc0_rate(1)"},
    fetch_kw{"sc1_inc_gpc0", 0, 1, sci, l4, false, f_scn<1, op::inc, sd::gpc0>, {},
             "sc1_inc_gpc0([TABLE]): sc_inc_gpc0(1)"},
    fetch_kw{"sc1_clr_gpc0", 0, 1, sci, l4, false, f_scn<1, op::clr, sd::gpc0>, {},
             "sc1_clr_gpc0([TABLE]): sc_clr_gpc0(1)"},
    fetch_kw{"sc1_get_gpc1", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::gpc1>, {},
             "sc1_get_gpc1([TABLE]): sc_get_gpc1(1)"},
    fetch_kw{"sc1_gpc1_rate", 0, 1, sci, l4, false, f_scn<1, op::rd, sd::gpc1_rate>, {},
             "sc1_gpc1_rate([TABLE]): sc_gpc1_rate(1)"},
    fetch_kw{"sc1_inc_gpc1", 0, 1, sci, l4, false, f_scn<1, op::inc, sd::gpc1>, {},
             "sc1_inc_gpc1([TABLE]): sc_inc_gpc1(1)"},
    fetch_kw{"sc1_clr_gpc1", 0, 1, sci, l4, false, f_scn<1, op::clr, sd::gpc1>, {},
             "sc1_clr_gpc1([TABLE]): sc_clr_gpc1(1)"},
    fetch_kw{"sc1_tracked", 0, 1, scb, l4, false, f_scn<1, op::tracked, sd::conn_cur>, {},
             "sc1_tracked([TABLE]): sc_tracked(1)"},
    fetch_kw{"sc2_http_req_rate", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::http_req_rate>, {},
             "sc2_http_req_rate([TABLE]): sc_http_req_rate(2)"},
    fetch_kw{"sc2_http_req_cnt", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::http_req_cnt>, {},
             "sc2_http_req_cnt([TABLE]): sc_http_req_cnt(2)"},
    fetch_kw{"sc2_http_err_rate", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::http_err_rate>, {},
             "sc2_http_err_rate([TABLE]): sc_http_err_rate(2)"},
    fetch_kw{"sc2_http_err_cnt", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::http_err_cnt>, {},
             "sc2_http_err_cnt([TABLE]): sc_http_err_cnt(2)"},
    fetch_kw{"sc2_conn_cur", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::conn_cur>, {},
             "sc2_conn_cur([TABLE]): sc_conn_cur(2)"},
    fetch_kw{"sc2_conn_cnt", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::conn_cnt>, {},
             "sc2_conn_cnt([TABLE]): sc_conn_cnt(2)"},
    fetch_kw{"sc2_conn_rate", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::conn_rate>, {},
             "sc2_conn_rate([TABLE]): sc_conn_rate(2)"},
    fetch_kw{"sc2_bytes_in_rate", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::bytes_in_rate>, {},
             "sc2_bytes_in_rate([TABLE]): sc_bytes_in_rate(2)"},
    fetch_kw{"sc2_bytes_out_rate", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::bytes_out_rate>, {},
             "sc2_bytes_out_rate([TABLE]): sc_bytes_out_rate(2)"},
    fetch_kw{"sc2_get_gpc0", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::gpc0>, {},
             "sc2_get_gpc0([TABLE]): sc_get_gpc0(2)"},
    fetch_kw{"sc2_gpc0_rate", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::gpc0_rate>, {},
             "sc2_gpc0_rate([TABLE]): sc_gpc0_rate(2)"},
    fetch_kw{"sc2_inc_gpc0", 0, 1, sci, l4, false, f_scn<2, op::inc, sd::gpc0>, {},
             "sc2_inc_gpc0([TABLE]): sc_inc_gpc0(2)"},
    fetch_kw{"sc2_clr_gpc0", 0, 1, sci, l4, false, f_scn<2, op::clr, sd::gpc0>, {},
             "sc2_clr_gpc0([TABLE]): sc_clr_gpc0(2)"},
    fetch_kw{"sc2_get_gpc1", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::gpc1>, {},
             "sc2_get_gpc1([TABLE]): sc_get_gpc1(2)"},
    fetch_kw{"sc2_gpc1_rate", 0, 1, sci, l4, false, f_scn<2, op::rd, sd::gpc1_rate>, {},
             "sc2_gpc1_rate([TABLE]): sc_gpc1_rate(2)"},
    fetch_kw{"sc2_inc_gpc1", 0, 1, sci, l4, false, f_scn<2, op::inc, sd::gpc1>, {},
             "sc2_inc_gpc1([TABLE]): sc_inc_gpc1(2)"},
    fetch_kw{"sc2_clr_gpc1", 0, 1, sci, l4, false, f_scn<2, op::clr, sd::gpc1>, {},
             "sc2_clr_gpc1([TABLE]): sc_clr_gpc1(2)"},
    fetch_kw{"sc2_tracked", 0, 1, scb, l4, false, f_scn<2, op::tracked, sd::conn_cur>, {},
             "sc2_tracked([TABLE]): sc_tracked(2)"},
    fetch_kw{"src_http_req_rate", 0, 1, sci, l4, false, f_src<op::rd, sd::http_req_rate>, {},
             "src_http_req_rate([TABLE]): of the source address's entry, HTTP requests per period"},
    fetch_kw{"src_http_req_cnt", 0, 1, sci, l4, false, f_src<op::rd, sd::http_req_cnt>, {},
             "src_http_req_cnt([TABLE]): of the source address's entry, HTTP requests counted"},
    fetch_kw{"src_http_err_rate", 0, 1, sci, l4, false, f_src<op::rd, sd::http_err_rate>, {},
             "src_http_err_rate([TABLE]): of the source address's entry, HTTP errors per period"},
    fetch_kw{"src_http_err_cnt", 0, 1, sci, l4, false, f_src<op::rd, sd::http_err_cnt>, {},
             "src_http_err_cnt([TABLE]): of the source address's entry, HTTP errors counted"},
    fetch_kw{"src_conn_cur", 0, 1, sci, l4, false, f_src<op::rd, sd::conn_cur>, {},
             "src_conn_cur([TABLE]): of the source address's entry, connections tracking it now"},
    fetch_kw{"src_conn_cnt", 0, 1, sci, l4, false, f_src<op::rd, sd::conn_cnt>, {},
             "src_conn_cnt([TABLE]): of the source address's entry, connections that tracked it"},
    fetch_kw{"src_conn_rate", 0, 1, sci, l4, false, f_src<op::rd, sd::conn_rate>, {},
             "src_conn_rate([TABLE]): of the source address's entry, connections per period"},
    fetch_kw{"src_bytes_in_rate", 0, 1, sci, l4, false, f_src<op::rd, sd::bytes_in_rate>, {},
             "src_bytes_in_rate([TABLE]): of the source address's entry, bytes from the client per period"},
    fetch_kw{"src_bytes_out_rate", 0, 1, sci, l4, false, f_src<op::rd, sd::bytes_out_rate>, {},
             "src_bytes_out_rate([TABLE]): of the source address's entry, bytes to the client per period"},
    fetch_kw{"src_get_gpc0", 0, 1, sci, l4, false, f_src<op::rd, sd::gpc0>, {},
             "src_get_gpc0([TABLE]): of the source address's entry, its gpc0 counter"},
    fetch_kw{"src_gpc0_rate", 0, 1, sci, l4, false, f_src<op::rd, sd::gpc0_rate>, {},
             "src_gpc0_rate([TABLE]): of the source address's entry, gpc0 increments per period"},
    fetch_kw{"src_inc_gpc0", 0, 1, sci, l4, false, f_src<op::inc, sd::gpc0>, {},
             "src_inc_gpc0([TABLE]): of the source address's entry, adds 1 to its gpc0, returns it"},
    fetch_kw{"src_clr_gpc0", 0, 1, sci, l4, false, f_src<op::clr, sd::gpc0>, {},
             "src_clr_gpc0([TABLE]): of the source address's entry, sets its gpc0 to 0, returns the value before"},
    fetch_kw{"src_get_gpc1", 0, 1, sci, l4, false, f_src<op::rd, sd::gpc1>, {},
             "src_get_gpc1([TABLE]): of the source address's entry, its gpc1 counter"},
    fetch_kw{"src_gpc1_rate", 0, 1, sci, l4, false, f_src<op::rd, sd::gpc1_rate>, {},
             "src_gpc1_rate([TABLE]): of the source address's entry, gpc1 increments per period"},
    fetch_kw{"src_inc_gpc1", 0, 1, sci, l4, false, f_src<op::inc, sd::gpc1>, {},
             "src_inc_gpc1([TABLE]): of the source address's entry, adds 1 to its gpc1, returns it"},
    fetch_kw{"src_clr_gpc1", 0, 1, sci, l4, false, f_src<op::clr, sd::gpc1>, {},
             "src_clr_gpc1([TABLE]): of the source address's entry, sets its gpc1 to 0, returns the value before"},
    fetch_kw{"sc_kbytes_in", 1, 2, sci, l4, false, nullptr, P,
             "sc_kbytes_in(N[,TABLE]): not built"},
    fetch_kw{"sc0_kbytes_in", 0, 1, sci, l4, false, nullptr, P,
             "sc0_kbytes_in([TABLE]): not built"},
    fetch_kw{"sc1_kbytes_in", 0, 1, sci, l4, false, nullptr, P,
             "sc1_kbytes_in([TABLE]): not built"},
    fetch_kw{"sc2_kbytes_in", 0, 1, sci, l4, false, nullptr, P,
             "sc2_kbytes_in([TABLE]): not built"},
    fetch_kw{"sc_kbytes_out", 1, 2, sci, l4, false, nullptr, P,
             "sc_kbytes_out(N[,TABLE]): not built"},
    fetch_kw{"sc0_kbytes_out", 0, 1, sci, l4, false, nullptr, P,
             "sc0_kbytes_out([TABLE]): not built"},
    fetch_kw{"sc1_kbytes_out", 0, 1, sci, l4, false, nullptr, P,
             "sc1_kbytes_out([TABLE]): not built"},
    fetch_kw{"sc2_kbytes_out", 0, 1, sci, l4, false, nullptr, P,
             "sc2_kbytes_out([TABLE]): not built"},
    fetch_kw{"sc_sess_cnt", 1, 2, sci, l4, false, nullptr, P,
             "sc_sess_cnt(N[,TABLE]): not built"},
    fetch_kw{"sc0_sess_cnt", 0, 1, sci, l4, false, nullptr, P,
             "sc0_sess_cnt([TABLE]): not built"},
    fetch_kw{"sc1_sess_cnt", 0, 1, sci, l4, false, nullptr, P,
             "sc1_sess_cnt([TABLE]): not built"},
    fetch_kw{"sc2_sess_cnt", 0, 1, sci, l4, false, nullptr, P,
             "sc2_sess_cnt([TABLE]): not built"},
    fetch_kw{"sc_sess_rate", 1, 2, sci, l4, false, nullptr, P,
             "sc_sess_rate(N[,TABLE]): not built"},
    fetch_kw{"sc0_sess_rate", 0, 1, sci, l4, false, nullptr, P,
             "sc0_sess_rate([TABLE]): not built"},
    fetch_kw{"sc1_sess_rate", 0, 1, sci, l4, false, nullptr, P,
             "sc1_sess_rate([TABLE]): not built"},
    fetch_kw{"sc2_sess_rate", 0, 1, sci, l4, false, nullptr, P,
             "sc2_sess_rate([TABLE]): not built"},
    fetch_kw{"sc_trackers", 1, 2, sci, l4, false, nullptr, P,
             "sc_trackers(N[,TABLE]): not built"},
    fetch_kw{"sc0_trackers", 0, 1, sci, l4, false, nullptr, P,
             "sc0_trackers([TABLE]): not built"},
    fetch_kw{"sc1_trackers", 0, 1, sci, l4, false, nullptr, P,
             "sc1_trackers([TABLE]): not built"},
    fetch_kw{"sc2_trackers", 0, 1, sci, l4, false, nullptr, P,
             "sc2_trackers([TABLE]): not built"},
    fetch_kw{"sc_get_gpt0", 1, 2, sci, l4, false, nullptr, P,
             "sc_get_gpt0(N[,TABLE]): not built"},
    fetch_kw{"sc0_get_gpt0", 0, 1, sci, l4, false, nullptr, P,
             "sc0_get_gpt0([TABLE]): not built"},
    fetch_kw{"sc1_get_gpt0", 0, 1, sci, l4, false, nullptr, P,
             "sc1_get_gpt0([TABLE]): not built"},
    fetch_kw{"sc2_get_gpt0", 0, 1, sci, l4, false, nullptr, P,
             "sc2_get_gpt0([TABLE]): not built"},
    fetch_kw{"sc_http_fail_cnt", 1, 2, sci, l4, false, nullptr, P,
             "sc_http_fail_cnt(N[,TABLE]): not built"},
    fetch_kw{"sc0_http_fail_cnt", 0, 1, sci, l4, false, nullptr, P,
             "sc0_http_fail_cnt([TABLE]): not built"},
    fetch_kw{"sc1_http_fail_cnt", 0, 1, sci, l4, false, nullptr, P,
             "sc1_http_fail_cnt([TABLE]): not built"},
    fetch_kw{"sc2_http_fail_cnt", 0, 1, sci, l4, false, nullptr, P,
             "sc2_http_fail_cnt([TABLE]): not built"},
    fetch_kw{"sc_http_fail_rate", 1, 2, sci, l4, false, nullptr, P,
             "sc_http_fail_rate(N[,TABLE]): not built"},
    fetch_kw{"sc0_http_fail_rate", 0, 1, sci, l4, false, nullptr, P,
             "sc0_http_fail_rate([TABLE]): not built"},
    fetch_kw{"sc1_http_fail_rate", 0, 1, sci, l4, false, nullptr, P,
             "sc1_http_fail_rate([TABLE]): not built"},
    fetch_kw{"sc2_http_fail_rate", 0, 1, sci, l4, false, nullptr, P,
             "sc2_http_fail_rate([TABLE]): not built"},
    fetch_kw{"src_kbytes_in", 0, 1, sci, l4, false, nullptr, P,
             "src_kbytes_in([TABLE]): not built"},
    fetch_kw{"src_kbytes_out", 0, 1, sci, l4, false, nullptr, P,
             "src_kbytes_out([TABLE]): not built"},
    fetch_kw{"src_sess_cnt", 0, 1, sci, l4, false, nullptr, P,
             "src_sess_cnt([TABLE]): not built"},
    fetch_kw{"src_sess_rate", 0, 1, sci, l4, false, nullptr, P,
             "src_sess_rate([TABLE]): not built"},
    fetch_kw{"src_get_gpt0", 0, 1, sci, l4, false, nullptr, P,
             "src_get_gpt0([TABLE]): not built"},
    fetch_kw{"src_http_fail_cnt", 0, 1, sci, l4, false, nullptr, P,
             "src_http_fail_cnt([TABLE]): not built"},
    fetch_kw{"src_http_fail_rate", 0, 1, sci, l4, false, nullptr, P,
             "src_http_fail_rate([TABLE]): not built"},
    fetch_kw{"src_updt_conn_cnt", 0, 1, sci, l4, false, nullptr, P,
             "src_updt_conn_cnt([TABLE]): not built"},
};

} // namespace

std::span<const fetch_kw> stick_fetch_keywords() { return stick_rows; }

} // namespace bulwark::proxy
