#include "broker/state_backend.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>

#include "base/check.h"
#include "base/strings.h"

namespace tern::broker {
namespace fs = std::filesystem;

namespace {

// --- Byte helpers for the snapshot stream formats ------------------------------------------------

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetLittleEndian(std::string_view in, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
  return v;
}

std::string SnapshotName(SnapshotInfo info) {
  char name[64];
  std::snprintf(name, sizeof(name), "%020llu-%llu", static_cast<unsigned long long>(info.index),
                static_cast<unsigned long long>(info.term));
  return name;
}

absl::Status SyncPath(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return absl::InternalError(StrCat("cannot open ", path.string(), " to sync"));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(StrCat("fsync of ", path.string(), " failed"));
  return absl::OkStatus();
}

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// A PendingSnapshot that was finished before it was handed out.
class FinishedSnapshot : public PendingSnapshot {
 public:
  FinishedSnapshot(absl::Status status, SnapshotTimings timings)
      : status_(std::move(status)), timings_(timings) {}
  bool Done() override { return true; }
  void Wait() override {}
  absl::Status status() const override { return status_; }
  SnapshotTimings timings() const override { return timings_; }

 private:
  absl::Status status_;
  SnapshotTimings timings_;
};

// --- RocksDB checkpoints
// ---------------------------------------------------------------------------

constexpr char kMarker[] = "TERN_SNAPSHOT";

struct SnapshotDir {
  SnapshotInfo info;
  fs::path path;
};

// Complete snapshots (the marker is written last, before the rename), newest first.
std::vector<SnapshotDir> ListSnapshots(const fs::path& root) {
  std::vector<SnapshotDir> found;
  std::error_code error;
  if (!fs::exists(root, error)) return found;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    if (!entry.is_directory()) continue;
    std::string name = entry.path().filename().string();
    auto dash = name.find('-');
    if (dash == std::string::npos || name.find('.') != std::string::npos) continue;
    if (!fs::exists(entry.path() / kMarker)) continue;
    SnapshotDir dir;
    dir.info.index = std::stoull(name.substr(0, dash));
    dir.info.term = std::stoull(name.substr(dash + 1));
    dir.path = entry.path();
    found.push_back(dir);
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.info.index > b.info.index; });
  return found;
}

