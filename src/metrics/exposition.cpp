#include "redis_sidecar/metrics/exposition.hpp"

namespace redis_sidecar::metrics {

namespace {
// Label values may hold any text; the format escapes backslash, double quote and newline.
void append_escaped(std::string& out, std::string_view value) {
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out.append("\\n");
        } else {
            out.push_back(c);
        }
    }
}
}  // namespace

std::string seconds_text(std::uint64_t micros) {
    std::string whole = std::to_string(micros / 1'000'000);
    std::string fraction = std::to_string(micros % 1'000'000);
    fraction.insert(0, 6 - fraction.size(), '0');
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    return fraction.empty() ? whole : whole + "." + fraction;
}

void exposition::family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void exposition::write_labels(std::initializer_list<label> labels, std::string_view le) {
    if (labels.size() == 0 && le.empty()) return;
    out_.push_back('{');
    bool first = true;
    for (const auto& [key, value] : labels) {
        if (!first) out_.push_back(',');
        first = false;
        out_.append(key).append("=\"");
        append_escaped(out_, value);
        out_.push_back('"');
    }
    if (!le.empty()) {
        if (!first) out_.push_back(',');
        out_.append("le=\"").append(le).append("\"");
    }
    out_.push_back('}');
}

void exposition::sample(std::string_view name, std::uint64_t value, std::initializer_list<label> labels) {
    out_.append(name);
    write_labels(labels);
    out_.push_back(' ');
    out_.append(std::to_string(value));
    out_.push_back('\n');
}

void exposition::histogram(std::string_view name, const histogram_snapshot& snapshot,
                           std::initializer_list<label> labels) {
    const std::string bucket_name = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= latency_bounds_us.size(); ++i) {
        cumulative += snapshot.buckets[i];
        const std::string le = i < latency_bounds_us.size() ? seconds_text(latency_bounds_us[i]) : "+Inf";
        out_.append(bucket_name);
        write_labels(labels, le);
        out_.append(" ").append(std::to_string(cumulative)).append("\n");
    }
    out_.append(name).append("_sum");
    write_labels(labels);
    out_.append(" ").append(seconds_text(snapshot.sum_us)).append("\n");
    out_.append(name).append("_count");
    write_labels(labels);
    out_.append(" ").append(std::to_string(snapshot.count)).append("\n");
}

}  // namespace redis_sidecar::metrics
