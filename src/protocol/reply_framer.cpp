#include "redis_sidecar/protocol/reply_framer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "redis_sidecar/protocol/numbers.hpp"

namespace redis_sidecar::protocol {

namespace {

// Where the first '\r' of `s` is, or npos. Reply lines are nearly all a few bytes ("+OK", ":12",
// "$64"): a loop over the first bytes finds their '\r' sooner than a call to memchr, which takes
// over for longer lines.
std::size_t find_line_end(std::string_view s) {
    constexpr std::size_t short_line = 16;
    const std::size_t quick = std::min(s.size(), short_line);
    for (std::size_t i = 0; i < quick; ++i)
        if (s[i] == '\r') return i;
    if (s.size() == quick) return std::string_view::npos;
    const void* cr = std::memchr(s.data() + quick, '\r', s.size() - quick);
    return cr == nullptr ? std::string_view::npos
                         : static_cast<std::size_t>(static_cast<const char*>(cr) - s.data());
}

}  // namespace

void reply_framer::reset() {
    stack_.clear();
    position_ = 0;
    in_bulk_body_ = false;
}

// Counts one finished element into the enclosing aggregates; true when the whole reply is done.
bool reply_framer::finish_element() {
    while (!stack_.empty()) {
        if (--stack_.back().remaining > 0) return false;
        const bool attribute = stack_.back().attribute;
        stack_.pop_back();
        if (attribute) return false;  // the value the attribute describes still follows
    }
    return true;
}

frame_result reply_framer::next(std::string_view input) {
    for (;;) {
        bool element_done = false;
        if (in_bulk_body_) {
            if (input.size() < position_) return {frame_status::need_more, 0};
            in_bulk_body_ = false;
            element_done = true;
        } else {
            if (position_ >= input.size()) return {frame_status::need_more, 0};
            const std::string_view rest = input.substr(position_);
            const std::size_t line_end = find_line_end(rest);
            if (line_end == std::string_view::npos) {
                if (rest.size() > max_line_length) return {frame_status::error, 0};
                return {frame_status::need_more, 0};
            }
            if (line_end + 2 > rest.size()) return {frame_status::need_more, 0};
            if (rest[line_end + 1] != '\n') return {frame_status::error, 0};
            const std::string_view line = rest.substr(1, line_end - 1);
            const std::size_t after_line = position_ + line_end + 2;
            std::int64_t n = 0;
            switch (rest[0]) {
                case '+': case '-': case ':': case '_': case ',': case '#': case '(':
                    position_ = after_line;
                    element_done = true;
                    break;
                case '$': case '!': case '=':
                    if (!parse_int64(line, n) || n < -1 || (n == -1 && rest[0] != '$'))
                        return {frame_status::error, 0};
                    if (n == -1) {
                        position_ = after_line;
                        element_done = true;
                    } else if (static_cast<std::uint64_t>(n) > SIZE_MAX - 2 - after_line) {
                        // The end offset would not fit in size_t: no real reply is that long.
                        return {frame_status::error, 0};
                    } else {
                        position_ = after_line + static_cast<std::size_t>(n) + 2;
                        in_bulk_body_ = true;
                    }
                    break;
                case '*': case '~': case '>': case '%': case '|':
                    if (!parse_int64(line, n) || n < -1 || (n == -1 && rest[0] != '*'))
                        return {frame_status::error, 0};
                    position_ = after_line;
                    // Maps and attributes count pairs; a count whose double overflows is not RESP.
                    if (rest[0] == '%' || rest[0] == '|') {
                        if (n > INT64_MAX / 2) return {frame_status::error, 0};
                        n *= 2;
                    }
                    if (n > 0)
                        stack_.push_back({n, rest[0] == '|'});
                    else if (rest[0] != '|')
                        element_done = true;  // empty or null aggregate
                    break;
                default:
                    return {frame_status::error, 0};
            }
        }
        if (element_done && finish_element()) {
            const std::size_t length = position_;
            position_ = 0;
            return {frame_status::complete, length};
        }
    }
}

}  // namespace redis_sidecar::protocol
