#include "redis_sidecar/server/client_auth.hpp"

#include "redis_sidecar/local/sha1.hpp"

namespace redis_sidecar::server {

client_password::client_password(std::string_view password) : required_(!password.empty()) {
    if (required_) digest_ = local::sha1(password);
}

bool client_password::matches(std::string_view user, std::string_view candidate) const {
    // The candidate is hashed even for an unknown user, so a wrong user costs what a wrong password
    // does. The user name is no secret (Redis looks it up in a plain dictionary).
    const local::sha1_digest candidate_digest = local::sha1(candidate);
    const bool same = fixed_time_equal(candidate_digest, digest_);
    return required_ && user == "default" && same;
}

bool fixed_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    if (a.size() != b.size()) return false;
    // Every byte is looked at whatever the earlier ones held; volatile keeps the compiler from
    // turning the loop back into one that stops at the first difference.
    volatile std::uint8_t difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i) difference = difference | static_cast<std::uint8_t>(a[i] ^ b[i]);
    return difference == 0;
}

auth_verdict check_auth(std::span<const std::string_view> args, const client_password& password) {
    if (args.size() < 2) return auth_verdict::wrong_arity;
    if (args.size() > 3) return auth_verdict::syntax_error;
    const std::string_view user = args.size() == 3 ? args[1] : std::string_view("default");
    const std::string_view candidate = args.size() == 3 ? args[2] : args[1];
    return password.matches(user, candidate) ? auth_verdict::ok : auth_verdict::wrong_password;
}

}  // namespace redis_sidecar::server
