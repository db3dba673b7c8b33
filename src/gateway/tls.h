#pragma once

// TLS for Tern's gRPC listeners (the client-facing gateway port and the cluster port) and for
// the cluster port's callers (brokers calling peers, gateways calling brokers).
//
// Certificates and keys are PEM files that gRPC re-reads every kTlsRefreshIntervalSeconds: a
// renewed certificate (files replaced, ideally by renaming new files over the old ones so that
// key and certificate never mismatch) is served to new connections without a restart;
// connections already open keep the certificate they were made with. gRPC's TLS stack accepts
// TLS 1.2 and 1.3 only.

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tern::gateway {

inline constexpr unsigned kTlsRefreshIntervalSeconds = 2;

// The client-facing listener. Plaintext when `certificate` is empty.
struct ServerTlsFiles {
  std::string certificate;  // PEM certificate chain, the server's certificate first
  std::string private_key;  // PEM private key of that certificate
  // When set, clients must present a certificate signed by one of these CAs (mutual TLS).
  std::string client_ca;

  bool enabled() const { return !certificate.empty() || !private_key.empty(); }
};

// The cluster port, on brokers and on the gateways that call them: mutual TLS with one cluster
// CA. Plaintext when all three are empty.
struct ClusterTlsFiles {
  std::string ca;           // PEM certificate(s) of the cluster CA
  std::string certificate;  // this node's certificate, signed by the cluster CA
  std::string private_key;  // its key

  bool enabled() const { return !ca.empty() || !certificate.empty() || !private_key.empty(); }
};

// Checks that certificate and key come together (and a client CA only with them) and that
// each file can be read and holds PEM data. Messages name the settings, never file contents.
absl::Status ValidateServerTls(const ServerTlsFiles& files);
absl::Status ValidateClusterTls(const ClusterTlsFiles& files);

// Credentials for a listener: plaintext, TLS, or TLS requiring a client certificate.
// The files must have passed ValidateServerTls.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const ServerTlsFiles& files);

// The cluster port's listener: TLS that requires and verifies a client certificate signed by
// the cluster CA. Plaintext when `files` is not enabled.
std::shared_ptr<grpc::ServerCredentials> ClusterServerCredentials(const ClusterTlsFiles& files);

// For calling a cluster port: presents this node's certificate and accepts only a server
// certificate signed by the cluster CA whose names include the host being called.
// Plaintext when `files` is not enabled.
std::shared_ptr<grpc::ChannelCredentials> ClusterChannelCredentials(const ClusterTlsFiles& files);

}  // namespace tern::gateway
