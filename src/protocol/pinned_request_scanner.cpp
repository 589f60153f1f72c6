#include "redis_sidecar/protocol/pinned_request_scanner.hpp"

#include <algorithm>

#include "redis_sidecar/protocol/name_table.hpp"  // ascii_lower

namespace redis_sidecar::protocol {

namespace {
// Longer than any header Redis accepts; a number past it means the stream is not RESP.
constexpr std::int64_t max_header_number = 1LL << 40;
constexpr std::string_view info_name = "info";

// What Redis's inline parser (sdssplitargs) skips before a word (isspace)...
bool inline_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
// ... and what ends a word: fewer (a vertical tab or form feed is part of it).
bool inline_word_end(char c) { return c == ' ' || c == '\t' || c == '\r'; }
}  // namespace

bool pinned_request_scanner::end_of_header() {
    const bool ok = header_has_digit_;
    if (header_negative_) number_ = -1;  // "*-2" is no request to Redis either; "$-1" no argument
    header_has_digit_ = header_negative_ = saw_cr_ = false;
    return ok;
}

bool pinned_request_scanner::finish_argument() {
    if (reading_name_) end_name();
    reading_name_ = false;
    if (--remaining_args_ > 0) {
        state_ = state::bulk_type;
        return false;
    }
    state_ = state::command_start;
    return true;
}

void pinned_request_scanner::lose_sync() {
    state_ = state::lost;
    replies_paired_ = false;
}

void pinned_request_scanner::add_name_byte(char c) {
    const char lower = ascii_lower(c);
    if (name_length_ < max_name) name_[name_length_] = lower;
    if (name_length_ >= info_name.size() || lower != info_name[name_length_]) maybe_info_ = false;
    ++name_length_;
}

void pinned_request_scanner::end_name() {
    if (name_length_ != info_name.size()) maybe_info_ = false;
}

void pinned_request_scanner::classify_request() {
    ++requests_;
    if (name_length_ > max_name) return;
    switch (classify_(std::string_view(name_.data(), name_length_))) {
        case request_effect::none:
            break;
        case request_effect::opens_multi:
            in_multi_ = true;
            break;
        case request_effect::closes_multi:
            in_multi_ = false;
            break;
        case request_effect::unpairs:
            replies_paired_ = false;
            break;
    }
}

// inline_byte and header_byte run for every byte but a payload's: out of line, scanning a pinned
// transaction of 16 SETs took twice as long (BM_PinnedScanner_Transaction16Set64).
inline bool pinned_request_scanner::inline_byte(char c) {
    if (c == '\n') {
        // A blank line is no command: Redis skips it.
        if (inline_word_ == inline_word::inside) end_name();
        const bool request_ended = inline_has_content_;
        inline_has_content_ = false;
        state_ = state::command_start;
        return request_ended;
    }
    if (c == '\0') {
        // Redis looks for the line's end with strchr: past a NUL it finds none, and waits for
        // more until the line is too long.
        lose_sync();
        return false;
    }
    if (!inline_space(c)) inline_has_content_ = true;
    switch (inline_word_) {
        case inline_word::before:
            if (inline_space(c)) break;
            inline_word_ = inline_word::inside;
            [[fallthrough]];
        case inline_word::inside:
            if (inline_word_end(c)) {
                inline_word_ = inline_word::after;
                end_name();
                break;
            }
            // Redis unquotes a quoted word: its name is not what the bytes say, so which reply
            // answers what can no longer be told.
            if (c == '"' || c == '\'') replies_paired_ = false;
            add_name_byte(c);
            break;
        case inline_word::after:
            break;
    }
    return false;
}

inline void pinned_request_scanner::header_byte(char c) {
    if (saw_cr_) {
        // Redis takes the byte after a header's CR for its LF without looking at it.
        if (!end_of_header()) {
            lose_sync();
        } else if (state_ == state::array_header) {
            // "*0" and "*-1" are no requests (Redis skips them): back to command_start, uncounted.
            remaining_args_ = number_;
            reading_name_ = true;
            state_ = number_ > 0 ? state::bulk_type : state::command_start;
        } else if (number_ < 0) {
            lose_sync();  // a null bulk is no argument
        } else {
            if (reading_name_) {
                if (number_ != static_cast<std::int64_t>(info_name.size())) maybe_info_ = false;
                // A name too long to be classified is not read.
                if (number_ > static_cast<std::int64_t>(max_name)) name_length_ = static_cast<std::size_t>(number_);
            }
            bulk_length_ = number_;
            payload_left_ = static_cast<std::uint64_t>(number_) + 2;
            state_ = state::bulk_payload;
        }
        number_ = 0;
    } else if (c == '\r') {
        saw_cr_ = true;
    } else if (c == '-' && !header_has_digit_ && !header_negative_) {
        header_negative_ = true;
    } else if (c >= '0' && c <= '9' && (header_negative_ || number_ < max_header_number)) {
        // Any negative count is no request, so its size does not matter.
        if (number_ < max_header_number) number_ = number_ * 10 + (c - '0');
        header_has_digit_ = true;
    } else {
        lose_sync();
    }
}

std::size_t pinned_request_scanner::held() const {
    if (state_ == state::command_start || state_ == state::lost || !maybe_info_) return 0;
    return static_cast<std::size_t>(position_ - request_start_);
}

pinned_request_scanner::step pinned_request_scanner::scan(std::string_view bytes) {
    step result;
    std::size_t i = 0;
    while (i < bytes.size() && state_ != state::lost) {
        const char c = bytes[i];
        bool request_ended = false;
        switch (state_) {
            case state::command_start:
                number_ = 0;
                request_start_ = position_ + i;
                maybe_info_ = true;
                name_length_ = 0;
                inline_word_ = inline_word::before;
                if (c == '*') {
                    state_ = state::array_header;
                    ++i;
                } else {
                    state_ = state::inline_line;  // this byte belongs to the inline command
                }
                break;
            case state::inline_line:
                ++i;
                request_ended = inline_byte(c);
                break;
            case state::array_header:
            case state::bulk_header:
                ++i;
                header_byte(c);
                break;
            case state::bulk_type:
                ++i;
                if (c == '$')
                    state_ = state::bulk_header;
                else
                    lose_sync();
                break;
            case state::bulk_payload: {
                const std::size_t take = static_cast<std::size_t>(
                    std::min<std::uint64_t>(payload_left_, static_cast<std::uint64_t>(bytes.size() - i)));
                if (reading_name_ && bulk_length_ <= static_cast<std::int64_t>(max_name)) {
                    // The bulk's trailing CRLF follows the name's letters: Redis skips it unread.
                    const auto offset = static_cast<std::int64_t>(bulk_length_ + 2 - static_cast<std::int64_t>(payload_left_));
                    const auto letters = std::clamp<std::int64_t>(bulk_length_ - offset, 0, static_cast<std::int64_t>(take));
                    for (std::int64_t k = 0; k < letters; ++k) add_name_byte(bytes[i + static_cast<std::size_t>(k)]);
                }
                i += take;
                payload_left_ -= take;
                if (payload_left_ == 0) request_ended = finish_argument();
                break;
            }
            case state::lost:
                break;
        }
        if (maybe_info_ && position_ + i - request_start_ > max_info_request) maybe_info_ = false;
        if (request_ended) {
            ++result.requests;
            classify_request();
            if (maybe_info_) {
                result.info = true;
                break;
            }
        }
    }
    // Lost, the rest of the stream is passed over unread: it all goes to Redis.
    result.scanned = state_ == state::lost ? bytes.size() : i;
    position_ += result.scanned;
    return result;
}

}  // namespace redis_sidecar::protocol
