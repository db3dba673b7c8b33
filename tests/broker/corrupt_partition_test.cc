// A broker with one corrupt partition: the journal of partition 2 gets the fault-injection
// damage (the high byte of a record length flipped in the middle of a segment). On restart that
// partition is refused with a message naming the file, offset and entry, reported offline and
// unhealthy, and the broker's other partition starts and serves.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/clock.h"
#include "base/strings.h"
#include "broker/broker.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "tern/cluster.grpc.pb.h"
#include "tests/broker/free_port.h"
#include "tests/engine/models.h"

namespace tern::broker {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using engine::MakeCommand;

using testing::FreePort;

uint32_t GetU32(const std::string& d, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(d[at + i])) << (8 * i);
  return v;
}

class CorruptPartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / StrCat("tern-corrupt-partition-test-", getpid());
    fs::remove_all(root_);
    config_.node_id = 0;
    config_.cluster_size = 1;
    config_.partitions = 2;
    config_.replication_factor = 1;
    config_.cluster_address = StrCat("127.0.0.1:", FreePort());
    config_.data_dir = root_.string();
    config_.gateway_address = "";
    config_.monitoring_address = "";
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(root_);
  }

  void Start() {
    auto broker = Broker::Start(config_, base::SystemClock());
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  record::Record Execute(int32_t partition, const record::Record& command) {
    if (!stub_) {
      stub_ = cluster::BrokerService::NewStub(
          grpc::CreateChannel(config_.cluster_address, grpc::InsecureChannelCredentials()));
    }
    auto deadline = Clock::now() + std::chrono::seconds(30);
    std::string last;
    while (Clock::now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      cluster::ExecuteRequest request;
      request.set_partition_id(partition);
      *request.mutable_command() = command;
      request.set_timeout_ms(5'000);
      cluster::ExecuteResponse response;
      grpc::Status status = stub_->Execute(&context, request, &response);
      if (status.ok() && response.code() == 0) return response.record();
      last = status.ok() ? response.message() : status.error_message();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "partition " << partition << " did not answer: " << last;
    return {};
  }

  // Deploys and creates an instance on `partition`: it serves.
  void Serve(int32_t partition) {
    record::DeploymentRecord deployment;
    auto* resource = deployment.add_resources();
    resource->set_resource_name("one-task.bpmn");
    resource->set_resource(engine::models::kOneTask);
    ASSERT_EQ(Execute(partition, MakeCommand(-1, engine::DeploymentIntent::kCreate, deployment))
                  .record_type(),
              record::EVENT);
    record::ProcessInstanceCreationRecord creation;
    creation.set_bpmn_process_id("one-task");
    creation.set_version(-1);
    record::Record created = Execute(
        partition, MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
    ASSERT_EQ(created.record_type(), record::EVENT) << created.rejection_reason();
  }

  fs::path root_;
  BrokerConfig config_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<cluster::BrokerService::Stub> stub_;
};

TEST_F(CorruptPartitionTest, CorruptPartitionStaysOfflineWhileTheOthersServe) {
  Start();
  Serve(1);
  Serve(2);
  Serve(2);
  broker_.reset();

  // Flip the high byte of the length of a record in the middle of partition 2's last segment
  // (every record there was synced: the broker acknowledged them).
  fs::path segment;
  for (const auto& file : fs::directory_iterator(root_ / "partition-2" / "journal")) {
    std::string name = file.path().filename().string();
    if (name.rfind("segment-", 0) == 0 && (segment.empty() || file.path() > segment)) {
      segment = file.path();
    }
  }
  ASSERT_FALSE(segment.empty());
  std::string data;
  {
    std::ifstream in(segment, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<size_t> records;
  for (size_t at = 32; at + 12 <= data.size(); at += 12 + GetU32(data, at)) records.push_back(at);
  ASSERT_GE(records.size(), 6u);
  size_t victim = records[records.size() / 2];
  data[victim + 3] ^= 0x01;
  {
    std::ofstream out(segment, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }

  Start();  // the broker starts: one corrupt partition does not take the others down
  Serve(1);
  EXPECT_FALSE(broker_->Healthy());
  nlohmann::json all = nlohmann::json::parse(broker_->PartitionsJson(false));
  bool found = false;
  for (const auto& entry : all) {
    if (entry["partitionId"] != 2) continue;
    found = true;
    EXPECT_EQ(entry["healthy"], false);
    std::string error = entry.value("error", "");
    EXPECT_NE(error.find(segment.string()), std::string::npos) << error;
    EXPECT_NE(error.find(StrCat("byte offset ", victim)), std::string::npos) << error;
    EXPECT_NE(error.find("entry "), std::string::npos) << error;
  }
  EXPECT_TRUE(found) << all.dump();
  EXPECT_NE(broker_->JournalMetricsText().find("tern_partition_offline{partition=\"2\"} 1"),
            std::string::npos)
      << broker_->JournalMetricsText();
  // Refused, not repaired: the damaged file is as it was.
  EXPECT_EQ(fs::file_size(segment), data.size());
}

}  // namespace
}  // namespace tern::broker
