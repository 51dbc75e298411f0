// SPDX-License-Identifier: Apache-2.0
// The choice of a server: balance roundrobin (smooth, weighted), leastconn
// and source, over servers up or down, with or without free slots under
// their maxconn. Single-threaded: one balance_state, as one worker has.
#include "proxy/backend_pool.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

using namespace bulwark::proxy;
namespace ip = boost::asio::ip;

namespace {

struct server_spec {
    std::string name;
    int weight = 1;
    int maxconn = 0;
    bool backup = false, disabled = false;
};

struct rig {
    backend_rt be;
    backend_pool pool;
    balance_state b;
    peer_info peer = describe(ip::tcp::endpoint(ip::make_address("192.0.2.7"), 40000));

    rig(balance_algo algo, std::vector<server_spec> specs) : pool(specs.size(), 1)
    {
        be.name = "be";
        be.algo = algo;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            server_rt s;
            s.name = specs[i].name;
            s.weight = specs[i].weight;
            s.maxconn = specs[i].maxconn;
            s.backup = specs[i].backup;
            s.disabled = specs[i].disabled;
            s.health = i;
            be.servers.push_back(s);
        }
        b.weights.assign(specs.size(), 0);
    }
    // The name of the server picked ("none", "queued"), its slot given back.
    std::string pick()
    {
        std::size_t i = pool.pick_server(b, be, peer);
        if (i == be.servers.size())
            return "none";
        if (i == backend_pool::queued)
            return "queued";
        pool.release_slot(0, be, i);
        return be.servers[i].name;
    }
    // The same, its slot kept.
    std::string take()
    {
        std::size_t i = pool.pick_server(b, be, peer);
        return i < be.servers.size() ? be.servers[i].name : i == be.servers.size() ? "none" : "queued";
    }
    std::size_t index(const std::string& name) const
    {
        for (std::size_t i = 0; i < be.servers.size(); ++i)
            if (be.servers[i].name == name)
                return i;
        FAIL("no server " << name);
        return 0;
    }
    void down(const std::string& name) { pool.set_up(be.servers[index(name)], false); }
    void release(const std::string& name) { pool.release_slot(0, be, index(name)); }
};

} // namespace

TEST_CASE("roundrobin spreads requests in proportion to the weights, smoothly", "[backend_pool]")
{
    rig r(balance_algo::roundrobin, {{"a", 3}, {"b", 1}, {"z", 0}});
    std::vector<std::string> got;
    for (int i = 0; i < 8; ++i)
        got.push_back(r.pick());
    // nginx's smooth weighted round robin: a a b a, again.
    CHECK(got == std::vector<std::string>{"a", "a", "b", "a", "a", "a", "b", "a"});
}

TEST_CASE("roundrobin with equal weights takes each server in turn", "[backend_pool]")
{
    rig r(balance_algo::roundrobin, {{"a"}, {"b"}, {"c"}});
    std::map<std::string, int> count;
    for (int i = 0; i < 30; ++i)
        ++count[r.pick()];
    CHECK(count == std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}});
}

TEST_CASE("a server down is never chosen; none up answers none", "[backend_pool]")
{
    for (auto algo : {balance_algo::roundrobin, balance_algo::leastconn, balance_algo::source}) {
        CAPTURE(static_cast<int>(algo));
        rig r(algo, {{"a"}, {"b"}});
        r.down("a");
        for (int i = 0; i < 5; ++i)
            CHECK(r.pick() == "b");
        r.down("b");
        CHECK(r.pick() == "none");
        r.pool.set_up(r.be.servers[0], true);
        CHECK(r.pick() == "a");
    }
}

TEST_CASE("a server at its maxconn waits its turn; all full is queued", "[backend_pool]")
{
    for (auto algo : {balance_algo::roundrobin, balance_algo::leastconn}) {
        CAPTURE(static_cast<int>(algo));
        rig r(algo, {{"a", 1, 1}, {"b", 1, 2}});
        std::map<std::string, int> held;
        for (int i = 0; i < 3; ++i)
            ++held[r.take()];
        CHECK(held == std::map<std::string, int>{{"a", 1}, {"b", 2}});
        CHECK(r.take() == "queued");
        r.release("a");
        CHECK(r.take() == "a");
        CHECK(r.pool.active(r.be.servers[0]) == 1);
        CHECK(r.pool.active(r.be.servers[1]) == 2);
    }
}

TEST_CASE("roundrobin: a server down while others are full is still queued, not none", "[backend_pool]")
{
    rig r(balance_algo::roundrobin, {{"a", 1, 1}, {"b"}});
    r.down("b");
    CHECK(r.take() == "a");
    CHECK(r.take() == "queued");
}

TEST_CASE("leastconn picks the server with the fewest requests in progress", "[backend_pool]")
{
    rig r(balance_algo::leastconn, {{"a"}, {"b"}, {"c"}});
    // Two held on the first picked, one on the second: the third is the least loaded.
    const std::string first = r.take();
    const std::string second = r.take();
    CHECK(first != second);
    r.pool.take_slot(r.be.servers[r.index(first)]);
    std::string third;
    for (const auto& s : r.be.servers)
        if (s.name != first && s.name != second)
            third = s.name;
    CHECK(r.take() == third);
    // Now 2, 1, 1: a tie between second and third, never the first.
    const std::string next = r.take();
    CHECK((next == second || next == third));
}

