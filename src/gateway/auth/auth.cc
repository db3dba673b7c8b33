// Basic authentication (argon2id via libsodium), the "none" authenticator, key set sources and
// the factory from configuration. JWT validation is in jwt.cc.

#include "gateway/auth/auth.h"

#include <curl/curl.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "base/strings.h"
#include "gateway/auth/encoding.h"

namespace tern::gateway::auth {
namespace {

constexpr size_t kMaxBasicCredentialBytes = 4096;
constexpr size_t kMaxJwksDocumentBytes = 1024 * 1024;
constexpr long kJwksFetchTimeoutSeconds = 5;

class NoAuthenticator final : public Authenticator {
 public:
  absl::StatusOr<Principal> Authenticate(std::string_view) override {
    Principal principal;
    principal.mechanism = "none";
    return principal;
  }
};

bool IsArgon2idHash(std::string_view hash) {
  return hash.starts_with("$argon2id$") && hash.size() < crypto_pwhash_STRBYTES;
}

absl::Status InitSodium() {
  // sodium_init is thread-safe and idempotent; it returns 1 when already initialized.
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialize");
  return absl::OkStatus();
}

// Verified basic credentials are remembered for a short while, so that a client sending the
// same header on every call (workers do) pays the argon2id verification once, not per call. The
// key is a BLAKE2b hash of the header under a random per-process key: the cache never holds a
// password, and its contents are useless outside this process. Refusals are never remembered, so
// each guess still costs a full verification.
class VerifiedCredentials {
 public:
  static constexpr int64_t kLifetimeMillis = 60'000;
  static constexpr size_t kMaxEntries = 4096;

  VerifiedCredentials() { crypto_generichash_keygen(key_); }
  ~VerifiedCredentials() { sodium_memzero(key_, sizeof key_); }

  std::string Digest(std::string_view header) const {
    std::string digest(crypto_generichash_BYTES, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(digest.data()), digest.size(),
                       reinterpret_cast<const unsigned char*>(header.data()), header.size(), key_,
                       sizeof key_);
    return digest;
  }

  std::optional<Principal> Find(const std::string& digest) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(digest);
    if (it == entries_.end()) return std::nullopt;
    if (NowMillis() >= it->second.expires_at_millis) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.principal;
  }

  void Remember(const std::string& digest, const Principal& principal) {
    std::lock_guard lock(mutex_);
    // Full: start over rather than track recency (a refill costs one verification per user).
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[digest] = Entry{principal, NowMillis() + kLifetimeMillis};
  }

 private:
  struct Entry {
    Principal principal;
    int64_t expires_at_millis;
  };
  static int64_t NowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  unsigned char key_[crypto_generichash_KEYBYTES];
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

class BasicAuthenticator final : public Authenticator {
 public:
  explicit BasicAuthenticator(std::vector<BasicUser> users) {
    for (BasicUser& user : users)
      hashes_.emplace(std::move(user.name), std::move(user.password_hash));
    // An unknown user costs the same as a wrong password: we verify against a real hash (so the
    // same argon2id parameters) and then refuse, so response time does not reveal user names.
    dummy_hash_ = hashes_.begin()->second;
  }

  absl::StatusOr<Principal> Authenticate(std::string_view authorization) override {
    if (authorization.empty()) {
      return absl::UnauthenticatedError(
          "missing authorization header (expected basic credentials)");
    }
    if (authorization.size() > kMaxBasicCredentialBytes + 16) {
      return absl::UnauthenticatedError(
          "malformed authorization header: expected 'Basic <base64 of user:password>'");
    }
    const std::string digest = verified_.Digest(authorization);
    if (auto known = verified_.Find(digest)) return *std::move(known);
    // Each check costs argon2id's time and memory (about a second and 256 MiB at libsodium's
    // "moderate" limits) on the thread serving the request, and refusals are never remembered:
    // without a bound, a few callers sending wrong passwords would hold every serving thread
    // and the memory. Beyond the bound a caller is told to retry, at no cost.
    if (checks_in_flight_.fetch_add(1) >= kMaxConcurrentPasswordChecks) {
      checks_in_flight_.fetch_sub(1);
      return absl::UnavailableError("too many password checks at once; retry shortly");
    }
    auto principal = Verify(authorization);
    checks_in_flight_.fetch_sub(1);
    if (principal.ok()) verified_.Remember(digest, *principal);
    return principal;
  }

