// Backups (issue 18 item 5): the engine's checkpoint semantics, and the filesystem store's
// manifest, status, list, delete, verification and restore.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/logging.h"
#include "broker/backup_store.h"
#include "tests/engine/engine_harness.h"

namespace tern::broker {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

record::Record Checkpoint(int64_t id) {
  record::CheckpointRecord value;
  value.set_checkpoint_id(id);
  return engine::MakeCommand(0, engine::CheckpointIntent::kCreate, value);
}

TEST(CheckpointTest, LargerIdsAreCreatedOthersIgnoredAndReplayAgrees) {
  engine::testing::EngineHarness harness;
  auto created = harness.Send(Checkpoint(5));
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->record_type(), record::EVENT);
  EXPECT_EQ(created->intent(), ToInt(engine::CheckpointIntent::kCreated));
  EXPECT_EQ(created->checkpoint().checkpoint_id(), 5);
  const int64_t position = created->checkpoint().checkpoint_position();
  EXPECT_GT(position, 0);

  for (int64_t stale : {5, 3}) {
    auto ignored = harness.Send(Checkpoint(stale));
    ASSERT_TRUE(ignored.has_value());
    EXPECT_EQ(ignored->intent(), ToInt(engine::CheckpointIntent::kIgnored));
    // The answer names the partition's last checkpoint, so the caller can say why.
    EXPECT_EQ(ignored->checkpoint().checkpoint_id(), 5);
    EXPECT_EQ(ignored->checkpoint().checkpoint_position(), position);
  }
  auto next = harness.Send(Checkpoint(6));
  EXPECT_EQ(next->intent(), ToInt(engine::CheckpointIntent::kCreated));
  // Replicas (and a restarted leader) that apply the log hold the same last checkpoint.
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

class BackupStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tern-backup-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    store_ = std::make_unique<FilesystemBackupStore>((root_ / "store").string());
  }
  void TearDown() override { fs::remove_all(root_); }

  static void Write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }

  // A complete partition backup with a snapshot file and two log files.
  void MakeBackup(int64_t id, int32_t partition) {
    ASSERT_TRUE(store_->MarkInProgress(id, partition, 0).ok());
    fs::path dir = store_->PartitionDir(id, partition);
    Write(dir / "snapshot" / "000001.sst", "state of partition " + std::to_string(partition));
    Write(dir / "snapshot" / "TERN_SNAPSHOT", "index 7\n");
    Write(dir / "journal" / "meta", "meta");
    Write(dir / "journal" / "segment-00000000000000000001.log", std::string(5000, 'x'));
    PartitionBackupManifest manifest;
    manifest.backup_id = id;
    manifest.partition_id = partition;
    manifest.checkpoint_position = 42;
    manifest.checkpoint_index = 9;
    manifest.checkpoint_term = 2;
    manifest.snapshot_index = 7;
    manifest.snapshot_term = 2;
    manifest.snapshot_directory = "00000000000000000007-2";
    manifest.broker_version = "test";
    manifest.created_at = NowRfc3339();
    ASSERT_TRUE(store_->Complete(manifest).ok());
  }

  fs::path root_;
  std::unique_ptr<FilesystemBackupStore> store_;
};

TEST_F(BackupStoreTest, StatusFollowsThePartitionsAndListAndDeleteWork) {
  EXPECT_EQ(store_->Status(1, 2).state, BackupState::kDoesNotExist);
  ASSERT_TRUE(store_->MarkInProgress(1, 1, 0).ok());
  EXPECT_EQ(store_->Status(1, 2).state, BackupState::kInProgress);
  MakeBackup(1, 1);
  // One of two partitions complete, the other never started.
  EXPECT_EQ(store_->Status(1, 2).state, BackupState::kIncomplete);
  MakeBackup(1, 2);
  BackupStatus status = store_->Status(1, 2);
  EXPECT_EQ(status.state, BackupState::kCompleted);
  ASSERT_EQ(status.partitions.size(), 2u);
  EXPECT_EQ(status.partitions[0].snapshot_id, "7-2");
  EXPECT_EQ(status.partitions[0].checkpoint_position, 42);

  ASSERT_TRUE(store_->MarkFailed(2, 1, 0, "disk full").ok());
  MakeBackup(2, 2);
  BackupStatus failed = store_->Status(2, 2);
  EXPECT_EQ(failed.state, BackupState::kFailed);
  EXPECT_THAT(failed.failure_reason, HasSubstr("disk full"));

  auto list = store_->List(2);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].backup_id, 1);
  EXPECT_EQ(list[1].backup_id, 2);
  ASSERT_TRUE(store_->Delete(1).ok());
  EXPECT_EQ(store_->Status(1, 2).state, BackupState::kDoesNotExist);
  EXPECT_EQ(store_->List(2).size(), 1u);
}

