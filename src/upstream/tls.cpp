#include "redis_sidecar/upstream/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/verify_context.hpp>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace redis_sidecar::upstream {

namespace {

[[noreturn]] void unusable(const std::string& option, const std::string& path, const boost::system::error_code& ec) {
    throw std::runtime_error("invalid option '" + option + "': cannot use '" + path + "': " + ec.message());
}

bool is_ip_address(const std::string& name) {
    boost::system::error_code ec;
    asio::ip::make_address(name, ec);
    return !ec;
}

}  // namespace

tls_client::tls_client(const tls_options& options) : context_(ssl::context::tls_client) {
    SSL_CTX_set_min_proto_version(context_.native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    if (options.ca_file.empty()) {
        context_.set_default_verify_paths(ec);
        if (ec) throw std::runtime_error("TLS: cannot load the system's CA certificates: " + ec.message());
    } else if (context_.load_verify_file(options.ca_file, ec); ec) {
        unusable("upstream-tls-ca-file", options.ca_file, ec);
    }
    if (!options.cert_file.empty()) {
        if (context_.use_certificate_chain_file(options.cert_file, ec); ec)
            unusable("upstream-tls-cert-file", options.cert_file, ec);
        // OpenSSL checks here that the key belongs to the certificate loaded above.
        if (context_.use_private_key_file(options.key_file, ssl::context::pem, ec); ec)
            unusable("upstream-tls-key-file", options.key_file, ec);
    }
    if (!options.verify) {
        context_.set_verify_mode(ssl::verify_none);
        spdlog::warn("upstream-tls-verify no: Redis's certificate is not checked; anyone on the path to Redis can "
                     "read and change the traffic");
        return;
    }
    context_.set_verify_mode(ssl::verify_peer);
    // host_name_verification only answers yes or no; recording the mismatch as the verification
    // error lets the failed connection's log line say why ("hostname mismatch").
    context_.set_verify_callback(
        [check = ssl::host_name_verification(options.server_name)](bool preverified, ssl::verify_context& verify) {
            if (!preverified) return false;
            if (check(preverified, verify)) return true;
            X509_STORE_CTX_set_error(verify.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
            return false;
        });
    if (!is_ip_address(options.server_name)) sni_ = options.server_name;
}

}  // namespace redis_sidecar::upstream
