// The gateway's authenticators with real keys: RSA and EC keys made here, JWTs signed here with
// OpenSSL, and argon2id hashes made here with libsodium (at its minimum cost, to stay fast).

#include "gateway/auth/auth.h"

#include <openssl/evp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "gateway/auth/flags.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/jwt_signing.h"

namespace tern::gateway::auth {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// libsodium's minimum argon2id cost: the tests check behaviour, not strength.
constexpr uint64_t kMinOps = 1;
constexpr size_t kMinMemory = 8192;

constexpr int64_t kNowSeconds = 1'700'000'000;
constexpr const char* kIssuer = "https://issuer.test/realms/camunda";

using tern::testing::B64Url;
using tern::testing::Base64;
using TestKey = tern::testing::SigningKey;
TestKey MakeRsa() { return tern::testing::MakeRsaKey(); }
TestKey MakeEc() { return tern::testing::MakeEcKey(); }

Json ValidClaims() {
  return {{"iss", kIssuer},           {"aud", "zeebe-api"},       {"sub", "worker-1"},
          {"azp", "orders-client"},   {"exp", kNowSeconds + 300}, {"nbf", kNowSeconds - 10},
          {"groups", {"ops", "dev"}}, {"tenants", {"tenant-a"}}};
}

std::string Token(const TestKey& key, const Json& header, const Json& claims) {
  return tern::testing::SignedToken(key, header, claims);
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new TestKey(MakeRsa());
    ec_ = new TestKey(MakeEc());
    other_rsa_ = new TestKey(MakeRsa());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_rsa_;
  }

  void SetUp() override {
    clock_.SetWall(kNowSeconds * 1000);
    jwks_ = {{"keys", {rsa_->Jwk("rsa-1"), ec_->Jwk("ec-1")}}};
    JwtOptions options;
    options.issuer = kIssuer;
    authenticator_ = MakeJwtAuthenticator(
        options,
        [this]() -> absl::StatusOr<std::string> {
          ++fetches_;
          return jwks_.dump();
        },
        clock_);
  }

  absl::StatusOr<Principal> Check(const std::string& token) {
    return authenticator_->Authenticate("Bearer " + token);
  }
  void ExpectRefused(const absl::StatusOr<Principal>& result, const std::string& reason) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(reason));
  }

  static TestKey* rsa_;
  static TestKey* ec_;
  static TestKey* other_rsa_;
  base::ManualClock clock_;
  Json jwks_;
  int fetches_ = 0;
  std::unique_ptr<Authenticator> authenticator_;
};
TestKey* JwtTest::rsa_ = nullptr;
TestKey* JwtTest::ec_ = nullptr;
TestKey* JwtTest::other_rsa_ = nullptr;

const Json kRs256 = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}};
const Json kEs256 = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "ec-1"}};

TEST_F(JwtTest, AcceptsRs256AndReturnsTheClaims) {
  auto principal = Check(Token(*rsa_, kRs256, ValidClaims()));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->mechanism, "oidc");
  EXPECT_EQ(principal->subject, "worker-1");
  EXPECT_EQ(principal->client_id, "orders-client");
  EXPECT_EQ(principal->groups, (std::vector<std::string>{"ops", "dev"}));
  EXPECT_EQ(principal->tenants, (std::vector<std::string>{"tenant-a"}));
}

TEST_F(JwtTest, AcceptsEs256AndAnAudienceArray) {
  Json claims = ValidClaims();
  claims["aud"] = {"account", "zeebe-api"};
  auto principal = Check(Token(*ec_, kEs256, claims));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "worker-1");
}

TEST_F(JwtTest, SchemeIsCaseInsensitive) {
  EXPECT_TRUE(authenticator_->Authenticate("bearer " + Token(*rsa_, kRs256, ValidClaims())).ok());
}

TEST_F(JwtTest, RefusedHttpCallersAreToldToSendABearerToken) {
  EXPECT_EQ(authenticator_->Challenge(), "Bearer realm=\"tern\"");
  EXPECT_EQ(MakeNoAuthenticator()->Challenge(), "");
}