  std::string_view Challenge() const override { return "Basic realm=\"tern\", charset=\"UTF-8\""; }

 private:
  absl::StatusOr<Principal> Verify(std::string_view authorization) {
    auto encoded = internal::StripScheme(authorization, "Basic");
    if (!encoded || encoded->size() > kMaxBasicCredentialBytes) {
      return absl::UnauthenticatedError(
          "malformed authorization header: expected 'Basic <base64 of user:password>'");
    }
    auto decoded = internal::Base64Decode(*encoded);
    const size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (!decoded || colon == std::string::npos) {
      return absl::UnauthenticatedError(
          "malformed basic credentials: expected base64 of 'user:password'");
    }
    const std::string name = decoded->substr(0, colon);
    const std::string_view password = std::string_view(*decoded).substr(colon + 1);
    auto it = hashes_.find(name);
    const std::string& hash = it != hashes_.end() ? it->second : dummy_hash_;
    const bool verified =
        crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    sodium_memzero(decoded->data(), decoded->size());
    if (it == hashes_.end() || !verified) {
      // One message for both, so a caller cannot probe for user names.
      return absl::UnauthenticatedError("unknown user or wrong password");
    }
    Principal principal;
    principal.mechanism = "basic";
    principal.subject = name;
    return principal;
  }

 private:
  static constexpr int kMaxConcurrentPasswordChecks = 2;

  std::map<std::string, std::string, std::less<>> hashes_;
  std::string dummy_hash_;
  VerifiedCredentials verified_;
  std::atomic<int> checks_in_flight_{0};
};

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1";
}

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t bytes = size * count;
  if (body->size() + bytes > kMaxJwksDocumentBytes) return 0;  // aborts the transfer
  body->append(data, bytes);
  return bytes;
}

absl::StatusOr<std::string> HttpGet(const std::string& url) {
  static std::once_flag curl_initialized;
  std::call_once(curl_initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("cannot create a curl handle");
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, kJwksFetchTimeoutSeconds);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return absl::UnavailableError(StrCat("fetching ", url, " failed: ", curl_easy_strerror(code)));
  }
  long http_status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &http_status);
  if (http_status != 200) {
    return absl::UnavailableError(StrCat("fetching ", url, " answered HTTP ", http_status));
  }
  return body;
}

}  // namespace

std::unique_ptr<Authenticator> MakeNoAuthenticator() { return std::make_unique<NoAuthenticator>(); }

JwksFetcher JwksFromFile(std::string path) {
  return [path = std::move(path)]() -> absl::StatusOr<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(StrCat("cannot read key set file ", path));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
}

absl::StatusOr<JwksFetcher> JwksFromUrl(std::string url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = std::string_view(url).substr(8);
  } else if (url.starts_with("http://")) {
    rest = std::string_view(url).substr(7);
    std::string_view authority = rest.substr(0, rest.find('/'));
    // Strip a port, but keep an IPv6 literal's brackets.
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
      authority = authority.substr(0, colon);
    }
    if (!IsLoopbackHost(authority)) {
      return absl::InvalidArgumentError(
          "the OIDC key set URL must be https (plain http only to a loopback host)");
    }
  } else {
    return absl::InvalidArgumentError("the OIDC key set URL must start with https://");
  }
  return JwksFetcher([url = std::move(url)] { return HttpGet(url); });
}

