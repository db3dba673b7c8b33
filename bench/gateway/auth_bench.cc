// tern-auth-bench: what authenticating one request costs the gateway (issue 14's "token
// validation cost per request"). Makes an RSA-2048 and an EC P-256 key, a key set with both,
// and signed tokens; then times GatewayService's authenticator on them: a bearer token with its
// key cached (RS256 and ES256), and basic credentials, first verified (argon2id at the given
// cost) and then remembered. Prints figures, asserts nothing.
//
//   tern-auth-bench [iterations] [argon2id ops] [argon2id memory KiB]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "gateway/auth/auth.h"
#include "tests/gateway/jwt_signing.h"

namespace {

using Json = nlohmann::json;
using tern::gateway::auth::Authenticator;

std::string Token(const tern::testing::SigningKey& key, const std::string& kid) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Json header = {{"alg", key.ec ? "ES256" : "RS256"}, {"typ", "JWT"}, {"kid", kid}};
  Json claims = {{"iss", "https://issuer.bench"},
                 {"aud", "zeebe-api"},
                 {"sub", "bench"},
                 {"exp", now + 3600},
                 {"nbf", now - 10},
                 {"groups", {"ops"}}};
  return tern::testing::SignedToken(key, header, claims);
}

// Calls per second and the median and 99th percentile of single calls, in microseconds.
void Measure(const char* what, Authenticator& authenticator, const std::string& header,
             int iterations) {
  std::vector<double> micros;
  micros.reserve(iterations);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    const auto before = std::chrono::steady_clock::now();
    auto principal = authenticator.Authenticate(header);
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - before)
            .count());
    if (!principal.ok()) {
      std::printf("%s: refused: %s\n", what, std::string(principal.status().message()).c_str());
      return;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(micros.begin(), micros.end());
  std::printf("%-40s %8d calls  %10.0f calls/s  p50 %8.1f us  p99 %8.1f us\n", what, iterations,
              iterations / seconds, micros[micros.size() / 2],
              micros[std::min(micros.size() - 1, micros.size() * 99 / 100)]);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20'000;
  const uint64_t ops = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  const size_t memory_kib = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;

  const tern::testing::SigningKey rsa = tern::testing::MakeRsaKey();
  const tern::testing::SigningKey ec = tern::testing::MakeEcKey();
  Json jwks = {{"keys", {rsa.Jwk("rsa"), ec.Jwk("ec")}}};
  tern::gateway::auth::JwtOptions options;
  options.issuer = "https://issuer.bench";
  auto jwt = tern::gateway::auth::MakeJwtAuthenticator(
      options, [document = jwks.dump()] { return absl::StatusOr<std::string>(document); },
      tern::base::SystemClock());
  Measure("oidc RS256 (2048-bit), key cached", *jwt, "Bearer " + Token(rsa, "rsa"), iterations);
  Measure("oidc ES256 (P-256), key cached", *jwt, "Bearer " + Token(ec, "ec"), iterations);

  auto hash = tern::gateway::auth::HashPassword("bench password", ops, memory_kib * 1024);
  if (!hash.ok()) {
    std::printf("hashing failed: %s\n", std::string(hash.status().message()).c_str());
    return 1;
  }
  auto basic = tern::gateway::auth::MakeBasicAuthenticator({{"bench", *hash}});
  if (!basic.ok()) return 1;
  // "bench:bench password" in base64; a wrong password is never remembered, so it shows the
  // cost of one argon2id verification.
  const std::string good = "Basic YmVuY2g6YmVuY2ggcGFzc3dvcmQ=";
  Measure("basic, first call (argon2id verify)", **basic, good, 1);
  Measure("basic, remembered", **basic, good, iterations);
  std::printf("argon2id cost: %s\n", hash->substr(0, hash->find('$', 15)).c_str());
  return 0;
}
