// libFuzzer target for the COMMAND reply parser (upstream/command_reply, over hiredis's reader) and
// the command catalogue's key extraction over whatever key specifications such a reply describes.
//
// Input: what Redis sends for COMMAND. Whatever it holds, parsing must end without a crash; a
// parsed description must make a catalogue, and every key position found for a few requests must
// lie inside the request.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "redis_sidecar/catalogue/command_catalogue.hpp"
#include "redis_sidecar/upstream/command_reply.hpp"

namespace {

namespace catalogue = redis_sidecar::catalogue;

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

// Requests of several lengths, with numbers where key counts are read and keywords where
// keyword searches look.
const std::vector<std::vector<std::string_view>>& requests(std::string_view name) {
    static std::vector<std::vector<std::string_view>> shapes;
    shapes = {
        {name},
        {name, "k"},
        {name, "2", "a", "b", "c"},
        {name, "k", "STREAMS", "s1", "s2", "0", "0"},
        {name, "-1", "KEYS", "a", "b", "STORE", "d", "LIMIT", "0", "1", "GET", "x"},
        {name, "1000000", "a"},
    };
    return shapes;
}

void check_keys(const catalogue::command_info& command) {
    for (const auto& args : requests(command.name)) {
        catalogue::for_each_key(command, args, [&](catalogue::key_position key) {
            check(key.index >= 1 && key.index < args.size(), "a key position lies inside the request");
        });
        (void)catalogue::written_keys(command, args);
    }
    for (const catalogue::command_info& sub : command.subcommands) check_keys(sub);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view reply(reinterpret_cast<const char*>(data), size);
    auto parsed = redis_sidecar::upstream::parse_command_reply(reply);
    if (!parsed) return 0;
    check(!parsed->empty(), "a parsed reply describes at least one command");
    for (const catalogue::command_info& command : *parsed) check_keys(command);
    const auto learned = catalogue::command_catalogue::learned(std::move(*parsed));
    check(learned->find_name("get") != nullptr, "the built-in commands stay known");
    return 0;
}
