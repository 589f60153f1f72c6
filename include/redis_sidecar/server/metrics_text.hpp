#pragma once
/// The sidecar's figures in Prometheus's text format, for the /metrics endpoint.

#include <string>

#include "redis_sidecar/server/info.hpp"

namespace redis_sidecar::server {

std::string format_prometheus(const sidecar_figures& figures);

}  // namespace redis_sidecar::server
