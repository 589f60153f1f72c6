#pragma once
/// TLS to Redis: the client set-up (CA bundle, client certificate, the name to verify), loaded once
/// at start-up into one OpenSSL context that every upstream connection on every thread shares.

#include <boost/asio/ssl/context.hpp>
#include <string>

namespace redis_sidecar::upstream {

/// What the configuration says about TLS to Redis (the upstream-tls-* options).
struct tls_options {
    /// PEM CA bundle that Redis's certificate must chain to; empty: the system's default paths.
    std::string ca_file;
    /// PEM client certificate and its key, for Redis's `tls-auth-clients yes`; both or neither.
    std::string cert_file;
    std::string key_file;
    /// The name Redis's certificate must carry (DNS name or IP address); also sent as SNI when it
    /// is a DNS name.
    std::string server_name;
    /// Verify Redis's certificate chain and name; false only for tests and emergencies.
    bool verify = true;
};

/// The shared, read-only TLS client set-up. OpenSSL allows creating connections from one context on
/// several threads at once, as long as nobody changes the context afterwards.
class tls_client {
public:
    /// Loads the files; throws std::runtime_error naming the option of a file that cannot be used.
    explicit tls_client(const tls_options& options);
    tls_client(const tls_client&) = delete;
    tls_client& operator=(const tls_client&) = delete;

    boost::asio::ssl::context& context() { return context_; }
    /// The name to send as SNI; empty when the server name is an IP address (RFC 6066 forbids it).
    const std::string& sni() const { return sni_; }

private:
    boost::asio::ssl::context context_;
    std::string sni_;
};

}  // namespace redis_sidecar::upstream
