// Export from a real partition (journal, RocksDB state, single-member Raft group) into the
// history store and a JSON-lines file: every record exported once across restarts (the
// acknowledged positions live in replicated state), and a sink that fails holds the log back,
// counts errors and is retried, while processing goes on.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/check.h"
#include "base/strings.h"
#include "broker/partition.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "exporter/sql.h"
#include "tests/engine/models.h"

namespace tern::broker {
namespace {

namespace fs = std::filesystem;
using engine::DeploymentIntent;
using engine::JobBatchIntent;
using engine::JobIntent;
using engine::MakeCommand;
using engine::ProcessInstanceCreationIntent;

class PartitionExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 StrCat("tern-partition-export-test-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  void TearDown() override {
    partition_.reset();
    fs::remove_all(directory_);
  }

  void Open(std::vector<exporter::ExporterSpec> exporters) {
    partition_.reset();
    PartitionConfig config;
    config.directory = (directory_ / "partition-1").string();
    config.snapshot_period_ms = 3'600'000;
    config.exporters.exporters = std::move(exporters);
    config.exporters.data_dir = directory_.string();
    config.exporters.min_retry_ms = 20;
    config.exporters.max_retry_ms = 200;
    config.exporters.position_interval_ms = 50;
    auto partition = Partition::Open(config, base::SystemClock(), nullptr);
    ASSERT_TRUE(partition.ok()) << partition.status();
    partition_ = *std::move(partition);
    partition_->Start();
  }

  exporter::ExporterSpec History() {
    return {"history", "sql", {{"url", StrCat("sqlite:", (directory_ / "history.db").string())}}};
  }
  exporter::ExporterSpec Jsonl(const fs::path& path) {
    return {"lines", "jsonl", {{"path", path.string()}}};
  }

