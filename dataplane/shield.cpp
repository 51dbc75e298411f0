// SPDX-License-Identifier: Apache-2.0
// EAL, ports and lcores around the pipeline (DESIGN.md sections 1 and 2).
#include "dataplane/shield.hpp"

#include "dataplane/acl_table.hpp"
#include "dataplane/flow_census.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/frag_table.hpp"
#include "dataplane/source_table.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/host_if.hpp"
#include "dataplane/mac_table.hpp"
#include "dataplane/pcapng_writer.hpp"
#include "dataplane/syn_guard.hpp"
#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <sys/random.h>
#include <thread>

namespace bulwark::dataplane {

namespace {

constexpr std::uint16_t rx_desc = 1024, tx_desc = 1024;
constexpr unsigned sample_slots = 4095; // mempool sizes are best as 2^n - 1
// Block requests between two drains of the control thread (100 ms): a
// source asks once per block time, so this is 40 960 new sources over a
// limit per second; past it requests are counted (block_ring_full) and
// asked again by the source's next frame over its limit.
constexpr unsigned block_ring_slots = 4096;

} // namespace

struct shield::impl {
    shield_section cfg;
    bool eal_up = false;
    std::array<std::uint16_t, sides> ports{};       // [host]: the TAP's, with a host port
    std::array<bool, sides> port_started{};
    host_link hlink;                                 // with a host port: what the workers share of it
    std::unique_ptr<mac_table> macs;
    rte_mempool* mbufs = nullptr;
    rte_mempool* sample_pool = nullptr;
    rte_ring* sample_ring = nullptr;
    rte_rcu_qsbr* qs = nullptr;
    std::unique_ptr<acl_table> acl;
    std::unique_ptr<blocklist> blocks;
    std::vector<std::unique_ptr<flow_table>> flows;   // mode stateful: one per worker lcore
    std::vector<std::unique_ptr<frag_table>> frags;   // both modes: one per worker lcore
    std::vector<std::unique_ptr<syn_guard>> guards;   // mode stateful with a SYN guard: one per worker lcore
    std::vector<std::unique_ptr<source_table>> sources; // 'limit src': one per worker lcore
    rte_ring* block_ring = nullptr;                   // block_request from the workers; the control thread drains it
    std::atomic<std::uint64_t> blocks_applied{0}, blocks_failed{0};
    rte_ring* event_ring = nullptr;                   // block_request from the proxy (shield-block); drained likewise
    std::atomic<std::uint64_t> events_posted{0}, events_full{0}, events_applied{0}, events_failed{0};
    std::vector<unsigned> worker_lcores;              // every lcore of the eal line but the main one
    std::vector<std::unique_ptr<lcore_ctx>> workers; // one per worker lcore, in that order
    std::atomic<bool> quit{false};
    bool launched = false;
    std::unique_ptr<pcapng_writer> capture;
    std::thread control;
    std::mutex control_mu;
    std::condition_variable control_cv;
    bool control_quit = false;
    std::atomic<bool> events_pending{false};          // post_block queued an event: drain now, not in 100 ms
    std::vector<std::string> lines;
    bool stopped = false;
    drop_sampling sampling;                          // set by setup, used by launch_workers
    std::mutex census_mu;                            // one flows()/flow() caller at a time
    std::vector<std::unique_ptr<flow_census>> censuses; // one per worker, made at the first flows()
    std::vector<std::unique_ptr<flow_query>> queries;   // one per worker, made at the first flow()

