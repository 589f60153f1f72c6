#pragma once
/// The commands about a client's own connection that the sidecar answers itself, the same way
/// whether Redis is up or not: PING, QUIT, HELLO, CLIENT, and AUTH and RESET when requirepass is
/// set; and where INFO goes. Functions over the client's state, without sockets: each appends its
/// reply (Redis 7.0's, byte for byte) to `out`, or says where the command goes instead; the
/// session carries out the verdict.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis_sidecar/server/client_auth.hpp"

namespace redis_sidecar::server {

/// What the sidecar keeps of a client of the shared pool.
struct client_state {
    /// CLIENT ID's answer.
    std::uint64_t id = 0;
    /// CLIENT SETNAME's or HELLO SETNAME's; a pinned connection opens with it.
    std::string name;
    /// False until AUTH or HELLO AUTH succeeds, when requirepass is set.
    bool authenticated = true;
};

/// What the session does once a connection command has run.
enum class connection_verdict : std::uint8_t {
    replied,                 ///< its reply is in `out`
    replied_then_close,      ///< QUIT: replied; the connection closes after the replies before
    auth_failed,             ///< replied WRONGPASS: a failure to count
    pin,                     ///< state Redis must keep: a connection of its own, the command first
    pin_hello_without_auth,  ///< HELLO 3 AUTH: pins, and Redis gets the HELLO without the AUTH
    pass_on,                 ///< CLIENT's other subcommands: Redis's, or the local store's while it is down
};

/// PING [message].
connection_verdict answer_ping(std::span<const std::string_view> args, std::string& out);
/// QUIT.
connection_verdict answer_quit(std::string& out);
/// HELLO [protover [AUTH user pass] [SETNAME name]]: protocol 2 here, 3 pins. Options take effect
/// one by one as Redis 7.0 runs them: a name is set, a password checked, even when a later option
/// fails. `redis_version` is Redis's (empty: not known yet).
connection_verdict answer_hello(client_state& client, std::span<const std::string_view> args,
                                const client_password& password, std::string_view redis_version, std::string& out);
/// CLIENT SETNAME/GETNAME/SETINFO here; the subcommands that change the connection in Redis
/// (TRACKING, REPLY, KILL, ...) pin; the others pass on. CLIENT ID pins while Redis is up
/// (`redis_up`): the id Redis gives is the one its CLIENT UNBLOCK, CLIENT KILL ID and CLIENT
/// TRACKING REDIRECT understand, so the client's connection must be Redis's. While Redis is down
/// the sidecar's own id is answered.
connection_verdict answer_client(client_state& client, std::span<const std::string_view> args, std::string& out,
                                 bool redis_up = false);
/// AUTH [user] password, when requirepass is set. A failed AUTH leaves an authenticated client
/// authenticated, as in Redis.
connection_verdict answer_auth(client_state& client, std::span<const std::string_view> args,
                               const client_password& password, std::string& out);
/// RESET, when requirepass is set and the client is not pinned: it has no state in Redis, so
/// what RESET clears is the sidecar's own (the name, and the authentication, as Redis does when
/// the default user has a password).
connection_verdict answer_reset(client_state& client, std::span<const std::string_view> args, std::string& out);

/// Where INFO goes, by its sections (the arguments after the name) and whether Redis serves.
enum class info_route : std::uint8_t {
    local,                      ///< Redis is down: the sidecar's own INFO, from the local store
    sidecar_alone,              ///< only `sidecar` asked: the sidecar's section is the reply
    forward,                    ///< Redis's reply as it is
    forward_appending_sidecar,  ///< Redis's reply with the `# Sidecar` section appended
};
info_route route_info(std::span<const std::string_view> args, bool serving_redis);
/// INFO as Redis gets it: every argument but `sidecar`, the sidecar's own section.
std::vector<std::string_view> info_for_redis(std::span<const std::string_view> args);

}  // namespace redis_sidecar::server
