// tern-auth-bench: what authenticating one request costs the gateway (issue 14's "token
// validation cost per request"). Makes an RSA-2048 and an EC P-256 key, a key set with both,
// and signed tokens; then times GatewayService's authenticator on them: a bearer token with its
// key cached (RS256 and ES256), and basic credentials, first verified (argon2id at the given
// cost) and then remembered. Prints figures, asserts nothing.
//
//   tern-auth-bench [iterations] [argon2id ops] [argon2id memory KiB]

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

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

namespace {

using Json = nlohmann::json;
using tern::gateway::auth::Authenticator;

std::string B64Url(std::string_view bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::string Bn(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(pad_to > 0 ? pad_to : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

std::string Sign(EVP_PKEY* key, bool ec, const std::string& data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key);
  size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size());
  std::string signature(length, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes,
                 data.size());
  signature.resize(length);
  if (!ec) return signature;
  const auto* p = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

std::string Token(EVP_PKEY* key, bool ec, const std::string& kid) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Json header = {{"alg", ec ? "ES256" : "RS256"}, {"typ", "JWT"}, {"kid", kid}};
  Json claims = {{"iss", "https://issuer.bench"},
                 {"aud", "zeebe-api"},
                 {"sub", "bench"},
                 {"exp", now + 3600},
                 {"nbf", now - 10},
                 {"groups", {"ops"}}};
  std::string signed_part = B64Url(header.dump()) + "." + B64Url(claims.dump());
  return signed_part + "." + B64Url(Sign(key, ec, signed_part));
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

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> rsa(EVP_RSA_gen(2048), EVP_PKEY_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"), EVP_PKEY_free);
  Json jwks = {{"keys",
                {{{"kty", "RSA"},
                  {"kid", "rsa"},
                  {"alg", "RS256"},
                  {"n", B64Url(Bn(rsa.get(), OSSL_PKEY_PARAM_RSA_N))},
                  {"e", B64Url(Bn(rsa.get(), OSSL_PKEY_PARAM_RSA_E))}},
                 {{"kty", "EC"},
                  {"crv", "P-256"},
                  {"kid", "ec"},
                  {"x", B64Url(Bn(ec.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
                  {"y", B64Url(Bn(ec.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}}}}};
  tern::gateway::auth::JwtOptions options;
  options.issuer = "https://issuer.bench";
  auto jwt = tern::gateway::auth::MakeJwtAuthenticator(
      options, [document = jwks.dump()] { return absl::StatusOr<std::string>(document); },
      tern::base::SystemClock());
  Measure("oidc RS256 (2048-bit), key cached", *jwt, "Bearer " + Token(rsa.get(), false, "rsa"),
          iterations);
  Measure("oidc ES256 (P-256), key cached", *jwt, "Bearer " + Token(ec.get(), true, "ec"),
          iterations);

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
