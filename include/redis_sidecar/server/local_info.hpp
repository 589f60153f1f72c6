#pragma once
/// INFO while Redis is down: every section and field Redis 7.0 gives, in its order and value
/// formats, with the sidecar's own figures as values (constants where a field means nothing for
/// the sidecar: no RDB, no replicas, no Lua state).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redis_sidecar/store/figures.hpp"

namespace redis_sidecar::server {

using store::cpu_time;
using store::local_figures;

/// Fills the figures that come from the process and the system (the first group above).
void fill_process_figures(local_figures& figures);

/// The body of INFO's reply for `sections` (the arguments after INFO) as Redis 7.0 shapes it:
/// the sections asked for (none: the default ones; `default`, `all`, `everything`; names in any
/// case, several at once), in Redis's order, with Redis's field names in Redis's order; an
/// unknown name adds nothing. `sidecar_section` comes last for no argument, `default`, `all`,
/// `everything` and `sidecar`.
std::string format_local_info(std::span<const std::string_view> sections, const local_figures& figures,
                              std::string_view sidecar_section);

/// Bytes as Redis's INFO writes them for humans: `512B`, `1.50K`, `919.09K`, `1.02M`, `2.00G`.
std::string human_bytes(std::uint64_t bytes);

}  // namespace redis_sidecar::server
