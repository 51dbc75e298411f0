// SPDX-License-Identifier: Apache-2.0
// HAProxy's httplog and tcplog lines, field by field, as the session's log
// record fills them: timers, status, bytes, termination flags, captures.
// And the counters an ended request leaves.
#include "proxy/access_log.hpp"
#include "proxy/counters.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <regex>
#include <string>

using namespace bulwark::proxy;
namespace ip = boost::asio::ip;

namespace {

peer_info client() { return describe(ip::tcp::endpoint(ip::make_address("192.0.2.7"), 41000)); }

request_log served()
{
    request_log lg;
    lg.accept_date = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    lg.t_request = 1;
    lg.t_queue = 0;
    lg.t_connect = 2;
    lg.t_response = 3;
    lg.status = 200;
    lg.bytes = 1234;
    lg.backend = "be";
    lg.server = "s1";
    lg.line = "GET /x HTTP/1.1";
    return lg;
}

} // namespace

TEST_CASE("the accept date is HAProxy's, with milliseconds", "[access_log]")
{
    const auto d = log_date(served().accept_date);
    CHECK(std::regex_match(d, std::regex(R"(\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d\.123)")));
}

TEST_CASE("an httplog line for a request served", "[access_log]")
{
    const auto lg = served();
    const std::string date = log_date(lg.accept_date);
    CHECK(format_httplog(client(), "www", lg, 9, 4) ==
          "192.0.2.7:41000 [" + date + "] www be/s1 1/0/2/3/9 200 1234 - - ---- 4/4/0/0/0 0/0 \"GET /x HTTP/1.1\"\n");
}

TEST_CASE("an httplog line for a request refused before any server", "[access_log]")
{
    request_log lg;
    lg.accept_date = served().accept_date;
    lg.backend = "www"; // no backend chosen: the frontend's name
    lg.status = 400;
    lg.bytes = 187;
    lg.ended("PR--");
    const std::string date = log_date(lg.accept_date);
    CHECK(format_httplog(client(), "www", lg, 0, 1) ==
          "192.0.2.7:41000 [" + date + "] www www/<NOSRV> -1/-1/-1/-1/0 400 187 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\"\n");
    // A unix socket client, a request that never came.
    lg.status = -1;
    lg.bytes = 0;
    lg.ended("cR--");
    CHECK(format_httplog(peer_info{}, "www", lg, 10001, 1) ==
          "unix:1 [" + date + "] www www/<NOSRV> -1/-1/-1/-1/10001 -1 0 - - cR-- 1/1/0/0/0 0/0 \"<BADREQ>\"\n");
}

TEST_CASE("httplog captures come before the request line", "[access_log]")
{
    auto lg = served();
    lg.cap_req = "{a.example|curl}";
    lg.cap_res = "{text/html}";
    const std::string date = log_date(lg.accept_date);
    CHECK(format_httplog(client(), "www", lg, 9, 4) == "192.0.2.7:41000 [" + date +
                                                           "] www be/s1 1/0/2/3/9 200 1234 - - ---- 4/4/0/0/0 0/0 "
                                                           "{a.example|curl} {text/html} \"GET /x HTTP/1.1\"\n");
    lg.cap_req.clear();
    CHECK(format_httplog(client(), "www", lg, 9, 4).ends_with(" 0/0 {text/html} \"GET /x HTTP/1.1\"\n"));
}

TEST_CASE("a tcplog line keeps two termination flags", "[access_log]")
{
    auto lg = served();
    lg.ended("sD--");
    lg.bytes = 5000;
    const std::string date = log_date(lg.accept_date);
    CHECK(format_tcplog(client(), "db", lg, 1500, 2) ==
          "192.0.2.7:41000 [" + date + "] db be/s1 0/2/1500 5000 sD 2/2/0/0/0 0/0\n");
    request_log none;
    none.accept_date = lg.accept_date;
    none.backend = "db";
    none.ended("SC--");
    CHECK(format_tcplog(client(), "db", none, 0, 1) ==
          "192.0.2.7:41000 [" + date + "] db db/<NOSRV> -1/-1/0 0 SC 1/1/0/0/0 0/0\n");
}

TEST_CASE("an ended request counts by status class and by who ended it", "[access_log][counters]")
{
    fe_counters fe;
    be_counters be;
    srv_counters srv;
    auto lg = served();
    count_request(fe, &be, &srv, lg);
    CHECK(fe.t.requests.get() == 1);
    CHECK(fe.t.status[1].get() == 1);
    CHECK(fe.t.bytes_out.get() == 1234);
    CHECK(be.t.status[1].get() == 1);
    CHECK(srv.t.requests.get() == 1);
    CHECK(fe.request_errors.get() == 0);

    request_log bad; // a bad request: the frontend's only
    bad.status = 400;
    bad.ended("PR--");
    count_request(fe, nullptr, nullptr, bad);
    CHECK(fe.request_errors.get() == 1);
    CHECK(fe.t.status[3].get() == 1);
    CHECK(be.t.requests.get() == 1);

    request_log none; // nothing answered
    none.ended("cR--");
    count_request(fe, nullptr, nullptr, none);
    CHECK(fe.t.status[5].get() == 1);
    CHECK(fe.request_errors.get() == 2);

    auto refused = served(); // a rule's deny: denied, not an error
    refused.status = 403;
    refused.denied = 'q';
    refused.ended("PR--");
    count_request(fe, &be, nullptr, refused);
    CHECK(fe.denied_requests.get() == 1);
    CHECK(fe.request_errors.get() == 2);

    auto no_server = served();
    no_server.server_index = -1;
    no_server.ended("SC--");
    count_request(fe, &be, nullptr, no_server);
    CHECK(be.no_server.get() == 1);
    CHECK(be.connect_errors.get() == 0);

    auto refused_connect = served();
    refused_connect.server_index = 0;
    refused_connect.ended("sC--");
    count_request(fe, &be, &srv, refused_connect);
    CHECK(be.connect_errors.get() == 1);
    CHECK(srv.connect_errors.get() == 1);

    auto broken = served();
    broken.server_index = 0;
    broken.ended("SH--");
    count_request(fe, &be, &srv, broken);
    CHECK(be.response_errors.get() == 1);
    CHECK(srv.response_errors.get() == 1);

    auto waited = served();
    waited.ended("sQ--");
    count_request(fe, &be, nullptr, waited);
    CHECK(be.queue_timeouts.get() == 1);
}

TEST_CASE("%rc carries the retries, '+' first after a redispatch", "[access_log][retries]")
{
    auto lg = served();
    const std::string date = log_date(lg.accept_date);
    lg.retries = 2;
    CHECK(format_httplog(client(), "www", lg, 9, 4) ==
          "192.0.2.7:41000 [" + date + "] www be/s1 1/0/2/3/9 200 1234 - - ---- 4/4/0/0/2 0/0 \"GET /x HTTP/1.1\"\n");
    lg.redispatched = true;
    CHECK(retries_field(lg) == "+2");
    CHECK(format_tcplog(client(), "www", lg, 9, 4).ends_with(" 4/4/0/0/+2 0/0\n"));
}
