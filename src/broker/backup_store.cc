#include "broker/backup_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/strings.h"
#include "journal/crc32c.h"

namespace tern::broker {
namespace {

namespace fs = std::filesystem;

constexpr char kManifest[] = "manifest.json";
constexpr char kStatus[] = "status.json";

absl::Status SyncFile(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return absl::InternalError(StrCat("cannot open ", path.string(), " to sync"));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(StrCat("fsync of ", path.string(), " failed"));
  return absl::OkStatus();
}

// Writes `content` to `path` through a temporary file and a rename, so readers see the old or
// the new content, never a part.
absl::Status WriteAtomically(const fs::path& path, const std::string& content, bool sync) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return absl::InternalError(StrCat("cannot write ", tmp.string()));
  }
  if (sync) {
    if (auto status = SyncFile(tmp, false); !status.ok()) return status;
  }
  std::error_code error;
  fs::rename(tmp, path, error);
  if (error) {
    return absl::InternalError(StrCat("cannot rename ", tmp.string(), ": ", error.message()));
  }
  if (sync) return SyncFile(path.parent_path(), true);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path.string()));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// The size and CRC32C of a file, read in 1 MiB pieces.
absl::StatusOr<std::pair<uint64_t, uint32_t>> Checksum(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path.string()));
  std::vector<char> buffer(1 << 20);
  uint64_t size = 0;
  uint32_t crc = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    std::streamsize got = in.gcount();
    if (got <= 0) break;
    crc = journal::Crc32cExtend(crc, buffer.data(), static_cast<size_t>(got));
    size += static_cast<uint64_t>(got);
  }
  if (in.bad()) return absl::InternalError(StrCat("cannot read ", path.string()));
  return std::make_pair(size, crc);
}

nlohmann::json ToJson(const PartitionBackupManifest& m) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : m.files) {
    files.push_back({{"path", file.path}, {"size", file.size}, {"crc32c", file.crc32c}});
  }
  return {{"backupId", m.backup_id},
          {"partitionId", m.partition_id},
          {"nodeId", m.node_id},
          {"checkpointPosition", m.checkpoint_position},
          {"checkpointIndex", m.checkpoint_index},
          {"checkpointTerm", m.checkpoint_term},
          {"snapshotIndex", m.snapshot_index},
          {"snapshotTerm", m.snapshot_term},
          {"snapshotDirectory", m.snapshot_directory},
          {"brokerVersion", m.broker_version},
          {"createdAt", m.created_at},
          {"completedAt", m.completed_at},
          {"files", std::move(files)}};
}

absl::StatusOr<PartitionBackupManifest> ParseManifest(const std::string& text,
                                                      const std::string& name) {
  try {
    auto json = nlohmann::json::parse(text);
    PartitionBackupManifest m;
    m.backup_id = json.at("backupId").get<int64_t>();
    m.partition_id = json.at("partitionId").get<int32_t>();
    m.node_id = json.at("nodeId").get<int32_t>();
    m.checkpoint_position = json.at("checkpointPosition").get<int64_t>();
    m.checkpoint_index = json.at("checkpointIndex").get<uint64_t>();
    m.checkpoint_term = json.at("checkpointTerm").get<uint64_t>();
    m.snapshot_index = json.at("snapshotIndex").get<uint64_t>();
    m.snapshot_term = json.at("snapshotTerm").get<uint64_t>();
    m.snapshot_directory = json.value("snapshotDirectory", "");
    if (m.snapshot_directory.find_first_not_of("0123456789-") != std::string::npos) {
      return absl::DataLossError(
          StrCat(name, " names an invalid snapshot directory: ", m.snapshot_directory));
    }
    m.broker_version = json.at("brokerVersion").get<std::string>();
    m.created_at = json.at("createdAt").get<std::string>();
    m.completed_at = json.at("completedAt").get<std::string>();
    for (const auto& file : json.at("files")) {
      BackupFile f;
      f.path = file.at("path").get<std::string>();
      f.size = file.at("size").get<uint64_t>();
      f.crc32c = file.at("crc32c").get<uint32_t>();
      // A manifest names files inside its own directory only.
      if (f.path.empty() || f.path.front() == '/' || f.path.find("..") != std::string::npos) {
        return absl::DataLossError(StrCat(name, " names a file outside the backup: ", f.path));
      }
      m.files.push_back(std::move(f));
    }
    return m;
  } catch (const nlohmann::json::exception& error) {
    return absl::DataLossError(StrCat(name, " is not a valid manifest: ", error.what()));
  }
}

