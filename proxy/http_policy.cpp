// SPDX-License-Identifier: Apache-2.0
#include "proxy/http_policy.hpp"

#include "proxy/http_errors.hpp"

namespace bulwark::proxy {

const forwardfor_rt& forwardfor_of(const frontend_rt& fe, const backend_rt& be)
{
    return be.forwardfor.on ? be.forwardfor : fe.forwardfor;
}

bool adds_forwardfor(const forwardfor_rt& xff, const peer_info& peer, const request_header& req)
{
    return xff.on && peer.ip && !(xff.except && in_network(peer, *xff.except)) &&
           !(xff.if_none && req.count(xff.header));
}

bool closes_server_side(const frontend_rt& fe, const backend_rt& be) { return fe.server_close || be.server_close; }

bool keep_client_alive(bool client_keep_alive, const response_facts& res, const frontend_rt& fe, const backend_rt& be)
{
    // A body delimited by the server closing cannot be kept alive.
    const bool delimited =
        res.chunked || res.has_length || res.head_request || res.status == 204 || res.status == 304;
    return client_keep_alive && delimited && !fe.httpclose && !be.httpclose;
}

bool keep_server_alive(bool server_close, bool server_keep_alive, bool response_done, char term_who)
{
    return !server_close && server_keep_alive && response_done && term_who == '-';
}

std::string error_page(const frontend_rt& fe, const backend_rt* be, int status)
{
    if (be && be->errorfiles.count(status))
        return be->errorfiles.at(status);
    if (fe.errorfiles.count(status))
        return fe.errorfiles.at(status);
    return error_response(status);
}

} // namespace bulwark::proxy
