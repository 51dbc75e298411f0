// SPDX-License-Identifier: Apache-2.0
#include "proxy/http_errors.hpp"

#include <fmt/format.h>

namespace bulwark::proxy {

namespace {

struct canned {
    int status;
    const char* reason;
    const char* text;
};

constexpr canned messages[] = {
    {400, "Bad request", "Your browser sent an invalid request."},
    {403, "Forbidden", "Request forbidden by administrative rules."},
    {408, "Request Time-out", "Your browser didn't send a complete request in time."},
    {413, "Payload Too Large", "The request entity exceeds the maximum allowed."},
    {414, "URI Too Long", "The request URL is too long."},
    {431, "Request Header Fields Too Large", "The request header fields are too large."},
    {500, "Internal Server Error", "An internal server error occurred."},
    {502, "Bad Gateway", "The server returned an invalid or incomplete response."},
    {503, "Service Unavailable", "No server is available to handle this request."},
    {504, "Gateway Time-out", "The server didn't respond in time."},
};

} // namespace

std::string error_response(int status)
{
    const char* reason = "Error";
    const char* text = "An error occurred.";
    for (const auto& m : messages)
        if (m.status == status) {
            reason = m.reason;
            text = m.text;
        }
    std::string body = fmt::format("<html><body><h1>{} {}</h1>\n{}\n</body></html>\n", status, reason, text);
    return fmt::format("HTTP/1.1 {} {}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n"
                       "connection: close\r\n\r\n{}",
                       status, reason, body.size(), body);
}

} // namespace bulwark::proxy
