// The cluster port under attack: real brokers (in this process, on loopback) receive the forged
// messages of issue 14's security probe through their gRPC cluster port, refuse each one, keep
// serving a normal create/activate/complete, and restart cleanly. Also: a committed entry that
// cannot be decoded takes only its partition out of service, and the data directory is private
// to the broker's user whatever the umask.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/clock.h"
#include "base/strings.h"
#include "broker/broker.h"
#include "broker/data_dir.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "journal/journal_storage.h"
#include "tern/cluster.grpc.pb.h"
#include "tests/broker/free_port.h"
#include "tests/engine/models.h"

namespace tern::broker {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using engine::MakeCommand;

// A record batch parser refuses these bytes: field number 0 is not a valid tag.
const std::string kGarbage("\x00\x07not a record batch", 20);

using testing::FreePort;

class ClusterPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / StrCat("tern-cluster-port-test-", getpid(), "-",
                                               ::testing::UnitTest::GetInstance()->random_seed());
    fs::remove_all(root_);
  }
  void TearDown() override {
    brokers_.clear();
    fs::remove_all(root_);
  }

  // Configurations for a cluster of `size` brokers on loopback, without gateway or monitoring
  // listeners (the tests talk to the cluster port).
  std::vector<BrokerConfig> Cluster(int size, int partitions) {
    std::vector<std::string> peers;
    for (int i = 0; i < size; ++i) peers.push_back(StrCat("127.0.0.1:", FreePort()));
    std::vector<BrokerConfig> configs;
    for (int i = 0; i < size; ++i) {
      BrokerConfig config;
      config.node_id = i;
      config.cluster_size = size;
      config.partitions = partitions;
      config.replication_factor = size;
      config.cluster_address = peers[static_cast<size_t>(i)];
      config.peers = size > 1 ? peers : std::vector<std::string>{};
      config.data_dir = (root_ / StrCat("node-", i)).string();
      config.gateway_address = "";
      config.monitoring_address = "";
      configs.push_back(config);
    }
    return configs;
  }

  void StartAll(const std::vector<BrokerConfig>& configs) {
    configs_ = configs;
    brokers_.clear();
    for (const auto& config : configs) Start(config.node_id);
  }
  void Start(int node) {
    brokers_.resize(configs_.size());
    auto broker = Broker::Start(configs_[static_cast<size_t>(node)], base::SystemClock());
    ASSERT_TRUE(broker.ok()) << broker.status();
    brokers_[static_cast<size_t>(node)] = *std::move(broker);
  }
  void Stop(int node) { brokers_[static_cast<size_t>(node)].reset(); }

  cluster::BrokerService::Stub& Stub(int node) {
    const std::string& address = configs_[static_cast<size_t>(node)].cluster_address;
    auto& stub = stubs_[address];
    if (!stub) {
      grpc::ChannelArguments args;
      args.SetMaxSendMessageSize(64 << 20);
      args.SetMaxReceiveMessageSize(64 << 20);
      stub = cluster::BrokerService::NewStub(
          grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
    }
    return *stub;
  }

  cluster::ExecuteResponse Execute(int node, int32_t partition, record::Record command) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    cluster::ExecuteRequest request;
    request.set_partition_id(partition);
    *request.mutable_command() = std::move(command);
    request.set_timeout_ms(10'000);
    cluster::ExecuteResponse response;
    grpc::Status status = Stub(node).Execute(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Sends the command to whichever broker leads the partition, waiting (bounded) for a leader.
  record::Record ExecuteOnLeader(int32_t partition, const record::Record& command) {
    auto deadline = Clock::now() + std::chrono::seconds(60);
    std::string last;
    while (Clock::now() < deadline) {
      for (size_t node = 0; node < brokers_.size(); ++node) {
        if (!brokers_[node]) continue;
        cluster::ExecuteResponse response = Execute(static_cast<int>(node), partition, command);
        if (response.code() == 0) return response.record();
        last = response.message();
        if (response.code() != static_cast<int>(absl::StatusCode::kUnavailable)) {
          ADD_FAILURE() << "code " << response.code() << ": " << last;
          return {};
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no leader for partition " << partition << ": " << last;
    return {};
  }

  // A normal create, activate and complete on `partition`: the broker still serves.
  void Serve(int32_t partition = 1) {
    record::DeploymentRecord deployment;
    auto* resource = deployment.add_resources();
    resource->set_resource_name("one-task.bpmn");
    resource->set_resource(engine::models::kOneTask);
    ASSERT_EQ(
        ExecuteOnLeader(partition, MakeCommand(-1, engine::DeploymentIntent::kCreate, deployment))
            .record_type(),
        record::EVENT);
    record::ProcessInstanceCreationRecord creation;
    creation.set_bpmn_process_id("one-task");
    creation.set_version(-1);
    creation.set_variables(R"({"x": 1})");
    // The deployment reaches other partitions by distribution: retry until it has arrived.
    record::Record created;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    do {
      created = ExecuteOnLeader(
          partition, MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
    } while (created.record_type() != record::EVENT && Clock::now() < deadline);
    ASSERT_EQ(created.record_type(), record::EVENT) << created.rejection_reason();
    record::JobBatchRecord batch;
    batch.set_type("work");
    batch.set_worker("test");
    batch.set_timeout(600'000);
    batch.set_max_jobs_to_activate(100);
    record::Record activated =
        ExecuteOnLeader(partition, MakeCommand(-1, engine::JobBatchIntent::kActivate, batch));
    ASSERT_GE(activated.job_batch().job_keys_size(), 1);
    for (int64_t key : activated.job_batch().job_keys()) {
      record::JobRecord job;
      job.set_variables(R"({"done": true})");
      EXPECT_EQ(ExecuteOnLeader(partition, MakeCommand(key, engine::JobIntent::kComplete, job))
                    .record_type(),
                record::EVENT);
    }
  }

  void SendRaft(int node, const cluster::RaftBatch& batch) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    cluster::RaftBatchAck ack;
    grpc::Status status = Stub(node).Raft(&context, batch, &ack);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  double Metric(int node, const std::string& series) {
    std::string text = brokers_[static_cast<size_t>(node)]->MetricsText();
    auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }
  double Dropped(int node, const std::string& reason) {
    return Metric(node,
                  StrCat("tern_cluster_dropped_raft_messages_total{reason=\"", reason, "\"}"));
  }

  nlohmann::json Partition(int node, int32_t partition) {
    auto all = nlohmann::json::parse(brokers_[static_cast<size_t>(node)]->PartitionsJson(false));
    for (auto& entry : all) {
      if (entry["partitionId"] == partition) return entry;
    }
    return {};
  }

  fs::path root_;
  std::vector<BrokerConfig> configs_;
  std::vector<std::unique_ptr<Broker>> brokers_;
  std::map<std::string, std::unique_ptr<cluster::BrokerService::Stub>> stubs_;
};

raft::Message AppendWithGarbage(uint64_t from, uint64_t to, uint64_t term, uint64_t index,
                                uint64_t log_term) {
  raft::Message message;
  message.set_type(raft::MSG_APP);
  message.set_from(from);
  message.set_to(to);
  message.set_term(term);
  message.set_index(index);
  message.set_log_term(log_term);
  message.set_commit(index + 1);
  raft::Entry* entry = message.add_entries();
  entry->set_index(index + 1);
  entry->set_term(term);
  entry->set_type(raft::ENTRY_NORMAL);
  entry->set_data(kGarbage);
  return message;
}

cluster::RaftBatch Batch(int32_t from_node_id, int32_t partition, raft::Message message) {
  cluster::RaftBatch batch;
  batch.set_from_node_id(from_node_id);
  auto* envelope = batch.add_envelopes();
  envelope->set_partition_id(partition);
  *envelope->mutable_message() = std::move(message);
  return batch;
}

TEST_F(ClusterPortTest, GarbageEntryFromANonMemberOrForAnUnknownPartitionIsDropped) {
  ASSERT_FALSE(record::RecordBatch().ParseFromString(kGarbage));
  StartAll(Cluster(1, 1));
  Serve();
  const uint64_t term = Partition(0, 1)["term"];
  // Node 5 is no member of partition 1 (a one-broker cluster); partition 9 does not exist.
  SendRaft(0, Batch(5, 1, AppendWithGarbage(6, 1, term + 1, 0, 0)));
  SendRaft(0, Batch(5, 9, AppendWithGarbage(6, 1, term + 1, 0, 0)));
  // The batch says it is from this very node; the message says it is from node 5.
  SendRaft(0, Batch(0, 1, AppendWithGarbage(6, 1, term + 1, 0, 0)));
  EXPECT_EQ(Dropped(0, "not_a_member"), 2);
  EXPECT_EQ(Dropped(0, "unknown_partition"), 1);
  EXPECT_EQ(Partition(0, 1)["term"], term);
  Serve();
  Stop(0);
  Start(0);
  Serve();
}

TEST_F(ClusterPortTest, HeartbeatsWithAHugeTermFromANonMemberDoNotMoveTheTerm) {
  StartAll(Cluster(1, 1));
  Serve();
  const uint64_t term = Partition(0, 1)["term"];
  for (int i = 0; i < 20; ++i) {
    raft::Message heartbeat;
    heartbeat.set_type(raft::MSG_HEARTBEAT);
    heartbeat.set_from(3);
    heartbeat.set_to(1);
    heartbeat.set_term(1'000'000 + static_cast<uint64_t>(i));
    heartbeat.set_commit(1'000'000);
    SendRaft(0, Batch(2, 1, heartbeat));
  }
  EXPECT_EQ(Dropped(0, "not_a_member"), 20);
  EXPECT_EQ(Partition(0, 1)["term"], term);
  EXPECT_EQ(Partition(0, 1)["role"], "LEADER");
  Serve();
}

TEST_F(ClusterPortTest, ExecuteRefusesEventsInternalCommandsOversizedVariablesAndFalseOrigins) {
  StartAll(Cluster(1, 1));
  Serve();
  const int kInvalidArgument = static_cast<int>(absl::StatusCode::kInvalidArgument);

  // An EVENT record (the engine expects commands only).
  record::IncidentRecord incident;
  incident.set_error_message("forged");
  record::Record event = MakeCommand(1, engine::IncidentIntent::kCreated, incident);
  event.set_record_type(record::EVENT);
  cluster::ExecuteResponse response = Execute(0, 1, event);
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();
  EXPECT_NE(response.message().find("EVENT"), std::string::npos) << response.message();

  // A command only the engine writes for itself.
  record::ProcessInstanceRecord element;
  element.set_bpmn_process_id("one-task");
  response =
      Execute(0, 1, MakeCommand(1, engine::ProcessInstanceIntent::kActivateElement, element));
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();

  // Variables nested 5,000 deep, and 8 MB of variables.
  std::string deep = R"({"a":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  record::ProcessInstanceCreationRecord creation;
  creation.set_bpmn_process_id("one-task");
  creation.set_version(-1);
  creation.set_variables(deep);
  response =
      Execute(0, 1, MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();
  EXPECT_NE(response.message().find("nested"), std::string::npos) << response.message();

  creation.set_variables(R"({"big": ")" + std::string(8 << 20, 'x') + R"("})");
  response =
      Execute(0, 1, MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();

  record::JobRecord job;
  job.set_variables(deep);
  response = Execute(0, 1, MakeCommand(1, engine::JobIntent::kComplete, job));
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();

  // A distributed deployment whose process has no resource (the engine would store it and
  // fail on it later).
  record::DeploymentRecord distributed;
  auto* process = distributed.add_processes();
  process->set_bpmn_process_id("forged");
  process->set_resource_name("forged.bpmn");
  process->set_process_definition_key(12345);
  record::Record distribute = MakeCommand(7, engine::DeploymentIntent::kDistribute, distributed);
  distribute.set_source_partition_id(1);
  response = Execute(0, 1, distribute);
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();
  EXPECT_NE(response.message().find("forged.bpmn"), std::string::npos) << response.message();

  // More jobs in one activation than the gateway ever asks for.
  record::JobBatchRecord greedy;
  greedy.set_type("work");
  greedy.set_worker("test");
  greedy.set_timeout(60'000);
  greedy.set_max_jobs_to_activate(1'000'000);
  response = Execute(0, 1, MakeCommand(-1, engine::JobBatchIntent::kActivate, greedy));
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();

  // A gateway command claiming to come from a partition (it would be answered at once and
  // skip backpressure), and a partition command claiming to come from a gateway.
  creation.set_variables(R"({"x": 1})");
  record::Record claimed =
      MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation);
  claimed.set_source_partition_id(1);
  response = Execute(0, 1, claimed);
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();
  EXPECT_NE(response.message().find("0 (a gateway)"), std::string::npos) << response.message();
  distribute.set_source_partition_id(0);
  response = Execute(0, 1, distribute);
  EXPECT_EQ(response.code(), kInvalidArgument) << response.message();

  EXPECT_EQ(Metric(0, "tern_cluster_refused_commands_total"), 9);
  EXPECT_TRUE(brokers_[0]->Healthy());
  Serve();
}

TEST_F(ClusterPortTest, GarbageEntryInAMembersNameIsRefusedBeforeItIsPersisted) {
  StartAll(Cluster(3, 1));
  Serve();
  // Wait until the group is idle and every replica has applied the same index.
  int leader = -1;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    leader = -1;
    bool settled = true;
    for (int node = 0; node < 3; ++node) {
      auto p = Partition(node, 1);
      if (p["role"] == "LEADER") leader = node;
      settled = settled && p["appliedIndex"] == Partition(0, 1)["appliedIndex"] &&
                p["term"] == Partition(0, 1)["term"] && p["leaderNodeId"] >= 0;
    }
    if (settled && leader >= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  auto state = Partition(follower, 1);
  const uint64_t term = state["term"];
  const uint64_t index = state["commitIndex"];
  // From the leader's node id, at the leader's term, right after the follower's last entry, and
  // committing it at once: without the check the follower would append and apply it.
  SendRaft(follower,
           Batch(leader, 1,
                 AppendWithGarbage(static_cast<uint64_t>(leader) + 1,
                                   static_cast<uint64_t>(follower) + 1, term, index, term)));
  EXPECT_EQ(Dropped(follower, "undecodable_entry"), 1);
  EXPECT_TRUE(brokers_[static_cast<size_t>(follower)]->Healthy());
  Serve();

  // The follower's log holds nothing it cannot apply: it restarts and catches up.
  Stop(follower);
  Start(follower);
  Serve();
  deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline &&
         Partition(follower, 1)["appliedIndex"] != Partition(leader, 1)["appliedIndex"]) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Partition(follower, 1)["appliedIndex"], Partition(leader, 1)["appliedIndex"]);
  EXPECT_TRUE(brokers_[static_cast<size_t>(follower)]->Healthy());
}

// The checks let a real cluster's traffic through, snapshot transfer included: a follower that
// was down while the leader compacted its log catches up from a snapshot, and nothing is dropped.
TEST_F(ClusterPortTest, LegitimateTrafficIncludingSnapshotTransferPasses) {
  // Two partitions: the deployment reaches partition 2 as a distribution over Execute.
  auto configs = Cluster(3, 2);
  for (auto& config : configs) config.snapshot_period_ms = 200;
  StartAll(configs);
  Serve();
  int leader = -1;
  for (int node = 0; node < 3; ++node) {
    if (Partition(node, 1)["role"] == "LEADER") leader = node;
  }
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  Stop(follower);
  Serve();
  Serve();
  const uint64_t applied = Partition(leader, 1)["appliedIndex"];
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline && Partition(leader, 1)["snapshotIndex"] < applied) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const uint64_t leader_snapshot = Partition(leader, 1)["snapshotIndex"];
  ASSERT_GE(leader_snapshot, applied);
  Start(follower);
  deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline &&
         Partition(follower, 1)["appliedIndex"] < Partition(leader, 1)["appliedIndex"]) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(Partition(follower, 1)["appliedIndex"], applied);
  EXPECT_GE(Partition(follower, 1)["snapshotIndex"], leader_snapshot);
  Serve(1);
  Serve(2);
  for (int node = 0; node < 3; ++node) {
    for (const char* reason :
         {"unknown_partition", "not_a_member", "malformed", "undecodable_entry"}) {
      EXPECT_EQ(Dropped(node, reason), 0) << "node " << node << " " << reason;
    }
    EXPECT_TRUE(brokers_[static_cast<size_t>(node)]->Healthy()) << node;
  }
}

TEST_F(ClusterPortTest, UndecodableCommittedEntryTakesOnlyItsPartitionOutOfService) {
  StartAll(Cluster(1, 2));
  Serve(1);
  Serve(2);
  Stop(0);

  // Append a committed entry that is not a record batch to partition 1's log, as a forged
  // append from before this fix (or a bug) would have left it.
  uint64_t bad_index = 0;
  {
    auto storage = journal::JournalStorage::Open(
        &journal::PosixFileSystem(), configs_[0].data_dir + "/partition-1/journal", {1});
    ASSERT_TRUE(storage.ok()) << storage.status();
    auto initial = (*storage)->InitialState();
    ASSERT_TRUE(initial.ok()) << initial.status();
    bad_index = (*storage)->LastIndex() + 1;
    auto last_term = (*storage)->Term(bad_index - 1);
    ASSERT_TRUE(last_term.ok()) << last_term.status();
    raft::Ready ready;
    raft::Entry entry;
    entry.set_index(bad_index);
    entry.set_term(*last_term);
    entry.set_type(raft::ENTRY_NORMAL);
    entry.set_data(kGarbage);
    ready.entries.push_back(entry);
    raft::HardState hard_state = initial->hard_state;
    hard_state.set_commit(bad_index);
    ready.hard_state = hard_state;
    ready.must_sync = true;
    ASSERT_TRUE((*storage)->Save(ready).ok());
  }

  for (int restart = 0; restart < 2; ++restart) {
    Start(0);
    // Partition 2 serves; partition 1 refuses with a message naming itself and the entry.
    Serve(2);
    std::string message;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      record::ProcessInstanceCreationRecord creation;
      creation.set_bpmn_process_id("one-task");
      creation.set_version(-1);
      auto response =
          Execute(0, 1, MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
      EXPECT_EQ(response.code(), static_cast<int>(absl::StatusCode::kUnavailable));
      message = response.message();
      if (message.find("cannot apply") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(message.find("partition 1"), std::string::npos) << message;
    EXPECT_NE(message.find(StrCat("entry ", bad_index)), std::string::npos) << message;
    EXPECT_FALSE(brokers_[0]->Healthy());
    Stop(0);
  }
}

// Every file and directory under `root` is private to its owner; returns how many were seen.
int ExpectPrivate(const fs::path& root) {
  int seen = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    struct stat info;
    if (::lstat(entry.path().c_str(), &info) != 0 || S_ISLNK(info.st_mode)) continue;
    ++seen;
    EXPECT_EQ(info.st_mode & 077, 0u)
        << entry.path() << " has mode " << std::oct << (info.st_mode & 07777);
  }
  return seen;
}

TEST_F(ClusterPortTest, DataDirectoryIsPrivateWhateverTheUmask) {
  ::umask(022);
  StartAll(Cluster(1, 1));
  Serve();
  Stop(0);
  struct stat info;
  ASSERT_EQ(::stat(configs_[0].data_dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  EXPECT_GT(ExpectPrivate(configs_[0].data_dir), 5);  // the journal, RocksDB's files, the lock
}

TEST_F(ClusterPortTest, AnOpenDataDirectoryIsTightenedAtStart) {
  ::umask(022);
  fs::path directory = root_ / "old";
  fs::create_directories(directory / "partition-1");
  std::ofstream(directory / "partition-1" / "journal-file") << "variables in clear text";
  ASSERT_EQ(::chmod(directory.c_str(), 0755), 0);
  {
    auto lock = DataDirLock::Acquire(directory.string());
    ASSERT_TRUE(lock.ok()) << lock.status();
  }
  struct stat info;
  ASSERT_EQ(::stat(directory.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((directory / "partition-1" / "journal-file").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  // Created after the lock: private although the process started with umask 022.
  std::ofstream(directory / "new-file") << "x";
  ASSERT_EQ(::stat((directory / "new-file").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
}

}  // namespace
}  // namespace tern::broker
