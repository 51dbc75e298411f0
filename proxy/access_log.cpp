// SPDX-License-Identifier: Apache-2.0
#include "proxy/access_log.hpp"

#include <ctime>
#include <fmt/format.h>

namespace bulwark::proxy {

long elapsed_ms(std::chrono::steady_clock::time_point since)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

std::string log_date(std::chrono::system_clock::time_point t)
{
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S", &tm);
    return fmt::format("{}.{:03}", buf, ms);
}

std::string retries_field(const request_log& lg)
{
    return fmt::format("{}{}", lg.redispatched ? "+" : "", lg.retries);
}

std::string format_httplog(const peer_info& peer, std::string_view frontend, const request_log& lg, long total_ms,
                           int conns)
{
    return fmt::format("{}:{} [{}] {} {}/{} {}/{}/{}/{}/{} {} {} - - {} {}/{}/0/0/{} 0/0 {}\"{}\"\n", peer.addr,
                       peer.port, log_date(lg.accept_date), frontend, lg.backend, lg.server, lg.t_request,
                       lg.t_queue, lg.t_connect, lg.t_response, total_ms, lg.status, lg.bytes, lg.term, conns, conns,
                       retries_field(lg),
                       (lg.cap_req.empty() ? std::string() : lg.cap_req + " ") +
                           (lg.cap_res.empty() ? "" : lg.cap_res + " "),
                       lg.line);
}

std::string format_tcplog(const peer_info& peer, std::string_view frontend, const request_log& lg, long total_ms,
                          int conns)
{
    return fmt::format("{}:{} [{}] {} {}/{} {}/{}/{} {} {:.2} {}/{}/0/0/{} 0/0\n", peer.addr, peer.port,
                       log_date(lg.accept_date), frontend, lg.backend, lg.server, lg.t_queue, lg.t_connect, total_ms,
                       lg.bytes, std::string_view(lg.term, 2), conns, conns, retries_field(lg));
}

} // namespace bulwark::proxy
