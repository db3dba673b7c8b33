#pragma once

// tern::Client: the C++ client of Tern's (and Zeebe's) gRPC gateway.
//
//   auto client = tern::Client::newClientBuilder().gatewayAddress("127.0.0.1:26500").build();
//   if (!client.ok()) { ... client.status() ... }
//   auto instance = client->newCreateInstanceCommand()
//                       .bpmnProcessId("loan_approval")
//                       .latestVersion()
//                       .variables({{"applicant", "Ada"}, {"amount", 5000}})
//                       .send()
//                       .get();
//
// Names follow Zeebe's Java client and protocol (newCreateInstanceCommand, bpmnProcessId, ...)
// so that Zeebe's documentation reads directly. Errors are values (tern::Result, tern/status.h).
// A Client is a cheap, copyable, thread-safe handle; the connection lives as long as any copy,
// command, stream or worker made from it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tern/commands.h"
#include "tern/credentials.h"
#include "tern/job_worker.h"
#include "tern/status.h"
#include "tern/types.h"

namespace tern {

// Retries of commands that failed with UNAVAILABLE or RESOURCE_EXHAUSTED. The delay before
// attempt n+1 is initialBackoff * multiplier^(n-1), capped at maxBackoff, with +/-20% jitter.
struct RetryPolicy {
  int maxAttempts = 5;  // 1 = no retries
  std::chrono::milliseconds initialBackoff{100};
  std::chrono::milliseconds maxBackoff{5000};
  double multiplier = 3.0;
};

namespace internal {
class ClientCore;

// Everything a ClientBuilder collects.
struct ClientConfig {
  std::string address = "127.0.0.1:26500";
  bool tls = false;
  std::string ca_certificate_path;
  std::string override_authority;
  std::shared_ptr<CredentialsProvider> credentials;
  std::chrono::milliseconds keep_alive{45'000};
  std::chrono::milliseconds request_timeout{10'000};
  RetryPolicy retry;
  int max_message_bytes = 4 * 1024 * 1024;
  int callback_threads = 2;
  std::string job_worker_name = "default";
  std::chrono::milliseconds job_timeout{300'000};
  std::chrono::milliseconds job_poll_interval{100};
  std::string tenant_id;
};
}  // namespace internal

class ClientBuilder;

class Client {
 public:
  static ClientBuilder newClientBuilder();

  TopologyRequest newTopologyRequest() const;

  DeployResourceCommand newDeployResourceCommand() const;
  DeployProcessCommand newDeployProcessCommand() const;
  DeleteResourceCommand newDeleteResourceCommand(int64_t resource_key) const;

  CreateProcessInstanceCommand newCreateInstanceCommand() const;
  CancelProcessInstanceCommand newCancelInstanceCommand(int64_t process_instance_key) const;
  ModifyProcessInstanceCommand newModifyProcessInstanceCommand(int64_t process_instance_key) const;
  MigrateProcessInstanceCommand newMigrateProcessInstanceCommand(
      int64_t process_instance_key) const;
  SetVariablesCommand newSetVariablesCommand(int64_t element_instance_key) const;
  ResolveIncidentCommand newResolveIncidentCommand(int64_t incident_key) const;

  PublishMessageCommand newPublishMessageCommand() const;
  BroadcastSignalCommand newBroadcastSignalCommand() const;
  EvaluateDecisionCommand newEvaluateDecisionCommand() const;

  ActivateJobsCommand newActivateJobsCommand() const;
  StreamJobsCommand newStreamJobsCommand() const;
  CompleteJobCommand newCompleteCommand(int64_t job_key) const;
  FailJobCommand newFailCommand(int64_t job_key) const;
  ThrowErrorCommand newThrowErrorCommand(int64_t job_key) const;
  UpdateRetriesJobCommand newUpdateRetriesCommand(int64_t job_key) const;
  UpdateTimeoutJobCommand newUpdateTimeoutCommand(int64_t job_key) const;

  JobWorkerBuilder newWorker() const;

  // The address this client talks to.
  const std::string& gatewayAddress() const;

 private:
  friend class ClientBuilder;
  friend class JobClient;
  friend class internal::WorkerState;
  explicit Client(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
  internal::CommandOptions Options() const;
  std::shared_ptr<internal::ClientCore> core_;
};

class ClientBuilder {
 public:
  // host:port (default 127.0.0.1:26500). Any gRPC target works ("dns:///gw:26500",
  // "unix:/path").
  ClientBuilder& gatewayAddress(std::string address);
  // Plaintext HTTP/2 (the default; Tern's gateway serves plaintext).
  ClientBuilder& usePlaintext();
  // TLS with the system's root certificates.
  ClientBuilder& useTls();
  // TLS trusting the PEM certificates in this file (implies useTls()).
  ClientBuilder& caCertificatePath(std::string path);
  // Name to check the server's certificate against, when it differs from the address host.
  ClientBuilder& overrideAuthority(std::string authority);

  ClientBuilder& credentialsProvider(std::shared_ptr<CredentialsProvider> provider);
  // Shorthand for credentialsProvider(BearerTokenCredentials(token)).
  ClientBuilder& bearerToken(std::string token);
  // Shorthand for credentialsProvider(std::make_shared<OAuthCredentialsProvider>(config)).
  ClientBuilder& oauthCredentials(OAuthCredentialsConfig config);

  // HTTP/2 keepalive ping interval (default 45 s, as zbctl; Tern's gateway accepts >= 10 s).
  ClientBuilder& keepAlive(std::chrono::milliseconds interval);
  // Deadline of a command, retries included (default 10 s).
  ClientBuilder& defaultRequestTimeout(std::chrono::milliseconds timeout);
  ClientBuilder& retryPolicy(RetryPolicy policy);
  // Largest message accepted from the gateway (default 4 MiB, as the gateway's limit).
  ClientBuilder& maxMessageSize(int bytes);
  // Threads that run send(callback) callbacks and stream consumers (default 2).
  ClientBuilder& callbackThreads(int threads);

  // Defaults of job workers and ActivateJobs commands.
  ClientBuilder& defaultJobWorkerName(std::string name);             // default "default"
  ClientBuilder& defaultJobTimeout(std::chrono::milliseconds);       // default 5 min
  ClientBuilder& defaultJobPollInterval(std::chrono::milliseconds);  // default 100 ms
  ClientBuilder& defaultTenantId(std::string tenant_id);  // default "" (the gateway's default)

  // Reads the variables Zeebe's clients read, when set: ZEEBE_ADDRESS,
  // ZEEBE_INSECURE_CONNECTION, ZEEBE_CA_CERTIFICATE_PATH, ZEEBE_CLIENT_ID,
  // ZEEBE_CLIENT_SECRET, ZEEBE_TOKEN_AUDIENCE, ZEEBE_AUTHORIZATION_SERVER_URL,
  // ZEEBE_TOKEN_SCOPE.
  ClientBuilder& fromEnvironment();

  // INVALID_ARGUMENT for an unreadable CA file or bad numbers. Connecting is lazy: an
  // unreachable gateway shows up as UNAVAILABLE on the first command.
  Result<Client> build() const;

 private:
  internal::ClientConfig config_;
  Status error_;  // the first invalid setting
};

}  // namespace tern