TEST_F(BackupStoreTest, AbandonedBackupsOfThisNodeBecomeFailed) {
  ASSERT_TRUE(store_->MarkInProgress(3, 1, 0).ok());
  ASSERT_TRUE(store_->MarkInProgress(3, 2, 1).ok());
  store_->FailAbandoned(0);
  BackupStatus status = store_->Status(3, 2);
  EXPECT_EQ(status.partitions[0].state, BackupState::kFailed);
  EXPECT_EQ(status.partitions[1].state, BackupState::kInProgress);  // another node's
}

TEST_F(BackupStoreTest, TamperedFileIsRefusedNamingIt) {
  MakeBackup(1, 1);
  ASSERT_TRUE(store_->Verify(1, 1).ok());
  fs::path segment =
      fs::path(store_->PartitionDir(1, 1)) / "journal" / "segment-00000000000000000001.log";
  {
    std::fstream file(segment, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('y');
  }
  auto verified = store_->Verify(1, 1);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr(segment.string()));

  auto restored = RestorePartitions(*store_, 1, {1}, (root_ / "data").string());
  ASSERT_FALSE(restored.ok());
  EXPECT_THAT(std::string(restored.message()), HasSubstr(segment.string()));
  EXPECT_FALSE(fs::exists(root_ / "data" / "partition-1"));
}

TEST_F(BackupStoreTest, MissingOrTruncatedFileIsRefusedNamingIt) {
  MakeBackup(1, 1);
  fs::path snapshot_file = fs::path(store_->PartitionDir(1, 1)) / "snapshot" / "000001.sst";
  fs::resize_file(snapshot_file, 3);
  auto verified = store_->Verify(1, 1);
  ASSERT_FALSE(verified.ok());
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr(snapshot_file.string()));
  fs::remove(snapshot_file);
  verified = store_->Verify(1, 1);
  ASSERT_FALSE(verified.ok());
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr(snapshot_file.string()));
}

TEST_F(BackupStoreTest, IncompleteBackupWithoutManifestIsRefused) {
  MakeBackup(1, 1);
  fs::path manifest = fs::path(store_->PartitionDir(1, 1)) / "manifest.json";
  fs::remove(manifest);
  auto verified = store_->Verify(1, 1);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr("incomplete"));
  EXPECT_THAT(std::string(verified.status().message()), HasSubstr(manifest.string()));
  // Without its manifest the partition's backup reads as still being written.
  EXPECT_EQ(store_->Status(1, 1).state, BackupState::kInProgress);
}

TEST_F(BackupStoreTest, RestoreCopiesSnapshotAndLogIntoAnEmptyDataDirectoryOnly) {
  MakeBackup(1, 1);
  MakeBackup(1, 2);
  fs::path data = root_ / "data";
  ASSERT_TRUE(RestorePartitions(*store_, 1, {2}, data.string()).ok());
  EXPECT_TRUE(
      fs::exists(data / "partition-2" / "snapshots" / "00000000000000000007-2" / "000001.sst"));
  EXPECT_TRUE(
      fs::exists(data / "partition-2" / "snapshots" / "00000000000000000007-2" / "TERN_SNAPSHOT"));
  EXPECT_TRUE(fs::exists(data / "partition-2" / "journal" / "segment-00000000000000000001.log"));
  EXPECT_TRUE(fs::exists(data / "partition-2" / "journal" / "meta"));
  EXPECT_FALSE(fs::exists(data / "partition-1"));
  // A second restore over it is refused: it would mix two histories.
  auto again = RestorePartitions(*store_, 1, {2}, data.string());
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.message()), HasSubstr("already holds data"));
  // A backup that does not exist is refused too.
  EXPECT_FALSE(RestorePartitions(*store_, 9, {1}, (root_ / "other").string()).ok());
}

TEST(JsonLogTest, EveryLineIsOneJsonObject) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("tern-test", sink);
  logger.set_formatter(base::NewJsonLogFormatter());
  logger.info("plain message");
  logger.warn("quotes \" backslash \\ newline \n tab \t control \x01 unicode é");
  logger.error("partition {}: {}", 3, "failed");
  std::istringstream lines(out.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    nlohmann::json json = nlohmann::json::parse(line);  // throws (fails) if not JSON
    EXPECT_TRUE(json.contains("timestamp"));
    EXPECT_TRUE(json.contains("thread"));
    EXPECT_EQ(json["logger"], "tern-test");
    if (count == 2) {
      EXPECT_EQ(json["level"], "warning");
      EXPECT_EQ(json["message"], "quotes \" backslash \\ newline \n tab \t control \x01 unicode é");
    }
    if (count == 3) {
      EXPECT_EQ(json["message"], "partition 3: failed");
    }
  }
  EXPECT_EQ(count, 3);
  EXPECT_FALSE(base::ConfigureLogging("xml", "info").ok());
  EXPECT_FALSE(base::ConfigureLogging("json", "loud").ok());
}

}  // namespace
}  // namespace tern::broker
