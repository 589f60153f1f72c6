#include "redis_sidecar/server/pinned_info.hpp"

#include <algorithm>
#include <span>

#include "redis_sidecar/protocol/reply_writer.hpp"
#include "redis_sidecar/server/info.hpp"

namespace redis_sidecar::server {

namespace {
// The first `consumed` bytes of data as they go on: data's own, or, when something was rewritten,
// `rewritten` (which holds data's bytes up to `copied`, changed) completed with the rest of them.
std::string_view bytes_to_send(std::string_view data, std::size_t consumed, std::size_t copied, std::string& rewritten) {
    if (rewritten.empty()) return data.substr(0, consumed);
    rewritten.append(data.substr(copied, consumed - copied));
    return rewritten;
}
}  // namespace

sidecar_section_use pinned_info::sidecar_section_in(std::string_view request) {
    const protocol::parse_result parsed = parser_.parse(request);
    if (parsed.status != protocol::parse_status::complete) {
        parser_.reset();
        return sidecar_section_use::absent;
    }
    return sidecar_section_in_info(std::span(parser_.args()).subspan(1));
}

pinned_info::forward pinned_info::from_client(std::string_view data) {
    forward out;
    to_redis_.clear();
    std::size_t scanned = scanner_.held();  // held back last time, at the front of data
    std::size_t copied = 0;                 // bytes of data already in to_redis_
    while (scanned < data.size()) {
        const auto step = scanner_.scan(data.substr(scanned));
        scanned += step.scanned;
        out.requests += step.requests;
        if (!step.info) continue;
        const std::size_t start = scanned - scanner_.info_length();
        switch (sidecar_section_in(data.substr(start, scanner_.info_length()))) {
            case sidecar_section_use::alone:
                to_redis_.append(data.substr(copied, start - copied));
                to_redis_.append("*2\r\n$4\r\nECHO\r\n");
                protocol::write_bulk(to_redis_, sidecar_section_());
                copied = scanned;
                break;
            case sidecar_section_use::appended:
                if (scanner_.replies_paired() && !scanner_.in_multi()) append_to_.push_back(scanner_.requests() - 1);
                break;
            case sidecar_section_use::absent:
                break;
        }
    }
    out.consumed = data.size() - scanner_.held();
    out.bytes = bytes_to_send(data, out.consumed, copied, to_redis_);
    return out;
}

pinned_info::forward pinned_info::from_redis(std::string_view data) {
    forward out;
    to_client_.clear();
    if (framing_ && !counting_replies()) framing_ = false;  // nothing can be appended any more
    std::size_t reply_start = 0;
    std::size_t copied = 0;  // bytes of data already in to_client_
    bool holding = false;
    while (framing_ && reply_start < data.size()) {
        const protocol::frame_result framed = framer_.next(data.substr(reply_start));
        if (framed.status == protocol::frame_status::error) {
            framing_ = false;
            break;
        }
        if (framed.status == protocol::frame_status::need_more) {
            // The reply that gets the section waits until it is whole; any other goes on. One
            // far longer than INFO's cannot be it: the count is off, so nothing more is touched.
            holding = !append_to_.empty() && append_to_.front() == replies_;
            if (holding && data.size() - reply_start > max_info_reply) framing_ = holding = false;
            break;
        }
        const std::string_view reply = data.substr(reply_start, framed.length);
        if (!append_to_.empty() && append_to_.front() == replies_) {
            append_to_.pop_front();
            // INFO's reply is a bulk string whose first line is a section's title.
            const auto text = info_reply_text(reply);
            if (text && text->starts_with("# ")) {
                to_client_.append(data.substr(copied, reply_start - copied));
                append_with_sidecar_section(*text, sidecar_section_(), to_client_);
                copied = reply_start + framed.length;
            } else {
                framing_ = false;  // not INFO's reply: the count is off, so nothing more is touched
            }
        }
        ++replies_;
        reply_start += framed.length;
    }
    if (!framing_) {
        append_to_.clear();
        out.consumed = data.size();
    } else if (reply_start == data.size() || holding) {
        out.consumed = reply_start;
    } else {
        // A reply still arriving streams on as far as it is scanned (the framer counts a bulk's
        // body as scanned before it has all come).
        out.consumed = std::min(data.size(), reply_start + framer_.scanned());
        framer_.discard_prefix(out.consumed - reply_start);
    }
    out.bytes = bytes_to_send(data, out.consumed, copied, to_client_);
    return out;
}

}  // namespace redis_sidecar::server
