#include "engine/state/rocksdb_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/write_batch_with_index.h>
#include <rocksdb/write_buffer_manager.h>

#include <array>
#include <map>
#include <optional>
#include <vector>

#include "base/check.h"
#include "base/strings.h"

namespace tern::engine::state {
namespace {

std::string FamilyName(ColumnFamily cf) { return tern::StrCat("cf-", static_cast<int>(cf)); }

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// The live state is never read back after a crash: a partition always reopens it as a fresh
// copy of its newest snapshot (and replays the log), and a snapshot's publisher syncs every file
// of the checkpoint before publishing it. So the live database skips fsync: a flush or a
// checkpoint on the partition thread would otherwise wait for one fsync per column family.
class UnsyncedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                              rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
};

class UnsyncedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  using FSDirectoryWrapper::FSDirectoryWrapper;
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions&, rocksdb::IODebugContext*,
                                        const rocksdb::DirFsyncOptions&) override {
    return rocksdb::IOStatus::OK();
  }
};

class UnsyncedFileSystem : public rocksdb::FileSystemWrapper {
 public:
  UnsyncedFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "TernUnsyncedFileSystem"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, file, debug);
    if (status.ok()) *file = std::make_unique<UnsyncedFile>(std::move(*file));
    return status;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = target()->ReopenWritableFile(name, options, file, debug);
    if (status.ok()) *file = std::make_unique<UnsyncedFile>(std::move(*file));
    return status;
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* directory,
                                 rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = target()->NewDirectory(name, options, directory, debug);
    if (status.ok()) *directory = std::make_unique<UnsyncedDirectory>(std::move(*directory));
    return status;
  }
};

rocksdb::Env* UnsyncedEnv() {
  static rocksdb::Env* env =
      rocksdb::NewCompositeEnv(std::make_shared<UnsyncedFileSystem>()).release();
  return env;
}

absl::Status ToStatus(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(tern::StrCat(what, ": ", status.ToString()));
}

// The batch's writes are kept in ordered maps (one per column family), with only the last
// write of each key, and reach RocksDB as one plain WriteBatch at Commit. Reads look at the
// batch's writes first, then at the database. Compared with rocksdb::WriteBatchWithIndex
// (which indexes every write and replays all of them into the memtable), lookups are cheaper,
// and a key written and deleted within one batch (a start event's element instance, a job
// completed at once) costs one memtable entry instead of two.
class RocksTransaction final : public Transaction {
 public:
  RocksTransaction(rocksdb::DB* db, std::map<ColumnFamily, rocksdb::ColumnFamilyHandle*>* handles)
      : db_(db), handles_(handles) {
    write_options_.disableWAL = true;
  }

  bool Get(ColumnFamily cf, std::string_view key, std::string* value) override {
    const Writes& writes = writes_[Index(cf)];
    if (auto it = writes.find(key); it != writes.end()) {
      if (!it->second.has_value()) return false;
      if (value != nullptr) *value = *it->second;
      return true;
    }
    rocksdb::PinnableSlice found;
    rocksdb::Status status = db_->Get(read_options_, handle(cf), ToSlice(key), &found);
    if (status.IsNotFound()) return false;
    TERN_CHECK(status.ok(), "state read failed: ", status.ToString());
    if (value != nullptr) value->assign(found.data(), found.size());
    return true;
  }

  bool Contains(ColumnFamily cf, std::string_view key) override { return Get(cf, key, nullptr); }

  void Put(ColumnFamily cf, std::string_view key, std::string_view value) override {
    Writes& writes = writes_[Index(cf)];
    auto it = writes.find(key);
    if (it == writes.end()) {
      writes.emplace(std::string(key), std::string(value));
    } else {
      it->second.emplace(value);
    }
    dirty_ = true;
  }