TEST_CASE("source: one client always gets the same server, whatever the thread's position", "[backend_pool]")
{
    rig r(balance_algo::source, {{"a"}, {"b"}, {"c"}, {"d"}});
    const std::string mine = r.pick();
    for (int i = 0; i < 10; ++i)
        CHECK(r.pick() == mine);
    // Other clients spread over the servers.
    std::map<std::string, int> count;
    for (int k = 1; k <= 200; ++k) {
        r.peer = describe(ip::tcp::endpoint(ip::make_address("10.0." + std::to_string(k / 256) + "." +
                                                              std::to_string(k % 256)),
                                            1234));
        ++count[r.pick()];
    }
    CHECK(count.size() == 4);
    // A unix socket client (no address) hashes too.
    r.peer = peer_info{};
    CHECK(r.pick() != "none");
}

TEST_CASE("source: the client's server full means its turn, not another server", "[backend_pool]")
{
    rig r(balance_algo::source, {{"a", 1, 1}, {"b", 1, 1}});
    const std::string mine = r.take();
    CHECK(r.take() == "queued");
    r.release(mine);
    CHECK(r.take() == mine);
}

// ---- backup, disabled, redispatch (HAProxy's server-side basics) ----------

TEST_CASE("backup servers get traffic only when no active server is up", "[backend_pool][backup]")
{
    for (auto algo : {balance_algo::roundrobin, balance_algo::leastconn, balance_algo::source}) {
        rig r(algo, {{"a"}, {"bk1", 1, 0, true}, {"bk2", 1, 0, true}});
        for (int i = 0; i < 4; ++i)
            CHECK(r.pick() == "a");
        r.down("a");
        // the first backup up gets it all (no option allbackups)
        for (int i = 0; i < 4; ++i)
            CHECK(r.pick() == "bk1");
        r.down("bk1");
        CHECK(r.pick() == "bk2");
        r.down("bk2");
        CHECK(r.pick() == "none");
        r.pool.set_up(r.be.servers[r.index("a")], true);
        CHECK(r.pick() == "a");
    }
}

TEST_CASE("option allbackups spreads over every backup up", "[backend_pool][backup]")
{
    rig r(balance_algo::roundrobin, {{"a"}, {"bk1", 1, 0, true}, {"bk2", 1, 0, true}});
    r.be.allbackups = true;
    CHECK(r.pick() == "a");
    r.down("a");
    std::vector<std::string> got;
    for (int i = 0; i < 4; ++i)
        got.push_back(r.pick());
    CHECK(got == std::vector<std::string>{"bk1", "bk2", "bk1", "bk2"});
}

TEST_CASE("a full active server queues the request rather than go to a backup", "[backend_pool][backup]")
{
    rig r(balance_algo::roundrobin, {{"a", 1, 1}, {"bk", 1, 0, true}});
    CHECK(r.take() == "a");
    CHECK(r.take() == "queued");
}

TEST_CASE("a disabled server or backend gets no request", "[backend_pool][disabled]")
{
    rig r(balance_algo::roundrobin, {{"a", 1, 0, false, true}, {"b"}});
    for (int i = 0; i < 4; ++i)
        CHECK(r.pick() == "b");
    r.down("b");
    CHECK(r.pick() == "none"); // a disabled server is not a fallback
    rig only(balance_algo::leastconn, {{"a"}});
    only.be.disabled = true;
    CHECK(only.pick() == "none");
}

TEST_CASE("a redispatch avoids the failed server when another can take it", "[backend_pool][retries]")
{
    rig r(balance_algo::leastconn, {{"a"}, {"b"}});
    for (int i = 0; i < 4; ++i) {
        std::size_t got = r.pool.pick_server(r.b, r.be, r.peer, r.index("a"));
        CHECK(got == r.index("b"));
        r.pool.release_slot(0, r.be, got);
    }
    r.down("b");
    // nothing else up: the same server again
    std::size_t got = r.pool.pick_server(r.b, r.be, r.peer, r.index("a"));
    CHECK(got == r.index("a"));
}

TEST_CASE("retry decision: retries, then option redispatch's interval", "[backend_pool][retries]")
{
    using v = retry_verdict;
    // retries 3, no redispatch: three retries on the same server, then give up
    CHECK(retry_decision(1, 3, 0, true) == v::same_server);
    CHECK(retry_decision(3, 3, 0, true) == v::same_server);
    CHECK(retry_decision(4, 3, 0, true) == v::give_up);
    CHECK(retry_decision(1, 0, -1, false) == v::give_up); // retries 0
    // option redispatch (-1): the last retry goes elsewhere
    CHECK(retry_decision(1, 3, -1, false) == v::same_server);
    CHECK(retry_decision(2, 3, -1, false) == v::same_server);
    CHECK(retry_decision(3, 3, -1, false) == v::redispatch);
    CHECK(retry_decision(4, 3, -1, false) == v::give_up);
    // option redispatch 2: every second retry
    CHECK(retry_decision(1, 4, 2, false) == v::same_server);
    CHECK(retry_decision(2, 4, 2, false) == v::redispatch);
    CHECK(retry_decision(4, 4, 2, false) == v::redispatch);
    // option redispatch 1: every retry
    CHECK(retry_decision(1, 3, 1, false) == v::redispatch);
    // several active servers and a non-hash balance: HAProxy redispatches at once
    CHECK(retry_decision(1, 3, -1, true) == v::redispatch);
}
