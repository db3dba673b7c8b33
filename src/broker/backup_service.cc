#include "broker/backup_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "broker/version.h"
#include "engine/record_values.h"
#include "journal/file_system.h"
#include "journal/journal.h"

namespace tern::broker {
namespace {

namespace fs = std::filesystem;

// How long POST waits for every partition to write its checkpoint.
constexpr int64_t kCheckpointTimeoutMs = 15'000;

std::pair<int, std::string> Error(int code, const std::string& message) {
  return {code, nlohmann::json({{"message", message}}).dump()};
}

nlohmann::json ToJson(const BackupStatus& status) {
  nlohmann::json details = nlohmann::json::array();
  for (const auto& p : status.partitions) {
    nlohmann::json detail = {{"partitionId", p.partition_id},
                             {"state", std::string(BackupStateName(p.state))}};
    if (!p.failure_reason.empty()) detail["failureReason"] = p.failure_reason;
    if (!p.created_at.empty()) detail["createdAt"] = p.created_at;
    if (!p.last_updated_at.empty()) detail["lastUpdatedAt"] = p.last_updated_at;
    if (!p.snapshot_id.empty()) detail["snapshotId"] = p.snapshot_id;
    if (p.checkpoint_position >= 0) detail["checkpointPosition"] = p.checkpoint_position;
    if (!p.broker_version.empty()) detail["brokerVersion"] = p.broker_version;
    details.push_back(std::move(detail));
  }
  nlohmann::json result = {{"backupId", status.backup_id},
                           {"state", std::string(BackupStateName(status.state))},
                           {"details", std::move(details)}};
  if (!status.failure_reason.empty()) result["failureReason"] = status.failure_reason;
  return result;
}

// A backup id from the path or the body: a positive integer, as a JSON number or a string of
// digits (Zeebe's documentation sends "100").
std::optional<int64_t> ParseBackupId(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t id = std::stoll(text);
  if (id <= 0) return std::nullopt;
  return id;
}

// Hard-links every regular file of `from` whose name `keep` accepts into `to`.
absl::Status LinkFiles(const fs::path& from, const fs::path& to,
                       const std::function<bool(const std::string&)>& keep) {
  std::error_code error;
  fs::create_directories(to, error);
  if (error)
    return absl::InternalError(StrCat("cannot create ", to.string(), ": ", error.message()));
  for (auto it = fs::directory_iterator(from, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    if (!it->is_regular_file()) continue;
    std::string name = it->path().filename().string();
    if (!keep(name)) continue;
    std::error_code link_error;
    fs::create_hard_link(it->path(), to / name, link_error);
    if (link_error) {
      return absl::InternalError(
          StrCat("cannot link ", it->path().string(), ": ", link_error.message()));
    }
  }
  if (error)
    return absl::InternalError(StrCat("cannot list ", from.string(), ": ", error.message()));
  return absl::OkStatus();
}

// The directory of a published snapshot: named <index>-<term> (with the index zero-padded by
// the state backend), complete once it holds the backend's marker file.
absl::StatusOr<fs::path> FindSnapshotDirectory(const fs::path& snapshots, SnapshotInfo info) {
  std::error_code error;
  for (auto it = fs::directory_iterator(snapshots, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    std::string name = it->path().filename().string();
    auto dash = name.find('-');
    if (!it->is_directory() || dash == std::string::npos || name.find('.') != std::string::npos ||
        name.find_first_not_of("0123456789-") != std::string::npos) {
      continue;
    }
    if (std::stoull(name.substr(0, dash)) == info.index &&
        std::stoull(name.substr(dash + 1)) == info.term &&
        fs::exists(it->path() / "TERN_SNAPSHOT")) {
      return it->path();
    }
  }
  return absl::NotFoundError(StrCat("no published snapshot at index ", info.index, " term ",
                                    info.term, " in ", snapshots.string()));
}

absl::Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::create_directories(to, error);
  if (!fs::exists(from)) return absl::OkStatus();
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, error);
  if (error) {
    return absl::InternalError(
        StrCat("cannot copy ", from.string(), " to ", to.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

// Cuts the copied log after the checkpoint's entry, and records that entry as committed: the
// copy was taken while the leader went on appending, and a restored cluster must start exactly
// at the checkpoint.
absl::Status CutLogAfterCheckpoint(const std::string& journal_dir, const CommittedCheckpoint& c) {
  auto journal = journal::Journal::Open(&journal::PosixFileSystem(), journal_dir);
  if (!journal.ok()) return journal.status();
  journal::Journal& log = **journal;
  if (log.LastIndex() < c.index || log.FirstIndex() > c.index) {
    return absl::DataLossError(StrCat("the copied log holds entries ", log.FirstIndex(), "..",
                                      log.LastIndex(), ", not the checkpoint's entry ", c.index));
  }
  auto term = log.Term(c.index);
  if (!term.ok()) return term.status();
  if (*term != c.term) {
    return absl::DataLossError(StrCat("the copied log's entry ", c.index, " has term ", *term,
                                      ", the checkpoint was written in term ", c.term));
  }
  auto entry = log.Read(c.index, c.index + 1, 1ull << 30);
  if (!entry.ok()) return entry.status();
  // The hard state first: re-appending the entry below cuts the log after it, and the journal
  // keeps the hard state of that moment in its meta file, which must not name a commit beyond
  // the cut (the hard state of the open never goes back otherwise).
  journal::HardStateRecord hard_state = log.hard_state();
  hard_state.term = std::max(hard_state.term, c.term);
  hard_state.commit = c.index;
  if (auto status = log.SetHardState(hard_state); !status.ok()) return status;
  if (auto status = log.Append(*entry); !status.ok()) return status;
  return log.Sync();
}

}  // namespace

BackupService::BackupService(const BrokerConfig& config, gateway::BrokerClient* client)
    : config_(config), client_(client) {
  if (config_.backup_dir.empty()) return;
  store_ = std::make_unique<FilesystemBackupStore>(config_.backup_dir);
  std::error_code error;
  fs::create_directories(config_.backup_dir, error);
  // Backups this broker was writing when it stopped are not going to be finished.
  store_->FailAbandoned(config_.node_id);
  for (int32_t p = 1; p <= config_.partitions; ++p) {
    fs::remove_all(fs::path(config_.data_dir) / StrCat("partition-", p) / "backup-staging", error);
  }
  worker_ = std::thread([this] { Run(); });
}

BackupService::~BackupService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
  for (const Job& job : jobs_) {
    (void)store_->MarkFailed(job.backup_id, job.partition_id, config_.node_id,
                             "the broker stopped before the backup was copied");
    std::error_code error;
    fs::remove_all(job.staging, error);
  }
}

void BackupService::OnCheckpointCommitted(int32_t partition_id,
                                          const CommittedCheckpoint& checkpoint) {
  if (!store_) {
    spdlog::warn("partition {}: checkpoint {} committed, but backups are off (no backup-dir)",
                 partition_id, checkpoint.checkpoint_id);
    return;
  }
  const int64_t id = checkpoint.checkpoint_id;
  if (auto status = store_->MarkInProgress(id, partition_id, config_.node_id); !status.ok()) {
    spdlog::error("partition {}: backup {}: {}", partition_id, id, ToStd(status.message()));
    return;
  }
  Job job;
  job.backup_id = id;
  job.partition_id = partition_id;
  job.checkpoint = checkpoint;
  job.created_at = NowRfc3339();
  fs::path partition_dir = fs::path(config_.data_dir) / StrCat("partition-", partition_id);
  fs::path staging = partition_dir / "backup-staging" / std::to_string(id);
  job.staging = staging.string();
  std::error_code error;
  fs::remove_all(staging, error);
  absl::Status staged;
  if (checkpoint.snapshot && checkpoint.snapshot->index > checkpoint.index) {
    staged = absl::InternalError(StrCat("the newest snapshot (index ", checkpoint.snapshot->index,
                                        ") is past the checkpoint (index ", checkpoint.index, ")"));
  }
  if (staged.ok() && checkpoint.snapshot) {
    auto snapshot_dir = FindSnapshotDirectory(partition_dir / "snapshots", *checkpoint.snapshot);
    staged = snapshot_dir.ok() ? LinkFiles(*snapshot_dir, staging / "snapshot",
                                           [](const std::string&) { return true; })
                               : snapshot_dir.status();
    if (staged.ok()) job.snapshot_directory = snapshot_dir->filename().string();
  }
  if (staged.ok()) {
    staged = LinkFiles(partition_dir / "journal", staging / "journal", [](const std::string& name) {
      return name == "meta" || (name.starts_with("segment-") && name.ends_with(".log"));
    });
  }
  if (!staged.ok()) {
    spdlog::error("partition {}: backup {} failed: {}", partition_id, id, ToStd(staged.message()));
    (void)store_->MarkFailed(id, partition_id, config_.node_id, ToStd(staged.message()));
    fs::remove_all(staging, error);
    return;
  }
  spdlog::info("partition {}: backup {} at checkpoint position {} (index {}), snapshot {}",
               partition_id, id, checkpoint.checkpoint_position, checkpoint.index,
               checkpoint.snapshot
                   ? StrCat(checkpoint.snapshot->index, "-", checkpoint.snapshot->term)
                   : std::string("none"));
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  changed_.notify_all();
}

void BackupService::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    auto start = std::chrono::steady_clock::now();
    absl::Status status = Copy(job);
    auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    std::error_code error;
    fs::remove_all(job.staging, error);
    if (status.ok()) {
      spdlog::info("partition {}: backup {} completed in {} ms", job.partition_id, job.backup_id,
                   took_ms);
    } else {
      spdlog::error("partition {}: backup {} failed: {}", job.partition_id, job.backup_id,
                    ToStd(status.message()));
      (void)store_->MarkFailed(job.backup_id, job.partition_id, config_.node_id,
                               ToStd(status.message()));
    }
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

absl::Status BackupService::Copy(const Job& job) {
  fs::path target = store_->PartitionDir(job.backup_id, job.partition_id);
  fs::path staging(job.staging);
  std::error_code error;
  fs::remove_all(target / "snapshot", error);
  fs::remove_all(target / "journal", error);
  if (auto status = CopyTree(staging / "snapshot", target / "snapshot"); !status.ok()) {
    return status;
  }
  if (auto status = CopyTree(staging / "journal", target / "journal"); !status.ok()) return status;
  if (auto status = CutLogAfterCheckpoint((target / "journal").string(), job.checkpoint);
      !status.ok()) {
    return status;
  }
  PartitionBackupManifest manifest;
  manifest.backup_id = job.backup_id;
  manifest.partition_id = job.partition_id;
  manifest.node_id = config_.node_id;
  manifest.checkpoint_position = job.checkpoint.checkpoint_position;
  manifest.checkpoint_index = job.checkpoint.index;
  manifest.checkpoint_term = job.checkpoint.term;
  if (job.checkpoint.snapshot) {
    manifest.snapshot_index = job.checkpoint.snapshot->index;
    manifest.snapshot_term = job.checkpoint.snapshot->term;
    manifest.snapshot_directory = job.snapshot_directory;
  }
  manifest.broker_version = std::string(kTernVersion);
  manifest.created_at = job.created_at;
  return store_->Complete(std::move(manifest));
}

void BackupService::WaitIdle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return stopping_ || (jobs_.empty() && !busy_); });
}

std::pair<int, std::string> BackupService::Handle(const std::string& method,
                                                  const std::string& subpath,
                                                  const std::string& body) {
  if (!store_) {
    return Error(400,
                 "Backups are not configured: start every broker with --backup-dir (or "
                 "TERN_BACKUP_DIR, or backup-dir in the configuration file)");
  }
  std::string rest = subpath;
  while (!rest.empty() && rest.front() == '/') rest.erase(rest.begin());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) {
    if (method == "POST") return TakeBackup(body);
    if (method == "GET") {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& status : store_->List(config_.partitions)) list.push_back(ToJson(status));
      return {200, list.dump()};
    }
    return Error(405, StrCat(method, " is not supported on /actuator/backups"));
  }
  auto id = ParseBackupId(rest);
  if (!id) return Error(400, StrCat("Expected a positive backup id, but got '", rest, "'"));
  BackupStatus status = store_->Status(*id, config_.partitions);
  if (method == "GET") {
    if (status.state == BackupState::kDoesNotExist) {
      nlohmann::json json = ToJson(status);
      json["message"] = StrCat("A backup with id ", *id, " does not exist");
      return {404, json.dump()};
    }
    return {200, ToJson(status).dump()};
  }
  if (method == "DELETE") {
    if (status.state == BackupState::kInProgress) {
      return Error(409, StrCat("The backup with id ", *id,
                               " is in progress; delete it once it is completed or failed"));
    }
    if (auto deleted = store_->Delete(*id); !deleted.ok()) {
      return Error(500, std::string(ToStd(deleted.message())));
    }
    return {204, ""};
  }
  return Error(405, StrCat(method, " is not supported on /actuator/backups/{id}"));
}