// Makes `to` a private copy of the checkpoint in `from`: immutable table files are hard-linked,
// everything RocksDB may append to (MANIFEST, OPTIONS, CURRENT) is copied.
absl::Status CopyCheckpoint(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::remove_all(to, error);
  fs::create_directories(to, error);
  if (error)
    return absl::InternalError(StrCat("cannot create ", to.string(), ": ", error.message()));
  for (const auto& entry : fs::directory_iterator(from)) {
    std::string name = entry.path().filename().string();
    if (name == kMarker) continue;
    fs::path target = to / name;
    if (name.ends_with(".sst")) {
      fs::create_hard_link(entry.path(), target, error);
      if (!error) continue;
      error.clear();
    }
    fs::copy_file(entry.path(), target, error);
    if (error) {
      return absl::InternalError(
          StrCat("cannot copy ", entry.path().string(), ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

// A snapshot directory as one stream: for each file, sorted by name,
// [u32 name length][name][u64 size][bytes].
class DirectorySource : public SnapshotSource {
 public:
  static absl::StatusOr<std::unique_ptr<DirectorySource>> Open(const fs::path& dir) {
    auto source = std::unique_ptr<DirectorySource>(new DirectorySource());
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().filename() != kMarker)
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    uint64_t offset = 0;
    for (const auto& file : files) {
      Part header;
      header.offset = offset;
      std::string name = file.filename().string();
      PutU32(header.inline_bytes, static_cast<uint32_t>(name.size()));
      header.inline_bytes += name;
      uint64_t size = fs::file_size(file);
      PutU64(header.inline_bytes, size);
      header.size = header.inline_bytes.size();
      offset += header.size;
      source->parts_.push_back(std::move(header));
      Part body;
      body.offset = offset;
      body.size = size;
      body.file = file;
      offset += size;
      source->parts_.push_back(std::move(body));
    }
    source->size_ = offset;
    return source;
  }

  uint64_t size() const override { return size_; }

  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t max_bytes) override {
    std::string out;
    for (const auto& part : parts_) {
      if (out.size() >= max_bytes) break;
      uint64_t end = part.offset + part.size;
      if (offset >= end || part.size == 0) continue;
      uint64_t from = std::max(offset, part.offset) - part.offset;
      uint64_t n = std::min<uint64_t>(part.size - from, max_bytes - out.size());
      if (part.file.empty()) {
        out.append(part.inline_bytes, from, n);
      } else {
        std::ifstream in(part.file, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(from));
        std::string buffer(n, '\0');
        in.read(buffer.data(), static_cast<std::streamsize>(n));
        if (static_cast<uint64_t>(in.gcount()) != n) {
          return absl::DataLossError(StrCat("short read of ", part.file.string()));
        }
        out += buffer;
      }
      offset += n;
    }
    return out;
  }

 private:
  struct Part {
    uint64_t offset = 0;
    uint64_t size = 0;
    std::string inline_bytes;  // a header
    fs::path file;             // or a file's contents
  };
  std::vector<Part> parts_;
  uint64_t size_ = 0;
};

// Receives the stream DirectorySource produces into <root>/<name>.receiving, then renames it.
class DirectorySink : public SnapshotSink {
 public:
  DirectorySink(fs::path root, SnapshotInfo info) : root_(std::move(root)), info_(info) {
    std::error_code error;
    tmp_ = root_ / (SnapshotName(info_) + ".receiving");
    fs::remove_all(tmp_, error);
    fs::create_directories(tmp_, error);
  }

  uint64_t next_offset() const override { return offset_; }

  absl::Status Append(std::string_view data) override {
    offset_ += data.size();
    while (!data.empty()) {
      if (remaining_in_file_ > 0) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_in_file_, data.size()));
        out_.write(data.data(), static_cast<std::streamsize>(n));
        if (!out_) return absl::InternalError(StrCat("cannot write ", current_.string()));
        remaining_in_file_ -= n;
        data.remove_prefix(n);
        if (remaining_in_file_ == 0) CloseFile();
        continue;
      }
      header_ += data.front();
      data.remove_prefix(1);
      if (header_.size() >= 4) {
        uint64_t name_size = GetLittleEndian(header_, 4);
        if (name_size == 0 || name_size > 4096) return absl::DataLossError("bad snapshot stream");
        if (header_.size() == 4 + name_size + 8) {
          std::string name = header_.substr(4, name_size);
          if (name.find('/') != std::string::npos || name == "." || name == "..") {
            return absl::DataLossError(StrCat("bad file name in snapshot: ", name));
          }
          remaining_in_file_ = GetLittleEndian(std::string_view(header_).substr(4 + name_size), 8);
          header_.clear();
          current_ = tmp_ / name;
          out_.open(current_, std::ios::binary | std::ios::trunc);
          if (!out_) return absl::InternalError(StrCat("cannot create ", current_.string()));
          if (remaining_in_file_ == 0) CloseFile();
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (remaining_in_file_ != 0 || !header_.empty()) {
      return absl::DataLossError("snapshot stream ended inside a file");
    }
    {
      std::ofstream marker(tmp_ / kMarker);
      marker << "index " << info_.index << "\n";
    }
    for (const auto& entry : fs::directory_iterator(tmp_)) {
      if (auto status = SyncPath(entry.path(), false); !status.ok()) return status;
    }
    if (auto status = SyncPath(tmp_, true); !status.ok()) return status;
    std::error_code error;
    fs::path final_path = root_ / SnapshotName(info_);
    fs::remove_all(final_path, error);
    fs::rename(tmp_, final_path, error);
    if (error) return absl::InternalError(StrCat("cannot publish snapshot: ", error.message()));
    return SyncPath(root_, true);
  }

 private:
  void CloseFile() { out_.close(); }

  fs::path root_;
  SnapshotInfo info_;
  fs::path tmp_;
  fs::path current_;
  std::ofstream out_;
  std::string header_;
  uint64_t remaining_in_file_ = 0;
  uint64_t offset_ = 0;
};

// Makes the checkpoint in `tmp` the published snapshot `info` under `root`: the marker says it is
// complete, everything is synced before the rename publishes it, and the rename is synced.
absl::Status PublishCheckpoint(const fs::path& root, const fs::path& tmp, SnapshotInfo info) {
  // The live database does not sync its files (RocksDbStore): the checkpoint's files are synced
  // here, off the partition thread, before the marker can make them a snapshot.
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(tmp, error)) {
    if (auto status = SyncPath(entry.path(), false); !status.ok()) return status;
  }
  if (error)
    return absl::InternalError(StrCat("cannot list ", tmp.string(), ": ", error.message()));
  {
    std::ofstream marker(tmp / kMarker);
    marker << "index " << info.index << "\n";
  }
  if (auto status = SyncPath(tmp / kMarker, false); !status.ok()) return status;
  if (auto status = SyncPath(tmp, true); !status.ok()) return status;
  fs::path final_path = root / SnapshotName(info);
  fs::remove_all(final_path, error);
  fs::rename(tmp, final_path, error);
  if (error) return absl::InternalError(StrCat("cannot rename snapshot: ", error.message()));
  return SyncPath(root, true);
}

void DeleteAllButNewest(const fs::path& root) {
  auto snapshots = ListSnapshots(root);
  std::error_code error;
  for (size_t i = 1; i < snapshots.size(); ++i) fs::remove_all(snapshots[i].path, error);
}

// The outcome of a snapshot finished on a background thread: written there before `done` is
// set, read by the partition thread after it sees `done`.
struct BackgroundSnapshot {
  std::atomic<bool> done{false};
  absl::Status status;
  SnapshotTimings timings;
};

class RocksDbPendingSnapshot : public PendingSnapshot {
 public:
  RocksDbPendingSnapshot(std::shared_ptr<BackgroundSnapshot> job, std::shared_future<void> finished)
      : job_(std::move(job)), finished_(std::move(finished)) {}
  bool Done() override { return job_->done.load(std::memory_order_acquire); }
  void Wait() override { finished_.wait(); }
  absl::Status status() const override { return job_->status; }
  SnapshotTimings timings() const override { return job_->timings; }

 private:
  std::shared_ptr<BackgroundSnapshot> job_;
  std::shared_future<void> finished_;
};

// Thread-safety: called on the partition thread only. The one background task at a time (a
// snapshot's publishing, or deleting older snapshots) touches nothing but files under
// snapshots/; every call that reads or changes that directory waits for it first, except
// StartSnapshot's capture, which writes only its own .tmp directory.
class RocksDbBackend : public StateBackend {
 public:
  RocksDbBackend(std::string directory, engine::state::RocksDbStoreOptions options)
      : root_(std::move(directory)), options_(options) {
    std::error_code error;
    fs::create_directories(root_ / "snapshots", error);
  }

  ~RocksDbBackend() override { AwaitBackground(); }

  absl::StatusOr<std::unique_ptr<engine::state::StateStore>> OpenLatest(
      uint64_t min_index, SnapshotInfo* opened) override {
    AwaitBackground();
    flushing_ = nullptr;
    fs::path runtime = root_ / "runtime";
    auto snapshots = ListSnapshots(root_ / "snapshots");
    if (!snapshots.empty() && snapshots.front().info.index >= min_index) {
      if (auto status = CopyCheckpoint(snapshots.front().path, runtime); !status.ok()) {
        return status;
      }
      *opened = snapshots.front().info;
    } else if (min_index == 0) {
      std::error_code error;
      fs::remove_all(runtime, error);
      *opened = SnapshotInfo{};
    } else {
      return absl::DataLossError(StrCat("no snapshot at or after index ", min_index, " in ",
                                        (root_ / "snapshots").string()));
    }
    auto store = engine::state::RocksDbStore::Open(runtime.string(), options_);
    if (!store.ok()) return store.status();
    live_ = store->get();
    return std::unique_ptr<engine::state::StateStore>(std::move(*store));
  }

  absl::Status TakeSnapshot(engine::state::StateStore& live, SnapshotInfo info) override {
    AwaitBackground();
    SnapshotTimings timings;
    if (auto status = Capture(live, info, &timings); !status.ok()) return status;
    return PublishCheckpoint(root_ / "snapshots", TmpPath(info), info);
  }

  bool PrepareSnapshot(engine::state::StateStore& live) override {
    auto* rocks = AsRocks(live);
    if (flushing_ != rocks) {
      flushing_ = rocks;
      // A failure shows again, and is reported, in the checkpoint's own flush.
      if (!rocks->FlushMemtables(/*wait=*/false).ok()) return true;
    }
    return !rocks->FlushPending();
  }

  absl::StatusOr<std::unique_ptr<PendingSnapshot>> StartSnapshot(engine::state::StateStore& live,
                                                                 SnapshotInfo info) override {
    // Normally long finished: the previous snapshot's publishing and deleting.
    AwaitBackground();
    SnapshotTimings timings;
    if (auto status = Capture(live, info, &timings); !status.ok()) return status;
    auto job = std::make_shared<BackgroundSnapshot>();
    job->timings = timings;
    fs::path root = root_ / "snapshots";
    fs::path tmp = TmpPath(info);
    background_ = std::async(std::launch::async, [job, root, tmp, info] {
                    auto start = std::chrono::steady_clock::now();
                    job->status = PublishCheckpoint(root, tmp, info);
                    job->timings.finish_us = MicrosSince(start);
                    job->done.store(true, std::memory_order_release);
                  }).share();
    return std::unique_ptr<PendingSnapshot>(new RocksDbPendingSnapshot(job, background_));
  }

  void DeleteOlderSnapshots() override {
    AwaitBackground();
    // Unlinking a snapshot's table files is slow on some file systems: not on the caller's
    // thread.
    background_ = std::async(std::launch::async, [root = root_ / "snapshots"] {
                    DeleteAllButNewest(root);
                  }).share();
  }

  void DeleteNewerSnapshots(uint64_t index) override {
    AwaitBackground();
    std::error_code error;
    for (const auto& snapshot : ListSnapshots(root_ / "snapshots")) {
      if (snapshot.info.index > index) fs::remove_all(snapshot.path, error);
    }
  }

  std::optional<SnapshotInfo> Latest() override {
    AwaitBackground();
    auto snapshots = ListSnapshots(root_ / "snapshots");
    if (snapshots.empty()) return std::nullopt;
    return snapshots.front().info;
  }

  absl::StatusOr<std::unique_ptr<SnapshotSource>> Read(SnapshotInfo info) override {
    AwaitBackground();
    fs::path dir = root_ / "snapshots" / SnapshotName(info);
    if (!fs::exists(dir / kMarker)) {
      return absl::NotFoundError(StrCat("no snapshot ", SnapshotName(info)));
    }
    auto source = DirectorySource::Open(dir);
    if (!source.ok()) return source.status();
    return std::unique_ptr<SnapshotSource>(std::move(*source));
  }

  absl::StatusOr<std::unique_ptr<SnapshotSink>> Receive(SnapshotInfo info) override {
    AwaitBackground();
    return std::unique_ptr<SnapshotSink>(new DirectorySink(root_ / "snapshots", info));
  }

  uint64_t ApproximateMemoryBytes() override { return live_ ? live_->ApproximateMemoryBytes() : 0; }

 private:
  static engine::state::RocksDbStore* AsRocks(engine::state::StateStore& live) {
    auto* rocks = dynamic_cast<engine::state::RocksDbStore*>(&live);
    TERN_CHECK(rocks != nullptr, "the RocksDB backend snapshots RocksDB stores");
    return rocks;
  }

  fs::path TmpPath(SnapshotInfo info) const {
    return root_ / "snapshots" / (SnapshotName(info) + ".tmp");
  }

  // The part that must see the live state exactly at `info`: a checkpoint (hard links to the
  // table files, copies of the small metadata files) in the .tmp directory. Short when
  // PrepareSnapshot has flushed the memtables ahead.
  absl::Status Capture(engine::state::StateStore& live, SnapshotInfo info,
                       SnapshotTimings* timings) {
    auto* rocks = AsRocks(live);
    flushing_ = nullptr;
    auto start = std::chrono::steady_clock::now();
    fs::path tmp = TmpPath(info);
    std::error_code error;
    fs::remove_all(tmp, error);
    // The checkpoint flushes too; flushing first only lets the figures tell the two apart.
    if (auto status = rocks->FlushMemtables(/*wait=*/true); !status.ok()) return status;
    timings->flush_us = MicrosSince(start);
    auto checkpoint_start = std::chrono::steady_clock::now();
    if (auto status = rocks->CreateCheckpoint(tmp.string()); !status.ok()) return status;
    timings->checkpoint_us = MicrosSince(checkpoint_start);
    timings->capture_us = MicrosSince(start);
    return absl::OkStatus();
  }

  void AwaitBackground() {
    if (background_.valid()) background_.wait();
  }

  fs::path root_;
  engine::state::RocksDbStoreOptions options_;
  engine::state::RocksDbStore* live_ = nullptr;
  // The store whose memtables PrepareSnapshot has started flushing (null: none).
  engine::state::RocksDbStore* flushing_ = nullptr;
  std::shared_future<void> background_;
};

// --- In memory ----------------------------------------------------------------------------------

// A snapshot of a store as one string: repeated [u16 cf][u32 key size][key][u32 value size][value].
std::string Serialize(engine::state::StateStore& store) {
  std::string out;
  store.ForEachEntry(
      [&](engine::state::ColumnFamily cf, std::string_view key, std::string_view value) {
        uint16_t id = static_cast<uint16_t>(cf);
        out.push_back(static_cast<char>(id));
        out.push_back(static_cast<char>(id >> 8));
        PutU32(out, static_cast<uint32_t>(key.size()));
        out.append(key);
        PutU32(out, static_cast<uint32_t>(value.size()));
        out.append(value);
      });
  return out;
}

absl::Status Load(std::string_view bytes, engine::state::StateStore& store) {
  auto& txn = store.transaction();
  while (!bytes.empty()) {
    if (bytes.size() < 6) return absl::DataLossError("truncated snapshot");
    auto cf = static_cast<engine::state::ColumnFamily>(GetLittleEndian(bytes, 2));
    uint64_t key_size = GetLittleEndian(bytes.substr(2), 4);
    bytes.remove_prefix(6);
    if (bytes.size() < key_size + 4) return absl::DataLossError("truncated snapshot");
    std::string_view key = bytes.substr(0, key_size);
    uint64_t value_size = GetLittleEndian(bytes.substr(key_size), 4);
    bytes.remove_prefix(key_size + 4);
    if (bytes.size() < value_size) return absl::DataLossError("truncated snapshot");
    txn.Put(cf, key, bytes.substr(0, value_size));
    bytes.remove_prefix(value_size);
  }
  txn.Commit();
  return absl::OkStatus();
}

class StringSource : public SnapshotSource {
 public:
  explicit StringSource(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_->size(); }
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t max_bytes) override {
    if (offset > bytes_->size()) return absl::OutOfRangeError("offset past the end");
    return bytes_->substr(offset, max_bytes);
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

class MemoryBackend : public StateBackend {
 public:
  absl::StatusOr<std::unique_ptr<engine::state::StateStore>> OpenLatest(
      uint64_t min_index, SnapshotInfo* opened) override {
    auto store = engine::state::NewMemoryStore();
    if (!snapshots_.empty() && snapshots_.rbegin()->first >= min_index) {
      auto& [index, snapshot] = *snapshots_.rbegin();
      if (auto status = Load(*snapshot.bytes, *store); !status.ok()) return status;
      *opened = snapshot.info;
    } else if (min_index == 0) {
      *opened = SnapshotInfo{};
    } else {
      return absl::DataLossError(StrCat("no snapshot at or after index ", min_index));
    }
    return store;
  }

  absl::Status TakeSnapshot(engine::state::StateStore& live, SnapshotInfo info) override {
    snapshots_[info.index] = {info, std::make_shared<const std::string>(Serialize(live))};
    return absl::OkStatus();
  }

  // Captured at once, published on the second Done() (or at Wait()): deterministic, and the
  // simulator still runs the partition's code for snapshots that finish on a later poll.
  absl::StatusOr<std::unique_ptr<PendingSnapshot>> StartSnapshot(engine::state::StateStore& live,
                                                                 SnapshotInfo info) override {
    class Pending : public PendingSnapshot {
     public:
      Pending(MemoryBackend* backend, Snapshot snapshot)
          : backend_(backend), snapshot_(std::move(snapshot)) {}
      bool Done() override {
        if (!published_ && polls_++ == 0) return false;
        Wait();
        return true;
      }
      void Wait() override {
        if (published_) return;
        published_ = true;
        backend_->snapshots_[snapshot_.info.index] = snapshot_;
      }
      absl::Status status() const override { return absl::OkStatus(); }
      SnapshotTimings timings() const override { return {}; }

     private:
      MemoryBackend* backend_;
      Snapshot snapshot_;
      int polls_ = 0;
      bool published_ = false;
    };
    return std::unique_ptr<PendingSnapshot>(
        new Pending(this, Snapshot{info, std::make_shared<const std::string>(Serialize(live))}));
  }

  void DeleteOlderSnapshots() override {
    while (snapshots_.size() > 1) snapshots_.erase(snapshots_.begin());
  }

  void DeleteNewerSnapshots(uint64_t index) override {
    snapshots_.erase(snapshots_.upper_bound(index), snapshots_.end());
  }

  std::optional<SnapshotInfo> Latest() override {
    if (snapshots_.empty()) return std::nullopt;
    return snapshots_.rbegin()->second.info;
  }

  absl::StatusOr<std::unique_ptr<SnapshotSource>> Read(SnapshotInfo info) override {
    auto it = snapshots_.find(info.index);
    if (it == snapshots_.end() || it->second.info.term != info.term) {
      return absl::NotFoundError("no such snapshot");
    }
    return std::unique_ptr<SnapshotSource>(new StringSource(it->second.bytes));
  }

  absl::StatusOr<std::unique_ptr<SnapshotSink>> Receive(SnapshotInfo info) override {
    class Sink : public SnapshotSink {
     public:
      Sink(MemoryBackend* backend, SnapshotInfo info) : backend_(backend), info_(info) {}
      uint64_t next_offset() const override { return bytes_.size(); }
      absl::Status Append(std::string_view data) override {
        bytes_.append(data);
        return absl::OkStatus();
      }
      absl::Status Commit() override {
        auto check = engine::state::NewMemoryStore();
        if (auto status = Load(bytes_, *check); !status.ok()) return status;
        backend_->snapshots_[info_.index] = {
            info_, std::make_shared<const std::string>(std::move(bytes_))};
        return absl::OkStatus();
      }

     private:
      MemoryBackend* backend_;
      SnapshotInfo info_;
      std::string bytes_;
    };
    return std::unique_ptr<SnapshotSink>(new Sink(this, info));
  }

 private:
  struct Snapshot {
    SnapshotInfo info;
    std::shared_ptr<const std::string> bytes;
  };
  std::map<uint64_t, Snapshot> snapshots_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PendingSnapshot>> StateBackend::StartSnapshot(
    engine::state::StateStore& live, SnapshotInfo info) {
  auto start = std::chrono::steady_clock::now();
  absl::Status status = TakeSnapshot(live, info);
  if (!status.ok()) return status;
  SnapshotTimings timings;
  timings.capture_us = MicrosSince(start);
  return std::unique_ptr<PendingSnapshot>(new FinishedSnapshot(absl::OkStatus(), timings));
}

std::unique_ptr<StateBackend> NewRocksDbBackend(std::string directory,
                                                engine::state::RocksDbStoreOptions options) {
  return std::make_unique<RocksDbBackend>(std::move(directory), options);
}

std::unique_ptr<StateBackend> NewMemoryBackend() { return std::make_unique<MemoryBackend>(); }

}  // namespace tern::broker
