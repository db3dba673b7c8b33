#include "tern/client.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core.h"

namespace tern {

// --- Client ---------------------------------------------------------------------------------

ClientBuilder Client::newClientBuilder() { return ClientBuilder(); }

internal::CommandOptions Client::Options() const { return internal::CommandOptions{core_, {}, {}}; }

const std::string& Client::gatewayAddress() const { return core_->config().address; }

TopologyRequest Client::newTopologyRequest() const { return TopologyRequest(Options()); }

DeployResourceCommand Client::newDeployResourceCommand() const {
  return DeployResourceCommand(Options());
}

DeployProcessCommand Client::newDeployProcessCommand() const {
  return DeployProcessCommand(Options());
}

DeleteResourceCommand Client::newDeleteResourceCommand(int64_t resource_key) const {
  DeleteResourceCommand command(Options());
  command.resource_key_ = resource_key;
  return command;
}

CreateProcessInstanceCommand Client::newCreateInstanceCommand() const {
  return CreateProcessInstanceCommand(Options());
}

CancelProcessInstanceCommand Client::newCancelInstanceCommand(int64_t key) const {
  CancelProcessInstanceCommand command(Options());
  command.process_instance_key_ = key;
  return command;
}

ModifyProcessInstanceCommand Client::newModifyProcessInstanceCommand(int64_t key) const {
  ModifyProcessInstanceCommand command(Options());
  command.process_instance_key_ = key;
  return command;
}

MigrateProcessInstanceCommand Client::newMigrateProcessInstanceCommand(int64_t key) const {
  MigrateProcessInstanceCommand command(Options());
  command.process_instance_key_ = key;
  return command;
}

SetVariablesCommand Client::newSetVariablesCommand(int64_t element_instance_key) const {
  SetVariablesCommand command(Options());
  command.element_instance_key_ = element_instance_key;
  return command;
}

ResolveIncidentCommand Client::newResolveIncidentCommand(int64_t incident_key) const {
  ResolveIncidentCommand command(Options());
  command.incident_key_ = incident_key;
  return command;
}

PublishMessageCommand Client::newPublishMessageCommand() const {
  return PublishMessageCommand(Options());
}

BroadcastSignalCommand Client::newBroadcastSignalCommand() const {
  return BroadcastSignalCommand(Options());
}

EvaluateDecisionCommand Client::newEvaluateDecisionCommand() const {
  return EvaluateDecisionCommand(Options());
}

ActivateJobsCommand Client::newActivateJobsCommand() const {
  return ActivateJobsCommand(Options());
}

StreamJobsCommand Client::newStreamJobsCommand() const { return StreamJobsCommand(core_); }

CompleteJobCommand Client::newCompleteCommand(int64_t job_key) const {
  CompleteJobCommand command(Options());
  command.job_key_ = job_key;
  return command;
}

FailJobCommand Client::newFailCommand(int64_t job_key) const {
  FailJobCommand command(Options());
  command.job_key_ = job_key;
  return command;
}

ThrowErrorCommand Client::newThrowErrorCommand(int64_t job_key) const {
  ThrowErrorCommand command(Options());
  command.job_key_ = job_key;
  return command;
}

UpdateRetriesJobCommand Client::newUpdateRetriesCommand(int64_t job_key) const {
  UpdateRetriesJobCommand command(Options());
  command.job_key_ = job_key;
  return command;
}

UpdateTimeoutJobCommand Client::newUpdateTimeoutCommand(int64_t job_key) const {
  UpdateTimeoutJobCommand command(Options());
  command.job_key_ = job_key;
  return command;
}

JobWorkerBuilder Client::newWorker() const { return JobWorkerBuilder(core_); }

// --- ClientBuilder --------------------------------------------------------------------------

ClientBuilder& ClientBuilder::gatewayAddress(std::string address) {
  config_.address = std::move(address);
  return *this;
}

ClientBuilder& ClientBuilder::usePlaintext() {
  config_.tls = false;
  config_.ca_certificate_path.clear();
  return *this;
}

ClientBuilder& ClientBuilder::useTls() {
  config_.tls = true;
  return *this;
}

ClientBuilder& ClientBuilder::caCertificatePath(std::string path) {
  config_.tls = true;
  config_.ca_certificate_path = std::move(path);
  return *this;
}

ClientBuilder& ClientBuilder::overrideAuthority(std::string authority) {
  config_.override_authority = std::move(authority);
  return *this;
}

ClientBuilder& ClientBuilder::credentialsProvider(std::shared_ptr<CredentialsProvider> provider) {
  config_.credentials = std::move(provider);
  return *this;
}

ClientBuilder& ClientBuilder::bearerToken(std::string token) {
  return credentialsProvider(BearerTokenCredentials(std::move(token)));
}

ClientBuilder& ClientBuilder::oauthCredentials(OAuthCredentialsConfig config) {
  return credentialsProvider(std::make_shared<OAuthCredentialsProvider>(std::move(config)));
}

namespace {
void SetError(Status& error, std::string message) {
  if (error.ok()) error = Status(StatusCode::kInvalidArgument, std::move(message));
}
}  // namespace

ClientBuilder& ClientBuilder::keepAlive(std::chrono::milliseconds interval) {
  if (interval.count() <= 0) SetError(error_, "keepAlive must be positive");
  config_.keep_alive = interval;
  return *this;
}

ClientBuilder& ClientBuilder::defaultRequestTimeout(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) SetError(error_, "defaultRequestTimeout must be positive");
  config_.request_timeout = timeout;
  return *this;
}