    result<bool> setup();
    result<bool> start_eal();
    result<bool> setup_port(side s, const std::string& name, unsigned queues);
    result<bool> setup_tables(unsigned queues);
    result<bool> setup_sampling(drop_sampling& sampling);
    result<bool> setup_flows(unsigned queues);
    void setup_frags(unsigned queues);
    result<bool> setup_guards(unsigned queues);
    result<bool> setup_limits(unsigned queues);
    result<bool> setup_events();
    result<bool> setup_host(unsigned queues);
    void apply_blocks();
    result<bool> launch_workers();
    void control_loop();
    void teardown();
};

result<bool> shield::impl::setup_port(side s, const std::string& name, unsigned queues)
{
    std::uint16_t id;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
        std::string known;
        std::uint16_t p;
        RTE_ETH_FOREACH_DEV(p)
        {
            char n[RTE_ETH_NAME_MAX_LEN];
            if (rte_eth_dev_get_name_by_port(p, n) == 0)
                known += fmt::format("{}'{}'", known.empty() ? "" : ", ", n);
        }
        return fail(fmt::format("{}:{}: 'port {}': no DPDK port '{}' (the eal line made: {})", cfg.at.file, cfg.at.line,
                                side_name(s), name, known.empty() ? "none" : known));
    }
    ports[s] = id;
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(id, &info); rc != 0)
        return fail(fmt::format("port {} ({}): rte_eth_dev_info_get: {}", side_name(s), name, rte_strerror(-rc)));
    if (info.max_rx_queues < queues || info.max_tx_queues < queues)
        return fail(fmt::format("port {} ({}) has {} RX/{} TX queues; {} worker lcores need {} (af_packet: "
                                "'qpairs={}' in its --vdev)",
                                side_name(s), name, info.max_rx_queues, info.max_tx_queues, queues, queues, queues));
    rte_eth_conf conf{};
    auto qn = static_cast<std::uint16_t>(queues);
    // several queues: RSS with the symmetric key, so both directions of a
    // flow reach the lcore that tracks it (flow_key.hpp)
    std::array<std::uint8_t, 40> rss_key = symmetric_rss_key;
    const std::uint64_t rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
    if (queues > 1) {
        if (!rss_hf || (info.hash_key_size && info.hash_key_size != rss_key.size()))
            lines.push_back(fmt::format("port {} ({}): no symmetric RSS on this driver: a flow's two directions may "
                                        "reach different lcores (run one worker lcore with mode stateful)",
                                        side_name(s), name));
        else {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf = {rss_key.data(), static_cast<std::uint8_t>(rss_key.size()), rss_hf};
        }
    }
    if (int rc = rte_eth_dev_configure(id, qn, qn, &conf); rc != 0)
        return fail(fmt::format("port {} ({}): rte_eth_dev_configure: {}", side_name(s), name, rte_strerror(-rc)));
    std::uint16_t nrx = rx_desc, ntx = tx_desc;
    rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
    int socket = rte_eth_dev_socket_id(id);
    for (std::uint16_t q = 0; q < qn; ++q) {
        if (int rc = rte_eth_rx_queue_setup(id, q, nrx, socket, nullptr, mbufs); rc != 0)
            return fail(fmt::format("port {} ({}): RX queue {}: {}", side_name(s), name, q, rte_strerror(-rc)));
        if (int rc = rte_eth_tx_queue_setup(id, q, ntx, socket, nullptr); rc != 0)
            return fail(fmt::format("port {} ({}): TX queue {}: {}", side_name(s), name, q, rte_strerror(-rc)));
    }
    if (int rc = rte_eth_dev_start(id); rc != 0)
        return fail(fmt::format("port {} ({}): rte_eth_dev_start: {}", side_name(s), name, rte_strerror(-rc)));
    port_started[s] = true;
    // a bridge takes every frame, whoever it is addressed to
    if (int rc = rte_eth_promiscuous_enable(id); rc != 0 && rc != -ENOTSUP)
        return fail(fmt::format("port {} ({}): promiscuous mode: {}", side_name(s), name, rte_strerror(-rc)));
    // (no MTU here: the pcap and af_packet PMDs report 1500 whatever the
    // interface's; jumbo frames pass up to the interface's MTU, in chained mbufs)
    lines.push_back(fmt::format("port {} {} (DPDK port {}, driver {}, {} queue pair{})", side_name(s), name, id,
                                info.driver_name ? info.driver_name : "?", queues, queues == 1 ? "" : "s"));
    return true;
}

// Steps 1 and 2 of setup: EAL from the eal line, and the worker lcores
// (every lcore of the eal line but the main one).
result<bool> shield::impl::start_eal()
{
    std::vector<std::string> args{"bulwarkd"};
    args.insert(args.end(), cfg.eal_args.begin(), cfg.eal_args.end());
    // the host port: a TAP device the kernel names as the config does
    // (kw_host_port checked the name: no ',' to add a devarg with)
    if (!cfg.host_port.empty())
        args.push_back(fmt::format("--vdev=net_tap_{0},iface={0}", cfg.host_port));
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0)
        return fail(fmt::format("{}:{}: shield '{}': EAL did not start from its 'eal' line: {}", cfg.at.file,
                                cfg.at.line, cfg.name, rte_strerror(rte_errno)));
    eal_up = true;

    unsigned lc;
    RTE_LCORE_FOREACH_WORKER(lc)
    {
        worker_lcores.push_back(lc);
    }
    if (worker_lcores.empty())
        return fail(fmt::format("{}:{}: shield '{}': the eal line gives no worker lcore (lcore {} is the control "
                                "plane's): give two, e.g. '-l 0-1'",
                                cfg.at.file, cfg.at.line, cfg.name, rte_get_main_lcore()));
    return true;
}

