// SPDX-License-Identifier: Apache-2.0
#pragma once

// A `stick-table` line, parsed: plain data for the config parser
// (stick_table.hpp has the table itself).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::proxy {

enum class stk_key_type : std::uint8_t { ip, ipv6, integer, string };

// The data types of `store`, in HAProxy's names.
enum class stk_data : std::uint8_t {
    conn_cur, conn_cnt, conn_rate, http_req_cnt, http_req_rate, http_err_cnt, http_err_rate,
    gpc0, gpc0_rate, bytes_in_rate, bytes_out_rate, gpc1, gpc1_rate, count_
};
inline constexpr std::size_t stk_data_count = static_cast<std::size_t>(stk_data::count_);

// Name of a data type as `store` spells it; whether it takes a period.
std::string_view stk_data_name(stk_data d);
bool stk_data_has_period(stk_data d);
std::optional<stk_data> stk_data_from_name(std::string_view name);

// One `stick-table` line, parsed (config file fields).
struct stick_table_config {
    std::string name;                    // the proxy's name: `table T` names it
    stk_key_type type = stk_key_type::ip;
    std::uint32_t key_len = 32;          // string keys: bytes kept (len N)
    std::uint32_t size = 0;              // entries at most
    std::uint32_t expire_ms = 0;         // idle time before an entry goes; 0: never
    std::uint32_t stored = 0;            // bit per stk_data
    std::array<std::uint32_t, stk_data_count> period_ms{}; // of the rate types
    bool stores(stk_data d) const { return (stored >> static_cast<unsigned>(d)) & 1u; }
};

// Parses the words after `stick-table` ("type ip size 100k expire 30s store
// http_req_rate(10s),conn_cur"). Unknown store types are an error; the
// error text is HAProxy-like, without file:line (the caller adds it).
struct stick_table_parse {
    std::optional<stick_table_config> cfg;
    std::string error;
};
stick_table_parse parse_stick_table(const std::vector<std::string>& words, std::string name);

} // namespace bulwark::proxy
