// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "controlplane/config_types.hpp"
#include "controlplane/diag.hpp"
#include "controlplane/lexer.hpp"

#include <span>
#include <string>
#include <string_view>

namespace bulwark::controlplane {

struct load_result {
    config cfg;
    diagnostics diag;
};

// Loads config files in order, as HAProxy does with several -f; a directory
// stands for the *.cfg files in it, in lexical order. Every
// problem is collected in diag (file:line: 'keyword': message); the config
// is usable only when !diag.failed(). Runs on the control thread.
load_result load_files(std::span<const std::string> paths, const env_lookup& env);

// Loads config text that has no file behind it (the embedded default, tests,
// fuzzing); name stands in for the file name in messages. Relative paths in
// the text resolve against base_dir.
load_result load_text(std::string_view text, std::string_view name, const env_lookup& env,
                      std::string_view base_dir = ".");

// Every keyword, fetch, converter, matcher and action of the registries,
// one per line, with whether its behaviour is built ("bulwarkd --keywords").
std::string keyword_listing();

// Every fetch, converter, matcher (-m NAME or NAME) and action named `name`,
// a few lines each ("bulwarkd --keyword NAME"); empty when none is.
std::string keyword_help(std::string_view name);

// The config bulwarkd runs when given no -f (controlplane/default.cfg).
std::string_view embedded_default_config();

} // namespace bulwark::controlplane