// Step 5 of setup: the workers' quiescent-state variable, then the filter
// rules and the blocklist.
result<bool> shield::impl::setup_tables(unsigned queues)
{
    std::size_t qsz = rte_rcu_qsbr_get_memsize(queues);
    qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("bw_qsbr", qsz, RTE_CACHE_LINE_SIZE));
    if (!qs || rte_rcu_qsbr_init(qs, queues) != 0)
        return fail("cannot set up the RCU quiescent-state variable");
    auto t = acl_table::build(cfg.rules, cfg.default_verdict, "bw_acl");
    if (!t)
        return fail(fmt::format("{}:{}: shield '{}': {}", cfg.at.file, cfg.at.line, cfg.name, t.message()));
    acl = std::move(*t);
    auto b = blocklist::create("bw_block", std::max<std::size_t>(65536, cfg.blocks.size() + 65536), qs);
    if (!b)
        return fail(b.message());
    blocks = std::move(*b);
    if (auto r = blocks->add(cfg.blocks, std::chrono::seconds{0}, "block src"); !r)
        return fail(r.message());
    lines.push_back(fmt::format("{} filter rule{} ({} ACL rules), default {}, {} blocklist entr{}", acl->rules(),
                                acl->rules() == 1 ? "" : "s", acl->acl_rules(),
                                cfg.default_verdict == verdict::allow ? "allow" : "deny", cfg.blocks.size(),
                                cfg.blocks.size() == 1 ? "y" : "ies"));
    return true;
}

// Step 5b: mode stateful's flow tables, one per worker lcore, sharing
// 'flows' between them.
result<bool> shield::impl::setup_flows(unsigned queues)
{
    if (!cfg.stateful)
        return true;
    const auto each = static_cast<std::uint32_t>(std::max<std::uint64_t>(1024, cfg.flows / queues));
    for (unsigned i = 0; i < queues; ++i) {
        auto t = flow_table::create(fmt::format("bw_flows{}", i), each);
        if (!t)
            return fail(fmt::format("{}:{}: shield '{}': {}", cfg.at.file, cfg.at.line, cfg.name, t.message()));
        flows.push_back(std::move(*t));
    }
    const std::size_t per_flow = flows[0]->bytes_per_flow();
    lines.push_back(fmt::format("flow table: {} flows per lcore, {} bytes per flow ({} MiB in all), pickup window "
                                "{}s",
                                each, per_flow, per_flow * each * queues >> 20, cfg.pickup.count()));
    return setup_guards(queues);
}

// Step 5c: the SYN guard of each worker lcore, all with one random key
// (a cookie is checked by the lcore its flow's ACK reaches: with one key
// any lcore can), the threshold shared between them.
result<bool> shield::impl::setup_guards(unsigned queues)
{
    using mode = shield_section::syn_guard_mode;
    if (cfg.syn_guard == mode::off)
        return true;
    syn_guard_config g;
    g.m = cfg.syn_guard == mode::always ? syn_guard_config::mode::always : syn_guard_config::mode::automatic;
    g.threshold = std::max<std::uint64_t>(1, cfg.syn_guard_threshold / queues);
    if (getrandom(&g.key, sizeof g.key, 0) != sizeof g.key)
        return fail(fmt::format("syn-guard: no random key: {}", std::strerror(errno)));
    for (unsigned i = 0; i < queues; ++i)
        guards.push_back(std::make_unique<syn_guard>(g, rte_get_tsc_hz()));
    lines.push_back(g.m == syn_guard_config::mode::always
                        ? fmt::format("syn guard: always (SYN cookies answer every SYN of no flow from outside)")
                        : fmt::format("syn guard: auto, on above {} SYN/s of no flow per lcore", g.threshold));
    return true;
}

// Step 5c: the fragment trains' tables, one per worker lcore, sharing
// 'fragments' between them; plain memory (no rte_hash), both modes.
void shield::impl::setup_frags(unsigned queues)
{
    const auto each = static_cast<std::uint32_t>(std::max<std::uint64_t>(1024, cfg.fragments / queues));
    for (unsigned i = 0; i < queues; ++i)
        frags.push_back(std::make_unique<frag_table>(each, rte_rdtsc() ^ (std::uint64_t(i) << 32)));
    const std::size_t per = frags[0]->bytes_per_train();
    lines.push_back(fmt::format("fragment table: {} trains per lcore, {} bytes per train ({} KiB in all), "
                                "a train lives {}s",
                                frags[0]->capacity(), per, per * frags[0]->capacity() * queues >> 10, frag_life));
}

