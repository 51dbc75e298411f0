// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "controlplane/result.hpp"
#include "proxy/runtime.hpp"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace bulwark::proxy {

// The L7 proxy: rt.threads threads, each with its own io_context and its
// own listening socket per bind (SO_REUSEPORT: the kernel spreads
// connections), serving HTTP/1.1 frontends in front of their backends.
class server {
public:
    // Opens every listener first, so a bind that fails is reported (which
    // address, why) before any thread starts; then starts the threads.
    // Logs one line per request to `log` (HAProxy's httplog format) for
    // frontends with 'option httplog'. Control thread.
    static result<std::unique_ptr<server>> start(runtime rt, std::FILE* log);

    // Stops the threads and closes every connection. Idempotent.
    void stop();
    ~server();

    // "frontend www: 127.0.0.1:8080", one per listener, for the start banner.
    std::vector<std::string> listening() const;
    // The global connection limit in force: 'maxconn' from the config, or
    // derived from the file descriptor limit.
    int maxconn() const;

    struct impl;

private:
    explicit server(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace bulwark::proxy
