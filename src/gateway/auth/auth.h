#pragma once

// Client authentication for the gateway's front doors (gRPC and REST share it). A front door
// hands the value of the request's `authorization` header (empty when absent) to an
// Authenticator and gets back who is calling, or UNAUTHENTICATED with a message that names the
// reason. Messages and logs never contain the token or the password.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/clock.h"

namespace tern::gateway::auth {

// Who is calling, as far as the credential says. Empty fields are claims the token did not carry.
struct Principal {
  std::string mechanism;  // "none", "oidc" or "basic"
  std::string subject;    // the token's `sub`, or the basic user name
  std::string client_id;  // the token's `azp` or `client_id`
  std::vector<std::string> groups;
  std::vector<std::string> tenants;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `authorization` is the header value as received ("Bearer ..." or "Basic ..."), empty when
  // the request has none. Thread-safe.
  virtual absl::StatusOr<Principal> Authenticate(std::string_view authorization) = 0;
  // The scheme a refused HTTP caller is told to use (the 401's WWW-Authenticate header):
  // "Bearer", "Basic realm=...", or empty when nothing is refused.
  virtual std::string_view Challenge() const { return {}; }
};

// Accepts every request as an anonymous caller (mechanism "none").
std::unique_ptr<Authenticator> MakeNoAuthenticator();

// ---- OIDC bearer tokens (JWT, RS256 or ES256) ----

// Returns a JSON Web Key Set document (RFC 7517), e.g. from a file or an HTTPS URL.
using JwksFetcher = std::function<absl::StatusOr<std::string>()>;

struct JwtOptions {
  std::string issuer;                  // required: the `iss` every token must carry
  std::string audience = "zeebe-api";  // Zeebe's default; `aud` may be a string or an array
  int64_t clock_skew_seconds = 60;     // tolerance for `exp` and `nbf`
  // At most one key set fetch per interval, however many tokens name an unknown `kid`: a caller
  // cannot make the gateway hammer the issuer.
  int64_t min_refresh_interval_millis = 30'000;
  // A key set older than this is fetched again at the next request (keys rotate).
  int64_t max_key_age_millis = 3'600'000;
  std::string groups_claim = "groups";
  std::string tenants_claim = "tenants";
};

// Validates bearer tokens with keys from `fetch_jwks`. The first fetch happens at construction
// (a failure is only logged: the issuer may come up later). Time comes from `clock` (wall time
// for exp/nbf, monotonic time for the key cache).
std::unique_ptr<Authenticator> MakeJwtAuthenticator(JwtOptions options, JwksFetcher fetch_jwks,
                                                    base::Clock& clock);

// Key set sources. A URL must be https, or http to a loopback host (a local test issuer).
JwksFetcher JwksFromFile(std::string path);
absl::StatusOr<JwksFetcher> JwksFromUrl(std::string url);

// ---- HTTP basic authentication ----

struct BasicUser {
  std::string name;
  std::string
      password_hash;  // argon2id in libsodium's string form: "$argon2id$v=19$m=...,t=...,p=...$..."
};

// Refuses users whose hash is not an argon2id string, and an empty or duplicate user list.
absl::StatusOr<std::unique_ptr<Authenticator>> MakeBasicAuthenticator(std::vector<BasicUser> users);

// Reads users from a file: one `name:hash` per line; blank lines and lines starting with `#` are
// ignored. The error never quotes a hash.
absl::StatusOr<std::vector<BasicUser>> ReadBasicUsersFile(const std::string& path);

// An argon2id hash of `password` in libsodium's string form (for tools and tests). `ops_limit`
// and `mem_limit_bytes` of 0 mean libsodium's "moderate" limits.
absl::StatusOr<std::string> HashPassword(std::string_view password, uint64_t ops_limit = 0,
                                         size_t mem_limit_bytes = 0);

// ---- Configuration, as the daemons' flags give it ----

enum class AuthMode { kNone, kOidc, kBasic };
absl::StatusOr<AuthMode> ParseAuthMode(std::string_view text);  // "none", "oidc", "basic"

struct AuthConfig {
  AuthMode mode = AuthMode::kNone;
  JwtOptions oidc;
  std::string oidc_jwks_url;  // one of these two for oidc
  std::string oidc_jwks_file;
  std::string basic_users_file;  // for basic
};

absl::StatusOr<std::unique_ptr<Authenticator>> MakeAuthenticator(const AuthConfig& config,
                                                                 base::Clock& clock);

}  // namespace tern::gateway::auth
