// How the gateway answers failures between itself and a partition: "not done" codes that
// clients may retry, and "unknown" codes that they must not retry blindly (docs/api-errors.md).

#include "gateway/mapping.h"

#include <gtest/gtest.h>

namespace tern::gateway {
namespace {

TEST(BrokerErrorStatusTest, AnUnknownOutcomeIsAnsweredUnknownNeverAborted) {
  // What a partition reports for a command in flight when it loses leadership.
  auto status = BrokerErrorStatus(absl::AbortedError(
      "partition 2 lost leadership before the command committed; it may or may not have taken "
      "effect"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_NE(status.error_message().find("may or may not have taken effect"), std::string::npos);
  EXPECT_NE(status.error_message().find("partition 2 lost leadership"), std::string::npos);
}

TEST(BrokerErrorStatusTest, TimeoutsAreDeadlineExceeded) {
  auto status = BrokerErrorStatus(absl::DeadlineExceededError("no answer from partition 1"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(status.error_message(),
            "Time out between gateway and broker: no answer from partition 1");
}

TEST(BrokerErrorStatusTest, NotDoneCodesPassThrough) {
  EXPECT_EQ(BrokerErrorStatus(absl::UnavailableError("not the leader")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(BrokerErrorStatus(absl::ResourceExhaustedError("busy")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(BrokerErrorStatus(absl::UnknownError("connection lost")).error_code(),
            grpc::StatusCode::UNKNOWN);
}

}  // namespace
}  // namespace tern::gateway
