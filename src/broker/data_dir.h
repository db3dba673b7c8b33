#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tern::broker {

// An exclusive lock on a data directory (flock on <dir>/LOCK), held for the broker's life, so
// two brokers never write the same logs.
//
// Acquiring it also makes the directory private to the broker's user (see
// SecureDataDirectory): the journal and the state hold variable values in clear text.
class DataDirLock {
 public:
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(const std::string& directory);
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

// Makes `directory` (created if missing) and everything in it accessible to the owner only,
// whatever umask the process started with:
//  - sets the process umask to 077, so that every file and directory the broker creates from
//    then on (journal segments, RocksDB's own files, snapshots, checkpoints) is at most 0600 /
//    0700, including files of libraries that pick their own modes;
//  - creates the directory 0700, and tightens it to 0700 (with a warning) when it is group- or
//    world-accessible, e.g. because an older version created it under umask 022;
//  - removes group and world permissions from what is already inside (one warning with the
//    count), so files written before are private too.
// Symbolic links are not followed. Returns FAILED_PRECONDITION when the directory cannot be
// created or tightened (e.g. it belongs to another user).
absl::Status SecureDataDirectory(const std::string& directory);

}  // namespace tern::broker
