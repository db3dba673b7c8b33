#include "gateway/server.h"

#include <grpcpp/health_check_service_interface.h>

#include <chrono>

#include "base/strings.h"

namespace tern::gateway {

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(const ServerOptions& options,
                                                                    GatewayService* service) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  if (auto status = ValidateServerTls(options.tls); !status.ok()) return status;
  builder.AddListeningPort(options.address, ServerCredentialsFor(options.tls), &port);
  builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, options.max_metadata_bytes);
  // zbctl pings every 45 s and zeebe-node may ping without calls: accept pings every 10 s or
  // more and never count them as abuse (gRPC's default would close such connections).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Connections that never finish the HTTP/2 handshake are dropped.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 10'000);
  auto server = std::make_unique<GatewayServer>();
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || port == 0) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options.address, " (address in use or invalid)"));
  }
  server->port_ = port;
  if (auto* health = server->server_->GetHealthCheckService()) {
    health->SetServingStatus("gateway_protocol.Gateway", true);
    health->SetServingStatus("", true);
  }
  return server;
}

GatewayServer::~GatewayServer() { Shutdown(); }

void GatewayServer::Shutdown(int64_t deadline_ms) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  server_->Wait();
  server_.reset();
}

}  // namespace tern::gateway
