// SPDX-License-Identifier: Apache-2.0
#include "proxy/log_sink.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace bulwark::proxy {

namespace {

constexpr int level_info = 6; // a request's line, as HAProxy logs it

// RFC 3164's "Mmm dd hh:mm:ss" (day space-padded), local time, as HAProxy.
std::string bsd_time(std::chrono::system_clock::time_point now)
{
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%b %e %H:%M:%S", &tm);
    return buf;
}

// RFC 5424's timestamp: "2026-12-02T13:12:00.123456+00:00", local time.
std::string iso_time(std::chrono::system_clock::time_point now)
{
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
    std::tm tm{};
    localtime_r(&secs, &tm);
    char date[32], zone[8];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm); // "+0100": RFC 5424 wants "+01:00"
    std::string_view z(zone);
    if (z.size() == 5)
        return fmt::format("{}.{:06}{}:{}", date, us, z.substr(0, 3), z.substr(3));
    return fmt::format("{}.{:06}{}", date, us, z);
}

} // namespace

std::string format_log_message(const log_target& t, std::string_view line, std::chrono::system_clock::time_point now,
                               int pid, std::string_view host)
{
    if (line.ends_with('\n'))
        line.remove_suffix(1);
    const int pri = t.facility * 8 + level_info;
    std::string out;
    switch (t.fmt) {
    case log_target::format::raw:
        break;
    case log_target::format::rfc3164: // HAProxy's: no host name (log-send-hostname adds one)
        out = fmt::format("<{}>{} bulwarkd[{}]: ", pri, bsd_time(now), pid);
        break;
    case log_target::format::rfc5424:
        out = fmt::format("<{}>1 {} {} bulwarkd {} - - ", pri, iso_time(now), host.empty() ? "-" : host, pid);
        break;
    }
    const bool stream = t.k == log_target::kind::fd;
    const std::size_t room = t.len > out.size() + (stream ? 1 : 0) ? t.len - out.size() - (stream ? 1 : 0) : 0;
    out.append(line.substr(0, room));
    if (stream)
        out += '\n';
    return out;
}

result<std::unique_ptr<log_sink>> log_sink::open(const log_target& t, int fd)
{
    std::unique_ptr<log_sink> s(new log_sink(t));
    s->pid_ = static_cast<int>(::getpid());
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0)
        s->host_ = host;
    if (t.k == log_target::kind::fd) {
        int src = fd >= 0 ? fd : t.fd;
        struct stat st {};
        if (::fstat(src, &st) != 0)
            return fail(fmt::format("log {}: {}", t.where, std::strerror(errno)));
        if (S_ISSOCK(st.st_mode)) { // a socket (a journal stream): MSG_DONTWAIT per send
            s->fd_ = src;
            s->socket_ = true;
            return s;
        }
        if (S_ISREG(st.st_mode)) { // a file never makes a writer wait for a reader
            s->fd_ = src;
            return s;
        }
        // A pipe, FIFO or terminal: a file description of our own, non-blocking,
        // so the shared one (and the other writers of stdout) keep their flags.
        int own = ::open(fmt::format("/proc/self/fd/{}", src).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (own < 0)
            return fail(fmt::format("log {}: cannot reopen it non-blocking: {}", t.where, std::strerror(errno)));
        s->fd_ = own;
        s->owned_ = true;
        s->t_.len = std::min<std::size_t>(s->t_.len, PIPE_BUF); // a pipe takes up to PIPE_BUF bytes whole or not at all
        return s;
    }
    s->dest_ = std::make_unique<sockaddr_storage>();
    sockaddr_storage* dest = s->dest_.get();
    int family = AF_UNIX;
    if (t.k == log_target::kind::unix_dgram) {
        auto* un = reinterpret_cast<sockaddr_un*>(dest);
        if (t.path.size() >= sizeof un->sun_path)
            return fail(fmt::format("log {}: the path is too long for a unix socket", t.where));
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, t.path.data(), t.path.size());
        s->dest_len_ = sizeof(sockaddr_un);
    } else if (t.ip.fam == family::ipv4) {
        auto* in = reinterpret_cast<sockaddr_in*>(dest);
        in->sin_family = family = AF_INET;
        in->sin_port = htons(t.port);
        std::memcpy(&in->sin_addr, t.ip.bytes.data(), 4);
        s->dest_len_ = sizeof(sockaddr_in);
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(dest);
        in6->sin6_family = family = AF_INET6;
        in6->sin6_port = htons(t.port);
        std::memcpy(&in6->sin6_addr, t.ip.bytes.data(), 16);
        s->dest_len_ = sizeof(sockaddr_in6);
    }
    s->fd_ = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd_ < 0)
        return fail(fmt::format("log {}: {}", t.where, std::strerror(errno)));
    s->owned_ = true;
    s->socket_ = true;
    return s;
}

log_sink::~log_sink()
{
    if (owned_ && fd_ >= 0)
        ::close(fd_);
}

void log_sink::send(std::string_view line, std::chrono::system_clock::time_point now)
{
    if (t_.level < level_info)
        return; // the target takes only more urgent messages than a request's line
    std::string msg = format_log_message(t_, line, now, pid_, host_);
    ssize_t n;
    if (dest_)
        n = ::sendto(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(dest_.get()),
                     dest_len_);
    else if (socket_)
        n = ::send(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    else // non-blocking, and at most len (<= 64 kB) bytes: a pipe takes it whole or refuses (<= PIPE_BUF)
        n = ::write(fd_, msg.data(), msg.size());
    if (n == static_cast<ssize_t>(msg.size()))
        sent_.fetch_add(1, std::memory_order_relaxed);
    else
        dropped_.fetch_add(1, std::memory_order_relaxed);
}

} // namespace bulwark::proxy
