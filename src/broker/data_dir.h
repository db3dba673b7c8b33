#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tern::broker {

// An exclusive lock on a data directory (flock on <dir>/LOCK), held for the broker's life, so
// two brokers never write the same logs.
class DataDirLock {
 public:
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(const std::string& directory);
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace tern::broker