// Step 5d: 'limit src': a source table per worker lcore, sharing 'limit src
// table' between them, and the block ring.
result<bool> shield::impl::setup_limits(unsigned queues)
{
    if (!cfg.limits())
        return true;
    const std::uint64_t hz = rte_get_tsc_hz();
    limit_params l;
    l.pps = bucket_rate::make(cfg.limit_pps, cfg.limit_burst, hz);
    if (cfg.stateful) {
        l.new_flows = bucket_rate::make(cfg.limit_new_flows, cfg.limit_new_flows, hz);
        l.concurrent = static_cast<std::uint32_t>(cfg.limit_concurrent);
    }
    l.block_seconds = static_cast<std::uint32_t>(cfg.limit_block.count());
    l.block_tsc = l.block_seconds * hz;
    const auto each = static_cast<std::uint32_t>(std::max<std::uint64_t>(1024, cfg.limit_sources / queues));
    for (unsigned i = 0; i < queues; ++i) {
        auto t = source_table::create(fmt::format("bw_sources{}", i), each, l);
        if (!t)
            return fail(fmt::format("{}:{}: shield '{}': {}", cfg.at.file, cfg.at.line, cfg.name, t.message()));
        sources.push_back(std::move(*t));
        if (!flows.empty())
            flows[i]->set_sources(sources.back().get());
    }
    block_ring = rte_ring_create_elem("bw_blockreq", sizeof(block_request), block_ring_slots, SOCKET_ID_ANY,
                                      RING_F_SC_DEQ);
    if (!block_ring)
        return fail(fmt::format("cannot create the block ring: {}", rte_strerror(rte_errno)));
    std::string what;
    if (l.pps.on())
        what += fmt::format(", pps {} burst {}", cfg.limit_pps, cfg.limit_burst);
    if (cfg.limit_new_flows)
        what += cfg.stateful ? fmt::format(", new-flows {}/s", cfg.limit_new_flows) : ", new-flows off (mode stateless)";
    if (cfg.limit_concurrent)
        what += cfg.stateful ? fmt::format(", concurrent-flows {}", cfg.limit_concurrent)
                             : ", concurrent-flows off (mode stateless)";
    lines.push_back(fmt::format("limits per source from outside{}; over a limit: {}; {} sources per lcore, {} bytes "
                                "per source",
                                what, l.block_seconds ? fmt::format("blocklisted {}s", l.block_seconds) : "dropped",
                                each, sources[0]->bytes_per_source()));
    return true;
}

// Step 5e: the event ring from the proxy (shield-block). Its producers
// are the proxy's threads: not EAL lcores, preemptible, maybe more of them
// than cores. In the classic MP mode a producer preempted between taking
// its slots and publishing them makes every later producer spin until it
// runs again (DPDK's EAL guide, "Known Issues"). RTS (relaxed tail sync)
// lets the other producers go on: the tail moves when the last one in
// finishes, and a waiter spins only past the head-tail distance (an eighth
// of the ring), where HTS would serialise them all behind the preempted
// one. The control thread is the one consumer.
result<bool> shield::impl::setup_events()
{
    event_ring = make_event_ring("bw_l7events", cfg.event_ring);
    if (!event_ring)
        return fail(fmt::format("cannot create the event ring of {} slots: {}", cfg.event_ring,
                                rte_strerror(rte_errno)));
    lines.push_back(fmt::format("event ring from the proxy: {} shield-block events between two drains (100 ms)",
                                cfg.event_ring));
    return true;
}

// The workers' block requests and the proxy's events, added to the
// blocklist with their TTL and reason. At most one ring's worth each per
// call.
void shield::impl::apply_blocks()
{
    const applied_blocks a = apply_block_requests(block_ring, *blocks, block_ring_slots);
    blocks_applied += a.applied;
    blocks_failed += a.failed;
    const applied_blocks e = apply_block_requests(event_ring, *blocks, cfg.event_ring);
    events_applied += e.applied;
    events_failed += e.failed;
}

