// SPDX-License-Identifier: Apache-2.0
#pragma once

// Reading a request head from bytes as they arrive, with HAProxy's limits
// and leniencies, and no I/O: the session reads the socket and feeds what
// came; unit tests and the fuzzer feed bytes directly.

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string_type.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string_view>

namespace bulwark::proxy {

struct reader_limits {
    std::size_t bufsize = 16384; // tune.bufsize: the whole head must fit
    int maxhdr = 101;            // tune.http.maxhdr: header lines per request
};

// Memory for the header fields of the messages a session has in hand (a
// request and its response): one block, handed out front to back and
// reused from its start once everything taken from it has been given back,
// which is between two requests. Beyond the block, the heap. Each field a
// parser reads was a malloc and a free otherwise. The block is taken at
// the first allocation, so a session that never parses a field holds none.
// 2 KiB holds a usual request's and response's fields (~10 of ~80 bytes
// each with their element); 4 KiB cost each idle or slow connection 2 KiB
// more resident (tools/bench/slowpost: 105.6 -> 86.1 MB for 10,000).
class field_arena {
public:
    static constexpr std::size_t capacity = 2048;

    void* allocate(std::size_t n)
    {
        n = (n + align - 1) & ~(align - 1);
        if (n <= capacity - used_) {
            if (!mem_)
                mem_ = std::make_unique_for_overwrite<std::byte[]>(capacity);
            void* p = mem_.get() + used_;
            used_ += n;
            ++live_;
            return p;
        }
        return ::operator new(n);
    }
    void deallocate(void* p) noexcept
    {
        auto* b = static_cast<std::byte*>(p);
        if (!mem_ || b < mem_.get() || b >= mem_.get() + capacity) {
            ::operator delete(p);
            return;
        }
        if (--live_ == 0)
            used_ = 0;
    }

private:
    static constexpr std::size_t align = alignof(std::max_align_t);
    std::unique_ptr<std::byte[]> mem_;
    std::size_t used_ = 0;
    std::size_t live_ = 0; // allocations from the block not given back yet
};

// An allocator drawing from a field_arena; without one, from the heap.
template <class T>
struct arena_allocator {
    using value_type = T;
    field_arena* arena = nullptr;

    arena_allocator() noexcept = default;
    explicit arena_allocator(field_arena* a) noexcept : arena(a) {}
    template <class U>
    arena_allocator(const arena_allocator<U>& o) noexcept : arena(o.arena)
    {
    }
    T* allocate(std::size_t n)
    {
        return static_cast<T*>(arena ? arena->allocate(n * sizeof(T)) : ::operator new(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t) noexcept
    {
        if (arena)
            arena->deallocate(p);
        else
            ::operator delete(p);
    }
    template <class U>
    bool operator==(const arena_allocator<U>& o) const noexcept
    {
        return arena == o.arena;
    }
};

// The header fields of the messages a session parses.
using fields_type = boost::beast::http::basic_fields<arena_allocator<char>>;

enum class head_state : unsigned char { need_more, done, error };

// Bounds the trailer lines of a chunked message, which Beast 1.74 parses
// into the message's fields with no count limit (the trailer's bytes are
// bounded by the buffer's max_size, tune.bufsize, but a field costs ~80
// bytes of memory for 4 of input). Installed with parser.on_chunk_header;
// called by the parser with the whole trailer section in `buf` (Beast
// calls it for the last chunk only once the section's end is read).
// Refuses (bad_field: a 400 or 502) more than `max` trailer lines.
struct trailer_guard {
    const boost::beast::flat_buffer* buf = nullptr;
    int max = 101;
    void operator()(std::uint64_t size, boost::beast::string_view ext, boost::system::error_code& ec) const;
};

// The trailer lines in `data`, which starts at a last chunk (after an
// optional CRLF ending the chunk before): the lines between the last
// chunk's line and the empty line. Counts up to the empty line only.
int count_trailer_lines(std::string_view data);

// Scans the header lines of a request head as they arrive, before Beast
// parses (and allocates) them: a head of many tiny lines costs ~80 bytes
// a line in fields, so the count is checked on the bytes. Pure.
class line_counter {
public:
    // Scans data[from..): returns false once more than `max` lines
    // (counting the start line) are seen before the head's empty line.
    // `data` begins where the head began, less what consumed() took, and
    // only grows at its end.
    bool scan(std::string_view data, int max);
    // The parser consumed `n` bytes from the data's front (whole lines:
    // Beast takes the start line and each field as soon as they end).
    void consumed(std::size_t n)
    {
        pos_ -= std::min(n, pos_); // past the head's end once it is whole
        line_start_ -= std::min(n, line_start_);
    }
    int lines() const { return lines_; }

private:
    std::size_t pos_ = 0, line_start_ = 0;
    int lines_ = 0;
    bool ended_ = false;
};

class request_reader {
public:
    using parser_type = boost::beast::http::request_parser<boost::beast::http::buffer_body, arena_allocator<char>>;

    // The fields are allocated from `arena` when one is given.
    explicit request_reader(reader_limits lim, field_arena* arena = nullptr);

    // Consumes from `buf` what belongs to the request head. Returns done
    // once the head is parsed and valid (the body, if any, stays in `buf`
    // for the parser), error with status() set when the head is refused,
    // need_more otherwise. Never reads past buf's data; any bytes are fine.
    head_state feed(boost::beast::flat_buffer& buf);

    // The status to answer a refused head with: 400 (malformed, too many
    // header lines, a Transfer-Encoding that does not end in chunked,
    // which would leave the body's end unknown, Content-Length with
    // Transfer-Encoding, differing Content-Lengths, whitespace before a
    // colon, NUL or CR in a value (Beast), Transfer-Encoding in an HTTP/1.0
    // request, several Host headers, an absolute-form target whose
    // authority differs from Host), 414 (request line longer
    // than tune.bufsize), 431 (head longer than tune.bufsize).
    int status() const { return status_; }
    // Why, in a few words (for tests and the debug log).
    std::string_view why() const { return why_; }
    // True once a byte of the request proper arrived (empty lines before a
    // request are skipped, as RFC 9112 §2.2 allows and HAProxy does).
    bool started() const { return started_; }

    parser_type& parser() { return parser_; }

private:
    head_state refuse(int status, std::string_view why);
    // Rewrites runs of blanks between the request line's tokens into one
    // space ("POST /1  HTTP/1.1" is read as HAProxy reads it). The line's
    // end must be in `buf`.
    void tidy_request_line(boost::beast::flat_buffer& buf);

    // Checks the parsed head for what Beast accepts and HAProxy does not.
    head_state check_head();

    reader_limits lim_;
    trailer_guard trailers_; // before parser_: the parser holds a reference
    line_counter lines_;
    parser_type parser_;
    int status_ = 0;
    const char* why_ = "";
    bool started_ = false;
    bool line_done_ = false;
};

// The status line of a response, as an HTTP health check reads it.
struct status_line {
    int code = 0;            // 100..599
    std::string_view reason; // points into the text given
};
// Parses "HTTP/1.x NNN reason" (the line, without its CRLF). nullopt when
// it is not a status line.
std::optional<status_line> parse_status_line(std::string_view line);

} // namespace bulwark::proxy
