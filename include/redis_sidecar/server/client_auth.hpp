#pragma once
/// Clients authenticating to the sidecar itself (`requirepass`), with Redis 7.0's replies: which
/// commands a client may send before it authenticated, AUTH's verdicts, and a password check whose
/// time does not depend on the password.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace redis_sidecar::server {

/// Redis 7.0's replies (without the leading '-'), byte for byte.
namespace auth_replies {
/// Any command but AUTH, HELLO, QUIT and RESET before authenticating (server.c, shared.noautherr).
inline constexpr std::string_view noauth = "NOAUTH Authentication required.";
/// EXEC before authenticating: Redis rejects it as it rejects an EXEC whose transaction failed
/// (server.c rejectCommand -> multi.c execCommandAbort), MULTI or not.
inline constexpr std::string_view exec_noauth =
    "EXECABORT Transaction discarded because of: NOAUTH Authentication required.";
/// HELLO without AUTH before authenticating (networking.c, helloCommand; 7.0's wording).
inline constexpr std::string_view hello_noauth =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> "
    "<pass> option can be used to authenticate the client and select the RESP protocol version at the same "
    "time";
/// A wrong user or password (acl.c, authCommand / addAuthErrReply).
inline constexpr std::string_view wrongpass = "WRONGPASS invalid username-password pair or user is disabled.";
/// AUTH with more than two arguments (acl.c, authCommand: shared.syntaxerr).
inline constexpr std::string_view syntax_error = "ERR syntax error";
}  // namespace auth_replies

/// The password clients must give, kept only as a digest. Comparing takes the same time whatever
/// the candidate holds and however long it is: both sides are hashed to a fixed-size digest first,
/// and the digests are compared without an early exit.
class client_password {
public:
    /// `password` empty: none is required (Redis's default user with nopass).
    explicit client_password(std::string_view password);

    /// True when clients must authenticate.
    bool required() const { return required_; }

    /// True when `user` is Redis's default user and `candidate` is the password.
    bool matches(std::string_view user, std::string_view candidate) const;

private:
    bool required_;
    std::array<std::uint8_t, 20> digest_{};
};

/// True when `a` and `b` hold the same bytes; the time taken depends only on their (equal) size.
bool fixed_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

/// What AUTH [user] password answers, in Redis 7.0's order of checks.
enum class auth_verdict : std::uint8_t {
    ok,              ///< +OK: the client is authenticated
    wrong_password,  ///< -WRONGPASS (the client stays as it was)
    wrong_arity,     ///< AUTH alone: wrong number of arguments
    syntax_error,    ///< more than two arguments
};

/// Judges an AUTH command (`args[0]` is AUTH) against `password`, which is required.
auth_verdict check_auth(std::span<const std::string_view> args, const client_password& password);

}  // namespace redis_sidecar::server
