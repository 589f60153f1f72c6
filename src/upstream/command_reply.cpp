#include "redis_sidecar/upstream/command_reply.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "redis_sidecar/protocol/name_table.hpp"
#include "redis_sidecar/protocol/reply_framer.hpp"

namespace redis_sidecar::upstream {

namespace {

using catalogue::command_info;
using catalogue::key_spec;

struct reader_deleter {
    void operator()(redisReader* r) const { redisReaderFree(r); }
};
struct reply_deleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};

std::string_view text_of(const redisReply* r) {
    if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return {};
    return {r->str, r->len};
}

bool is_array(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_ARRAY; }

// The value after `name` in a flat [name, value, name, value...] array, or null.
const redisReply* field(const redisReply* pairs, std::string_view name) {
    if (!is_array(pairs)) return nullptr;
    for (std::size_t i = 0; i + 1 < pairs->elements; i += 2)
        if (text_of(pairs->element[i]) == name) return pairs->element[i + 1];
    return nullptr;
}

int integer_field(const redisReply* pairs, std::string_view name) {
    const redisReply* v = field(pairs, name);
    return v != nullptr && v->type == REDIS_REPLY_INTEGER ? static_cast<int>(v->integer) : 0;
}


// Each flag name of `flags` (an array of statuses) as the catalogue reads it.
template <typename Flags, typename Named>
Flags flags_of(const redisReply* flags, Named named) {
    Flags out = 0;
    if (!is_array(flags)) return out;
    for (std::size_t i = 0; i < flags->elements; ++i) out = static_cast<Flags>(out | named(text_of(flags->element[i])));
    return out;
}

key_spec key_spec_of(const redisReply* spec) {
    key_spec k;
    k.flags = flags_of<std::uint16_t>(field(spec, "flags"), catalogue::key_flag_named);
    const redisReply* begin = field(spec, "begin_search");
    const std::string_view begin_type = text_of(field(begin, "type"));
    const redisReply* begin_spec = field(begin, "spec");
    if (begin_type == "index") {
        k.begin = key_spec::begin_kind::index;
        k.index = integer_field(begin_spec, "index");
    } else if (begin_type == "keyword") {
        k.begin = key_spec::begin_kind::keyword;
        k.keyword = protocol::lowercase_copy(text_of(field(begin_spec, "keyword")));
        k.startfrom = integer_field(begin_spec, "startfrom");
    }
    const redisReply* find = field(spec, "find_keys");
    const std::string_view find_type = text_of(field(find, "type"));
    const redisReply* find_spec = field(find, "spec");
    if (find_type == "range") {
        k.find = key_spec::find_kind::range;
        k.lastkey = integer_field(find_spec, "lastkey");
        k.keystep = integer_field(find_spec, "keystep");
        k.limit = integer_field(find_spec, "limit");
    } else if (find_type == "keynum") {
        k.find = key_spec::find_kind::keynum;
        k.keynumidx = integer_field(find_spec, "keynumidx");
        k.firstkey = integer_field(find_spec, "firstkey");
        k.keystep = integer_field(find_spec, "keystep");
    }
    return k;
}

// [name, arity, flags, first, last, step, acl categories, tips, key specs, subcommands]; Redis
// before 7.0 stops after the step or the categories: such a command is known by its legacy
// first/last/step alone.
std::optional<command_info> command_of(const redisReply* c) {
    if (!is_array(c) || c->elements < 6 || text_of(c->element[0]).empty() ||
        c->element[1]->type != REDIS_REPLY_INTEGER)
        return std::nullopt;
    command_info info;
    info.name = protocol::lowercase_copy(text_of(c->element[0]));
    info.arity = static_cast<int>(c->element[1]->integer);
    info.flags = flags_of<std::uint32_t>(c->element[2], catalogue::command_flag_named);
    const redisReply* specs = c->elements > 8 ? c->element[8] : nullptr;
    if (is_array(specs)) {
        for (std::size_t i = 0; i < specs->elements; ++i) info.keys.push_back(key_spec_of(specs->element[i]));
    } else if (c->element[3]->type == REDIS_REPLY_INTEGER && c->element[3]->integer > 0) {
        key_spec legacy;
        legacy.flags = catalogue::key_rw;  // unknown use: assume the worst, as Redis does
        legacy.begin = key_spec::begin_kind::index;
        legacy.index = static_cast<int>(c->element[3]->integer);
        legacy.find = key_spec::find_kind::range;
        const long long last = c->element[4]->integer;
        legacy.lastkey = static_cast<int>(last < 0 ? last : last - c->element[3]->integer);
        legacy.keystep = static_cast<int>(std::max<long long>(1, c->element[5]->integer));
        info.keys.push_back(legacy);
    }
    const redisReply* subs = c->elements > 9 ? c->element[9] : nullptr;
    if (is_array(subs))
        for (std::size_t i = 0; i < subs->elements; ++i)
            if (auto sub = command_of(subs->element[i])) info.subcommands.push_back(std::move(*sub));
    return info;
}

// hiredis allocates an array's elements from its declared count before it reads them: only a
// reply the framer found whole (so every element it declares is there) goes to it.
bool one_whole_reply(std::string_view reply) {
    protocol::reply_framer framer;
    const protocol::frame_result framed = framer.next(reply);
    return framed.status == protocol::frame_status::complete && framed.length == reply.size();
}

}  // namespace

std::optional<std::vector<command_info>> parse_command_reply(std::string_view reply) {
    if (!one_whole_reply(reply)) return std::nullopt;
    std::unique_ptr<redisReader, reader_deleter> reader(redisReaderCreate());
    if (!reader || redisReaderFeed(reader.get(), reply.data(), reply.size()) != REDIS_OK) return std::nullopt;
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK || raw == nullptr) return std::nullopt;
    const std::unique_ptr<redisReply, reply_deleter> tree(static_cast<redisReply*>(raw));
    if (!is_array(tree.get())) return std::nullopt;
    std::vector<command_info> commands;
    for (std::size_t i = 0; i < tree->elements; ++i)
        if (auto c = command_of(tree->element[i])) commands.push_back(std::move(*c));
    if (commands.empty()) return std::nullopt;
    return commands;
}

}  // namespace redis_sidecar::upstream