  void Delete(ColumnFamily cf, std::string_view key) override {
    Writes& writes = writes_[Index(cf)];
    auto it = writes.find(key);
    if (it == writes.end()) {
      writes.emplace(std::string(key), std::nullopt);
    } else {
      it->second.reset();
    }
    dirty_ = true;
  }

  // Merges the database's entries with the batch's writes (which win on equal keys). The
  // visitor may write to the transaction: map iterators survive inserts, and deletes only
  // clear values.
  void ForEachWithPrefixFrom(
      ColumnFamily cf, std::string_view prefix, std::string_view from,
      absl::FunctionRef<bool(std::string_view, std::string_view)> visitor) override {
    const Writes& writes = writes_[Index(cf)];
    const std::string_view start = std::max(prefix, from);
    auto pending = writes.lower_bound(start);
    auto pending_valid = [&] {
      return pending != writes.end() &&
             std::string_view(pending->first).substr(0, prefix.size()) == prefix;
    };
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options_, handle(cf)));
    it->Seek(ToSlice(start));
    auto stored_valid = [&] {
      return it->Valid() && ToView(it->key()).substr(0, prefix.size()) == prefix;
    };
    while (true) {
      bool have_pending = pending_valid();
      bool have_stored = stored_valid();
      if (!have_pending && !have_stored) break;
      int order = !have_pending  ? 1
                  : !have_stored ? -1
                                 : std::string_view(pending->first).compare(ToView(it->key()));
      if (order > 0) {  // only in the database
        if (!visitor(ToView(it->key()), ToView(it->value()))) break;
        it->Next();
        continue;
      }
      // The batch's write decides; a stored entry under the same key is shadowed.
      if (order == 0) it->Next();
      const auto& current = *pending;
      ++pending;
      if (current.second.has_value() && !visitor(current.first, *current.second)) break;
    }
    TERN_CHECK(it->status().ok(), "state scan failed: ", it->status().ToString());
  }

  void Commit() override {
    if (!dirty_) return;
    rocksdb::WriteBatch batch;
    for (ColumnFamily cf : kAllColumnFamilies) {
      Writes& writes = writes_[Index(cf)];
      for (const auto& [key, value] : writes) {
        rocksdb::Status status = value.has_value()
                                     ? batch.Put(handle(cf), ToSlice(key), ToSlice(*value))
                                     : batch.Delete(handle(cf), ToSlice(key));
        TERN_CHECK(status.ok(), status.ToString());
      }
      writes.clear();
    }
    dirty_ = false;
    rocksdb::Status status = db_->Write(write_options_, &batch);
    TERN_CHECK(status.ok(), "state write failed: ", status.ToString());
  }

 private:
  // Last write per key: a value, or nullopt for a delete.
  using Writes = std::map<std::string, std::optional<std::string>, std::less<>>;

  static size_t Index(ColumnFamily cf) {
    auto index = static_cast<size_t>(cf);
    TERN_CHECK(index < kMaxFamilies, "column family id ", index, " out of range");
    return index;
  }

  rocksdb::ColumnFamilyHandle* handle(ColumnFamily cf) {
    auto it = handles_->find(cf);
    TERN_CHECK(it != handles_->end(), "unregistered column family ", static_cast<int>(cf));
    return it->second;
  }

  static constexpr size_t kMaxFamilies = 64;
  rocksdb::DB* db_;
  std::map<ColumnFamily, rocksdb::ColumnFamilyHandle*>* handles_;
  std::array<Writes, kMaxFamilies> writes_;
  bool dirty_ = false;
  rocksdb::ReadOptions read_options_;
  rocksdb::WriteOptions write_options_;
};

