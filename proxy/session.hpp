// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the HTTP and TCP sessions share: the rule state of a connection,
// made from its addresses.

#include "proxy/http_rules.hpp"
#include "proxy/peer.hpp"
#include "proxy/relay.hpp"
#include "proxy/worker.hpp"

#include <memory>

namespace bulwark::proxy {

// What the rules of a connection read before any request: its addresses.
// The rules evaluate with w's scratch space: w's thread only.
template <class Stream>
std::unique_ptr<rule_state> make_rule_state(worker& w, const peer_info& peer, Stream& client)
{
    auto st = std::make_unique<rule_state>();
    st->ctx.scratch = &w.scratch;
    st->shield = w.shield;
    if (peer.ip)
        if (auto ip = parse_ip(peer.addr)) {
            st->view.src = *ip;
            st->view.src_port = static_cast<std::uint16_t>(peer.port);
        }
    error_code ec;
    auto local = describe(deadline_of(client).socket().local_endpoint(ec));
    if (!ec && local.ip)
        if (auto ip = parse_ip(local.addr)) {
            st->view.dst = *ip;
            st->view.dst_port = static_cast<std::uint16_t>(local.port);
        }
    st->ctx.txn = &st->view;
    return st;
}

} // namespace bulwark::proxy
