// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the HTTP session asks before it acts: which X-Forwarded-For to add,
// whether a connection stays open, which error page to send. Pure
// functions of (request or response facts, the frontend and backend
// config), as Beast's advanced server asks handle_request; any thread.

#include "proxy/http_rules.hpp"
#include "proxy/peer.hpp"
#include "proxy/runtime.hpp"

#include <string>

namespace bulwark::proxy {

// The option forwardfor in force: the backend's, else the frontend's.
const forwardfor_rt& forwardfor_of(const frontend_rt& fe, const backend_rt& be);

// Whether `xff` adds its header (with the client's address) to req: it is
// on, the client has an address (a unix socket client has none to tell,
// as HAProxy), is not in its 'except' network, and with 'if-none' the
// request has no such header yet.
bool adds_forwardfor(const forwardfor_rt& xff, const peer_info& peer, const request_header& req);

// Whether the server connection closes after the exchange (option
// http-server-close or httpclose on either side): the request then says
// "Connection: close".
bool closes_server_side(const frontend_rt& fe, const backend_rt& be);

// What a response's framing says, as keep_client_alive needs it.
struct response_facts {
    int status = 0;
    bool chunked = false;
    bool has_length = false;    // a Content-Length field
    bool head_request = false;  // the request was a HEAD: no body follows
};

// Whether the client connection stays open for another request after this
// response: the client asked it (`client_keep_alive`: HTTP/1.1 without
// "Connection: close", or HTTP/1.0 with "Connection: keep-alive", as the
// request parser says), the response's end is known without the server
// closing (chunked, a length, a HEAD, 204, 304), and neither side has
// option httpclose.
bool keep_client_alive(bool client_keep_alive, const response_facts& res, const frontend_rt& fe,
                       const backend_rt& be);

// Whether the server connection goes back to the idle pool: the session
// does not close it, the server keeps it open, the response was read to
// its end, and the exchange ended cleanly (termination flag '-').
bool keep_server_alive(bool server_close, bool server_keep_alive, bool response_done, char term_who);

// The body of the error reply for `status`: the backend's errorfile (be may
// be null), else the frontend's, else the built-in page.
std::string error_page(const frontend_rt& fe, const backend_rt* be, int status);

} // namespace bulwark::proxy
