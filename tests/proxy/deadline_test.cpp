// SPDX-License-Identifier: Apache-2.0
// The session timers: a deadline_stream cancels what is pending when its
// deadline passes (and says so as a timeout), follows a deadline moved
// later without re-arming, and one moved earlier at once. Real sockets (a
// socketpair) and a real io_context; bounds are loose, as these machines
// are shared: what is checked is the order of events, not speed.
#include "proxy/deadline_stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <thread>

using namespace bulwark::proxy;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct pair_of_sockets {
    asio::io_context io;
    socket_type a{io}, b{io};
    pair_of_sockets()
    {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        a.assign(stream_protocol(AF_UNIX, 0), fds[0]);
        b.assign(stream_protocol(AF_UNIX, 0), fds[1]);
    }
};

struct read_result {
    boost::system::error_code ec;
    std::size_t n = 0;
    steady::duration took{};
    bool done = false;
};

void start_read(deadline_stream& s, char (&buf)[16], read_result& r)
{
    auto t0 = steady::now();
    s.async_read_some(asio::buffer(buf), [&s, &r, t0](boost::system::error_code ec, std::size_t n) {
        s.classify(ec);
        r = {ec, n, steady::now() - t0, true};
    });
}

} // namespace

TEST_CASE("a read past its deadline ends as a timeout", "[timers]")
{
    pair_of_sockets p;
    deadline_stream s(std::move(p.a));
    char buf[16];
    read_result r;
    s.expires_after(50ms);
    start_read(s, buf, r);
    p.io.run_for(10s);
    REQUIRE(r.done);
    CHECK(r.ec == boost::beast::error::timeout);
    CHECK(r.took >= 50ms);
    CHECK(r.took < 5s);
}

TEST_CASE("a deadline moved later lets the read finish", "[timers]")
{
    pair_of_sockets p;
    deadline_stream s(std::move(p.a));
    char buf[16];
    read_result r;
    s.expires_after(100ms);
    start_read(s, buf, r);
    steady_timer later(p.io, 30ms), send(p.io, 250ms);
    later.async_wait([&](auto) { s.expires_after(2s); }); // the armed wait (100 ms) will find it moved
    send.async_wait([&](auto) { asio::write(p.b, asio::buffer("x", 1)); });
    p.io.run_for(10s);
    REQUIRE(r.done);
    CHECK(!r.ec);
    CHECK(r.n == 1);
    CHECK(r.took >= 250ms); // past the first deadline: it did not fire
}

TEST_CASE("a deadline moved earlier fires at once", "[timers]")
{
    pair_of_sockets p;
    deadline_stream s(std::move(p.a));
    char buf[16];
    read_result r;
    s.expires_after(60s);
    start_read(s, buf, r);
    s.expires_after(50ms);
    p.io.run_for(10s);
    REQUIRE(r.done);
    CHECK(r.ec == boost::beast::error::timeout);
    CHECK(r.took < 5s);
}

TEST_CASE("after a timeout the stream works again under a new deadline", "[timers]")
{
    pair_of_sockets p;
    deadline_stream s(std::move(p.a));
    char buf[16];
    read_result r;
    s.expires_after(20ms);
    start_read(s, buf, r);
    p.io.run_for(10s);
    REQUIRE(r.ec == boost::beast::error::timeout);
    p.io.restart();
    asio::write(p.b, asio::buffer("yz", 2));
    s.expires_after(5s);
    read_result again;
    start_read(s, buf, again);
    p.io.run_for(10s);
    REQUIRE(again.done);
    CHECK(!again.ec);
    CHECK(again.n == 2);
}

TEST_CASE("an operation that fails on its own is not called a timeout", "[timers]")
{
    pair_of_sockets p;
    deadline_stream s(std::move(p.a));
    char buf[16];
    read_result r;
    s.expires_after(5s);
    start_read(s, buf, r);
    p.b.close(); // the peer leaves: end of file, well before the deadline
    p.io.run_for(10s);
    REQUIRE(r.done);
    CHECK(r.ec == asio::error::eof);
}

TEST_CASE("a stream destroyed after its wait fired but before the handler ran", "[timers]")
{
    pair_of_sockets p;
    auto s = std::make_unique<deadline_stream>(std::move(p.a));
    s->expires_after(1ms);
    std::this_thread::sleep_for(20ms); // the wait is due; nothing has run it
    s.reset();                         // its handler must not touch the freed stream (ASan checks)
    p.io.run_for(1s);
    SUCCEED();
}