std::pair<int, std::string> BackupService::TakeBackup(const std::string& body) {
  int64_t id = 0;
  try {
    auto json = nlohmann::json::parse(body);
    const auto& value = json.at("backupId");
    std::optional<int64_t> parsed;
    if (value.is_number_integer()) {
      parsed =
          value.get<int64_t>() > 0 ? std::optional<int64_t>(value.get<int64_t>()) : std::nullopt;
    } else if (value.is_string()) {
      parsed = ParseBackupId(value.get<std::string>());
    }
    if (!parsed) return Error(400, "Expected backupId to be a positive integer");
    id = *parsed;
  } catch (const nlohmann::json::exception&) {
    return Error(400, "Expected a JSON body {\"backupId\": <positive integer>}");
  }

  // One checkpoint command per partition, answered by each leader once its checkpoint is
  // committed (and its backup staged).
  struct Answers {
    std::mutex mutex;
    std::condition_variable done;
    int pending = 0;
    std::vector<std::pair<int32_t, absl::StatusOr<record::Record>>> results;
  };
  auto answers = std::make_shared<Answers>();
  answers->pending = config_.partitions;
  for (int32_t p = 1; p <= config_.partitions; ++p) {
    record::CheckpointRecord value;
    value.set_checkpoint_id(id);
    record::Record command = engine::MakeCommand(0, engine::CheckpointIntent::kCreate, value);
    client_->Send(p, std::move(command), kCheckpointTimeoutMs,
                  [answers, p](absl::StatusOr<record::Record> answer) {
                    std::lock_guard lock(answers->mutex);
                    answers->results.emplace_back(p, std::move(answer));
                    if (--answers->pending == 0) answers->done.notify_all();
                  });
  }
  std::unique_lock lock(answers->mutex);
  if (!answers->done.wait_for(lock, std::chrono::milliseconds(kCheckpointTimeoutMs + 2'000),
                              [&] { return answers->pending == 0; })) {
    return Error(504, StrCat("Not every partition wrote checkpoint ", id, " in time; take a ",
                             "backup with a larger id"));
  }
  for (const auto& [partition, answer] : answers->results) {
    if (!answer.ok()) {
      int code = absl::IsDeadlineExceeded(answer.status()) ? 504 : 502;
      return Error(
          code, StrCat("Partition ", partition, " did not write checkpoint ", id, ": ",
                       ToStd(answer.status().message()), "; take a backup with a ", "larger id"));
    }
    const record::Record& record = *answer;
    if (record.record_type() == record::COMMAND_REJECTION) {
      return Error(500, StrCat("Partition ", partition, " rejected checkpoint ", id, ": ",
                               record.rejection_reason()));
    }
    if (record.intent() == ToInt(engine::CheckpointIntent::kIgnored)) {
      return Error(409, StrCat("A backup with id ", id, " cannot be taken: partition ", partition,
                               " already has checkpoint ", record.checkpoint().checkpoint_id(),
                               ", and backup ids must be larger than every earlier one"));
    }
  }
  return {202, nlohmann::json({{"message", StrCat("A backup with id ", id,
                                                  " has been scheduled. Use GET "
                                                  "actuator/backups/",
                                                  id, " to monitor the status.")}})
                   .dump()};
}

}  // namespace tern::broker