absl::StatusOr<std::unique_ptr<Authenticator>> MakeBasicAuthenticator(
    std::vector<BasicUser> users) {
  if (auto status = InitSodium(); !status.ok()) return status;
  if (users.empty())
    return absl::InvalidArgumentError("basic authentication needs at least one user");
  std::map<std::string, bool> seen;
  for (const BasicUser& user : users) {
    if (user.name.empty() || user.name.find(':') != std::string::npos) {
      return absl::InvalidArgumentError("a basic user name must be non-empty and without ':'");
    }
    if (!seen.emplace(user.name, true).second) {
      return absl::InvalidArgumentError(StrCat("basic user '", user.name, "' is defined twice"));
    }
    if (!IsArgon2idHash(user.password_hash)) {
      return absl::InvalidArgumentError(StrCat(
          "the password hash of basic user '", user.name,
          "' is not an argon2id hash (\"$argon2id$...\", e.g. from tern-gateway hash-password)"));
    }
  }
  return std::unique_ptr<Authenticator>(std::make_unique<BasicAuthenticator>(std::move(users)));
}

absl::StatusOr<std::vector<BasicUser>> ReadBasicUsersFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("cannot read users file ", path));
  std::vector<BasicUser> users;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(
          StrCat(path, ":", line_number, ": expected 'name:argon2id-hash'"));
    }
    users.push_back(BasicUser{line.substr(0, colon), line.substr(colon + 1)});
  }
  return users;
}

absl::StatusOr<std::string> HashPassword(std::string_view password, uint64_t ops_limit,
                                         size_t mem_limit_bytes) {
  if (auto status = InitSodium(); !status.ok()) return status;
  if (ops_limit == 0) ops_limit = crypto_pwhash_OPSLIMIT_MODERATE;
  if (mem_limit_bytes == 0) mem_limit_bytes = crypto_pwhash_MEMLIMIT_MODERATE;
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(), ops_limit, mem_limit_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("argon2id hashing failed (out of memory?)");
  }
  return std::string(hash);
}

absl::StatusOr<AuthMode> ParseAuthMode(std::string_view text) {
  if (text == "none") return AuthMode::kNone;
  if (text == "oidc") return AuthMode::kOidc;
  if (text == "basic") return AuthMode::kBasic;
  return absl::InvalidArgumentError(
      StrCat("unknown authentication mode '", text, "' (none, oidc or basic)"));
}

absl::StatusOr<std::unique_ptr<Authenticator>> MakeAuthenticator(const AuthConfig& config,
                                                                 base::Clock& clock) {
  switch (config.mode) {
    case AuthMode::kNone:
      return MakeNoAuthenticator();
    case AuthMode::kOidc: {
      if (config.oidc.issuer.empty()) {
        return absl::InvalidArgumentError("auth mode oidc needs --oidc-issuer");
      }
      if (config.oidc.audience.empty()) {
        return absl::InvalidArgumentError("auth mode oidc needs a non-empty --oidc-audience");
      }
      if (config.oidc_jwks_url.empty() == config.oidc_jwks_file.empty()) {
        return absl::InvalidArgumentError(
            "auth mode oidc needs exactly one of --oidc-jwks-url and --oidc-jwks-file");
      }
      JwksFetcher fetcher;
      if (!config.oidc_jwks_url.empty()) {
        auto from_url = JwksFromUrl(config.oidc_jwks_url);
        if (!from_url.ok()) return from_url.status();
        fetcher = *std::move(from_url);
      } else {
        fetcher = JwksFromFile(config.oidc_jwks_file);
      }
      return MakeJwtAuthenticator(config.oidc, std::move(fetcher), clock);
    }
    case AuthMode::kBasic: {
      if (config.basic_users_file.empty()) {
        return absl::InvalidArgumentError("auth mode basic needs --auth-users-file");
      }
      auto users = ReadBasicUsersFile(config.basic_users_file);
      if (!users.ok()) return users.status();
      return MakeBasicAuthenticator(*std::move(users));
    }
  }
  return absl::InvalidArgumentError("unknown authentication mode");
}

}  // namespace tern::gateway::auth
