#pragma once

// The journal's only access to files, so tests and the simulator can substitute a file system
// that loses unsynced data on a simulated crash (MemFileSystem), as RocksDB's
// FaultInjectionTestFS does. PosixFileSystem is the real one.
//
// Durability model (POSIX): data appended to a file is durable after File::Sync(); a created,
// removed or renamed name is durable after FileSystem::SyncDir() on its directory.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tern::journal {

class File {
 public:
  virtual ~File() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  // fdatasync: everything appended so far survives a crash.
  virtual absl::Status Sync() = 0;
  virtual absl::StatusOr<std::string> Read(uint64_t offset, size_t n) const = 0;
  virtual absl::Status Truncate(uint64_t size) = 0;
  virtual uint64_t Size() const = 0;
  // Reserves disk blocks up to `bytes` without changing the size, so later appends and
  // fdatasync need not allocate (and journal) new extents. A hint: may do nothing.
  virtual absl::Status Preallocate(uint64_t /*bytes*/) { return absl::OkStatus(); }
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens (creating if asked) a file for reading and appending at its end.
  virtual absl::StatusOr<std::unique_ptr<File>> Open(const std::string& path, bool create) = 0;
  virtual absl::StatusOr<std::vector<std::string>> List(const std::string& dir) = 0;
  virtual absl::Status Remove(const std::string& path) = 0;
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  virtual absl::Status CreateDir(const std::string& dir) = 0;
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;

  // Replaces `path` atomically and durably: write a temporary file, sync it, rename it over
  // `path`, sync the directory.
  absl::Status WriteFileAtomic(const std::string& dir, const std::string& name,
                               std::string_view data);
  absl::StatusOr<std::string> ReadFile(const std::string& path);
};

// The real file system (open/pwrite/fdatasync/rename).
FileSystem& PosixFileSystem();

// An in-memory file system for tests and the simulator. Crash() rolls every file back to its
// last Sync() (optionally keeping a random prefix of the unsynced bytes, a torn write) and every
// directory to its last SyncDir(). Not thread-safe.
class MemFileSystem : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<File>> Open(const std::string& path, bool create) override;
  absl::StatusOr<std::vector<std::string>> List(const std::string& dir) override;
  absl::Status Remove(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status CreateDir(const std::string& dir) override;
  absl::Status SyncDir(const std::string& dir) override;
  bool Exists(const std::string& path) override;

  // `keep_unsynced_fraction_seed`: 0 loses all unsynced bytes; otherwise each file keeps a
  // pseudo-random prefix of its unsynced appended bytes (derived from the seed).
  void Crash(uint64_t keep_unsynced_seed = 0);

  // Direct access for fault injection (corrupt bytes, cut files).
  std::string* MutableData(const std::string& path);
  uint64_t SyncCount() const { return sync_count_; }

  struct Inode {
    std::string data;
    std::string synced;
  };

 private:
  friend class MemFile;
  static std::string DirOf(const std::string& path);
  std::map<std::string, std::shared_ptr<Inode>> names_;
  std::map<std::string, std::shared_ptr<Inode>> durable_names_;
  uint64_t sync_count_ = 0;
};

}  // namespace tern::journal
