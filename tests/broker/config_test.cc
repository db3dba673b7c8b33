// Raft timing in the broker configuration (issue 12 item 4): durations with defaults that cope
// with round trips of several hundred milliseconds, and the tick counts that override them.

#include "broker/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace tern::broker {
namespace {

absl::StatusOr<BrokerConfig> Load(std::vector<std::string> args) {
  args.insert(args.begin(), "tern-broker");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return LoadBrokerConfig(static_cast<int>(argv.size()), argv.data());
}

TEST(BrokerConfigTiming, DefaultsAreOneSecondElectionAndHundredMillisecondHeartbeats) {
  auto config = Load({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tick_ms, 50);
  EXPECT_EQ(config->election_ticks, 20);
  EXPECT_EQ(config->heartbeat_ticks, 2);
  EXPECT_EQ(config->election_timeout_ms, 1000);
  EXPECT_EQ(config->heartbeat_interval_ms, 100);
}

TEST(BrokerConfigTiming, DurationsBecomeTicks) {
  auto config =
      Load({"--tick", "100ms", "--election-timeout", "3s", "--heartbeat-interval", "250ms"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->election_ticks, 30);
  EXPECT_EQ(config->heartbeat_ticks, 2);  // rounded down to whole ticks
  EXPECT_EQ(config->election_timeout_ms, 3000);
  EXPECT_EQ(config->heartbeat_interval_ms, 200);
}

TEST(BrokerConfigTiming, ElectionTimeoutRoundsUpToWholeTicks) {
  auto config = Load({"--election-timeout", "310ms", "--heartbeat-interval", "50ms"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->election_ticks, 7);
  EXPECT_EQ(config->heartbeat_ticks, 1);
}

TEST(BrokerConfigTiming, ExplicitTicksWinFromFlagsAndFile) {
  auto flags = Load({"--election-ticks", "6", "--heartbeat-ticks", "1"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->election_ticks, 6);
  EXPECT_EQ(flags->heartbeat_ticks, 1);
  EXPECT_EQ(flags->election_timeout_ms, 300);

  std::string file = ::testing::TempDir() + "/tern_config_timing.yaml";
  std::ofstream(file) << "election-ticks: 8\nheartbeat-interval: 150ms\n";
  auto from_file = Load({"--config", file});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->election_ticks, 8);
  EXPECT_EQ(from_file->heartbeat_ticks, 3);
}

TEST(BrokerConfigTiming, EnvironmentSetsTheDurations) {
  ::setenv("TERN_ELECTION_TIMEOUT", "2s", 1);
  auto config = Load({});
  ::unsetenv("TERN_ELECTION_TIMEOUT");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->election_ticks, 40);
}

TEST(BrokerConfigTiming, ElectionTimeoutMustExceedTheHeartbeatInterval) {
  auto config = Load({"--election-timeout", "100ms", "--heartbeat-interval", "100ms"});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("election timeout must exceed"), std::string::npos);
  EXPECT_FALSE(Load({"--election-timeout", "soon"}).ok());
}

TEST(BrokerConfigBackpressure, LatencyFloorIsAutomaticUnlessGiven) {
  auto automatic = Load({});
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  EXPECT_EQ(automatic->backpressure_latency_floor_ms, 0);  // chosen per partition's replicas
  auto given = Load({"--backpressure-latency-floor", "60ms"});
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(given->backpressure_latency_floor_ms, 60);
  auto zero = Load({"--backpressure-latency-floor", "0ms"});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("backpressure-latency-floor"), std::string::npos);
  EXPECT_FALSE(Load({"--backpressure-latency-floor", "slow"}).ok());
}

TEST(BrokerConfigRest, AddressFromFlagFileAndEnvironmentAndOff) {
  auto defaults = Load({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->rest_address, "127.0.0.1:8080");
  EXPECT_EQ(defaults->rest_max_connections, 1000);

  // A non-loopback address without authentication needs --insecure-no-auth (BrokerConfigAuth).
  auto flag =
      Load({"--rest-address", "0.0.0.0:8081", "--rest-max-connections", "5", "--insecure-no-auth"});
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ(flag->rest_address, "0.0.0.0:8081");
  EXPECT_EQ(flag->rest_max_connections, 5);

  std::string file = ::testing::TempDir() + "/tern_config_rest.yaml";
  std::ofstream(file) << "rest-address: none\n";
  auto off = Load({"--config", file});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->rest_address, "");

  ::setenv("TERN_REST_ADDRESS", "127.0.0.1:9090", 1);
  auto env = Load({});
  ::unsetenv("TERN_REST_ADDRESS");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->rest_address, "127.0.0.1:9090");