// Copies `from` to `to` and syncs the copy.
absl::Status CopyFile(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  if (error) {
    return absl::InternalError(
        StrCat("cannot copy ", from.string(), " to ", to.string(), ": ", error.message()));
  }
  return SyncFile(to, false);
}

}  // namespace

std::string_view BackupStateName(BackupState state) {
  switch (state) {
    case BackupState::kDoesNotExist:
      return "DOES_NOT_EXIST";
    case BackupState::kInProgress:
      return "IN_PROGRESS";
    case BackupState::kCompleted:
      return "COMPLETED";
    case BackupState::kFailed:
      return "FAILED";
    case BackupState::kIncomplete:
      return "INCOMPLETE";
  }
  return "DOES_NOT_EXIST";
}

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - seconds);
  std::time_t time = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[48];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(micros.count()));
  return text;
}

std::string FilesystemBackupStore::BackupDir(int64_t backup_id) const {
  return (fs::path(root_) / std::to_string(backup_id)).string();
}

std::string FilesystemBackupStore::PartitionDir(int64_t backup_id, int32_t partition_id) const {
  return (fs::path(BackupDir(backup_id)) / StrCat("partition-", partition_id)).string();
}

absl::Status FilesystemBackupStore::WriteStatus(int64_t backup_id, int32_t partition_id,
                                                int32_t node_id, BackupState state,
                                                std::string_view reason) {
  fs::path dir = PartitionDir(backup_id, partition_id);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::InternalError(StrCat("cannot create ", dir.string(), ": ", error.message()));
  }
  std::string created_at = NowRfc3339();
  if (auto previous = ReadWhole(dir / kStatus); previous.ok()) {
    try {
      created_at = nlohmann::json::parse(*previous).value("createdAt", created_at);
    } catch (const nlohmann::json::exception&) {
      // A damaged status file is replaced by this one.
    }
  }
  nlohmann::json status = {{"state", std::string(BackupStateName(state))},
                           {"nodeId", node_id},
                           {"createdAt", created_at},
                           {"lastUpdatedAt", NowRfc3339()},
                           {"failureReason", std::string(reason)},
                           {"brokerVersion", ""}};
  return WriteAtomically(dir / kStatus, status.dump(2), /*sync=*/false);
}

absl::Status FilesystemBackupStore::MarkInProgress(int64_t backup_id, int32_t partition_id,
                                                   int32_t node_id) {
  return WriteStatus(backup_id, partition_id, node_id, BackupState::kInProgress, "");
}

absl::Status FilesystemBackupStore::MarkFailed(int64_t backup_id, int32_t partition_id,
                                               int32_t node_id, std::string_view reason) {
  return WriteStatus(backup_id, partition_id, node_id, BackupState::kFailed, reason);
}

absl::Status FilesystemBackupStore::Complete(PartitionBackupManifest manifest) {
  fs::path dir = PartitionDir(manifest.backup_id, manifest.partition_id);
  manifest.files.clear();
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(dir, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file()) continue;
    std::string relative = fs::relative(it->path(), dir).string();
    if (relative == kStatus || relative == kManifest || relative.ends_with(".tmp")) continue;
    auto sum = Checksum(it->path());
    if (!sum.ok()) return sum.status();
    if (auto status = SyncFile(it->path(), false); !status.ok()) return status;
    manifest.files.push_back(BackupFile{relative, sum->first, sum->second});
  }
  if (error)
    return absl::InternalError(StrCat("cannot list ", dir.string(), ": ", error.message()));
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const BackupFile& a, const BackupFile& b) { return a.path < b.path; });
  for (const char* sub : {"snapshot", "journal"}) {
    if (fs::exists(dir / sub)) {
      if (auto status = SyncFile(dir / sub, true); !status.ok()) return status;
    }
  }
  manifest.completed_at = NowRfc3339();
  return WriteAtomically(dir / kManifest, ToJson(manifest).dump(2), /*sync=*/true);
}