TEST_F(JwtTest, RefusesMissingAndMalformed) {
  ExpectRefused(authenticator_->Authenticate(""), "missing");
  ExpectRefused(authenticator_->Authenticate("Basic dXNlcjpwdw=="), "malformed authorization");
  ExpectRefused(Check("abc.def"), "three");
  ExpectRefused(Check("a.b.c.d"), "three");
  ExpectRefused(Check("!!.e30.e30"), "base64url");
  ExpectRefused(Check(B64Url("[1]") + "." + B64Url("{}") + ".AA"), "JSON object");
  ExpectRefused(Check(std::string(20000, 'a')), "too long");
}

TEST_F(JwtTest, RefusesExpiredWithSkew) {
  Json claims = ValidClaims();
  claims["exp"] = kNowSeconds - 30;  // within the 60 s skew: accepted
  EXPECT_TRUE(Check(Token(*rsa_, kRs256, claims)).ok());
  claims["exp"] = kNowSeconds - 61;
  ExpectRefused(Check(Token(*rsa_, kRs256, claims)), "expired");
  claims.erase("exp");
  ExpectRefused(Check(Token(*rsa_, kRs256, claims)), "no expiry");
}

TEST_F(JwtTest, RefusesNotYetValid) {
  Json claims = ValidClaims();
  claims["nbf"] = kNowSeconds + 30;
  EXPECT_TRUE(Check(Token(*rsa_, kRs256, claims)).ok());
  claims["nbf"] = kNowSeconds + 120;
  ExpectRefused(Check(Token(*rsa_, kRs256, claims)), "not yet valid");
}

TEST_F(JwtTest, RefusesWrongIssuerAndAudience) {
  Json claims = ValidClaims();
  claims["iss"] = "https://evil.test";
  ExpectRefused(Check(Token(*rsa_, kRs256, claims)), "wrong issuer");
  claims = ValidClaims();
  claims["aud"] = "operate-api";
  ExpectRefused(Check(Token(*rsa_, kRs256, claims)), "wrong audience");
  claims["aud"] = Json::array({"operate-api", "tasklist-api"});
  ExpectRefused(Check(Token(*rsa_, kRs256, claims)), "wrong audience");
  claims.erase("aud");
  ExpectRefused(Check(Token(*rsa_, kRs256, claims)), "wrong audience");
}

TEST_F(JwtTest, RefusesBadSignature) {
  // Signed by a key the issuer does not have, under the issuer's kid.
  ExpectRefused(Check(Token(*other_rsa_, kRs256, ValidClaims())), "bad signature");
  // A valid token with a changed payload.
  std::string token = Token(*ec_, kEs256, ValidClaims());
  Json forged = ValidClaims();
  forged["sub"] = "admin";
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  token = token.substr(0, first + 1) + B64Url(forged.dump()) + token.substr(second);
  ExpectRefused(Check(token), "bad signature");
}

TEST_F(JwtTest, RefusesAlgNoneHsAndKeyTypeConfusion) {
  Json none = {{"alg", "none"}, {"kid", "rsa-1"}};
  ExpectRefused(Check(B64Url(none.dump()) + "." + B64Url(ValidClaims().dump()) + "."), "alg none");
  Json hs = {{"alg", "HS256"}, {"kid", "rsa-1"}};
  ExpectRefused(Check(B64Url(hs.dump()) + "." + B64Url(ValidClaims().dump()) + ".AAAA"),
                "unsupported signature algorithm");
  // An ES256 token naming the RSA key.
  Json confused = {{"alg", "ES256"}, {"kid", "rsa-1"}};
  ExpectRefused(Check(Token(*ec_, confused, ValidClaims())), "not for the token's algorithm");
}

