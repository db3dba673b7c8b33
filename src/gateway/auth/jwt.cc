// OIDC bearer tokens: JWS compact serialization, RS256 and ES256, keys from a JWKS.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/strings.h"
#include "gateway/auth/auth.h"
#include "gateway/auth/encoding.h"
#include "spdlog/spdlog.h"

namespace tern::gateway::auth {
namespace {

using Json = nlohmann::json;
using internal::Base64UrlDecode;

// Longer headers are refused before any decoding; real tokens are a few KiB at most.
constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr size_t kMaxJwksBytes = 1024 * 1024;
constexpr int kMinRsaBits = 2048;

absl::Status Unauthenticated(std::string_view reason) {
  return absl::UnauthenticatedError(StrCat("invalid bearer token: ", reason));
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::shared_ptr<EVP_PKEY>;

enum class Alg { kRs256, kEs256 };

struct Key {
  Alg alg;  // the only algorithm this key verifies: an RSA key never checks an ES256 token
  Pkey pkey;
};

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::optional<std::string> StringMember(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

absl::StatusOr<Pkey> RsaKeyFromJwk(const Json& jwk) {
  auto n = StringMember(jwk, "n");
  auto e = StringMember(jwk, "e");
  if (!n || !e) return absl::InvalidArgumentError("RSA key without n or e");
  auto n_bytes = Base64UrlDecode(*n);
  auto e_bytes = Base64UrlDecode(*e);
  if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty()) {
    return absl::InvalidArgumentError("RSA key with a malformed n or e");
  }
  Bn bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n_bytes->data()),
                    static_cast<int>(n_bytes->size()), nullptr));
  Bn bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e_bytes->data()),
                    static_cast<int>(e_bytes->size()), nullptr));
  if (!bn_n || !bn_e) return absl::InternalError("out of memory");
  if (BN_num_bits(bn_n.get()) < kMinRsaBits) {
    return absl::InvalidArgumentError(StrCat("RSA key shorter than ", kMinRsaBits, " bits"));
  }
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          OSSL_PARAM_BLD_free);
  if (!builder || !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return absl::InternalError("cannot build RSA parameters");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
      OSSL_PARAM_BLD_to_param(builder.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return absl::InvalidArgumentError("RSA key rejected by OpenSSL");
  }
  return Pkey(pkey, PkeyFree());
}

absl::StatusOr<Pkey> EcKeyFromJwk(const Json& jwk) {
  if (StringMember(jwk, "crv") != "P-256") {
    return absl::InvalidArgumentError("EC key not on curve P-256");
  }
  auto x = StringMember(jwk, "x");
  auto y = StringMember(jwk, "y");
  auto x_bytes = x ? Base64UrlDecode(*x) : std::nullopt;
  auto y_bytes = y ? Base64UrlDecode(*y) : std::nullopt;
  if (!x_bytes || !y_bytes || x_bytes->size() != 32 || y_bytes->size() != 32) {
    return absl::InvalidArgumentError("EC key with a malformed x or y");
  }
  // SEC 1 uncompressed point: 0x04 || x || y. OpenSSL checks that it lies on the curve.
  std::string point = "\x04" + *x_bytes + *y_bytes;
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          OSSL_PARAM_BLD_free);
  if (!builder ||
      !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return absl::InternalError("cannot build EC parameters");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
      OSSL_PARAM_BLD_to_param(builder.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return absl::InvalidArgumentError("EC key rejected by OpenSSL");
  }
  Pkey key(pkey, PkeyFree());
  // fromdata does not always check the point; a point off the curve must never verify anything.
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr), EVP_PKEY_CTX_free);
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return absl::InvalidArgumentError("EC key is not a valid P-256 point");
  }
  return key;
}

