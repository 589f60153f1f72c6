#pragma once
// INFO's `key:value` lines, shared by the sidecar's section (info.cpp) and the local INFO
// (local_info.cpp).

#include <concepts>
#include <string>
#include <string_view>

namespace redis_sidecar::server::info_text {

inline void line(std::string& out, std::string_view key, std::string_view value) {
    out.append(key);
    out.push_back(':');
    out.append(value);
    out.append("\r\n");
}

template <std::integral Number>
void line(std::string& out, std::string_view key, Number value) {
    line(out, key, std::string_view(std::to_string(value)));
}

}  // namespace redis_sidecar::server::info_text
