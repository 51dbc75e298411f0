// SPDX-License-Identifier: Apache-2.0
// The log sinks (issue #12): HAProxy's raw, RFC 3164 and RFC 5424 framing,
// `len`, and sends that never wait: a pipe or datagram socket nobody reads
// drops lines and counts them.
#include "proxy/log_sink.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fcntl.h>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace bulwark::proxy;

namespace {

log_target target(log_target::kind k, log_target::format f)
{
    log_target t;
    t.k = k;
    t.fmt = f;
    t.facility = 16; // local0
    return t;
}

const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

} // namespace

TEST_CASE("log message framing: raw, rfc3164, rfc5424, len", "[log]")
{
    auto raw = target(log_target::kind::fd, log_target::format::raw);
    CHECK(format_log_message(raw, "a line\n", when, 42, "h") == "a line\n");
    auto bsd = target(log_target::kind::udp, log_target::format::rfc3164);
    std::string m = format_log_message(bsd, "a line\n", when, 42, "h");
    INFO(m);
    // <local0.info> "Mmm dd hh:mm:ss" bulwarkd[pid]: the line, no newline on a datagram
    CHECK(std::regex_match(m, std::regex(R"(<134>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d bulwarkd\[42\]: a line)")));
    auto ietf = target(log_target::kind::unix_dgram, log_target::format::rfc5424);
    m = format_log_message(ietf, "x", when, 42, "host1");
    INFO(m);
    CHECK(std::regex_match(
        m, std::regex(R"(<134>1 2023-11-1[45]T\d\d:\d\d:\d\d\.000000[+-]\d\d:\d\d host1 bulwarkd 42 - - x)")));
    // len counts the header and a stream's newline
    auto cut = target(log_target::kind::fd, log_target::format::raw);
    cut.len = 80;
    CHECK(format_log_message(cut, std::string(200, 'y'), when, 1, "h") == std::string(79, 'y') + "\n");
}

TEST_CASE("a pipe nobody reads: lines are dropped and counted, never waited for", "[log]")
{
    int p[2];
    REQUIRE(::pipe(p) == 0);
    auto t = target(log_target::kind::fd, log_target::format::raw);
    t.where = "stdout";
    auto s = log_sink::open(t, p[1]);
    REQUIRE(s);
    const std::string line(200, 'z');
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 2000; ++i) // 400 kB into a 64 kB pipe
        (*s)->send(line, when);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK((*s)->sent() + (*s)->dropped() == 2000);
    // whole lines only: Linux's pipe is 16 pages, and a write of at most
    // PIPE_BUF bytes goes whole into one page (20 lines of 201 bytes each)
    CHECK((*s)->sent() == 16 * (4096 / 201));
    CHECK((*s)->dropped() == 2000 - 16 * (4096 / 201));
    // the write end the caller gave keeps its flags: blocking
    CHECK((::fcntl(p[1], F_GETFL) & O_NONBLOCK) == 0);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_CASE("a unix datagram socket nobody reads: dropped and counted", "[log]")
{
    std::string path = "/tmp/bulwark-log-test-" + std::to_string(::getpid());
    ::unlink(path.c_str());
    int rx = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(rx >= 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::copy(path.begin(), path.end(), un.sun_path);
    REQUIRE(::bind(rx, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
    auto t = target(log_target::kind::unix_dgram, log_target::format::rfc3164);
    t.path = path;
    auto s = log_sink::open(t);
    REQUIRE(s);
    for (int i = 0; i < 5000; ++i)
        (*s)->send("a request's line", when);
    CHECK((*s)->sent() > 0);
    CHECK((*s)->dropped() > 0);
    CHECK((*s)->sent() + (*s)->dropped() == 5000);
    char buf[512];
    ssize_t n = ::recv(rx, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    CHECK(std::string(buf, static_cast<std::size_t>(n)).ends_with("]: a request's line"));
    ::close(rx);
    ::unlink(path.c_str());
}

TEST_CASE("a level below info sends no request line", "[log]")
{
    int p[2];
    REQUIRE(::pipe(p) == 0);
    auto t = target(log_target::kind::fd, log_target::format::raw);
    t.level = 3; // err
    auto s = log_sink::open(t, p[1]);
    REQUIRE(s);
    (*s)->send("x", when);
    CHECK((*s)->sent() == 0);
    CHECK((*s)->dropped() == 0);
    ::close(p[0]);
    ::close(p[1]);
}
