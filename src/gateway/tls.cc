#include "gateway/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace tern::gateway {
namespace {

// Reads enough of the file to tell that it is PEM of the expected kind. The contents are never
// put into a message: a key file must not end up in a log.
absl::Status CheckPemFile(const std::string& path, std::string_view setting,
                          std::string_view expected_label) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(StrCat(setting, ": cannot read '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  if (pem.find("-----BEGIN ") == std::string::npos ||
      pem.find(std::string(expected_label)) == std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat(setting, ": '", path, "' holds no PEM ", expected_label));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateServerTls(const ServerTlsFiles& files) {
  if (!files.enabled()) {
    if (!files.client_ca.empty()) {
      return absl::InvalidArgumentError(
          "tls-client-ca needs tls-certificate and tls-private-key (client certificates are "
          "only asked for over TLS)");
    }
    return absl::OkStatus();
  }
  if (files.certificate.empty() || files.private_key.empty()) {
    return absl::InvalidArgumentError("tls-certificate and tls-private-key must be given together");
  }
  if (auto s = CheckPemFile(files.certificate, "tls-certificate", "CERTIFICATE"); !s.ok()) return s;
  if (auto s = CheckPemFile(files.private_key, "tls-private-key", "PRIVATE KEY"); !s.ok()) return s;
  if (!files.client_ca.empty()) {
    if (auto s = CheckPemFile(files.client_ca, "tls-client-ca", "CERTIFICATE"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateClusterTls(const ClusterTlsFiles& files) {
  if (!files.enabled()) return absl::OkStatus();
  if (files.ca.empty() || files.certificate.empty() || files.private_key.empty()) {
    return absl::InvalidArgumentError(
        "cluster-tls-ca, cluster-tls-certificate and cluster-tls-private-key must be given "
        "together (the cluster port uses mutual TLS)");
  }
  if (auto s = CheckPemFile(files.ca, "cluster-tls-ca", "CERTIFICATE"); !s.ok()) return s;
  if (auto s = CheckPemFile(files.certificate, "cluster-tls-certificate", "CERTIFICATE"); !s.ok()) {
    return s;
  }
  if (auto s = CheckPemFile(files.private_key, "cluster-tls-private-key", "PRIVATE KEY"); !s.ok()) {
    return s;
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const ServerTlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  using grpc::experimental::FileWatcherCertificateProvider;
  std::shared_ptr<FileWatcherCertificateProvider> provider;
  if (files.client_ca.empty()) {
    provider = std::make_shared<FileWatcherCertificateProvider>(
        files.private_key, files.certificate, kTlsRefreshIntervalSeconds);
  } else {
    provider = std::make_shared<FileWatcherCertificateProvider>(
        files.private_key, files.certificate, files.client_ca, kTlsRefreshIntervalSeconds);
  }
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ServerCredentials> ClusterServerCredentials(const ClusterTlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  return ServerCredentialsFor(ServerTlsFiles{
      .certificate = files.certificate, .private_key = files.private_key, .client_ca = files.ca});
}

std::shared_ptr<grpc::ChannelCredentials> ClusterChannelCredentials(const ClusterTlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureChannelCredentials();
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.private_key, files.certificate, files.ca, kTlsRefreshIntervalSeconds);
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  // The peer's certificate must chain to the cluster CA, and (gRPC's default verifier) name the
  // host this node calls it by.
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace tern::gateway