// Step 4b: the host port, when the shield has one: the TAP device EAL made
// from it, one queue pair (the lcore serving it is the only one to use
// it), its address on the kernel side, the punt ring and the MAC table.
result<bool> shield::impl::setup_host(unsigned queues)
{
    if (cfg.host_port.empty())
        return true;
    const std::string name = "net_tap_" + cfg.host_port;
    auto fail_here = [&](const std::string& what) {
        return fail(fmt::format("{}:{}: 'host-port {}': {}", cfg.host_port_at.file, cfg.host_port_at.line,
                                cfg.host_port, what));
    };
    if (cfg.stateful && queues > 1)
        return fail_here(fmt::format("a host port is served by one lcore, which tracks the flows of what the kernel "
                                     "sends; with mode stateful a punted flow's client side could reach another of "
                                     "the {} worker lcores: give one worker lcore (e.g. 'eal -l 0-1 ...') or mode "
                                     "stateless",
                                     queues));
    std::uint16_t id;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
        return fail_here(fmt::format("EAL made no TAP port '{}' (is /dev/net/tun there? net_tap's messages are above)",
                                     name));
    ports[host] = id;
    rte_eth_conf conf{};
    if (int rc = rte_eth_dev_configure(id, 1, 1, &conf); rc != 0)
        return fail_here(fmt::format("rte_eth_dev_configure: {}", rte_strerror(-rc)));
    std::uint16_t nrx = rx_desc, ntx = tx_desc;
    rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
    const int socket = rte_eth_dev_socket_id(id);
    if (int rc = rte_eth_rx_queue_setup(id, 0, nrx, socket, nullptr, mbufs); rc != 0)
        return fail_here(fmt::format("RX queue: {}", rte_strerror(-rc)));
    if (int rc = rte_eth_tx_queue_setup(id, 0, ntx, socket, nullptr); rc != 0)
        return fail_here(fmt::format("TX queue: {}", rte_strerror(-rc)));
    if (int rc = rte_eth_dev_start(id); rc != 0)
        return fail_here(fmt::format("rte_eth_dev_start: {}", rte_strerror(-rc)));
    port_started[host] = true;
    rte_ether_addr mac;
    if (int rc = rte_eth_macaddr_get(id, &mac); rc != 0)
        return fail_here(fmt::format("no MAC address: {}", rte_strerror(-rc)));
    std::memcpy(hlink.mac.data(), mac.addr_bytes, 6);
    std::string addrs;
    for (const cidr& a : cfg.host_addresses) {
        if (auto r = set_interface_address(cfg.host_port, a); !r)
            return fail_here(r.message());
        addrs += fmt::format("{}{}", addrs.empty() ? "" : ", ", a.str());
    }
    hlink.port_id = id;
    // frames on their way to the host, from every worker, between two
    // drains of the lcore serving it (each loop): past it they are
    // dropped as punt_full, never waited for
    hlink.punt_ring = rte_ring_create("bw_punt", cfg.punt_ring, SOCKET_ID_ANY, RING_F_SC_DEQ | RING_F_EXACT_SZ);
    if (!hlink.punt_ring)
        return fail_here(fmt::format("cannot create the punt ring of {} frames: {}", cfg.punt_ring,
                                     rte_strerror(rte_errno)));
    macs = std::make_unique<mac_table>(cfg.mac_table);
    hlink.macs = macs.get();
    char text[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(text, sizeof text, &mac);
    lines.push_back(fmt::format("host port {} (DPDK port {}, net_tap, MAC {}), address{} {}; punt ring of {} frames, "
                                "MAC table of {} stations",
                                cfg.host_port, id, text, cfg.host_addresses.size() == 1 ? "" : "es",
                                addrs.empty() ? "none" : addrs, rte_ring_get_capacity(hlink.punt_ring),
                                macs->capacity()));
    return true;
}

// Step 6 of setup: drop sampling to the pcapng file of 'drop-capture', when
// there is one (sampling is left off otherwise).
result<bool> shield::impl::setup_sampling(drop_sampling& sampling)
{
    if (cfg.drop_capture.empty())
        return true;
    sample_pool = rte_mempool_create("bw_samples", sample_slots, sizeof(drop_sample), 64, 0, nullptr, nullptr,
                                     nullptr, nullptr, SOCKET_ID_ANY, 0);
    sample_ring = rte_ring_create("bw_samples", sample_slots + 1, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (!sample_pool || !sample_ring)
        return fail(fmt::format("drop capture: cannot allocate its buffers: {}", rte_strerror(rte_errno)));
    auto w = pcapng_writer::open(cfg.drop_capture, cfg.drop_capture_max);
    if (!w)
        return fail(fmt::format("{}:{}: 'drop-capture': {}", cfg.at.file, cfg.at.line, w.message()));
    capture = std::move(*w);
    sampling = {sample_pool, sample_ring, cfg.drop_capture_rate};
    lines.push_back(fmt::format("drop capture to {} (the first {} drops per reason per second per lcore, "
                                "at most {} bytes)",
                                cfg.drop_capture, cfg.drop_capture_rate, cfg.drop_capture_max));
    return true;
}

// Step 7, launch(): one lcore_ctx per worker lcore, on its own queue pair,
// the control thread, then the lcores launched.
result<bool> shield::impl::launch_workers()
{
    const auto queues = static_cast<unsigned>(worker_lcores.size());
    for (unsigned i = 0; i < queues; ++i) {
        auto c = std::make_unique<lcore_ctx>(acl->rules(), sampling, std::array{ports[outside], ports[inside]});
        if (hlink.punt_ring) {
            c->host = &hlink;
            c->port_ids[host] = hlink.port_id;
            c->serves_host = i == 0;
        }
        c->index = i;
        c->lcore = worker_lcores[i];
        c->queue = static_cast<std::uint16_t>(i);
        c->acl = acl.get();
        c->blocks = blocks.get();
        c->qs = qs;
        c->quit = &quit;
        c->tsc_hz = rte_get_tsc_hz();
        if (!frags.empty())
            c->frags = frags[i].get();
        if (!sources.empty()) {
            c->sources = sources[i].get();
            c->block_ring = block_ring;
        }
        if (!flows.empty()) {
            c->flows = flows[i].get();
            c->guard = guards.empty() ? nullptr : guards[i].get();
            c->pickup_until = rte_rdtsc() + static_cast<std::uint64_t>(cfg.pickup.count()) * c->tsc_hz;
        }
        if (!open_mailbox(*c, fmt::format("bw_mbox{}", i)))
            return fail(fmt::format("lcore {}: cannot create its mailbox: {}", c->lcore, rte_strerror(rte_errno)));
        workers.push_back(std::move(c));
    }
    control = std::thread([this] { control_loop(); });
    for (auto& w : workers)
        if (int rc = rte_eal_remote_launch(worker_main, w.get(), w->lcore); rc != 0)
            return fail(fmt::format("cannot launch lcore {}: {}", w->lcore, rte_strerror(-rc)));
    launched = true;
    std::string lcores;
    for (const auto& w : workers)
        lcores += fmt::format("{}{}", lcores.empty() ? "" : ",", w->lcore);
    lines.push_back(fmt::format("{} worker lcore{} ({}), bursts of {}, mode {}", workers.size(),
                                workers.size() == 1 ? "" : "s", lcores, burst_size,
                                cfg.stateful ? "stateful (TCP, UDP and ICMP tracked)" : "stateless"));
    return true;
}

result<bool> shield::impl::setup()
{
    // 1. EAL, from the eal line; 2. worker lcores
    if (auto r = start_eal(); !r)
        return r;
    const auto queues = static_cast<unsigned>(worker_lcores.size());

    // 3. buffers: one pool for both ports, sized for every ring and cache
    //    (it must fit the 512 MB of the lab's --no-huge -m 512)
    unsigned n = std::max(8191u, queues * 2 * (rx_desc + tx_desc + 2 * burst_size) + 512 * queues);
    if (!cfg.host_port.empty())
        n += rx_desc + tx_desc + cfg.punt_ring + 2 * burst_size;
    mbufs = rte_pktmbuf_pool_create("bw_mbufs", n, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
    if (!mbufs)
        return fail(fmt::format("cannot allocate {} packet buffers: {}", n, rte_strerror(rte_errno)));

    // 4. the ports
    if (cfg.port_outside.empty() || cfg.port_inside.empty())
        return fail(fmt::format("{}:{}: shield '{}' needs 'port outside DEVICE' and 'port inside DEVICE'",
                                cfg.at.file, cfg.at.line, cfg.name));
    if (auto r = setup_port(outside, cfg.port_outside, queues); !r)
        return r;
    if (auto r = setup_port(inside, cfg.port_inside, queues); !r)
        return r;

    if (auto r = setup_host(queues); !r)
        return r;

    // 5. quiescent-state variable for the workers, then the tables
    if (auto r = setup_tables(queues); !r)
        return r;
    if (auto r = setup_flows(queues); !r)
        return r;
    setup_frags(queues);
    if (auto r = setup_limits(queues); !r)
        return r;
    if (auto r = setup_events(); !r)
        return r;
    // 6. drop sampling to pcapng; 7, the workers, is launch()
    return setup_sampling(sampling);
}

// The control thread: sampled drops to the pcapng file and the workers'
// block requests to the blocklist every 100 ms, the blocklist's TTLs every
// second. Never touches packets.
void shield::impl::control_loop()
{
    auto next_expire = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    std::unique_lock lock(control_mu);
    for (;;) {
        bool last = control_quit;
        lock.unlock();
        if (sample_ring) {
            void* objs[64];
            unsigned got;
            while ((got = rte_ring_sc_dequeue_burst(sample_ring, objs, 64, nullptr)) > 0) {
                for (unsigned i = 0; i < got; ++i)
                    capture->add(*static_cast<const drop_sample*>(objs[i]));
                rte_mempool_put_bulk(sample_pool, objs, got);
            }
            capture->flush();
        }
        apply_blocks();
        if (std::chrono::steady_clock::now() >= next_expire) {
            blocks->expire();
            next_expire += std::chrono::seconds(1);
        }
        lock.lock();
        if (last)
            return;
        control_cv.wait_for(lock, std::chrono::milliseconds(100),
                            [this] { return control_quit || events_pending.exchange(false); });
    }
}

void shield::impl::teardown()
{
    if (stopped)
        return;
    stopped = true;
    quit.store(true);
    if (launched)
        rte_eal_mp_wait_lcore();
    if (control.joinable()) {
        {
            std::lock_guard g(control_mu);
            control_quit = true;
        }
        control_cv.notify_all();
        control.join();
    }
}

shield::shield(std::unique_ptr<impl> p) : p_(std::move(p)) {}

result<std::unique_ptr<shield>> shield::open(const shield_section& cfg)
{
    auto p = std::make_unique<impl>();
    p->cfg = cfg;
    std::unique_ptr<shield> s{new shield(std::move(p))};
    if (auto r = s->p_->setup(); !r)
        return fail(r.message()); // the destructor releases what setup made
    return s;
}

result<bool> shield::launch()
{
    if (p_->launched || p_->stopped)
        return fail("the shield is already launched or stopped");
    return p_->launch_workers();
}

result<std::unique_ptr<shield>> shield::start(const shield_section& cfg)
{
    auto s = open(cfg);
    if (!s)
        return s;
    if (auto r = (*s)->launch(); !r)
        return fail(r.message());
    return s;
}

void shield::stop() { p_->teardown(); }

shield::~shield()
{
    impl& p = *p_;
    p.teardown();
    for (side s : {outside, inside, host})
        if (p.port_started[s]) {
            rte_eth_dev_stop(p.ports[s]);
            rte_eth_dev_close(p.ports[s]);
        }
    p.capture.reset();
    p.acl.reset();
    p.blocks.reset();
    p.workers.clear();
    p.flows.clear(); // rte_hash_free: before EAL goes
    p.sources.clear();
    rte_ring_free(p.block_ring);
    rte_ring_free(p.hlink.punt_ring);
    rte_ring_free(p.event_ring);
    rte_ring_free(p.sample_ring);
    rte_mempool_free(p.sample_pool);
    rte_mempool_free(p.mbufs);
    rte_free(p.qs);
    if (p.eal_up)
        rte_eal_cleanup();
}

const std::vector<std::string>& shield::describe() const { return p_->lines; }

blocklist& shield::blocks() { return *p_->blocks; }

bool shield::post_block(const ip_addr& src, std::chrono::seconds ttl, drop_reason reason) noexcept
{
    impl& p = *p_;
    if (!p.event_ring)
        return false;
    if (!post_block_request(p.event_ring, src, ttl, reason)) {
        p.events_full.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    p.events_posted.fetch_add(1, std::memory_order_relaxed);
    // wake the control thread so the block applies now: its next packet
    // is dropped, not the 100 ms of a flood's worth behind it. Without the
    // lock (the proxy never waits for it): a wake-up that races the
    // thread going to sleep is lost, and the 100 ms drain takes it.
    if (!p.events_pending.exchange(true))
        p.control_cv.notify_one();
    return true;
}

namespace {

// Until every one of v is done, or `wait` passed.
template <class T>
bool all_done(const std::vector<std::unique_ptr<T>>& v, std::chrono::milliseconds wait)
{
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
        if (std::all_of(v.begin(), v.end(), [](const auto& x) { return x->done.load(std::memory_order_acquire); }))
            return true;
        if (std::chrono::steady_clock::now() >= until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

// Hands each worker its job (done cleared) through its mailbox.
template <class T>
result<bool> post_jobs(std::vector<std::unique_ptr<lcore_ctx>>& workers, std::vector<std::unique_ptr<T>>& jobs,
                       mbox_op op)
{
    for (std::size_t i = 0; i < workers.size(); ++i) {
        jobs[i]->done.store(false, std::memory_order_relaxed);
        if (!post(*workers[i], {op, 0, reinterpret_cast<std::uint64_t>(jobs[i].get())})) {
            jobs[i]->done.store(true, std::memory_order_relaxed);
            return fail(fmt::format("lcore {}: its mailbox is full", workers[i]->lcore));
        }
    }
    return true;
}

} // namespace

result<flow_summary> shield::flows(std::size_t top, std::chrono::milliseconds wait)
{
    impl& p = *p_;
    if (p.flows.empty() || !p.launched)
        return fail("the shield keeps no flows (mode stateless, or not running)");
    std::lock_guard lock(p.census_mu);
    if (p.censuses.empty())
        for (std::size_t i = 0; i < p.workers.size(); ++i)
            p.censuses.push_back(std::make_unique<flow_census>());
    if (!all_done(p.censuses, std::chrono::milliseconds(0)))
        return fail("an earlier census of the flows is still running");
    if (auto r = post_jobs(p.workers, p.censuses, mbox_op::census); !r)
        return fail(r.message());
    if (!all_done(p.censuses, wait))
        return fail(fmt::format("a worker lcore did not finish counting its flows within {} ms", wait.count()));
    std::vector<const flow_census*> v;
    for (const auto& c : p.censuses)
        v.push_back(c.get());
    return summarize(v, top);
}

result<std::optional<shield::flow_view>> shield::flow(std::uint8_t proto, const ip_addr& src, std::uint16_t sport,
                                                      const ip_addr& dst, std::uint16_t dport,
                                                      std::chrono::milliseconds wait)
{
    impl& p = *p_;
    if (p.flows.empty() || !p.launched)
        return fail("the shield keeps no flows (mode stateless, or not running)");
    parsed_frame f;
    f.l3 = src.fam == family::ipv6 ? l3_kind::ipv6 : l3_kind::ipv4;
    f.proto = proto;
    f.src = src.bytes;
    f.dst = dst.bytes;
    f.sport = sport;
    f.dport = dport;
    std::lock_guard lock(p.census_mu);
    if (p.queries.empty())
        for (std::size_t i = 0; i < p.workers.size(); ++i)
            p.queries.push_back(std::make_unique<flow_query>());
    if (!all_done(p.queries, std::chrono::milliseconds(0)))
        return fail("an earlier flow query is still running");
    for (auto& q : p.queries)
        q->key = make_flow_key(f).key;
    if (auto r = post_jobs(p.workers, p.queries, mbox_op::flow_query); !r)
        return fail(r.message());
    if (!all_done(p.queries, wait))
        return fail(fmt::format("a worker lcore did not answer within {} ms", wait.count()));
    for (const auto& q : p.queries)
        if (q->found)
            return std::optional<flow_view>(flow_view{q->st, q->udp, q->replied, q->proxied, q->idle, q->timeout});
    return std::optional<flow_view>{};
}

shield_stats shield::stats() const
{
    const impl& p = *p_;
    shield_stats st;
    st.rule_hits.assign(p.acl ? p.acl->rules() : 0, 0);
    st.host = p.port_started[host];
    const unsigned nports = st.host ? sides : 2;
    for (const auto& w : p.workers) {
        for (unsigned s = 0; s < nports; ++s) {
            const port_counters& c = w->counters.port[s];
            port_stats& sum = st.port[s];
            sum.rx += c.rx;
            sum.tx += c.tx;
            sum.punted += c.punted;
            for (std::size_t r = 0; r < drop_reason_count; ++r)
                sum.drops[r] += c.drops[r];
        }
        for (std::size_t i = 0; i < st.rule_hits.size() && i < w->rule_hits.size(); ++i)
            st.rule_hits[i] += w->rule_hits[i];
        st.default_hits += w->rule_hits.back();
    }
    for (unsigned s = 0; s < nports; ++s) {
        for (auto d : st.port[s].drops)
            st.port[s].dropped += d;
        rte_eth_stats es{};
        if (p.port_started[s] && rte_eth_stats_get(p.ports[s], &es) == 0)
            st.port[s].driver = driver_stats{es.imissed, es.ierrors, es.rx_nombuf, es.oerrors};
    }
    if (!p.flows.empty()) {
        shield_stats::flow_stats f;
        for (const auto& w : p.workers) {
            f.active += w->flow_counts.active;
            f.created += w->flow_counts.created;
            f.expired += w->flow_counts.expired;
            f.evicted += w->flow_counts.evicted;
            f.refused += w->flow_counts.refused;
        }
        st.flows = f;
    }
    if (!p.frags.empty()) {
        shield_stats::frag_stats f;
        for (const auto& w : p.workers) {
            f.trains += w->frag_counts.trains;
            f.later += w->frag_counts.later;
            f.completed += w->frag_counts.completed;
            f.refused += w->frag_counts.refused;
        }
        st.fragments = f;
    }
    if (!p.guards.empty()) {
        shield_stats::guard_stats g;
        for (const auto& w : p.workers) {
            g.on_lcores += w->guard_counts.on;
            g.switched_on += w->guard_counts.switched_on;
            g.cookies_sent += w->guard_counts.cookies_sent;
            g.cookies_valid += w->guard_counts.cookies_valid;
            g.cookies_invalid += w->guard_counts.cookies_invalid;
        }
        st.guard = g;
    }
    if (!p.sources.empty()) {
        shield_stats::limit_stats l;
        for (const auto& w : p.workers) {
            l.sources += w->limit_counts.sources;
            l.untracked += w->limit_counts.untracked;
            l.blocks_asked += w->limit_counts.blocks_asked;
            l.block_ring_full += w->limit_counts.block_ring_full;
        }
        l.blocks_applied = p.blocks_applied.load();
        l.blocks_failed = p.blocks_failed.load();
        st.limits = l;
    }
    st.events = {p.events_posted.load(), p.events_full.load(), p.events_applied.load(), p.events_failed.load()};
    if (p.blocks)
        st.blocklist_entries = p.blocks->size();
    if (p.capture) {
        st.capture_frames = p.capture->written();
        st.capture_refused = p.capture->refused();
    }
    return st;
}

} // namespace bulwark::dataplane