TEST_F(JwtTest, UnknownKidRefetchesAtMostOncePerInterval) {
  EXPECT_EQ(fetches_, 1);  // at construction
  const Json rotated = {{"alg", "RS256"}, {"kid", "rsa-2"}};
  // The issuer rotates its keys; an unknown kid within the interval does not reach it.
  jwks_["keys"].push_back(other_rsa_->Jwk("rsa-2"));
  ExpectRefused(Check(Token(*other_rsa_, rotated, ValidClaims())), "unknown key id");
  EXPECT_EQ(fetches_, 1);
  clock_.Advance(30'000);
  EXPECT_TRUE(Check(Token(*other_rsa_, rotated, ValidClaims())).ok());
  EXPECT_EQ(fetches_, 2);
  // A stream of tokens naming kids the issuer never had: one fetch per interval, no more.
  const Json unknown = {{"alg", "RS256"}, {"kid", "attacker"}};
  clock_.Advance(30'000);
  for (int i = 0; i < 5; ++i) {
    ExpectRefused(Check(Token(*other_rsa_, unknown, ValidClaims())), "unknown key id");
  }
  EXPECT_EQ(fetches_, 3);
  // Known keys never fetch.
  EXPECT_TRUE(Check(Token(*rsa_, kRs256, ValidClaims())).ok());
  EXPECT_TRUE(Check(Token(*other_rsa_, rotated, ValidClaims())).ok());
  EXPECT_EQ(fetches_, 3);
}

TEST(JwtSource, KeepsKeysWhenAFetchFailsAndRejectsBadUrls) {
  base::ManualClock clock(kNowSeconds * 1000);
  TestKey rsa = MakeEc();
  bool fail = false;
  JwtOptions options;
  options.issuer = kIssuer;
  auto authenticator = MakeJwtAuthenticator(
      options,
      [&]() -> absl::StatusOr<std::string> {
        if (fail) return absl::UnavailableError("issuer down");
        return Json{{"keys", {rsa.Jwk("k")}}}.dump();
      },
      clock);
  const Json header = {{"alg", "ES256"}, {"kid", "k"}};
  fail = true;
  clock.Advance(2 * 3'600'000);  // the key set is stale, the refresh fails
  Json claims = ValidClaims();
  claims["exp"] = kNowSeconds + 3 * 3600;
  EXPECT_TRUE(authenticator->Authenticate("Bearer " + Token(rsa, header, claims)).ok());

  EXPECT_FALSE(JwksFromUrl("http://issuer.example.com/certs").ok());
  EXPECT_FALSE(JwksFromUrl("ftp://localhost/certs").ok());
  EXPECT_TRUE(JwksFromUrl("http://127.0.0.1:8080/certs").ok());
  EXPECT_TRUE(JwksFromUrl("https://issuer.example.com/certs").ok());
}

TEST(AuthConfig, FactoryChecksTheFlags) {
  base::ManualClock clock;
  AuthConfig config;
  EXPECT_TRUE(MakeAuthenticator(config, clock).ok());
  config.mode = AuthMode::kOidc;
  EXPECT_FALSE(MakeAuthenticator(config, clock).ok());  // no issuer
  config.oidc.issuer = kIssuer;
  EXPECT_FALSE(MakeAuthenticator(config, clock).ok());  // no key source
  config.mode = AuthMode::kBasic;
  EXPECT_FALSE(MakeAuthenticator(config, clock).ok());  // no users file
  EXPECT_EQ(*ParseAuthMode("oidc"), AuthMode::kOidc);
  EXPECT_FALSE(ParseAuthMode("ldap").ok());
}

// ---- basic ----

std::string BasicHeader(const std::string& user_and_password) {
  return "Basic " + Base64(user_and_password, false);
}

class BasicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto hash = HashPassword("s3cret pass", kMinOps, kMinMemory);
    ASSERT_TRUE(hash.ok()) << hash.status();
    auto authenticator = MakeBasicAuthenticator({{"demo", *hash}});
    ASSERT_TRUE(authenticator.ok()) << authenticator.status();
    authenticator_ = *std::move(authenticator);
  }
  std::unique_ptr<Authenticator> authenticator_;
};

TEST_F(BasicTest, AcceptsTheRightPassword) {
  auto principal = authenticator_->Authenticate(BasicHeader("demo:s3cret pass"));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->mechanism, "basic");
  EXPECT_EQ(principal->subject, "demo");
}

