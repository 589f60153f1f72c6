#pragma once
// How a caller drives the request parser and the reply framer over a stream that arrives cut into
// reads, shared by the protocol unit tests and the fuzz targets. Each passes its own `check(bool,
// const char* what)` for the invariants of the contract: an EXPECT in the unit tests, an abort
// in the fuzzers (which build with clang, without GoogleTest).

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/protocol/reply_framer.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"

namespace redis_sidecar::protocol::drive {

// ---- The request parser --------------------------------------------------------------------

/// What one call to `parse` reported, with copies of the arguments so runs can be compared.
struct parse_event {
    parse_status status = parse_status::need_more;
    std::size_t consumed = 0;
    std::vector<std::string> args;
    bool is_inline = false;
    std::string error;
    bool operator==(const parse_event&) const = default;
};

enum class buffering {
    in_place,  // the caller appends to one buffer and passes the unconsumed part
    moved,     // before every read the caller copies the unconsumed bytes to a new buffer
};

/// No extra check of a complete command.
struct no_command_check {
    void operator()(const request_parser&, std::string_view, const parse_result&) const {}
};

/// Drives `parser` over `input` cut at the increasing offsets `cuts`, as a session does: after
/// need_more it calls again with the same first byte and more bytes. `on_command(parser, view,
/// result)` may check each complete command further.
template <class Check, class OnCommand = no_command_check>
std::vector<parse_event> parse_stream(request_parser& parser, std::string_view input,
                                      const std::vector<std::size_t>& cuts, buffering mode, Check check,
                                      OnCommand on_command = {}) {
    std::vector<parse_event> events;
    std::string buffer;
    std::size_t start = 0;
    std::size_t fed = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
        if (mode == buffering::moved) {
            std::string fresh = buffer.substr(start);
            // Scribble over the old bytes: a parser that kept pointers into them would now fail.
            std::fill(buffer.begin(), buffer.end(), '#');
            buffer = std::move(fresh);
            start = 0;
        }
        buffer.append(input.substr(fed, end - fed));
        fed = end;
        while (start < buffer.size()) {
            const std::string_view view = std::string_view(buffer).substr(start);
            const parse_result r = parser.parse(view);
            if (r.status == parse_status::need_more) {
                check(r.consumed == 0, "need_more consumes nothing");
                break;
            }
            parse_event e{r.status, r.consumed, {}, false, {}};
            if (r.status == parse_status::error) {
                const std::string_view message = parser.error();
                check(message.substr(0, 16) == "Protocol error: ", "error message prefix");
                check(message.find_first_of("\r\n") == std::string_view::npos, "error message is one line");
                e.consumed = 0;
                e.error = std::string(message);
                events.push_back(std::move(e));
                return events;
            }
            check(r.consumed > 0 && r.consumed <= view.size(), "0 < consumed <= input");
            if (r.status == parse_status::complete) {
                e.is_inline = parser.last_was_inline();
                check(!parser.args().empty(), "a command has at least one argument");
                for (const std::string_view a : parser.args()) {
                    if (!e.is_inline)
                        check(a.data() >= view.data() && a.data() + a.size() <= view.data() + r.consumed,
                              "multibulk arguments are views into the caller's bytes, never copies");
                    e.args.emplace_back(a);
                }
                on_command(parser, view, r);
            }
            events.push_back(std::move(e));
            start += r.consumed;
        }
    }
    if (start < buffer.size()) events.push_back(parse_event{});
    return events;
}

// ---- The reply framer ----------------------------------------------------------------------

/// What a caller saw over a whole input: the length of each complete reply, then how it ended.
struct frame_outcome {
    std::vector<std::size_t> replies;
    /// complete: nothing pending; need_more: a partial reply pending; error: framing failed.
    frame_status end = frame_status::complete;
    bool operator==(const frame_outcome&) const = default;
};

enum class caller {
    keeps,    // keeps the bytes of a reply until it is complete
    streams,  // forwards every scanned byte at once and drops it (discard_prefix)
};

/// Feeds `input` cut at the increasing offsets `cuts` to one framer.
template <class Check>
frame_outcome frame_stream(std::string_view input, const std::vector<std::size_t>& cuts, caller mode, Check check) {
    reply_framer framer;
    frame_outcome out;
    std::string buffer;         // bytes of the current reply (and later ones) not yet dropped
    std::size_t forwarded = 0;  // bytes of the current reply already passed on
    std::size_t fed = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
        buffer.append(input.substr(fed, end - fed));
        fed = end;
        while (!buffer.empty()) {
            const frame_result r = framer.next(buffer);
            if (r.status == frame_status::error) {
                out.end = frame_status::error;
                return out;
            }
            if (r.status == frame_status::need_more) {
                check(r.length == 0, "need_more has no length");
                if (mode == caller::streams) {
                    const std::size_t n = std::min(framer.scanned(), buffer.size());
                    framer.discard_prefix(n);
                    buffer.erase(0, n);
                    forwarded += n;
                }
                break;
            }
            check(r.length > 0 && r.length <= buffer.size(), "complete: 0 < length <= input");
            check(framer.scanned() == 0, "scanned() restarts after a reply");
            out.replies.push_back(forwarded + r.length);
            buffer.erase(0, r.length);
            forwarded = 0;
        }
    }
    out.end = buffer.empty() && forwarded == 0 ? frame_status::complete : frame_status::need_more;
    return out;
}

}  // namespace redis_sidecar::protocol::drive
