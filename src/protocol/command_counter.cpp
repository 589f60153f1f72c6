#include "redis_sidecar/protocol/command_counter.hpp"

#include <algorithm>

namespace redis_sidecar::protocol {

namespace {
// Longer than any header Redis accepts; a number past it means the stream is not RESP.
constexpr std::int64_t max_header_number = 1LL << 40;
}  // namespace

bool command_counter::end_of_header() {
    const bool ok = header_has_digit_ && !(header_negative_ && number_ != 1);
    if (header_negative_) number_ = -1;  // "*-1" and "$-1": null array / null bulk
    header_has_digit_ = header_negative_ = saw_cr_ = false;
    return ok;
}

std::uint64_t command_counter::finish_argument() {
    if (--remaining_args_ > 0) {
        state_ = state::bulk_type;
        return 0;
    }
    state_ = state::command_start;
    return 1;
}

std::uint64_t command_counter::feed(std::string_view bytes) {
    std::uint64_t commands = 0;
    std::size_t i = 0;
    while (i < bytes.size() && state_ != state::lost) {
        const char c = bytes[i];
        switch (state_) {
            case state::command_start:
                number_ = 0;
                if (c == '*') {
                    state_ = state::array_header;
                    ++i;
                } else {
                    state_ = state::inline_line;  // this byte belongs to the inline command
                }
                break;
            case state::inline_line:
                ++i;
                if (c == '\n') {
                    // A blank line is no command: Redis skips it.
                    if (inline_has_content_) ++commands;
                    inline_has_content_ = false;
                    state_ = state::command_start;
                } else if (c != ' ' && c != '\t' && c != '\r') {
                    inline_has_content_ = true;
                }
                break;
            case state::array_header:
            case state::bulk_header:
                ++i;
                if (saw_cr_) {
                    if (c != '\n' || !end_of_header()) {
                        state_ = state::lost;
                        break;
                    }
                    if (state_ == state::array_header) {
                        remaining_args_ = number_;
                        state_ = number_ > 0 ? state::bulk_type : state::command_start;
                    } else if (number_ < 0) {
                        state_ = state::lost;  // a null bulk is no argument
                    } else {
                        payload_left_ = static_cast<std::uint64_t>(number_) + 2;
                        state_ = state::bulk_payload;
                    }
                    number_ = 0;
                } else if (c == '\r') {
                    saw_cr_ = true;
                } else if (c == '-' && !header_has_digit_ && !header_negative_) {
                    header_negative_ = true;
                } else if (c >= '0' && c <= '9' && number_ < max_header_number) {
                    number_ = number_ * 10 + (c - '0');
                    header_has_digit_ = true;
                } else {
                    state_ = state::lost;
                }
                break;
            case state::bulk_type:
                ++i;
                state_ = c == '$' ? state::bulk_header : state::lost;
                break;
            case state::bulk_payload: {
                const std::size_t take = static_cast<std::size_t>(
                    std::min<std::uint64_t>(payload_left_, static_cast<std::uint64_t>(bytes.size() - i)));
                i += take;
                payload_left_ -= take;
                if (payload_left_ == 0) commands += finish_argument();
                break;
            }
            case state::lost:
                break;
        }
    }
    // "*0\r\n" and "*-1\r\n" are no commands (Redis ignores them): the header sent us back to
    // command_start without counting.
    return commands;
}

}  // namespace redis_sidecar::protocol