TEST_F(BasicTest, RefusesWithoutNamingTheSecret) {
  for (const char* credentials : {"demo:wrong", "nobody:s3cret pass", "demo:"}) {
    auto result = authenticator_->Authenticate(BasicHeader(credentials));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(result.status().message(), "unknown user or wrong password");
  }
  EXPECT_THAT(std::string(authenticator_->Authenticate("").status().message()),
              HasSubstr("missing"));
  EXPECT_THAT(std::string(authenticator_->Authenticate("Basic !!!!").status().message()),
              HasSubstr("malformed"));
  EXPECT_THAT(std::string(authenticator_->Authenticate(BasicHeader("no-colon")).status().message()),
              HasSubstr("malformed"));
  EXPECT_THAT(std::string(authenticator_->Authenticate("Bearer x.y.z").status().message()),
              HasSubstr("malformed"));
}

// A verified credential is remembered (workers send the same header on every call); that must
// never let a different password, a different user or a refused header through.
TEST_F(BasicTest, ARememberedCredentialAdmitsNothingElse) {
  for (int i = 0; i < 3; ++i) {
    auto again = authenticator_->Authenticate(BasicHeader("demo:s3cret pass"));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->subject, "demo");
    EXPECT_FALSE(authenticator_->Authenticate(BasicHeader("demo:s3cret pas")).ok());
    EXPECT_FALSE(authenticator_->Authenticate(BasicHeader("demo:s3cret pass ")).ok());
    EXPECT_FALSE(authenticator_->Authenticate(BasicHeader("nobody:s3cret pass")).ok());
  }
  EXPECT_EQ(authenticator_->Challenge(), "Basic realm=\"tern\", charset=\"UTF-8\"");
}

TEST(BasicConfig, RefusesNonArgon2idHashesAndDuplicates) {
  EXPECT_FALSE(MakeBasicAuthenticator({}).ok());
  EXPECT_FALSE(MakeBasicAuthenticator({{"demo", "plaintext"}}).ok());
  auto error = MakeBasicAuthenticator({{"demo", "$argon2i$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"}});
  ASSERT_FALSE(error.ok());
  EXPECT_THAT(std::string(error.status().message()), Not(HasSubstr("c2FsdA")));
  auto hash = HashPassword("pw", kMinOps, kMinMemory);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(MakeBasicAuthenticator({{"demo", *hash}, {"demo", *hash}}).ok());
}

// ---- flags ----

absl::Status ParseFlags(std::vector<std::string> args, AuthFlags& flags,
                        const std::string& address) {
  CLI::App app;
  AddAuthFlags(app, flags);
  args.insert(args.begin(), "tern-gateway");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return FinishAuthFlags(flags, address);
}

TEST(AuthFlagsTest, NoAuthOnlyOnLoopbackUnlessInsecure) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:26500"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:26500"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:26500"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:26500"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:26500"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.5:26500"));
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.2:26500"));
  EXPECT_FALSE(IsLoopbackAddress("127.example.com:26500"));  // a name, not an address

  AuthFlags defaults;
  EXPECT_TRUE(ParseFlags({}, defaults, "127.0.0.1:26500").ok());
  AuthFlags exposed;
  auto status = ParseFlags({}, exposed, "0.0.0.0:26500");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--insecure-no-auth"));
  AuthFlags insecure;
  EXPECT_TRUE(ParseFlags({"--insecure-no-auth"}, insecure, "0.0.0.0:26500").ok());
  AuthFlags oidc;
  ASSERT_TRUE(ParseFlags({"--auth-mode", "oidc", "--oidc-issuer", kIssuer, "--oidc-jwks-url",
                          "https://issuer.test/certs"},
                         oidc, "0.0.0.0:26500")
                  .ok());
  EXPECT_EQ(oidc.config.mode, AuthMode::kOidc);
  EXPECT_EQ(oidc.config.oidc.audience, "zeebe-api");
  EXPECT_EQ(oidc.config.oidc_jwks_url, "https://issuer.test/certs");
}

}  // namespace
}  // namespace tern::gateway::auth
