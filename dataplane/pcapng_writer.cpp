// SPDX-License-Identifier: Apache-2.0
#include "dataplane/pcapng_writer.hpp"

#include "dataplane/packet.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_pcapng.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

namespace bulwark::dataplane {

namespace {

// pcapng is in the writer's byte order (the section header says which)
template <class T>
void put(std::vector<std::uint8_t>& b, T v)
{
    std::size_t at = b.size();
    b.resize(at + sizeof v);
    std::memcpy(b.data() + at, &v, sizeof v);
}
void put32(std::vector<std::uint8_t>& b, std::uint32_t v) { put(b, v); }
void put16(std::vector<std::uint8_t>& b, std::uint16_t v) { put(b, v); }

void pad4(std::vector<std::uint8_t>& b, std::size_t from)
{
    while ((b.size() - from) % 4)
        b.push_back(0);
}

} // namespace

std::vector<std::uint8_t> pcapng_writer::epb(const drop_sample& s, std::uint64_t ns)
{
    std::string comment = fmt::format("bulwark drop: {} (port {}, {})", reason_name(s.reason), s.port_id,
                                      side_name(s.side));
    std::vector<std::uint8_t> b;
    put32(b, 6);        // Enhanced Packet Block
    put32(b, 0);        // total length, patched below
    put32(b, s.port_id); // interface: rte_pcapng writes one per port, in port order
    put32(b, static_cast<std::uint32_t>(ns >> 32)); // nanoseconds: rte_pcapng's if_tsresol is 9
    put32(b, static_cast<std::uint32_t>(ns));
    put32(b, s.caplen);
    put32(b, s.len);
    std::size_t data = b.size();
    b.insert(b.end(), s.bytes, s.bytes + s.caplen);
    pad4(b, data);
    put16(b, 1); // opt_comment
    put16(b, static_cast<std::uint16_t>(comment.size()));
    std::size_t opt = b.size();
    b.insert(b.end(), comment.begin(), comment.end());
    pad4(b, opt);
    put16(b, 2); // epb_flags: inbound
    put16(b, 4);
    put32(b, 1);
    put16(b, 0); // opt_endofopt
    put16(b, 0);
    auto total = static_cast<std::uint32_t>(b.size() + 4);
    put32(b, total);
    std::memcpy(b.data() + 4, &total, 4);
    return b;
}

result<std::unique_ptr<pcapng_writer>> pcapng_writer::open(const std::string& path, std::uint64_t max_size)
{
    std::unique_ptr<pcapng_writer> w{new pcapng_writer};
    // O_NONBLOCK: a FIFO at path must not hold the start; it is refused below.
    w->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
    if (w->fd_ < 0)
        return fail(fmt::format("cannot open '{}': {}", path,
                                errno == ELOOP   ? "it is a symbolic link"
                                : errno == ENXIO ? "not a regular file" // a FIFO with no reader
                                                 : std::strerror(errno)));
    struct stat st {};
    if (::fstat(w->fd_, &st) != 0 || !S_ISREG(st.st_mode))
        return fail(fmt::format("cannot open '{}': not a regular file", path)); // the destructor closes fd_
    if (::ftruncate(w->fd_, 0) != 0 || ::fcntl(w->fd_, F_SETFL, 0) != 0)
        return fail(fmt::format("cannot empty '{}': {}", path, std::strerror(errno)));
    w->max_size_ = max_size;
    w->pcapng_ = rte_pcapng_fdopen(w->fd_, nullptr, nullptr, "bulwarkd", "bulwark: sampled drops");
    if (!w->pcapng_) {
        ::close(w->fd_);
        w->fd_ = -1;
        return fail(fmt::format("rte_pcapng_fdopen('{}'): {}", path, rte_strerror(rte_errno)));
    }
    if (off_t at = ::lseek(w->fd_, 0, SEEK_CUR); at > 0)
        w->size_ = static_cast<std::uint64_t>(at); // the section and interface blocks
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    w->tsc0_ = rte_rdtsc();
    w->ns0_ = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
    w->hz_ = rte_get_tsc_hz();
    return w;
}

pcapng_writer::~pcapng_writer()
{
    flush();
    if (pcapng_)
        rte_pcapng_close(pcapng_); // closes fd_
    else if (fd_ >= 0)
        ::close(fd_);
}

void pcapng_writer::add(const drop_sample& s)
{
    std::uint64_t d = s.tsc >= tsc0_ ? s.tsc - tsc0_ : 0;
    auto ns = ns0_ + static_cast<std::uint64_t>(static_cast<unsigned __int128>(d) * 1'000'000'000u / hz_);
    auto b = epb(s, ns);
    if (size_ + buf_.size() + b.size() > max_size_) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    buf_.insert(buf_.end(), b.begin(), b.end());
    ++pending_;
}

void pcapng_writer::flush()
{
    std::size_t off = 0;
    while (off < buf_.size()) {
        ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // a full disk loses samples, never packets
        off += static_cast<std::size_t>(n);
    }
    size_ += buf_.size(); // what a short write lost counts too: the cap stays a cap
    buf_.clear();
    written_.fetch_add(pending_, std::memory_order_relaxed);
    pending_ = 0;
}

} // namespace bulwark::dataplane
