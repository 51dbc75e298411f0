// SPDX-License-Identifier: Apache-2.0
#pragma once

// Executor plumbing for the proxy's coroutines: every coroutine runs on its
// worker's io_context under the concrete executor type (deadline_stream.hpp
// says why). Only for files built without the fuzz build (proxy/meson.build).

#include <utility> // Boost 1.74's asio/awaitable.hpp uses std::exchange without it

#include "proxy/deadline_stream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace bulwark::proxy {

template <class T = void>
using task = boost::asio::awaitable<T, executor>;
using stream_acceptor = boost::asio::basic_socket_acceptor<stream_protocol, executor>;
using error_code = boost::system::error_code;
using clock = std::chrono::steady_clock;

// The completion token of every co_await: errors land in `ec`, never thrown.
inline auto with_ec(error_code& ec)
{
    return boost::asio::redirect_error(boost::asio::use_awaitable_t<executor>{}, ec);
}

} // namespace bulwark::proxy
