// SPDX-License-Identifier: Apache-2.0
#include "proxy/http_framing.hpp"

#include <boost/beast/http/status.hpp>

namespace bulwark::proxy {

namespace http = boost::beast::http;

namespace {

void append_start_line(const http::header<true, fields_type>& h, std::string& out)
{
    const auto method = h.method_string();
    const auto target = h.target();
    out.append(method.data(), method.size());
    out += ' ';
    out.append(target.data(), target.size());
    const char version[] = {' ', 'H', 'T', 'T', 'P', '/', static_cast<char>('0' + h.version() / 10), '.',
                            static_cast<char>('0' + h.version() % 10), '\r', '\n'};
    out.append(version, sizeof version);
}

void append_start_line(const http::header<false, fields_type>& h, std::string& out)
{
    const unsigned code = h.result_int();
    const char line[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + h.version() / 10), '.',
                         static_cast<char>('0' + h.version() % 10), ' ', static_cast<char>('0' + code / 100),
                         static_cast<char>('0' + (code / 10) % 10), static_cast<char>('0' + code % 10), ' '};
    out.append(line, sizeof line);
    const auto reason = h.reason().empty() ? http::obsolete_reason(static_cast<http::status>(code)) : h.reason();
    out.append(reason.data(), reason.size());
    out += "\r\n";
}

template <bool isRequest>
void format_any(const http::header<isRequest, fields_type>& h, std::string& out)
{
    out.clear();
    append_start_line(h, out);
    for (const auto& f : h) {
        const auto name = f.name_string();
        const auto value = f.value();
        out.append(name.data(), name.size());
        out += ": ";
        out.append(value.data(), value.size());
        out += "\r\n";
    }
    out += "\r\n";
}

} // namespace

void format_header(const http::header<true, fields_type>& h, std::string& out) { format_any(h, out); }
void format_header(const http::header<false, fields_type>& h, std::string& out) { format_any(h, out); }

} // namespace bulwark::proxy