PartitionBackupStatus FilesystemBackupStore::PartitionStatus(int64_t backup_id,
                                                             int32_t partition_id) const {
  PartitionBackupStatus result;
  result.partition_id = partition_id;
  fs::path dir = PartitionDir(backup_id, partition_id);
  if (auto text = ReadWhole(dir / kManifest); text.ok()) {
    auto manifest = ParseManifest(*text, (dir / kManifest).string());
    if (!manifest.ok()) {
      result.state = BackupState::kFailed;
      result.failure_reason = std::string(ToStd(manifest.status().message()));
      return result;
    }
    result.state = BackupState::kCompleted;
    result.created_at = manifest->created_at;
    result.last_updated_at = manifest->completed_at;
    result.checkpoint_position = manifest->checkpoint_position;
    result.broker_version = manifest->broker_version;
    if (manifest->snapshot_index > 0) {
      result.snapshot_id = StrCat(manifest->snapshot_index, "-", manifest->snapshot_term);
    }
    return result;
  }
  auto text = ReadWhole(dir / kStatus);
  if (!text.ok()) return result;  // DOES_NOT_EXIST
  try {
    auto status = nlohmann::json::parse(*text);
    std::string state = status.value("state", "");
    result.state = state == "FAILED" ? BackupState::kFailed : BackupState::kInProgress;
    result.failure_reason = status.value("failureReason", "");
    result.created_at = status.value("createdAt", "");
    result.last_updated_at = status.value("lastUpdatedAt", "");
  } catch (const nlohmann::json::exception& error) {
    result.state = BackupState::kFailed;
    result.failure_reason = StrCat((dir / kStatus).string(), " is damaged: ", error.what());
  }
  return result;
}

BackupStatus FilesystemBackupStore::Status(int64_t backup_id, int32_t partition_count) const {
  BackupStatus result;
  result.backup_id = backup_id;
  int completed = 0, missing = 0, failed = 0, in_progress = 0;
  for (int32_t p = 1; p <= partition_count; ++p) {
    PartitionBackupStatus partition = PartitionStatus(backup_id, p);
    switch (partition.state) {
      case BackupState::kCompleted:
        ++completed;
        break;
      case BackupState::kFailed:
        if (failed++ == 0) {
          result.failure_reason = StrCat("partition ", p, ": ", partition.failure_reason);
        }
        break;
      case BackupState::kInProgress:
        ++in_progress;
        break;
      default:
        ++missing;
        break;
    }
    result.partitions.push_back(std::move(partition));
  }
  if (missing == partition_count) {
    result.state = BackupState::kDoesNotExist;
  } else if (failed > 0) {
    result.state = BackupState::kFailed;
  } else if (completed == partition_count) {
    result.state = BackupState::kCompleted;
  } else if (in_progress > 0) {
    result.state = BackupState::kInProgress;
  } else {
    result.state = BackupState::kIncomplete;
  }
  return result;
}

