// libFuzzer target for the request parser.
//
// Input: byte 0 picks options (bit 0: small limits, bit 1: not authenticated, bits 2-5: chunk
// size), bytes 1-2 pick a split point, the rest is what a client sends. The stream is parsed
// whole, in two chunks at the split point and in small chunks with the buffer moved between
// calls; the three runs must report the same commands. Each command is also checked on its own:
// a multibulk command is exactly as long as its canonical encoding, and an inline command's
// arguments survive being quoted and parsed again. The pinned connections' scanner reads the same
// small chunks and must agree with the parser (check_pinned_scanner).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol_drivers.hpp"
#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/protocol/pinned_request_scanner.hpp"
#include "redis_sidecar/protocol/request_parser.hpp"

namespace {

using redis_sidecar::protocol::parse_result;
using redis_sidecar::protocol::parse_status;
using redis_sidecar::protocol::parser_limits;
using redis_sidecar::protocol::pinned_request_scanner;
using redis_sidecar::protocol::request_parser;

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

using redis_sidecar::protocol::drive::buffering;
using event = redis_sidecar::protocol::drive::parse_event;

std::size_t digits(std::size_t n) {
    std::size_t d = 1;
    while (n >= 10) {
        n /= 10;
        ++d;
    }
    return d;
}

// Quotes every byte, so any argument survives sdssplitargs.
std::string quoted_line(const std::vector<std::string>& args) {
    static const char hex[] = "0123456789abcdef";
    std::string line;
    for (const std::string& a : args) {
        line += line.empty() ? "\"" : " \"";
        for (const char c : a) {
            const auto u = static_cast<unsigned char>(c);
            line += "\\x";
            line.push_back(hex[u >> 4]);
            line.push_back(hex[u & 15]);
        }
        line.push_back('"');
    }
    line += "\r\n";
    return line;
}

void check_command(const request_parser& parser, std::string_view view, const parse_result& r) {
    check(r.consumed > 0 && r.consumed <= view.size(), "complete: 0 < consumed <= input");
    check(!parser.args().empty(), "complete: at least one argument");
    if (!parser.last_was_inline()) {
        // Header numbers pass string2ll only in canonical form, so the length is determined.
        std::size_t length = 1 + digits(parser.args().size()) + 2;
        for (const std::string_view a : parser.args()) {
            check(a.data() >= view.data() && a.data() + a.size() <= view.data() + r.consumed,
                  "multibulk arguments are views into the input");
            length += 1 + digits(a.size()) + 2 + a.size() + 2;
        }
        check(length == r.consumed, "multibulk command is as long as its canonical encoding");
        return;
    }
    std::vector<std::string> args(parser.args().begin(), parser.args().end());
    const std::string line = quoted_line(args);
    request_parser again;
    const parse_result r2 = again.parse(line);
    check(r2.status == parse_status::complete && r2.consumed == line.size(), "quoted inline command parses");
    check(std::vector<std::string>(again.args().begin(), again.args().end()) == args,
          "quoted inline arguments round-trip");
}

std::vector<event> run(std::string_view input, const std::vector<std::size_t>& cuts, buffering mode,
                       const parser_limits& limits, bool authenticated) {
    request_parser parser(limits);
    parser.set_authenticated(authenticated);
    return redis_sidecar::protocol::drive::parse_stream(parser, input, cuts, mode, check, check_command);
}

// The limit checks look at what is buffered, so they may fire in one run and not another.
bool limit_error(const std::vector<event>& events) {
    return !events.empty() && events.back().status == parse_status::error &&
           events.back().error.find("too big") != std::string::npos;
}

using byte_range = std::pair<std::size_t, std::size_t>;  // start, length

bool is_info(const std::string& name) {
    std::array<char, 4> buffer;
    return redis_sidecar::protocol::lowercase_into(name, buffer) == "info";
}

// The scanner, fed `input` cut at `cuts` as the session feeds it (again after each INFO found),
// always moves on and holds at most one short request. When the parser read the stream without
// an error, both count the same requests; every INFO the scanner reports is a command the parser
// read as INFO, at the same bytes, and it reports every multibulk one within its limit (a quoted
// inline name is left to Redis).
void check_pinned_scanner(std::string_view input, const std::vector<std::size_t>& cuts, const std::vector<event>& parsed) {
    pinned_request_scanner scanner{redis_sidecar::catalogue::pinned_request_effect};
    std::uint64_t requests = 0;
    std::vector<byte_range> found;
    std::size_t begin = 0;
    auto scan_piece = [&](std::size_t end) {
        for (std::size_t at = begin; at < end;) {
            const auto step = scanner.scan(input.substr(at, end - at));
            check(step.scanned > 0, "the scanner moves on");
            at += step.scanned;
            requests += step.requests;
            if (step.info) found.emplace_back(at - scanner.info_length(), scanner.info_length());
            check(scanner.held() <= pinned_request_scanner::max_info_request, "held bytes stay within the limit");
            check(scanner.held() <= at, "held bytes were given");
        }
        begin = end;
    };
    for (const std::size_t cut : cuts) scan_piece(cut);
    scan_piece(input.size());
    if (!parsed.empty() && parsed.back().status == parse_status::error) return;
    std::uint64_t commands = 0;
    std::vector<byte_range> info;
    std::size_t at = 0;
    for (const event& e : parsed) {
        if (e.status == parse_status::complete) {
            ++commands;
            if (is_info(e.args[0])) {
                info.emplace_back(at, e.consumed);
                const bool reportable = !e.is_inline && e.consumed <= pinned_request_scanner::max_info_request;
                check(!reportable || std::find(found.begin(), found.end(), info.back()) != found.end(),
                      "the scanner reports each multibulk INFO request");
            }
        }
        at += e.consumed;
    }
    check(requests == commands, "the scanner counts the requests the parser reads");
    for (const byte_range& f : found)
        check(std::find(info.begin(), info.end(), f) != info.end(), "what the scanner reports is an INFO request");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const std::uint8_t options = data[0];
    const std::size_t split_choice = static_cast<std::size_t>(data[1]) | static_cast<std::size_t>(data[2]) << 8;
    const std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);

    parser_limits limits;
    if (options & 1) {
        limits.max_inline_size = 32;
        limits.max_bulk_length = 64;
        limits.max_multibulk_length = 8;
        limits.unauthenticated_multibulk_length = 3;
        limits.unauthenticated_bulk_length = 16;
    }
    const bool authenticated = (options & 2) == 0;
    const std::size_t chunk = 1 + ((options >> 2) & 15);

    const std::vector<event> whole = run(input, {}, buffering::in_place, limits, authenticated);
    const std::size_t split = split_choice % (input.size() + 1);
    const std::vector<event> two = run(input, {split}, buffering::in_place, limits, authenticated);
    std::vector<std::size_t> cuts;
    for (std::size_t cut = chunk; cut < input.size(); cut += chunk) cuts.push_back(cut);
    const std::vector<event> pieces = run(input, cuts, buffering::moved, limits, authenticated);
    check_pinned_scanner(input, cuts, whole);

    if (!limit_error(whole) && !limit_error(two)) check(whole == two, "split in two == whole");
    if (!limit_error(whole) && !limit_error(pieces)) check(whole == pieces, "small chunks == whole");
    return 0;
}
