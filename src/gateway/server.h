#pragma once

// Hosts the gateway service on a gRPC server with the transport settings real Zeebe clients
// need (keepalive pings every 30 s or more are welcome, 4 MiB messages) and the limits that keep
// a hostile client from exhausting the process.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/gateway_service.h"
#include "gateway/tls.h"

namespace tern::gateway {

struct ServerOptions {
  std::string address = "127.0.0.1:26500";
  int max_message_bytes = 4 << 20;
  int max_concurrent_streams = 1000;
  int max_metadata_bytes = 16 << 10;
  // Plaintext unless a certificate and key are given.
  ServerTlsFiles tls;
};

class GatewayServer {
 public:
  // Starts serving `service` (which must outlive the server).
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(const ServerOptions& options,
                                                              GatewayService* service);
  ~GatewayServer();
  // Stops accepting calls and finishes open ones within `deadline_ms`.
  void Shutdown(int64_t deadline_ms = 5'000);
  int port() const { return port_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace tern::gateway
