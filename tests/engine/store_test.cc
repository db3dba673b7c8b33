// The RocksDB store's transaction against the in-memory store, operation by operation: reads
// see the batch's own writes, prefix scans merge them with committed entries in key order
// (also while the visitor writes), and committed state ends up identical (same checksum).

#include "engine/state/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/state/rocksdb_store.h"

namespace tern::engine::state {
namespace {

namespace fs = std::filesystem;

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries Scan(Transaction& txn, ColumnFamily cf, const std::string& prefix) {
  Entries seen;
  txn.ForEachWithPrefix(cf, prefix, [&](std::string_view key, std::string_view value) {
    seen.emplace_back(std::string(key), std::string(value));
    return true;
  });
  return seen;
}

TEST(StoreTest, RocksDbTransactionBehavesLikeTheMemoryStore) {
  fs::path directory = fs::temp_directory_path() / ("tern-store-test-" + std::to_string(getpid()));
  fs::remove_all(directory);
  auto rocks = RocksDbStore::Open(directory.string(), {});
  ASSERT_TRUE(rocks.ok()) << rocks.status();
  auto memory = NewMemoryStore();
  Transaction& a = (*rocks)->transaction();
  Transaction& b = memory->transaction();
  const ColumnFamily families[] = {ColumnFamily::kElementInstance, ColumnFamily::kVariable,
                                   ColumnFamily::kJob};
  std::mt19937_64 random(7);
  auto pick = [&](uint64_t n) { return random() % n; };
  auto key = [&] {
    // Short keys over a small alphabet: many collisions, shared prefixes.
    std::string k;
    for (uint64_t i = 0, n = 1 + pick(4); i < n; ++i) k.push_back(static_cast<char>('a' + pick(3)));
    return k;
  };
  for (int step = 0; step < 20'000; ++step) {
    ColumnFamily cf = families[pick(3)];
    switch (pick(10)) {
      case 0:
      case 1:
      case 2: {
        std::string k = key(), v = std::to_string(step);
        a.Put(cf, k, v);
        b.Put(cf, k, v);
        break;
      }
      case 3:
      case 4: {
        std::string k = key();
        a.Delete(cf, k);
        b.Delete(cf, k);
        break;
      }
      case 5:
      case 6: {
        std::string k = key(), va, vb;
        bool in_a = a.Get(cf, k, &va);
        ASSERT_EQ(in_a, b.Get(cf, k, &vb)) << "step " << step << " key " << k;
        if (in_a) {
          ASSERT_EQ(va, vb) << "step " << step << " key " << k;
        }
        ASSERT_EQ(in_a, a.Contains(cf, k));
        break;
      }
      case 7: {
        std::string prefix = pick(4) == 0 ? "" : key().substr(0, 1 + pick(2));
        ASSERT_EQ(Scan(a, cf, prefix), Scan(b, cf, prefix)) << "step " << step;
        break;
      }
      case 8: {
        // A visitor that writes: deletes what it visits and adds a key after it.
        std::string prefix = key().substr(0, 1);
        auto visit = [&](Transaction& txn) {
          Entries seen;
          txn.ForEachWithPrefix(cf, prefix, [&](std::string_view k, std::string_view v) {
            seen.emplace_back(std::string(k), std::string(v));
            std::string copy(k);
            txn.Delete(cf, copy);
            return seen.size() < 3;
          });
          return seen;
        };
        ASSERT_EQ(visit(a), visit(b)) << "step " << step;
        break;
      }
      default:
        a.Commit();
        b.Commit();
        ASSERT_EQ((*rocks)->Checksum(), memory->Checksum()) << "step " << step;
    }
  }
  a.Commit();
  b.Commit();
  EXPECT_EQ((*rocks)->Checksum(), memory->Checksum());
  rocks->reset();
  fs::remove_all(directory);
}

}  // namespace
}  // namespace tern::engine::state
