#include "redis_sidecar/local/key_classes.hpp"

#include <algorithm>

namespace redis_sidecar::local {

std::string_view key_class_name(key_class c) {
    switch (c) {
        case key_class::blacklist: return "blacklist";
        case key_class::lock: return "lock";
        case key_class::cache: return "cache";
        case key_class::default_class: break;
    }
    return "default";
}

key_classifier::key_classifier(const std::vector<std::string>& blacklist_prefixes,
                               const std::vector<std::string>& lock_prefixes,
                               const std::vector<std::string>& cache_prefixes) {
    for (const auto& p : blacklist_prefixes) rules_.push_back({p, key_class::blacklist});
    for (const auto& p : lock_prefixes) rules_.push_back({p, key_class::lock});
    for (const auto& p : cache_prefixes) rules_.push_back({p, key_class::cache});
    // Longest first, so the first match is the longest prefix; ties keep the order given.
    std::stable_sort(rules_.begin(), rules_.end(),
                     [](const rule& a, const rule& b) { return a.prefix.size() > b.prefix.size(); });
}

key_class key_classifier::classify(std::string_view key) const {
    // Every forwarded write asks this; most keys are of no class, and their first byte already
    // tells them from each prefix, which spares a call to memcmp per rule.
    for (const rule& r : rules_) {
        const std::string_view prefix = r.prefix;
        if (prefix.empty()) return r.cls;
        if (key.size() >= prefix.size() && key[0] == prefix[0] && key.starts_with(prefix)) return r.cls;
    }
    return key_class::default_class;
}

std::vector<std::string> key_classifier::prefixes(key_class c) const {
    std::vector<std::string> out;
    for (const rule& r : rules_)
        if (r.cls == c) out.push_back(r.prefix);
    return out;
}

}  // namespace redis_sidecar::local
