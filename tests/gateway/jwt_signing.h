#pragma once

// Real signed JWTs for the authentication tests and tern-auth-bench: RSA-2048 and EC P-256 keys
// made with OpenSSL, their JWKs, and tokens signed with them (RS256, ES256 as JWS wants it).
// Header-only; no test framework, so the benchmark can use it too.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tern::testing {

// Base64 of `bytes`: the URL alphabet without padding (JWT), or the standard one with padding.
inline std::string Base64(std::string_view bytes, bool url) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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
  if (!url) {
    while (out.size() % 4 != 0) out.push_back('=');
  }
  return out;
}
inline std::string B64Url(std::string_view bytes) { return Base64(bytes, true); }

// A key parameter as big-endian bytes, left-padded to `pad_to` (EC coordinates are 32 bytes).
inline std::string BnBytes(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return "";
  std::string out(pad_to > 0 ? pad_to : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

struct SigningKey {
  std::shared_ptr<EVP_PKEY> pkey;
  bool ec = false;

  nlohmann::json Jwk(const std::string& kid) const {
    if (ec) {
      return {{"kty", "EC"},
              {"crv", "P-256"},
              {"kid", kid},
              {"use", "sig"},
              {"x", B64Url(BnBytes(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
              {"y", B64Url(BnBytes(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
    }
    return {{"kty", "RSA"},
            {"kid", kid},
            {"alg", "RS256"},
            {"n", B64Url(BnBytes(pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", B64Url(BnBytes(pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
  }

  // The signature of `data` (SHA-256); for EC as r || s, as JWS wants, not DER. Empty when
  // OpenSSL fails, which the token's verification then refuses.
  std::string Sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    size_t length = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) {
      return "";
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       bytes, data.size()) != 1) {
      return "";
    }
    signature.resize(length);
    if (!ec) return signature;
    const auto* p = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
    if (sig == nullptr) return "";
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
  }
};

inline SigningKey MakeRsaKey() {
  return {std::shared_ptr<EVP_PKEY>(EVP_RSA_gen(2048), EVP_PKEY_free), false};
}
inline SigningKey MakeEcKey() {
  return {std::shared_ptr<EVP_PKEY>(EVP_EC_gen("P-256"), EVP_PKEY_free), true};
}

// header.claims.signature, each part base64url.
inline std::string SignedToken(const SigningKey& key, const nlohmann::json& header,
                               const nlohmann::json& claims) {
  const std::string signed_part = B64Url(header.dump()) + "." + B64Url(claims.dump());
  return signed_part + "." + B64Url(key.Sign(signed_part));
}

}  // namespace tern::testing