// The keys of a JWKS by `kid` (keys without a kid under ""). Keys that are not for signatures,
// of another type, or malformed are skipped with a warning: one odd key must not lock out the rest.
absl::StatusOr<std::map<std::string, Key>> ParseJwks(std::string_view document) {
  if (document.size() > kMaxJwksBytes) return absl::InvalidArgumentError("key set too large");
  Json jwks = Json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (jwks.is_discarded() || !jwks.is_object() || !jwks.contains("keys") ||
      !jwks["keys"].is_array()) {
    return absl::InvalidArgumentError("not a JSON Web Key Set (no \"keys\" array)");
  }
  std::map<std::string, Key> keys;
  for (const Json& jwk : jwks["keys"]) {
    if (!jwk.is_object()) continue;
    const std::string kid = StringMember(jwk, "kid").value_or("");
    if (auto use = StringMember(jwk, "use"); use && *use != "sig") continue;
    const auto kty = StringMember(jwk, "kty");
    const auto alg = StringMember(jwk, "alg");
    absl::StatusOr<Pkey> pkey;
    Alg key_alg;
    if (kty == "RSA" && (!alg || *alg == "RS256")) {
      key_alg = Alg::kRs256;
      pkey = RsaKeyFromJwk(jwk);
    } else if (kty == "EC" && (!alg || *alg == "ES256")) {
      key_alg = Alg::kEs256;
      pkey = EcKeyFromJwk(jwk);
    } else {
      continue;  // another algorithm: tokens naming this kid are refused as "unknown kid"
    }
    if (!pkey.ok()) {
      spdlog::warn("skipping key '{}' of the OIDC key set: {}", kid,
                   ToStd(pkey.status().message()));
      continue;
    }
    keys.insert_or_assign(kid, Key{key_alg, *std::move(pkey)});
  }
  return keys;
}

// JWS ES256 signatures are r || s, 32 bytes each; OpenSSL verifies DER.
std::optional<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (sig == nullptr) return std::nullopt;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

