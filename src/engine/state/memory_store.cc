// An in-memory StateStore for unit tests: ordered maps with an overlay for the open
// transaction, so it behaves like the RocksDB store (read-your-writes, atomic commit).

#include <map>
#include <optional>
#include <string>

#include "engine/state/checksum.h"
#include "engine/state/store.h"

namespace tern::engine::state {
namespace {

using Table = std::map<std::string, std::string, std::less<>>;
using Overlay = std::map<std::string, std::optional<std::string>, std::less<>>;

class MemoryTransaction final : public Transaction {
 public:
  explicit MemoryTransaction(std::map<ColumnFamily, Table>& tables) : tables_(tables) {}

  bool Get(ColumnFamily cf, std::string_view key, std::string* value) override {
    auto& overlay = overlays_[cf];
    if (auto it = overlay.find(key); it != overlay.end()) {
      if (!it->second) return false;
      if (value) *value = *it->second;
      return true;
    }
    auto& table = tables_[cf];
    auto it = table.find(key);
    if (it == table.end()) return false;
    if (value) *value = it->second;
    return true;
  }

  bool Contains(ColumnFamily cf, std::string_view key) override { return Get(cf, key, nullptr); }

  void Put(ColumnFamily cf, std::string_view key, std::string_view value) override {
    overlays_[cf][std::string(key)] = std::string(value);
  }

  void Delete(ColumnFamily cf, std::string_view key) override {
    overlays_[cf][std::string(key)] = std::nullopt;
  }

  void ForEachWithPrefixFrom(
      ColumnFamily cf, std::string_view prefix, std::string_view from,
      absl::FunctionRef<bool(std::string_view, std::string_view)> visitor) override {
    auto& table = tables_[cf];
    auto& overlay = overlays_[cf];
    const std::string_view start = std::max(prefix, from);
    auto base = table.lower_bound(start);
    auto over = overlay.lower_bound(start);
    auto in_prefix = [&](const std::string& key) {
      return key.compare(0, prefix.size(), prefix) == 0;
    };
    // Merge the two sorted sequences; the overlay wins on equal keys.
    while (true) {
      bool base_ok = base != table.end() && in_prefix(base->first);
      bool over_ok = over != overlay.end() && in_prefix(over->first);
      if (!base_ok && !over_ok) return;
      if (over_ok && (!base_ok || over->first <= base->first)) {
        if (base_ok && over->first == base->first) ++base;
        const auto& entry = *over++;
        if (entry.second && !visitor(entry.first, *entry.second)) return;
      } else {
        const auto& entry = *base++;
        if (!visitor(entry.first, entry.second)) return;
      }
    }
  }

  void Commit() override {
    for (auto& [cf, overlay] : overlays_) {
      auto& table = tables_[cf];
      for (auto& [key, value] : overlay) {
        if (value) {
          table[key] = std::move(*value);
        } else {
          table.erase(key);
        }
      }
    }
    overlays_.clear();
  }

 private:
  std::map<ColumnFamily, Table>& tables_;
  std::map<ColumnFamily, Overlay> overlays_;
};

class MemoryStore final : public StateStore {
 public:
  MemoryStore() : transaction_(tables_) {}
  Transaction& transaction() override { return transaction_; }
  void ForEachEntry(
      absl::FunctionRef<void(ColumnFamily, std::string_view, std::string_view)> visitor) override {
    for (ColumnFamily cf : kAllColumnFamilies) {
      auto it = tables_.find(cf);
      if (it == tables_.end()) continue;
      for (const auto& [key, value] : it->second) visitor(cf, key, value);
    }
  }

 private:
  std::map<ColumnFamily, Table> tables_;
  MemoryTransaction transaction_;
};

}  // namespace

std::unique_ptr<StateStore> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

uint64_t StateStore::Checksum() {
  StateDigest digest;
  bool first = true;
  ColumnFamily current{};
  ForEachEntry([&](ColumnFamily cf, std::string_view key, std::string_view value) {
    // Each non-empty column family contributes its id, then its entries.
    if (first || cf != current) {
      digest.AddSize(static_cast<uint16_t>(cf));
      current = cf;
      first = false;
    }
    digest.Add(key);
    digest.Add(value);
  });
  return digest.value();
}

}  // namespace tern::engine::state
