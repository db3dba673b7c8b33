#include "tern/credentials.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

namespace tern {

namespace {

class BearerToken : public CredentialsProvider {
 public:
  explicit BearerToken(std::string token) : header_("Bearer " + std::move(token)) {}
  Status applyCredentials(CallHeaders& headers) override {
    headers.emplace_back("authorization", header_);
    return Status();
  }

 private:
  std::string header_;
};

// libcurl's global state must be set up once before any handle is made, and thread-safely.
void EnsureCurlInitialized() {
  static const bool initialized = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)initialized;
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string FormEscape(CURL* curl, const std::string& value) {
  char* escaped = curl_easy_escape(curl, value.data(), static_cast<int>(value.size()));
  std::string out = escaped == nullptr ? std::string() : std::string(escaped);
  curl_free(escaped);
  return out;
}

}  // namespace

std::shared_ptr<CredentialsProvider> BearerTokenCredentials(std::string token) {
  return std::make_shared<BearerToken>(std::move(token));
}

OAuthCredentialsProvider::OAuthCredentialsProvider(OAuthCredentialsConfig config)
    : config_(std::move(config)) {
  EnsureCurlInitialized();
}

OAuthCredentialsProvider::~OAuthCredentialsProvider() = default;

Result<std::string> OAuthCredentialsProvider::fetchToken() {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status(StatusCode::kUnauthenticated, "cannot create an HTTP client");
  std::string body =
      "grant_type=client_credentials&client_id=" + FormEscape(curl, config_.clientId) +
      "&client_secret=" + FormEscape(curl, config_.clientSecret);
  if (!config_.audience.empty()) body += "&audience=" + FormEscape(curl, config_.audience);
  if (!config_.scope.empty()) body += "&scope=" + FormEscape(curl, config_.scope);
  std::string response;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, config_.authorizationServerUrl.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connectTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>((config_.connectTimeout + config_.readTimeout).count()));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!config_.caCertificatePath.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, config_.caCertificatePath.c_str());
  }
  CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  const std::string where = "OAuth token request to " + config_.authorizationServerUrl;
  if (code != CURLE_OK) {
    return Status(StatusCode::kUnauthenticated, where + " failed: " + curl_easy_strerror(code));
  }
  if (http_status != 200) {
    return Status(
        StatusCode::kUnauthenticated,
        where + " answered HTTP " + std::to_string(http_status) + ": " + response.substr(0, 200));
  }
  auto json = nlohmann::json::parse(response, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("access_token") || !json["access_token"].is_string()) {
    return Status(StatusCode::kUnauthenticated,
                  where + " answered without an access_token: " + response.substr(0, 200));
  }
  std::string token = json["access_token"].get<std::string>();
  std::string type = "Bearer";
  if (json.contains("token_type") && json["token_type"].is_string()) {
    type = json["token_type"].get<std::string>();
    // "bearer" and "Bearer" are the same scheme (RFC 6750); send the usual spelling.
    if (type.size() == 6 && (type[0] == 'b' || type[0] == 'B')) type = "Bearer";
  }
  int64_t expires_in_s = 0;
  if (json.contains("expires_in") && json["expires_in"].is_number()) {
    expires_in_s = json["expires_in"].get<int64_t>();
  }
  std::lock_guard lock(mutex_);
  token_ = token;
  token_type_ = type;
  // Refresh a little early so a token does not expire on its way to the gateway; tokens
  // without expires_in are kept until the gateway rejects them.
  expires_at_ = expires_in_s > 0
                    ? std::chrono::steady_clock::now() + std::chrono::seconds(expires_in_s) -
                          std::chrono::seconds(std::min<int64_t>(30, expires_in_s / 10))
                    : std::chrono::steady_clock::time_point::max();
  return token;
}

Status OAuthCredentialsProvider::applyCredentials(CallHeaders& headers) {
  {
    std::lock_guard lock(mutex_);
    if (!token_.empty() && std::chrono::steady_clock::now() < expires_at_) {
      headers.emplace_back("authorization", token_type_ + " " + token_);
      return Status();
    }
  }
  auto token = fetchToken();
  if (!token.ok()) return token.status();
  std::lock_guard lock(mutex_);
  headers.emplace_back("authorization", token_type_ + " " + token_);
  return Status();
}

bool OAuthCredentialsProvider::shouldRetryRequest(const Status& status) {
  if (status.code() != StatusCode::kUnauthenticated) return false;
  std::lock_guard lock(mutex_);
  token_.clear();  // the next call fetches a fresh one
  return true;
}

}  // namespace tern