ClientBuilder& ClientBuilder::retryPolicy(RetryPolicy policy) {
  if (policy.maxAttempts < 1 || policy.initialBackoff.count() < 0 ||
      policy.maxBackoff < policy.initialBackoff || policy.multiplier < 1.0) {
    SetError(error_,
             "retryPolicy needs maxAttempts >= 1, 0 <= initialBackoff <= maxBackoff and "
             "multiplier >= 1");
  }
  config_.retry = policy;
  return *this;
}

ClientBuilder& ClientBuilder::maxMessageSize(int bytes) {
  if (bytes <= 0) SetError(error_, "maxMessageSize must be positive");
  config_.max_message_bytes = bytes;
  return *this;
}

ClientBuilder& ClientBuilder::callbackThreads(int threads) {
  if (threads < 1) SetError(error_, "callbackThreads must be at least 1");
  config_.callback_threads = threads;
  return *this;
}

ClientBuilder& ClientBuilder::defaultJobWorkerName(std::string name) {
  config_.job_worker_name = std::move(name);
  return *this;
}

ClientBuilder& ClientBuilder::defaultJobTimeout(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) SetError(error_, "defaultJobTimeout must be positive");
  config_.job_timeout = timeout;
  return *this;
}

ClientBuilder& ClientBuilder::defaultJobPollInterval(std::chrono::milliseconds interval) {
  if (interval.count() < 0) SetError(error_, "defaultJobPollInterval must not be negative");
  config_.job_poll_interval = interval;
  return *this;
}

ClientBuilder& ClientBuilder::defaultTenantId(std::string tenant_id) {
  config_.tenant_id = std::move(tenant_id);
  return *this;
}

ClientBuilder& ClientBuilder::fromEnvironment() {
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  if (auto address = env("ZEEBE_ADDRESS"); !address.empty()) gatewayAddress(address);
  if (auto ca = env("ZEEBE_CA_CERTIFICATE_PATH"); !ca.empty()) caCertificatePath(ca);
  if (auto insecure = env("ZEEBE_INSECURE_CONNECTION"); !insecure.empty()) {
    if (insecure == "true" || insecure == "1") {
      usePlaintext();
    } else {
      useTls();
    }
  }
  OAuthCredentialsConfig oauth;
  oauth.clientId = env("ZEEBE_CLIENT_ID");
  oauth.clientSecret = env("ZEEBE_CLIENT_SECRET");
  oauth.audience = env("ZEEBE_TOKEN_AUDIENCE");
  oauth.authorizationServerUrl = env("ZEEBE_AUTHORIZATION_SERVER_URL");
  oauth.scope = env("ZEEBE_TOKEN_SCOPE");
  if (!oauth.clientId.empty() && !oauth.authorizationServerUrl.empty()) {
    oauthCredentials(std::move(oauth));
  }
  return *this;
}

Result<Client> ClientBuilder::build() const {
  if (!error_.ok()) return error_;
  if (config_.address.empty()) {
    return Status(StatusCode::kInvalidArgument, "the gateway address is empty");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (config_.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!config_.ca_certificate_path.empty()) {
      std::ifstream in(config_.ca_certificate_path, std::ios::binary);
      std::ostringstream pem;
      if (in) pem << in.rdbuf();
      if (!in || pem.str().empty()) {
        return Status(StatusCode::kInvalidArgument,
                      "cannot read CA certificate file '" + config_.ca_certificate_path + "'");
      }
      ssl.pem_root_certs = pem.str();
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(config_.keep_alive.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  args.SetMaxReceiveMessageSize(config_.max_message_bytes);
  args.SetMaxSendMessageSize(config_.max_message_bytes);
  args.SetUserAgentPrefix("tern-client-cpp/0.1");
  // No retry policy in a service config: the client's own loop retries (gRPC keeps only its
  // transparent retries of calls that never reached the server).
  if (!config_.override_authority.empty()) {
    args.SetSslTargetNameOverride(config_.override_authority);
  }
  auto channel = grpc::CreateCustomChannel(config_.address, credentials, args);
  if (!channel) {
    return Status(StatusCode::kInvalidArgument, "cannot create a channel to " + config_.address);
  }
  return Client(std::make_shared<internal::ClientCore>(config_, std::move(channel)));
}

}  // namespace tern
