#include "redis_sidecar/upstream/redis_stream.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "redis_sidecar/upstream/tls.hpp"

namespace redis_sidecar::upstream {

redis_stream::redis_stream(const executor_type& executor, std::shared_ptr<tls_client> tls)
    : socket_(executor), tls_client_(std::move(tls)) {
    reset();
}

void redis_stream::reset() {
    tls_.reset();
    socket_ = tcp_socket(socket_.get_executor());
    if (!tls_client_) return;
    tls_.emplace(socket_, tls_client_->context());
    if (!tls_client_->sni().empty()) SSL_set_tlsext_host_name(tls_->native_handle(), tls_client_->sni().c_str());
}

std::string redis_stream::error_message(const boost::system::error_code& ec) {
    std::string message = ec.message();
    if (!tls_) return message;
    const long verified = SSL_get_verify_result(tls_->native_handle());
    if (verified != X509_V_OK) message += std::string(": ") + X509_verify_cert_error_string(verified);
    return message;
}

}  // namespace redis_sidecar::upstream
