// SPDX-License-Identifier: Apache-2.0
#include "proxy/counters.hpp"

namespace bulwark::proxy {

namespace {

void count_traffic(traffic_counters& c, const request_log& lg)
{
    c.requests.add();
    c.status[lg.status >= 100 && lg.status < 600 ? lg.status / 100 - 1 : 5].add();
    c.bytes_out.add(lg.bytes);
}

} // namespace

void count_request(fe_counters& f, be_counters* b, srv_counters* sc, const request_log& lg)
{
    count_traffic(f.t, lg);
    const char who = lg.term[0], phase = lg.term[1];
    if (lg.denied)
        (lg.denied == 'q' ? f.denied_requests : f.denied_responses).add();
    else if (who == 'C' || who == 'c' || who == 'P')
        f.request_errors.add();
    bool server_side = who == 'S' || who == 's';
    if (b) {
        count_traffic(b->t, lg);
        b->connect_errors.add(server_side && phase == 'C' && lg.server_index >= 0);
        b->no_server.add(server_side && phase == 'C' && lg.server_index < 0);
        b->response_errors.add(server_side && (phase == 'H' || phase == 'D'));
        b->queue_timeouts.add(server_side && phase == 'Q');
    }
    if (sc) {
        count_traffic(sc->t, lg);
        sc->connect_errors.add(server_side && phase == 'C');
        sc->response_errors.add(server_side && (phase == 'H' || phase == 'D'));
    }
}

} // namespace bulwark::proxy