  record::Record Send(record::Record command) {
    for (int attempt = 0;; ++attempt) {
      std::promise<absl::StatusOr<record::Record>> answer;
      partition_->Submit(command, 10'000,
                         [&](absl::StatusOr<record::Record> result) { answer.set_value(result); });
      auto result = answer.get_future().get();
      if (result.ok()) return *result;
      TERN_CHECK(attempt < 500 && result.status().code() == absl::StatusCode::kUnavailable,
                 result.status());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Deploys (the first time), creates instances and completes half of their jobs.
  void RunWorkload(int instances) {
    record::DeploymentRecord deployment;
    auto* resource = deployment.add_resources();
    resource->set_resource_name("one-task.bpmn");
    resource->set_resource(engine::models::kOneTask);
    ASSERT_EQ(Send(MakeCommand(-1, DeploymentIntent::kCreate, deployment)).record_type(),
              record::EVENT);
    for (int i = 0; i < instances; ++i) {
      record::ProcessInstanceCreationRecord creation;
      creation.set_bpmn_process_id("one-task");
      creation.set_version(-1);
      creation.set_variables(StrCat(R"({"i": )", i, "}"));
      ASSERT_EQ(
          Send(MakeCommand(-1, ProcessInstanceCreationIntent::kCreate, creation)).record_type(),
          record::EVENT);
      ++created_;
    }
    record::JobBatchRecord batch;
    batch.set_type("work");
    batch.set_worker("test");
    batch.set_timeout(600'000);
    batch.set_max_jobs_to_activate(instances / 2);
    const record::Record activated = Send(MakeCommand(-1, JobBatchIntent::kActivate, batch));
    for (int64_t key : activated.job_batch().job_keys()) {
      record::JobRecord job;
      job.set_variables(R"({"done": true})");
      ASSERT_EQ(Send(MakeCommand(key, JobIntent::kComplete, job)).record_type(), record::EVENT);
    }
  }

  // Waits until every committed entry is handed to the exporters and all of them acknowledged
  // it; returns the acknowledged position (the same for all).
  int64_t WaitExported() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (partition_->Metrics().export_unread_entries == 0 &&
          partition_->exporters()->WaitIdle(100) &&
          partition_->Metrics().export_unread_entries == 0) {
        auto metrics = partition_->ExporterMetricsSnapshot();
        bool caught_up = !metrics.empty();
        for (const auto& m : metrics) caught_up = caught_up && m.lag_records == 0;
        if (caught_up) return metrics[0].acknowledged_position;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "export did not catch up";
    return -1;
  }

  std::vector<int64_t> QueryInts(const std::string& sql) {
    auto connection = exporter::OpenSqlite((directory_ / "history.db").string());
    EXPECT_TRUE(connection.ok()) << connection.status();
    auto statement = (*connection)->Prepare(sql);
    EXPECT_TRUE(statement.ok()) << statement.status();
    std::vector<int64_t> values;
    auto row = (*statement)->Next();
    EXPECT_TRUE(row.ok()) << row.status();
    if (row.ok() && *row) {
      for (int i = 0; i < (*statement)->ColumnCount(); ++i) {
        values.push_back((*statement)->ColumnInt(i));
      }
      (*statement)->Reset();
    }
    return values;
  }

  // Every position in the JSON-lines file (lines may repeat: export is at least once).
  std::set<int64_t> JsonlPositions(const fs::path& path, size_t* lines = nullptr) {
    std::set<int64_t> positions;
    std::ifstream in(path);
    std::string line;
    size_t count = 0;
    while (std::getline(in, line)) {
      positions.insert(nlohmann::json::parse(line)["position"].get<int64_t>());
      ++count;
    }
    if (lines != nullptr) *lines = count;
    return positions;
  }

  fs::path directory_;
  std::unique_ptr<Partition> partition_;
  int created_ = 0;
};

TEST_F(PartitionExportTest, EveryRecordIsExportedOnceAcrossRestartsAndSnapshots) {
  const fs::path lines = directory_ / "records.jsonl";
  Open({History(), Jsonl(lines)});
  RunWorkload(30);
  int64_t position = WaitExported();
  ASSERT_GT(position, 0);
  // In the store: each position applied exactly once (records_applied counts them), none
  // missing (positions start at 1).
  EXPECT_EQ(QueryInts("SELECT position, records_applied FROM export_progress"),
            (std::vector<int64_t>{position, position}));
  EXPECT_EQ(QueryInts("SELECT COUNT(*) FROM process_instance")[0], created_);
  EXPECT_EQ(JsonlPositions(lines).size(), static_cast<size_t>(position));

  // A snapshot, then a restart (a new term: the replica leads again and resumes export from
  // the positions in its state), more work, another restart without waiting for export.
  partition_->RequestSnapshot();
  RunWorkload(20);
  Open({History(), Jsonl(lines)});
  RunWorkload(20);
  Open({History(), Jsonl(lines)});
  RunWorkload(10);
  position = WaitExported();
  EXPECT_EQ(QueryInts("SELECT position, records_applied FROM export_progress"),
            (std::vector<int64_t>{position, position}));
  EXPECT_EQ(QueryInts("SELECT COUNT(*) FROM process_instance")[0], created_);
  EXPECT_EQ(QueryInts("SELECT COUNT(*) FROM process_instance WHERE state = 'COMPLETED'")[0],
            (30 + 20 + 20 + 10) / 2);
  auto jsonl = JsonlPositions(lines);
  EXPECT_EQ(jsonl.size(), static_cast<size_t>(position));
  EXPECT_EQ(*jsonl.rbegin(), position);
}

TEST_F(PartitionExportTest, AFailingSinkHoldsTheLogBackWhileProcessingGoesOn) {
  // The exporter's directory is a file: it cannot open its output until that is fixed.
  const fs::path blocker = directory_ / "blocked";
  std::ofstream(blocker) << "not a directory";
  Open({History(), Jsonl(blocker / "records.jsonl")});
  RunWorkload(30);  // answered although one exporter fails
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto failing = [&] {
    auto metrics = partition_->ExporterMetricsSnapshot();
    return metrics.size() == 2 && metrics[1].errors >= 2 ? metrics[1] : ExporterMetrics{};
  };
  while (failing().errors < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(failing().errors, 2u);  // retried
  EXPECT_GT(failing().lag_records, 0);

  // A snapshot: the log is not compacted past what the failing exporter has not acknowledged.
  partition_->RequestSnapshot();
  while (partition_->Metrics().snapshot_index == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  PartitionMetrics held = partition_->Metrics();
  ASSERT_GT(held.snapshot_index, 0u);
  // Kept from the first entry with records on (entry 1, the new leader's empty entry, has none).
  EXPECT_GE(held.export_retained_entries, held.snapshot_index - 1);

  // The sink comes back: it is retried, catches up from the start, and the next snapshot
  // compacts the log.
  fs::remove(blocker);
  int64_t position = WaitExported();
  size_t line_count = 0;
  EXPECT_EQ(JsonlPositions(blocker / "records.jsonl", &line_count).size(),
            static_cast<size_t>(position));
  EXPECT_EQ(line_count, static_cast<size_t>(position));
  // Wait for the acknowledged positions to reach the log (written every 50 ms here).
  RunWorkload(2);
  WaitExported();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  partition_->RequestSnapshot();
  const uint64_t before = partition_->Metrics().snapshot_index;
  while (partition_->Metrics().snapshot_index == before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  PartitionMetrics after = partition_->Metrics();
  EXPECT_GT(after.snapshot_index, before);
  EXPECT_LT(after.export_retained_entries, held.export_retained_entries);
  EXPECT_EQ(after.export_skipped_entries, 0u);
}

}  // namespace
}  // namespace tern::broker
