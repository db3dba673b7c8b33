#pragma once

// Call credentials: what the client sends in the "authorization" header of every request.
// Tern's gateway checks it with --auth-mode oidc or basic (docs/security.md), as do Camunda 8
// SaaS and gateways behind an authenticating proxy.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tern/status.h"

namespace tern {

// Header name and value pairs; names are lower case, as HTTP/2 requires.
using CallHeaders = std::vector<std::pair<std::string, std::string>>;

// Supplies the headers of each call. Implementations must be thread-safe: the client calls
// them from the thread that sends a command and from its retry thread.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;

  // Adds headers for the next call. A non-OK status fails the call with that status without
  // sending it (use UNAUTHENTICATED when no token can be obtained).
  virtual Status applyCredentials(CallHeaders& headers) = 0;

  // Called when a call failed. Returning true sends the call once more (for example after
  // dropping a token the server no longer accepts).
  virtual bool shouldRetryRequest(const Status& status) {
    (void)status;
    return false;
  }
};

// Sends a fixed "authorization: Bearer <token>" header.
std::shared_ptr<CredentialsProvider> BearerTokenCredentials(std::string token);

// OAuth 2.0 client-credentials grant (RFC 6749 section 4.4), as Camunda's identity provider and
// Keycloak expect it: POSTs client_id, client_secret, audience (and scope, when set) as a form to
// the token endpoint, caches the access token until shortly before it expires, and fetches a new
// one when the gateway answers UNAUTHENTICATED.
struct OAuthCredentialsConfig {
  std::string authorizationServerUrl;  // the token endpoint, http:// or https://
  std::string clientId;
  std::string clientSecret;
  std::string audience;
  std::string scope;              // optional
  std::string caCertificatePath;  // optional: CA bundle for an https token endpoint
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds readTimeout{5000};
};

class OAuthCredentialsProvider : public CredentialsProvider {
 public:
  explicit OAuthCredentialsProvider(OAuthCredentialsConfig config);
  ~OAuthCredentialsProvider() override;

  Status applyCredentials(CallHeaders& headers) override;
  bool shouldRetryRequest(const Status& status) override;

  // Fetches a token now (also used by applyCredentials when the cached one expired).
  Result<std::string> fetchToken();

 private:
  OAuthCredentialsConfig config_;
  std::mutex mutex_;
  std::string token_;
  std::string token_type_;
  std::chrono::steady_clock::time_point expires_at_{};
};

}  // namespace tern