std::vector<BackupStatus> FilesystemBackupStore::List(int32_t partition_count) const {
  std::vector<int64_t> ids;
  std::error_code error;
  for (auto it = fs::directory_iterator(root_, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    if (!it->is_directory()) continue;
    std::string name = it->path().filename().string();
    if (name.empty() || name.size() > 18 ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    ids.push_back(std::stoll(name));
  }
  std::sort(ids.begin(), ids.end());
  std::vector<BackupStatus> result;
  for (int64_t id : ids) result.push_back(Status(id, partition_count));
  return result;
}

absl::Status FilesystemBackupStore::Delete(int64_t backup_id) {
  std::error_code error;
  fs::remove_all(BackupDir(backup_id), error);
  if (error) {
    return absl::InternalError(
        StrCat("cannot delete ", BackupDir(backup_id), ": ", error.message()));
  }
  return absl::OkStatus();
}

void FilesystemBackupStore::FailAbandoned(int32_t node_id) {
  std::error_code error;
  for (auto it = fs::directory_iterator(root_, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    std::error_code inner;
    for (auto part = fs::directory_iterator(it->path(), inner);
         !inner && part != fs::directory_iterator(); part.increment(inner)) {
      fs::path dir = part->path();
      if (fs::exists(dir / kManifest)) continue;
      auto text = ReadWhole(dir / kStatus);
      if (!text.ok()) continue;
      try {
        auto status = nlohmann::json::parse(*text);
        if (status.value("state", "") != "IN_PROGRESS" || status.value("nodeId", -1) != node_id)
          continue;
        status["state"] = "FAILED";
        status["failureReason"] = "the broker taking it stopped before it was complete";
        status["lastUpdatedAt"] = NowRfc3339();
        (void)WriteAtomically(dir / kStatus, status.dump(2), false);
      } catch (const nlohmann::json::exception&) {
        continue;
      }
    }
  }
}

absl::StatusOr<PartitionBackupManifest> FilesystemBackupStore::Verify(int64_t backup_id,
                                                                      int32_t partition_id) const {
  fs::path dir = PartitionDir(backup_id, partition_id);
  fs::path manifest_path = dir / kManifest;
  auto text = ReadWhole(manifest_path);
  if (!text.ok()) {
    if (!fs::exists(dir)) {
      return absl::NotFoundError(StrCat("backup ", backup_id, " has no partition ", partition_id,
                                        " (", dir.string(), " does not exist)"));
    }
    return absl::FailedPreconditionError(StrCat(
        "backup ", backup_id, " of partition ", partition_id,
        " is incomplete: ", manifest_path.string(), " is missing (the backup was not finished)"));
  }
  auto manifest = ParseManifest(*text, manifest_path.string());
  if (!manifest.ok()) return manifest.status();
  if (manifest->backup_id != backup_id || manifest->partition_id != partition_id) {
    return absl::DataLossError(StrCat(manifest_path.string(), " describes backup ",
                                      manifest->backup_id, " of partition ",
                                      manifest->partition_id));
  }
  for (const auto& file : manifest->files) {
    fs::path path = dir / file.path;
    auto sum = Checksum(path);
    if (!sum.ok()) {
      return absl::DataLossError(
          StrCat("backup file ", path.string(), " is missing (named in the manifest)"));
    }
    if (sum->first != file.size) {
      return absl::DataLossError(StrCat("backup file ", path.string(), " has ", sum->first,
                                        " bytes, the manifest says ", file.size));
    }
    if (sum->second != file.crc32c) {
      return absl::DataLossError(StrCat("backup file ", path.string(),
                                        " does not match its checksum in the manifest (corrupt "
                                        "or altered)"));
    }
  }
  return manifest;
}

absl::Status RestorePartitions(const FilesystemBackupStore& store, int64_t backup_id,
                               const std::vector<int32_t>& partition_ids,
                               const std::string& data_dir) {
  std::vector<PartitionBackupManifest> manifests;
  for (int32_t partition : partition_ids) {
    auto manifest = store.Verify(backup_id, partition);
    if (!manifest.ok()) return manifest.status();
    fs::path target = fs::path(data_dir) / StrCat("partition-", partition);
    std::error_code error;
    if (fs::exists(target, error) && !fs::is_empty(target, error)) {
      return absl::FailedPreconditionError(
          StrCat(target.string(),
                 " already holds data: restore only into an empty data directory (move the old "
                 "one aside)"));
    }
    manifests.push_back(*std::move(manifest));
  }
  for (const auto& manifest : manifests) {
    fs::path source = store.PartitionDir(backup_id, manifest.partition_id);
    fs::path target = fs::path(data_dir) / StrCat("partition-", manifest.partition_id);
    fs::path snapshot_target = target / "snapshots" /
                               (manifest.snapshot_directory.empty()
                                    ? StrCat(manifest.snapshot_index, "-", manifest.snapshot_term)
                                    : manifest.snapshot_directory);
    std::error_code error;
    fs::create_directories(target / "journal", error);
    if (manifest.snapshot_index > 0) fs::create_directories(snapshot_target, error);
    if (error) {
      return absl::InternalError(StrCat("cannot create ", target.string(), ": ", error.message()));
    }
    for (const auto& file : manifest.files) {
      fs::path relative(file.path);
      auto first = *relative.begin();
      fs::path rest = relative.lexically_relative(first);
      fs::path to;
      if (first == "snapshot") {
        to = snapshot_target / rest;
      } else if (first == "journal") {
        to = target / "journal" / rest;
      } else {
        continue;
      }
      fs::create_directories(to.parent_path(), error);
      if (auto status = CopyFile(source / relative, to); !status.ok()) return status;
    }
    for (const fs::path& dir :
         {target / "journal", snapshot_target, target / "snapshots", target}) {
      if (fs::exists(dir)) {
        if (auto status = SyncFile(dir, true); !status.ok()) return status;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tern::broker
