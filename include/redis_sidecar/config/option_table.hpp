#pragma once
/// The sidecar's options, each written once: the command-line flags, the config file's
/// `name = value` lines, `--help`, the defaults of `settings`, the reload plan and the test that
/// keeps conf/redis-sidecar.conf and README.md in step are all generated from this table.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/config/config.hpp"

namespace redis_sidecar::config {

/// One option: the flag `--name VALUE` and the config-file line `name = VALUE`.
struct option_spec {
    /// Heading of the option's group in --help and in conf/redis-sidecar.conf.
    std::string_view section;
    /// The flag's and the config line's name.
    std::string_view name;
    /// What the value looks like, in --help and README.md ("HOST:PORT", "MS", "yes|no").
    std::string_view value_name;
    /// The default, as the config file writes it ("256mb"); empty: none.
    std::string_view default_text;
    /// One line for --help.
    std::string_view help;
    /// A SIGHUP applies a new value in place; a change of any other option is reported as
    /// needing a restart.
    bool reloadable = false;
    /// Never logged nor echoed: a reload reports "(changed)" instead of the values.
    bool secret = false;
    /// Takes several words, and repeated lines or flags add to it (key prefixes, the three
    /// words of an output limit); else one value, given once.
    bool multiword = false;
    /// Parses the option's words into its `settings` member; throws std::runtime_error whose
    /// message names the option.
    std::function<void(const std::vector<std::string>& words, settings& out)> parse;
    /// The member as text, for a reload to compare (and log, unless secret). An option reported
    /// together with another one (requirepass-file, as part of requirepass) returns "".
    std::function<std::string(const settings&)> text;
    /// Copies the option's member from one settings into another (what a reload applies).
    std::function<void(const settings& from, settings& to)> copy;
};

/// Every option of `settings`, in --help's order.
const std::vector<option_spec>& option_table();

/// A flag of the command line alone, not a config-file line (--config, --help, --version).
struct command_line_flag {
    /// The long name.
    std::string_view name;
    /// Its one-letter form ("" for none).
    std::string_view letter;
    /// What the value looks like ("" for a flag without one).
    std::string_view value_name;
    /// One line for --help.
    std::string_view help;
};

/// The flags that are not options of `settings`.
const std::vector<command_line_flag>& command_line_flags();

}  // namespace redis_sidecar::config