class RocksDbStoreImpl final : public RocksDbStore {
 public:
  RocksDbStoreImpl(std::unique_ptr<rocksdb::DB> db,
                   std::vector<rocksdb::ColumnFamilyHandle*> raw_handles,
                   std::shared_ptr<rocksdb::Cache> cache)
      : db_(std::move(db)), raw_handles_(std::move(raw_handles)), cache_(std::move(cache)) {
    for (auto* handle : raw_handles_) {
      for (ColumnFamily cf : kAllColumnFamilies) {
        if (handle->GetName() == FamilyName(cf)) handles_[cf] = handle;
      }
    }
    TERN_CHECK(handles_.size() == kAllColumnFamilies.size());
    transaction_ = std::make_unique<RocksTransaction>(db_.get(), &handles_);
  }

  ~RocksDbStoreImpl() override {
    transaction_.reset();
    for (auto* handle : raw_handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close().PermitUncheckedError();
  }

  Transaction& transaction() override { return *transaction_; }

  void ForEachEntry(
      absl::FunctionRef<void(ColumnFamily, std::string_view, std::string_view)> visitor) override {
    for (ColumnFamily cf : kAllColumnFamilies) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[cf]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        visitor(cf, ToView(it->key()), ToView(it->value()));
      }
      TERN_CHECK(it->status().ok(), it->status().ToString());
    }
  }

  absl::Status FlushMemtables(bool wait) override {
    std::vector<rocksdb::ColumnFamilyHandle*> all(raw_handles_.begin(), raw_handles_.end());
    rocksdb::FlushOptions flush_options;
    flush_options.wait = wait;
    // Otherwise a flush that would stall writes waits for room first, on the caller's thread.
    flush_options.allow_write_stall = !wait;
    return ToStatus(db_->Flush(flush_options, all), "flush");
  }

  bool FlushPending() override {
    for (auto* handle : raw_handles_) {
      uint64_t immutable = 0;
      if (db_->GetIntProperty(handle, rocksdb::DB::Properties::kNumImmutableMemTable, &immutable) &&
          immutable > 0) {
        return true;
      }
    }
    return false;
  }

  absl::Status CreateCheckpoint(const std::string& directory) override {
    // The WAL is off, so unflushed memtables would be missing from the checkpoint.
    if (auto status = FlushMemtables(/*wait=*/true); !status.ok()) return status;
    rocksdb::Checkpoint* raw = nullptr;
    if (auto s = rocksdb::Checkpoint::Create(db_.get(), &raw); !s.ok()) {
      return ToStatus(s, "checkpoint");
    }
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    return ToStatus(checkpoint->CreateCheckpoint(directory), "checkpoint");
  }

  uint64_t ApproximateMemoryBytes() override {
    uint64_t total = 0;
    for (auto* handle : raw_handles_) {
      uint64_t value = 0;
      if (db_->GetIntProperty(handle, rocksdb::DB::Properties::kSizeAllMemTables, &value)) {
        total += value;
      }
    }
    return total + cache_->GetUsage();
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> raw_handles_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::map<ColumnFamily, rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<RocksTransaction> transaction_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(
    const std::string& directory, const RocksDbStoreOptions& options) {
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = cache;
  table_options.cache_index_and_filter_blocks = true;

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  cf_options.write_buffer_size = 4 << 20;
  cf_options.max_write_buffer_number = 4;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.env = UnsyncedEnv();
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes);
  db_options.keep_log_file_num = 2;
  // The live store is never reopened: every open starts from a snapshot (a checkpoint) and the
  // log. Flushing memtables on close is wasted work, and on a full disk (a partition closing
  // its state after a failed log write) a flush that fails is what must not happen.
  db_options.avoid_flush_during_shutdown = true;
  db_options.max_log_file_size = 1 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (ColumnFamily cf : kAllColumnFamilies) descriptors.emplace_back(FamilyName(cf), cf_options);

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, directory, descriptors, &handles, &raw_db);
  if (!status.ok()) return ToStatus(status, tern::StrCat("open state in ", directory));
  return std::unique_ptr<RocksDbStore>(
      new RocksDbStoreImpl(std::unique_ptr<rocksdb::DB>(raw_db), std::move(handles), cache));
}

}  // namespace tern::engine::state
