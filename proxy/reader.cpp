// SPDX-License-Identifier: Apache-2.0
#include "proxy/reader.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

namespace bulwark::proxy {

namespace http = boost::beast::http;

request_reader::request_reader(reader_limits lim, field_arena* arena)
    : lim_(lim), parser_(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena_allocator<char>(arena)))
{
    parser_.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(lim_.bufsize, UINT32_MAX)));
    // The body streams: no limit but the client's pace. (Not boost::none:
    // Beast 1.74 compares a content length against an empty optional as
    // "over the limit".)
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    trailers_.max = lim_.maxhdr;
    parser_.on_chunk_header(trailers_);
}

int count_trailer_lines(std::string_view data)
{
    int nonempty = 0;
    std::size_t start = 0;
    for (std::size_t nl; (nl = data.find('\n', start)) != std::string_view::npos; start = nl + 1) {
        std::size_t len = nl - start;
        if (len > 0 && data[nl - 1] == '\r')
            --len;
        if (len > 0)
            ++nonempty;
        else if (nonempty > 0) // the empty line after the last chunk's
            break;
    }
    return nonempty > 0 ? nonempty - 1 : 0;
}

void trailer_guard::operator()(std::uint64_t size, boost::beast::string_view, boost::system::error_code& ec) const
{
    if (size != 0 || !buf)
        return;
    const auto d = buf->data();
    if (count_trailer_lines({static_cast<const char*>(d.data()), d.size()}) > max)
        ec = http::error::bad_field;
}

bool line_counter::scan(std::string_view data, int max)
{
    for (; !ended_ && pos_ < data.size(); ++pos_) {
        if (data[pos_] != '\n')
            continue;
        std::size_t len = pos_ - line_start_;
        if (len > 0 && data[pos_ - 1] == '\r')
            --len;
        line_start_ = pos_ + 1;
        if (len == 0) {
            ended_ = true;
            break;
        }
        if (++lines_ > max)
            return false;
    }
    return true;
}

head_state request_reader::refuse(int status, std::string_view why)
{
    status_ = status;
    why_ = why.data();
    return head_state::error;
}

void request_reader::tidy_request_line(boost::beast::flat_buffer& buf)
{
    auto* data = static_cast<char*>(buf.data().data());
    auto* nl = static_cast<char*>(std::memchr(data, '\n', buf.size()));
    std::size_t len = static_cast<std::size_t>(nl - data);
    // Compact right to left, so the tidied line ends where it ended and the
    // bytes freed at the front are consumed.
    std::size_t w = len; // write position (exclusive), moving left
    bool blank_run = false;
    for (std::size_t r = len; r-- > 0;) {
        char ch = data[r];
        bool blank = ch == ' ' || ch == '\t';
        if (blank && blank_run)
            continue;
        blank_run = blank;
        data[--w] = blank ? ' ' : ch;
    }
    buf.consume(w);
}

head_state request_reader::feed(boost::beast::flat_buffer& buf)
{
    if (status_)
        return head_state::error;
    if (parser_.is_header_done())
        return head_state::done;
    if (buf.size() == 0)
        return head_state::need_more;
    if (!started_) { // empty lines before a request are skipped
        const auto* data = static_cast<const char*>(buf.data().data());
        std::size_t skip = 0;
        while (skip < buf.size() && (data[skip] == '\r' || data[skip] == '\n'))
            ++skip;
        buf.consume(skip);
        if (buf.size() == 0)
            return head_state::need_more;
        started_ = true;
    }
    if (!line_done_) {
        const auto* data = static_cast<const char*>(buf.data().data());
        const void* nl = std::memchr(data, '\n', std::min(buf.size(), lim_.bufsize));
        if (!nl)
            return buf.size() >= lim_.bufsize ? refuse(414, "request line longer than tune.bufsize")
                                              : head_state::need_more;
        tidy_request_line(buf);
        line_done_ = true;
    }
    trailers_.buf = &buf; // the buffer the body is parsed from, too
    // Counted on the bytes before Beast allocates a field per line: the
    // start line, then at most tune.http.maxhdr header lines.
    if (!lines_.scan({static_cast<const char*>(buf.data().data()), buf.size()}, lim_.maxhdr + 1))
        return refuse(400, "more header lines than tune.http.maxhdr");
    boost::system::error_code ec;
    std::size_t used = parser_.put(buf.data(), ec);
    buf.consume(used);
    lines_.consumed(used);
    if (ec == http::error::need_more)
        return buf.size() >= lim_.bufsize ? refuse(431, "request head longer than tune.bufsize")
                                          : head_state::need_more;
    if (ec == http::error::header_limit)
        return refuse(431, "request head longer than tune.bufsize");
    if (ec)
        return refuse(400, "malformed request");
    if (!parser_.is_header_done()) // put() stops at the header's end
        return head_state::need_more;

    return check_head();
}

namespace {

bool iequal(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// The authority of an absolute-form target ("http://host:port/path"),
// nullopt for any other form.
std::optional<std::string_view> absolute_authority(std::string_view target)
{
    std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || scheme == 0 || target.front() == '/')
        return std::nullopt;
    std::string_view rest = target.substr(scheme + 3);
    return rest.substr(0, std::min(rest.find_first_of("/?#"), rest.size()));
}

} // namespace

head_state request_reader::check_head()
{
    constexpr auto beast_npos = boost::beast::string_view::npos;
    const auto& req = parser_.get();
    int lines = 0;
    for (auto it = req.begin(); it != req.end(); ++it)
        ++lines;
    if (lines > lim_.maxhdr)
        return refuse(400, "more header lines than tune.http.maxhdr");
    if (req.count(http::field::transfer_encoding) && !parser_.chunked())
        return refuse(400, "Transfer-Encoding that does not end in chunked");
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is faulty
    // framing (a 1.0 server would read the body its own way).
    if (req.count(http::field::transfer_encoding) && req.version() < 11)
        return refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (auto n = parser_.content_length(); n && (req.count(http::field::content_length) > 1 ||
                                                 req[http::field::content_length].find(',') != beast_npos)) {
        // Identical values, which Beast accepts: one value goes on, as
        // HAProxy merges them, so no server reads a list its own way.
        auto& m = parser_.get();
        m.erase(http::field::content_length);
        m.set(http::field::content_length, std::to_string(*n));
    }
    if (req.count(http::field::host) > 1)
        return refuse(400, "several Host headers");
    const auto target = req.target();
    if (auto auth = absolute_authority({target.data(), target.size()})) {
        // RFC 9112 §3.2.2; HAProxy refuses a Host that differs from the
        // authority, so the server and the rules see one host.
        if (auth->empty() || auth->find('@') != std::string_view::npos)
            return refuse(400, "absolute-form target without a valid authority");
        auto host = req.find(http::field::host);
        if (host != req.end() && !iequal(*auth, {host->value().data(), host->value().size()}))
            return refuse(400, "Host differs from the target's authority");
    }
    return head_state::done;
}

std::optional<status_line> parse_status_line(std::string_view line)
{
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    // "HTTP/1.x NNN" at least, then optionally " reason"
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[7] < '0' || line[7] > '9' || line[8] != ' ')
        return std::nullopt;
    int code = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9')
            return std::nullopt;
        code = code * 10 + (line[i] - '0');
    }
    if (code < 100 || (line.size() > 12 && line[12] != ' '))
        return std::nullopt;
    return status_line{code, line.size() > 13 ? line.substr(13) : std::string_view{}};
}

} // namespace bulwark::proxy