bool VerifySignature(const Key& key, std::string_view signed_part, std::string_view signature) {
  std::string der;
  if (key.alg == Alg::kEs256) {
    auto converted = EcdsaRawToDer(signature);
    if (!converted) return false;
    der = *std::move(converted);
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

// A claim that may be one string or an array of strings (aud, groups, tenants).
std::vector<std::string> StringList(const Json& claims, const std::string& name) {
  std::vector<std::string> out;
  auto it = claims.find(name);
  if (it == claims.end()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const Json& item : *it) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
  }
  return out;
}

class JwtAuthenticator final : public Authenticator {
 public:
  JwtAuthenticator(JwtOptions options, JwksFetcher fetch, base::Clock& clock)
      : options_(std::move(options)), fetch_(std::move(fetch)), clock_(clock) {
    std::lock_guard fetch_lock(fetch_mutex_);
    Refresh();
  }

  absl::StatusOr<Principal> Authenticate(std::string_view authorization) override {
    if (authorization.empty()) {
      return absl::UnauthenticatedError("missing authorization header (expected a bearer token)");
    }
    auto token = internal::StripScheme(authorization, "Bearer");
    if (!token) {
      return absl::UnauthenticatedError(
          "malformed authorization header: expected 'Bearer <token>'");
    }
    if (token->size() > kMaxTokenBytes) return Unauthenticated("malformed: too long");

    const size_t first_dot = token->find('.');
    const size_t second_dot =
        first_dot == std::string_view::npos ? first_dot : token->find('.', first_dot + 1);
    if (second_dot == std::string_view::npos ||
        token->find('.', second_dot + 1) != std::string_view::npos) {
      return Unauthenticated("malformed: not three dot-separated parts");
    }
    auto header_bytes = Base64UrlDecode(token->substr(0, first_dot));
    auto payload_bytes = Base64UrlDecode(token->substr(first_dot + 1, second_dot - first_dot - 1));
    auto signature = Base64UrlDecode(token->substr(second_dot + 1));
    if (!header_bytes || !payload_bytes || !signature) {
      return Unauthenticated("malformed: a part is not base64url");
    }
    Json header = Json::parse(*header_bytes, nullptr, false);
    Json claims = Json::parse(*payload_bytes, nullptr, false);
    if (!header.is_object() || !claims.is_object()) {
      return Unauthenticated("malformed: header or payload is not a JSON object");
    }

    const auto alg_name = StringMember(header, "alg");
    Alg alg;
    if (alg_name == "RS256") {
      alg = Alg::kRs256;
    } else if (alg_name == "ES256") {
      alg = Alg::kEs256;
    } else if (alg_name && internal::EqualsIgnoreCase(*alg_name, "none")) {
      return Unauthenticated("unsigned tokens (alg none) are refused");
    } else {
      return Unauthenticated("unsupported signature algorithm (RS256 and ES256 are accepted)");
    }
    if (header.contains("crit")) {
      return Unauthenticated("unsupported critical header parameters");
    }

    const std::string kid = StringMember(header, "kid").value_or("");
    auto key = FindKey(kid);
    if (!key) return Unauthenticated("unknown key id (kid) for the configured key set");
    if (key->alg != alg) {
      return Unauthenticated("the key named by kid is not for the token's algorithm");
    }
    if (!VerifySignature(*key, token->substr(0, second_dot), *signature)) {
      return Unauthenticated("bad signature");
    }

    // Claims are only looked at once the signature holds.
    const int64_t now = clock_.WallMillis() / 1000;
    auto exp = claims.find("exp");
    if (exp == claims.end() || !exp->is_number()) return Unauthenticated("no expiry (exp)");
    if (static_cast<double>(now - options_.clock_skew_seconds) >= exp->get<double>()) {
      return Unauthenticated("expired");
    }
    if (auto nbf = claims.find("nbf"); nbf != claims.end()) {
      if (!nbf->is_number()) return Unauthenticated("malformed not-before (nbf)");
      if (static_cast<double>(now + options_.clock_skew_seconds) < nbf->get<double>()) {
        return Unauthenticated("not yet valid (nbf)");
      }
    }
    if (StringMember(claims, "iss") != options_.issuer) {
      return Unauthenticated(StrCat("wrong issuer (expected ", options_.issuer, ")"));
    }
    bool audience_matches = false;
    for (const std::string& audience : StringList(claims, "aud")) {
      audience_matches = audience_matches || audience == options_.audience;
    }
    if (!audience_matches) {
      return Unauthenticated(StrCat("wrong audience (expected ", options_.audience, ")"));
    }

    Principal principal;
    principal.mechanism = "oidc";
    principal.subject = StringMember(claims, "sub").value_or("");
    principal.client_id =
        StringMember(claims, "azp").value_or(StringMember(claims, "client_id").value_or(""));
    principal.groups = StringList(claims, options_.groups_claim);
    principal.tenants = StringList(claims, options_.tenants_claim);
    return principal;
  }

  std::string_view Challenge() const override { return "Bearer realm=\"tern\""; }

 private:
  using KeyMap = std::map<std::string, Key>;

  std::optional<Key> Lookup(const std::string& kid) {
    std::lock_guard lock(keys_mutex_);
    if (keys_ == nullptr) return std::nullopt;
    auto it = keys_->find(kid);
    if (it != keys_->end()) return it->second;
    // A token without kid is accepted when the set holds exactly one key.
    if (kid.empty() && keys_->size() == 1) return keys_->begin()->second;
    return std::nullopt;
  }

  bool Stale() {
    std::lock_guard lock(keys_mutex_);
    return keys_ == nullptr ||
           clock_.MonotonicMillis() - fetched_at_millis_ >= options_.max_key_age_millis;
  }

  std::optional<Key> FindKey(const std::string& kid) {
    if (!Stale()) {
      if (auto key = Lookup(kid)) return key;
    }
    // Unknown kid (the issuer may have rotated its keys) or an old key set: fetch again, at most
    // once per min_refresh_interval. Fetches are serialized; lookups of known keys do not wait.
    {
      std::lock_guard fetch_lock(fetch_mutex_);
      if (auto key = Lookup(kid); key && !Stale()) return key;
      if (!attempted_ ||
          clock_.MonotonicMillis() - attempted_at_millis_ >= options_.min_refresh_interval_millis) {
        Refresh();
      }
    }
    return Lookup(kid);
  }

  // Requires fetch_mutex_.
  void Refresh() {
    attempted_ = true;
    attempted_at_millis_ = clock_.MonotonicMillis();
    absl::StatusOr<std::string> document = fetch_();
    absl::StatusOr<KeyMap> keys =
        document.ok() ? ParseJwks(*document) : absl::StatusOr<KeyMap>(document.status());
    if (!keys.ok()) {
      // Keep the keys we have: an issuer hiccup must not lock every client out.
      spdlog::warn("cannot load the OIDC key set: {}", ToStd(keys.status().message()));
      return;
    }
    if (keys->empty()) spdlog::warn("the OIDC key set has no RS256 or ES256 signing key");
    std::lock_guard lock(keys_mutex_);
    keys_ = std::make_shared<const KeyMap>(*std::move(keys));
    fetched_at_millis_ = clock_.MonotonicMillis();
  }

  const JwtOptions options_;
  const JwksFetcher fetch_;
  base::Clock& clock_;

  std::mutex fetch_mutex_;
  bool attempted_ = false;           // guarded by fetch_mutex_
  int64_t attempted_at_millis_ = 0;  // guarded by fetch_mutex_

  std::mutex keys_mutex_;
  std::shared_ptr<const KeyMap> keys_;  // guarded by keys_mutex_
  int64_t fetched_at_millis_ = 0;       // guarded by keys_mutex_
};

}  // namespace

std::unique_ptr<Authenticator> MakeJwtAuthenticator(JwtOptions options, JwksFetcher fetch_jwks,
                                                    base::Clock& clock) {
  return std::make_unique<JwtAuthenticator>(std::move(options), std::move(fetch_jwks), clock);
}

}  // namespace tern::gateway::auth
