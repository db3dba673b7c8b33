#include "broker/data_dir.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/strings.h"

namespace tern::broker {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kGroupAndWorld = S_IRWXG | S_IRWXO;

// Removes group and world bits from `path` (not following a symbolic link); true when it had any.
absl::StatusOr<bool> Tighten(const fs::path& path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(
        StrCat("cannot stat ", path.string(), ": ", std::strerror(errno)));
  }
  if (S_ISLNK(info.st_mode) || (info.st_mode & kGroupAndWorld) == 0) return false;
  if (::chmod(path.c_str(), info.st_mode & ~kGroupAndWorld & 07777) != 0) {
    return absl::FailedPreconditionError(
        StrCat("cannot restrict the permissions of ", path.string(), ": ", std::strerror(errno)));
  }
  return true;
}

// Sets the umask first: the journal and RocksDB then create their files without group or world
// access, whatever mode they ask for.
absl::Status CreateDataDirectory(const std::string& directory) {
  ::umask(077);
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) {
    return absl::FailedPreconditionError(
        StrCat("cannot create data directory ", directory, ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SecureDataDirectory(const std::string& directory) {
  if (auto status = CreateDataDirectory(directory); !status.ok()) return status;
  struct stat info;
  if (::stat(directory.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(
        StrCat("cannot stat data directory ", directory, ": ", std::strerror(errno)));
  }
  if ((info.st_mode & kGroupAndWorld) != 0) {
    if (::chmod(directory.c_str(), S_IRWXU) != 0) {
      return absl::FailedPreconditionError(StrCat("data directory ", directory,
                                                  " is accessible to other users and cannot be "
                                                  "restricted: ",
                                                  std::strerror(errno)));
    }
    spdlog::warn(
        "data directory {} was accessible to other users (mode {:o}); restricted it to "
        "its owner (0700)",
        directory, info.st_mode & 07777);
  }
  size_t tightened = 0;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(directory, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    auto changed = Tighten(it->path());
    if (!changed.ok()) return changed.status();
    if (*changed) ++tightened;
  }
  if (error) {
    return absl::FailedPreconditionError(
        StrCat("cannot read data directory ", directory, ": ", error.message()));
  }
  if (tightened > 0) {
    spdlog::warn("data directory {}: removed group and world access from {} files and directories",
                 directory, tightened);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& directory) {
  // The lock comes first: a second broker started on a directory in use must fail before it
  // changes anything under the running one. Only the directory itself (for the LOCK file) is
  // created before; SecureDataDirectory tightens it once the lock is held.
  if (auto status = CreateDataDirectory(directory); !status.ok()) return status;
  std::string path = directory + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char owner[32] = {0};
    ssize_t n = ::pread(fd, owner, sizeof(owner) - 1, 0);
    ::close(fd);
    return absl::FailedPreconditionError(
        StrCat("data directory ", directory, " is in use by another process",
               n > 0 ? StrCat(" (pid ", std::string(owner, static_cast<size_t>(n)), ")") : ""));
  }
  if (auto status = SecureDataDirectory(directory); !status.ok()) {
    ::close(fd);
    return status;
  }
  std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only informational.
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace tern::broker
