// SPDX-License-Identifier: Apache-2.0
#pragma once

// Sampled drops to a pcapng file, readable by tshark: DPDK's rte_pcapng
// writes the section header and one interface block per DPDK port; each
// frame is an Enhanced Packet Block whose comment names the drop reason.
// (DPDK 22.11's rte_pcapng_copy() takes no comment, so the EPBs are
// encoded here.) Control-plane thread only: it writes to a file.

#include "common/result.hpp"
#include "dataplane/pipeline_types.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_pcapng;

namespace bulwark::dataplane {

class pcapng_writer {
public:
    // Opens (creates, or empties) a regular file at path: a symbolic link,
    // a FIFO, a device or a directory there is refused. At most max_size
    // bytes are written; frames past it are counted in refused().
    static result<std::unique_ptr<pcapng_writer>> open(const std::string& path, std::uint64_t max_size);
    ~pcapng_writer();
    pcapng_writer(const pcapng_writer&) = delete;
    pcapng_writer& operator=(const pcapng_writer&) = delete;

    void add(const drop_sample& s);   // buffered
    void flush();                     // one write of what is buffered
    std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
    std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

    // The EPB of one sample, as bytes (for the tests).
    static std::vector<std::uint8_t> epb(const drop_sample& s, std::uint64_t ns);

private:
    pcapng_writer() = default;
    int fd_ = -1;
    rte_pcapng* pcapng_ = nullptr;
    std::vector<std::uint8_t> buf_;
    std::uint64_t pending_ = 0;
    std::atomic<std::uint64_t> written_{0};
    std::atomic<std::uint64_t> refused_{0}; // frames past max_size_
    std::uint64_t size_ = 0, max_size_ = 0;  // bytes in the file, and its cap
    std::uint64_t tsc0_ = 0, ns0_ = 0, hz_ = 1;
};

} // namespace bulwark::dataplane
