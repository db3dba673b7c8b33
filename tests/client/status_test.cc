// Result, Status, JSON helpers and the backoff function: no network.

#include <gtest/gtest.h>

#include "tern/client.h"

namespace tern {
namespace {

TEST(StatusTest, CodesKeepGrpcNumbersAndNames) {
  EXPECT_EQ(static_cast<int>(StatusCode::kResourceExhausted), 8);
  EXPECT_EQ(static_cast<int>(StatusCode::kUnavailable), 14);
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "FAILED_PRECONDITION");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "UNAUTHENTICATED");
  Status status(StatusCode::kNotFound, "Command 'COMPLETE' rejected");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.ToString(), "NOT_FOUND: Command 'COMPLETE' rejected");
  EXPECT_EQ(Status().ToString(), "OK");
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> value(42);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 42);
  EXPECT_EQ(value.value(), 42);
  EXPECT_TRUE(value.status().ok());

  Result<int> error(Status(StatusCode::kUnavailable, "down"));
  EXPECT_FALSE(error.ok());
  EXPECT_FALSE(static_cast<bool>(error));
  EXPECT_EQ(error.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(error.value_or(7), 7);
}

TEST(ResultTest, ValueOnErrorThrowsBadResultAccessWithTheStatus) {
  Result<std::string> error(Status(StatusCode::kNotFound, "no such job"));
  try {
    (void)error.value();
    FAIL() << "value() did not throw";
  } catch (const BadResultAccess& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
    EXPECT_STREQ(e.what(), "NOT_FOUND: no such job");
  }
}

TEST(ResultTest, OkStatusWithoutValueBecomesUnknownError) {
  Result<int> result{Status()};
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnknown);
}

TEST(JsonTest, ParsesDocumentsTheGatewaySends) {
  EXPECT_EQ(ParseJsonDocument(""), nlohmann::json::object());
  EXPECT_EQ(ParseJsonDocument("  "), nlohmann::json::object());
  EXPECT_EQ(ParseJsonDocument(R"({"a":1})")["a"], 1);
  EXPECT_TRUE(ParseJsonDocument("{not json").is_discarded());

  ActivatedJob job;
  job.variables = R"({"amount": 12000, "applicant": "Ada"})";
  job.customHeaders = R"({"region": "eu"})";
  EXPECT_EQ(job.variablesAsJson()["amount"], 12000);
  EXPECT_EQ(job.customHeadersAsJson()["region"], "eu");

  EvaluateDecisionResponse decision;
  EXPECT_TRUE(decision.decisionOutputAsJson().is_null());
  decision.decisionOutput = "\"approved\"";
  EXPECT_EQ(decision.decisionOutputAsJson(), "approved");
}

TEST(BackoffTest, GrowsByTheFactorWithinBoundsAndJitter) {
  using std::chrono::milliseconds;
  auto backoff = ExponentialBackoff(milliseconds(100), milliseconds(1000), 2.0, 0.1);
  milliseconds delay(0);
  std::vector<milliseconds> delays;
  for (int i = 0; i < 8; ++i) {
    delay = backoff(delay);
    delays.push_back(delay);
  }
  // First: the minimum, +/-10%.
  EXPECT_GE(delays[0].count(), 90);
  EXPECT_LE(delays[0].count(), 110);
  // Then roughly doubling, never above max + 10%.
  for (size_t i = 1; i < delays.size(); ++i) {
    EXPECT_LE(delays[i].count(), 1100) << i;
    EXPECT_GE(delays[i].count(), std::min<int64_t>(900, delays[i - 1].count() * 2 * 9 / 10) - 1)
        << i;
  }
  EXPECT_GE(delays.back().count(), 900);
  // Without jitter it is exact.
  auto exact = ExponentialBackoff(milliseconds(50), milliseconds(400), 2.0, 0.0);
  EXPECT_EQ(exact(milliseconds(0)).count(), 50);
  EXPECT_EQ(exact(milliseconds(50)).count(), 100);
  EXPECT_EQ(exact(milliseconds(300)).count(), 400);
}

TEST(ClientBuilderTest, RejectsBadSettingsAndUnreadableCaFile) {
  auto bad_timeout =
      Client::newClientBuilder().defaultRequestTimeout(std::chrono::milliseconds(0)).build();
  EXPECT_EQ(bad_timeout.status().code(), StatusCode::kInvalidArgument);
  auto bad_ca = Client::newClientBuilder().caCertificatePath("/nonexistent/ca.pem").build();
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_EQ(bad_ca.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_ca.status().message().find("/nonexistent/ca.pem"), std::string::npos);
  auto bad_retry = Client::newClientBuilder().retryPolicy(RetryPolicy{0, {}, {}, 1.0}).build();
  EXPECT_EQ(bad_retry.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Client::newClientBuilder().gatewayAddress("127.0.0.1:1").build().ok());
}

TEST(ClientBuilderTest, WorkerNeedsTypeAndHandler) {
  auto client = Client::newClientBuilder().gatewayAddress("127.0.0.1:1").build();
  ASSERT_TRUE(client.ok());
  auto no_type = client->newWorker().handler([](const ActivatedJob&, JobClient&) {}).open();
  EXPECT_EQ(no_type.status().code(), StatusCode::kInvalidArgument);
  auto no_handler = client->newWorker().jobType("t").open();
  EXPECT_EQ(no_handler.status().code(), StatusCode::kInvalidArgument);
  auto bad_max = client->newWorker()
                     .jobType("t")
                     .handler([](const ActivatedJob&, JobClient&) {})
                     .maxJobsActive(0)
                     .open();
  EXPECT_EQ(bad_max.status().code(), StatusCode::kInvalidArgument);
}

TEST(CommandTest, UnreadableResourceFailsWithoutSending) {
  auto client = Client::newClientBuilder().gatewayAddress("127.0.0.1:1").build();
  ASSERT_TRUE(client.ok());
  auto result =
      client->newDeployResourceCommand().addResourceFile("/nonexistent/x.bpmn").send().get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("/nonexistent/x.bpmn"), std::string::npos);
  auto modify = client->newModifyProcessInstanceCommand(1).withVariables({{"a", 1}}).send().get();
  EXPECT_EQ(modify.status().code(), StatusCode::kInvalidArgument);
}

TEST(CommandTest, UnreachableGatewayIsUnavailable) {
  RetryPolicy retry;
  retry.maxAttempts = 2;
  retry.initialBackoff = std::chrono::milliseconds(10);
  auto client = Client::newClientBuilder()
                    .gatewayAddress("127.0.0.1:1")
                    .retryPolicy(retry)
                    .defaultRequestTimeout(std::chrono::seconds(5))
                    .build();
  ASSERT_TRUE(client.ok());
  auto result = client->newTopologyRequest().send().get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tern
