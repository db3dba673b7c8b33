#include "journal/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tern::journal {

absl::Status FileSystem::WriteFileAtomic(const std::string& dir, const std::string& name,
                                         std::string_view data) {
  std::string tmp = dir + "/" + name + ".tmp";
  if (Exists(tmp)) {
    absl::Status s = Remove(tmp);
    if (!s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<File>> f = Open(tmp, true);
  if (!f.ok()) return f.status();
  absl::Status s = (*f)->Append(data);
  if (s.ok()) s = (*f)->Sync();
  if (!s.ok()) return s;
  f->reset();
  s = Rename(tmp, dir + "/" + name);
  if (!s.ok()) return s;
  return SyncDir(dir);
}

absl::StatusOr<std::string> FileSystem::ReadFile(const std::string& path) {
  absl::StatusOr<std::unique_ptr<File>> f = Open(path, false);
  if (!f.ok()) return f.status();
  return (*f)->Read(0, (*f)->Size());
}

// ---------------------------------------------------------------------------------------------
// POSIX

namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

class PosixFile : public File {
 public:
  PosixFile(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  absl::Status Append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("pwrite " + path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    if (::fdatasync(fd_) != 0) return Errno("fdatasync " + path_);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Read(uint64_t offset, size_t n) const override {
    std::string out(n, '\0');
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("pread " + path_);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    out.resize(done);
    return out;
  }
  absl::Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno("ftruncate " + path_);
    size_ = size;
    return absl::OkStatus();
  }
  uint64_t Size() const override { return size_; }
  absl::Status Preallocate(uint64_t bytes) override {
    // Best effort: some file systems (tmpfs on old kernels) lack FALLOC_FL_KEEP_SIZE.
    (void)::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes));
    return absl::OkStatus();
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

class PosixFs : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<File>> Open(const std::string& path, bool create) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0) {
      if (errno == ENOENT) return absl::NotFoundError(path);
      return Errno("open " + path);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Errno("fstat " + path);
    }
    return std::unique_ptr<File>(
        std::make_unique<PosixFile>(fd, static_cast<uint64_t>(st.st_size), path));
  }
  absl::StatusOr<std::vector<std::string>> List(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Errno("opendir " + dir);
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
    return out;
  }
  absl::Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Errno("unlink " + path);
    return absl::OkStatus();
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename " + from);
    return absl::OkStatus();
  }
  absl::Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir " + dir);
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open dir " + dir);
    int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return Errno("fsync dir " + dir);
    return absl::OkStatus();
  }
  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
};

}  // namespace

FileSystem& PosixFileSystem() {
  static PosixFs* fs = new PosixFs();
  return *fs;
}

// ---------------------------------------------------------------------------------------------
// In memory

class MemFile : public File {
 public:
  MemFile(MemFileSystem* fs, std::shared_ptr<MemFileSystem::Inode> inode)
      : fs_(fs), inode_(std::move(inode)) {}
  absl::Status Append(std::string_view data) override {
    inode_->data.append(data);
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    inode_->synced = inode_->data;
    fs_->sync_count_++;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Read(uint64_t offset, size_t n) const override {
    if (offset >= inode_->data.size()) return std::string();
    return inode_->data.substr(offset, n);
  }
  absl::Status Truncate(uint64_t size) override {
    inode_->data.resize(size);
    return absl::OkStatus();
  }
  uint64_t Size() const override { return inode_->data.size(); }

 private:
  MemFileSystem* fs_;
  std::shared_ptr<MemFileSystem::Inode> inode_;
};

std::string MemFileSystem::DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

absl::StatusOr<std::unique_ptr<File>> MemFileSystem::Open(const std::string& path, bool create) {
  auto it = names_.find(path);
  if (it == names_.end()) {
    if (!create) return absl::NotFoundError(path);
    it = names_.emplace(path, std::make_shared<Inode>()).first;
  }
  return std::unique_ptr<File>(std::make_unique<MemFile>(this, it->second));
}

absl::StatusOr<std::vector<std::string>> MemFileSystem::List(const std::string& dir) {
  std::vector<std::string> out;
  std::string prefix = dir + "/";
  for (const auto& [name, inode] : names_) {
    if (absl::StartsWith(name, prefix) && name.find('/', prefix.size()) == std::string::npos) {
      out.push_back(name.substr(prefix.size()));
    }
  }
  return out;
}

absl::Status MemFileSystem::Remove(const std::string& path) {
  if (names_.erase(path) == 0) return absl::NotFoundError(path);
  return absl::OkStatus();
}

absl::Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  auto it = names_.find(from);
  if (it == names_.end()) return absl::NotFoundError(from);
  names_[to] = it->second;
  names_.erase(from);
  return absl::OkStatus();
}

absl::Status MemFileSystem::CreateDir(const std::string&) { return absl::OkStatus(); }

absl::Status MemFileSystem::SyncDir(const std::string& dir) {
  // Make this directory's current names durable.
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    it = DirOf(it->first) == dir ? durable_names_.erase(it) : std::next(it);
  }
  for (const auto& [name, inode] : names_) {
    if (DirOf(name) == dir) durable_names_[name] = inode;
  }
  sync_count_++;
  return absl::OkStatus();
}

bool MemFileSystem::Exists(const std::string& path) { return names_.count(path) > 0; }

void MemFileSystem::Crash(uint64_t keep_unsynced_seed) {
  names_ = durable_names_;
  uint64_t x = keep_unsynced_seed;
  for (auto& [name, inode] : names_) {
    std::string& d = inode->data;
    const std::string& s = inode->synced;
    size_t keep = s.size();
    if (keep_unsynced_seed != 0 && d.size() > s.size() && d.compare(0, s.size(), s) == 0) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      keep = s.size() + (x >> 33) % (d.size() - s.size() + 1);
      d.resize(keep);
    } else {
      d = s;
    }
    inode->synced = inode->data;
  }
  durable_names_ = names_;
}

std::string* MemFileSystem::MutableData(const std::string& path) {
  auto it = names_.find(path);
  if (it == names_.end()) return nullptr;
  return &it->second->data;
}

}  // namespace tern::journal
