// tern-journal-bench: appends of 1 KiB entries with an fsync every N entries (N = 1, 10, 100),
// to the segment-file journal and to a RocksDB-backed log, and prints entries/s and MiB/s.
// Figures and the decision they support are in docs/journal.md.
//
//   tern-journal-bench [--dir /var/tmp/x] [--entry-bytes 1024] [--scale 1.0] [--repeat 3]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  uint64_t entries;
  double seconds;
};

std::string Payload(size_t n, uint64_t i) {
  std::string s(n, 'a');
  for (size_t k = 0; k < n; k += 64) s[k] = static_cast<char>('a' + (i + k) % 26);
  return s;
}

void Die(const std::string& what) {
  std::fprintf(stderr, "tern-journal-bench: %s\n", what.c_str());
  std::exit(1);
}

Result RunJournal(const std::string& dir, uint64_t entries, uint64_t every, size_t bytes) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path());
  auto j = tern::journal::Journal::Open(&tern::journal::PosixFileSystem(), dir);
  if (!j.ok()) Die(j.status().ToString());
  auto start = Clock::now();
  for (uint64_t i = 1; i <= entries; ++i) {
    absl::Status s = (*j)->Append({tern::journal::LogEntry{i, 1, 0, Payload(bytes, i)}});
    if (!s.ok()) Die(s.ToString());
    if (i % every == 0) {
      s = (*j)->SetHardState({1, 1, i});
      if (s.ok()) s = (*j)->Sync();
      if (!s.ok()) Die(s.ToString());
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::filesystem::remove_all(dir);
  return {entries, secs};
}

std::string Key(uint64_t i) {
  std::string k(8, '\0');
  for (int b = 0; b < 8; ++b) k[b] = static_cast<char>(i >> (56 - 8 * b));
  return k;
}

// Each entry is its own write (as the journal's Append); every N-th write is synced, which
// fsyncs the WAL including the earlier unsynced writes. `batched` instead writes N entries as
// one synced WriteBatch.
Result RunRocks(const std::string& dir, uint64_t entries, uint64_t every, size_t bytes,
                bool batched) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path());
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(options, dir, &raw);
  if (!st.ok()) Die(st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions nosync;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  auto start = Clock::now();
  rocksdb::WriteBatch batch;
  for (uint64_t i = 1; i <= entries; ++i) {
    std::string v = Payload(bytes, i);
    if (batched) {
      batch.Put(Key(i), v);
      if (i % every == 0) {
        batch.Put("hardstate", Key(i));
        st = db->Write(sync, &batch);
        batch.Clear();
      }
    } else {
      st = db->Put(i % every == 0 ? sync : nosync, Key(i), v);
      if (st.ok() && i % every == 0) st = db->Put(sync, "hardstate", Key(i));
    }
    if (!st.ok()) Die(st.ToString());
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  db.reset();
  std::filesystem::remove_all(dir);
  return {entries, secs};
}

void Print(const char* backend, uint64_t every, size_t bytes, const Result& r) {
  double eps = r.entries / r.seconds;
  double mibps = eps * bytes / (1024.0 * 1024.0);
  std::printf("%-22s fsync every %3llu: %8llu entries in %7.3f s = %10.0f entries/s %8.2f MiB/s\n",
              backend, static_cast<unsigned long long>(every),
              static_cast<unsigned long long>(r.entries), r.seconds, eps, mibps);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = (std::filesystem::temp_directory_path() / "tern-journal-bench").string();
  size_t bytes = 1024;
  double scale = 1.0;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--dir") {
      dir = argv[i + 1];
    } else if (a == "--entry-bytes") {
      bytes = std::strtoul(argv[i + 1], nullptr, 10);
    } else if (a == "--repeat") {
      repeat = std::atoi(argv[i + 1]);
    } else if (a == "--scale") {
      scale = std::strtod(argv[i + 1], nullptr);
    } else {
      Die("usage: tern-journal-bench [--dir D] [--entry-bytes B] [--scale S] [--repeat R]");
    }
  }
  std::printf("entry size %zu bytes, directory %s\n", bytes, dir.c_str());
  for (uint64_t every : {1, 10, 100}) {
    // About the same number of fsyncs per configuration, so each takes similar time.
    uint64_t n = static_cast<uint64_t>(scale * 2000 * every);
    if (n > 200000) n = static_cast<uint64_t>(scale * 200000);
    n = std::max<uint64_t>(n, every);
    // The three backends run interleaved, `repeat` times; the median run is printed, since a
    // shared disk makes single runs noisy.
    std::vector<Result> runs[3];
    for (int r = 0; r < repeat; ++r) {
      runs[0].push_back(RunJournal(dir + "/journal", n, every, bytes));
      runs[1].push_back(RunRocks(dir + "/rocksdb", n, every, bytes, false));
      runs[2].push_back(RunRocks(dir + "/rocksdb", n, every, bytes, true));
    }
    const char* names[3] = {"journal (segments)", "rocksdb (put per entry)",
                            "rocksdb (batch of N)"};
    for (int b = 0; b < 3; ++b) {
      std::sort(runs[b].begin(), runs[b].end(),
                [](const Result& x, const Result& y) { return x.seconds < y.seconds; });
      Print(names[b], every, bytes, runs[b][runs[b].size() / 2]);
    }
  }
  return 0;
}