  // Without the embedded gateway there is no REST API either.
  auto no_gateway = Load({"--no-gateway"});
  ASSERT_TRUE(no_gateway.ok()) << no_gateway.status();
  EXPECT_EQ(no_gateway->rest_address, "");
  EXPECT_FALSE(Load({"--rest-max-connections", "0"}).ok());
}

// Issue 14 item 3: authentication is none by default only on loopback addresses.
TEST(BrokerConfigAuth, NoAuthOnANonLoopbackAddressNeedsInsecureNoAuth) {
  auto defaults = Load({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->auth.mode, gateway::auth::AuthMode::kNone);
  EXPECT_FALSE(defaults->insecure_no_auth);

  for (const char* key : {"--gateway-address", "--rest-address"}) {
    auto exposed = Load({key, "0.0.0.0:26600"});
    ASSERT_FALSE(exposed.ok()) << key;
    EXPECT_NE(exposed.status().message().find("0.0.0.0:26600"), std::string::npos);
    EXPECT_NE(exposed.status().message().find("--insecure-no-auth"), std::string::npos);
    auto insecure = Load({key, "0.0.0.0:26600", "--insecure-no-auth"});
    ASSERT_TRUE(insecure.ok()) << insecure.status();
    EXPECT_TRUE(insecure->insecure_no_auth);
  }
  // Without the embedded gateway nothing serves clients.
  EXPECT_TRUE(Load({"--gateway-address", "0.0.0.0:26600", "--no-gateway"}).ok());

  ::setenv("TERN_INSECURE_NO_AUTH", "true", 1);
  auto env = Load({"--gateway-address", "0.0.0.0:26600"});
  ::unsetenv("TERN_INSECURE_NO_AUTH");
  ASSERT_TRUE(env.ok()) << env.status();

  std::string file = ::testing::TempDir() + "/tern_config_insecure.yaml";
  std::ofstream(file) << "gateway-address: 0.0.0.0:26600\ninsecure-no-auth: true\n";
  EXPECT_TRUE(Load({"--config", file}).ok());
}

TEST(BrokerConfigAuth, OidcAndBasicFromFlagsFileAndEnvironment) {
  auto oidc =
      Load({"--auth-mode", "oidc", "--oidc-issuer", "https://issuer.test", "--oidc-jwks-url",
            "https://issuer.test/jwks", "--gateway-address", "0.0.0.0:26600"});
  ASSERT_TRUE(oidc.ok()) << oidc.status();
  EXPECT_EQ(oidc->auth.mode, gateway::auth::AuthMode::kOidc);
  EXPECT_EQ(oidc->auth.oidc.issuer, "https://issuer.test");
  EXPECT_EQ(oidc->auth.oidc.audience, "zeebe-api");
  EXPECT_EQ(oidc->auth.oidc_jwks_url, "https://issuer.test/jwks");

  std::string file = ::testing::TempDir() + "/tern_config_auth.yaml";
  std::ofstream(file) << "auth-mode: oidc\noidc-issuer: https://file.test\n"
                         "oidc-audience: orders\noidc-jwks-file: /etc/tern/jwks.json\n";
  auto from_file = Load({"--config", file});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->auth.mode, gateway::auth::AuthMode::kOidc);
  EXPECT_EQ(from_file->auth.oidc.issuer, "https://file.test");
  EXPECT_EQ(from_file->auth.oidc.audience, "orders");
  EXPECT_EQ(from_file->auth.oidc_jwks_file, "/etc/tern/jwks.json");

  ::setenv("TERN_AUTH_MODE", "basic", 1);
  ::setenv("TERN_AUTH_USERS_FILE", "/etc/tern/users", 1);
  auto env = Load({});
  ::unsetenv("TERN_AUTH_MODE");
  ::unsetenv("TERN_AUTH_USERS_FILE");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->auth.mode, gateway::auth::AuthMode::kBasic);
  EXPECT_EQ(env->auth.basic_users_file, "/etc/tern/users");

  EXPECT_FALSE(Load({"--auth-mode", "kerberos"}).ok());
}

}  // namespace
}  // namespace tern::broker
