#include "journal/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "journal/crc32c.h"

namespace tern::journal {
namespace {

constexpr char kDir[] = "/p1";

LogEntry E(uint64_t index, uint64_t term, std::string data = "") {
  if (data.empty()) data = absl::StrCat("entry-", index) + absl::StrCat("-", term);
  return LogEntry{index, term, 0, data};
}

std::vector<LogEntry> Range(uint64_t lo, uint64_t hi, uint64_t term) {
  std::vector<LogEntry> out;
  for (uint64_t i = lo; i <= hi; ++i) out.push_back(E(i, term));
  return out;
}

std::unique_ptr<Journal> MustOpen(FileSystem* fs, JournalOptions o = {}) {
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(fs, kDir, o);
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *std::move(j) : nullptr;
}

std::vector<LogEntry> ReadAll(const Journal& j) {
  if (j.LastIndex() < j.FirstIndex()) return {};
  absl::StatusOr<std::vector<LogEntry>> r = j.Read(j.FirstIndex(), j.LastIndex() + 1, UINT64_MAX);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<LogEntry>{};
}

std::string SegmentPath(uint64_t first) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/p1/segment-%020llu.log",
                static_cast<unsigned long long>(first));
  return buf;
}

TEST(Crc32c, KnownVectorsAndPathsAgree) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  std::string data;
  uint64_t x = 1;
  for (int i = 0; i < 10000; ++i) {
    x = x * 6364136223846793005ULL + 1;
    data.push_back(static_cast<char>(x >> 56));
  }
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 1000u, 10000u}) {
    EXPECT_EQ(Crc32cPortable(0, data.data(), n), Crc32cExtend(0, data.data(), n)) << n;
  }
  // Extending in pieces equals one pass.
  EXPECT_EQ(Crc32cExtend(Crc32cExtend(0, data.data(), 100), data.data() + 100, 900),
            Crc32cExtend(0, data.data(), 1000));
}

TEST(Journal, AppendReadReopen) {
  MemFileSystem fs;
  {
    auto j = MustOpen(&fs);
    EXPECT_EQ(j->FirstIndex(), 1u);
    EXPECT_EQ(j->LastIndex(), 0u);
    ASSERT_TRUE(j->Append(Range(1, 10, 1)).ok());
    ASSERT_TRUE(j->SetHardState({1, 2, 7}).ok());
    ASSERT_TRUE(j->Sync().ok());
    EXPECT_EQ(*j->Term(5), 1u);
    absl::StatusOr<std::vector<LogEntry>> r = j->Read(3, 6, UINT64_MAX);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].data, "entry-3-1");
    // max_bytes limits, but at least one entry.
    EXPECT_EQ(j->Read(1, 11, 0)->size(), 1u);
    EXPECT_EQ(j->Read(1, 11, 20)->size(), 2u);
  }
  auto j = MustOpen(&fs, JournalOptions{.tail_cache_bytes = 0});
  EXPECT_EQ(j->LastIndex(), 10u);
  EXPECT_EQ(j->hard_state(), (HardStateRecord{1, 2, 7}));
  std::vector<LogEntry> all = ReadAll(*j);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all[9].data, "entry-10-1");
  EXPECT_EQ(j->recovery().torn_bytes_truncated, 0u);
  EXPECT_TRUE(absl::IsNotFound(j->Term(11).status()));
}

TEST(Journal, TruncatesConflictingSuffix) {
  MemFileSystem fs;
  auto j = MustOpen(&fs, JournalOptions{.tail_cache_bytes = 0});
  ASSERT_TRUE(j->Append(Range(1, 10, 1)).ok());
  ASSERT_TRUE(j->SetHardState({2, 1, 3}).ok());
  ASSERT_TRUE(j->Append(Range(6, 8, 2)).ok());
  ASSERT_TRUE(j->Sync().ok());
  EXPECT_EQ(j->LastIndex(), 8u);
  EXPECT_EQ(*j->Term(5), 1u);
  EXPECT_EQ(*j->Term(6), 2u);
  j.reset();
  j = MustOpen(&fs);
  EXPECT_EQ(j->LastIndex(), 8u);
  EXPECT_EQ(*j->Term(8), 2u);
  // The hard state written before the truncated entries survives the truncation.
  EXPECT_EQ(j->hard_state(), (HardStateRecord{2, 1, 3}));
  EXPECT_FALSE(j->Append(Range(12, 12, 2)).ok()) << "a gap must be refused";
}

TEST(Journal, SegmentsRollCompactAndReopen) {
  MemFileSystem fs;
  JournalOptions o{.segment_bytes = 512, .tail_cache_bytes = 0};
  auto j = MustOpen(&fs, o);
  for (uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(j->Append({E(i, 1 + i / 30)}).ok());
  ASSERT_TRUE(j->Sync().ok());
  size_t before = fs.List(kDir)->size();
  EXPECT_GT(before, 5u);
  ASSERT_TRUE(j->Compact({60, *j->Term(60), "snap"}).ok());
  EXPECT_EQ(j->FirstIndex(), 61u);
  EXPECT_LT(fs.List(kDir)->size(), before);
  EXPECT_TRUE(absl::IsOutOfRange(j->Read(50, 70, UINT64_MAX).status()));
  EXPECT_EQ(*j->Term(60), 3u);
  EXPECT_TRUE(absl::IsOutOfRange(j->Term(59).status()));
  j.reset();
  j = MustOpen(&fs, o);
  EXPECT_EQ(j->FirstIndex(), 61u);
  EXPECT_EQ(j->LastIndex(), 100u);
  EXPECT_EQ(j->snapshot().blob, "snap");
  std::vector<LogEntry> all = ReadAll(*j);
  ASSERT_EQ(all.size(), 40u);
  EXPECT_EQ(all.front().index, 61u);
  // Truncate across a segment boundary, append, reopen.
  ASSERT_TRUE(j->Append(Range(70, 75, 9)).ok());
  ASSERT_TRUE(j->Sync().ok());
  j.reset();
  j = MustOpen(&fs, o);
  EXPECT_EQ(j->LastIndex(), 75u);
  EXPECT_EQ(*j->Term(70), 9u);
  EXPECT_EQ(*j->Term(69), 3u);
}

TEST(Journal, CrashLosesUnsyncedWrites) {
  MemFileSystem fs;
  {
    auto j = MustOpen(&fs);
    ASSERT_TRUE(j->Append(Range(1, 5, 1)).ok());
    ASSERT_TRUE(j->SetHardState({1, 1, 5}).ok());
    ASSERT_TRUE(j->Sync().ok());
    ASSERT_TRUE(j->Append(Range(6, 9, 1)).ok());
    ASSERT_TRUE(j->SetHardState({1, 1, 9}).ok());
  }
  fs.Crash();
  auto j = MustOpen(&fs);
  EXPECT_EQ(j->LastIndex(), 5u);
  EXPECT_EQ(j->hard_state().commit, 5u);
}

TEST(Journal, CrashWithPartialWritesRepairsTornTail) {
  // Every way a disk may have flushed part of the unsynced bytes: the synced prefix survives,
  // any complete record after it may survive, a partial one is cut off.
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    MemFileSystem fs;
    {
      auto j = MustOpen(&fs);
      ASSERT_TRUE(j->Append(Range(1, 5, 1)).ok());
      ASSERT_TRUE(j->SetHardState({1, 1, 5}).ok());
      ASSERT_TRUE(j->Sync().ok());
      ASSERT_TRUE(j->Append(Range(6, 20, 1)).ok());
    }
    fs.Crash(seed);
    auto j = MustOpen(&fs);
    ASSERT_NE(j, nullptr) << "seed " << seed;
    EXPECT_GE(j->LastIndex(), 5u);
    std::vector<LogEntry> all = ReadAll(*j);
    ASSERT_EQ(all.size(), j->LastIndex());
    for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].data, E(i + 1, 1).data);
    // And the repaired journal takes appends.
    ASSERT_TRUE(j->Append({E(j->LastIndex() + 1, 2)}).ok());
  }
}

TEST(Journal, TornTailAtEveryByteOfTheLastRecord) {
  MemFileSystem base;
  uint64_t record_start, record_end;
  {
    auto j = MustOpen(&base);
    ASSERT_TRUE(j->Append(Range(1, 10, 1)).ok());
    ASSERT_TRUE(j->SetHardState({1, 1, 10}).ok());
    ASSERT_TRUE(j->Sync().ok());
    record_start = base.MutableData(SegmentPath(1))->size();
    ASSERT_TRUE(j->Append({E(11, 1, std::string(100, 'x'))}).ok());
    record_end = base.MutableData(SegmentPath(1))->size();
    ASSERT_TRUE(j->Sync().ok());
  }
  std::string full = *base.MutableData(SegmentPath(1));
  for (uint64_t cut = record_start; cut < record_end; ++cut) {
    MemFileSystem fs;
    {
      auto f = fs.Open(SegmentPath(1), true);
      ASSERT_TRUE((*f)->Append(full.substr(0, cut)).ok());
      ASSERT_TRUE((*f)->Sync().ok());
      ASSERT_TRUE(fs.SyncDir(kDir).ok());
    }
    auto j = MustOpen(&fs);
    ASSERT_NE(j, nullptr) << "cut at " << cut;
    EXPECT_EQ(j->LastIndex(), 10u) << "cut at " << cut;
    EXPECT_EQ(j->recovery().torn_bytes_truncated, cut - record_start) << "cut at " << cut;
    EXPECT_EQ(ReadAll(*j).size(), 10u);
    EXPECT_EQ(fs.MutableData(SegmentPath(1))->size(), record_start);
  }
  // Flipping any byte of the last record, while it was never synced (no sync marker after it),
  // is also a torn tail. (Once synced, the same flip is corruption: journal_integrity_test.)
  for (uint64_t at = record_start; at < record_end; at += 7) {
    MemFileSystem fs;
    {
      auto f = fs.Open(SegmentPath(1), true);
      std::string d = full.substr(0, record_end);
      d[at] ^= 0x40;
      ASSERT_TRUE((*f)->Append(d).ok());
      ASSERT_TRUE(fs.SyncDir(kDir).ok());
    }
    auto j = MustOpen(&fs);
    ASSERT_NE(j, nullptr);
    EXPECT_EQ(j->LastIndex(), 10u);
  }
}

TEST(Journal, BitFlipInCommittedPrefixIsAnError) {
  MemFileSystem fs;
  uint64_t offset_of_5 = 0;
  {
    auto j = MustOpen(&fs, JournalOptions{.tail_cache_bytes = 0});
    ASSERT_TRUE(j->Append(Range(1, 4, 1)).ok());
    offset_of_5 = fs.MutableData(SegmentPath(1))->size();
    ASSERT_TRUE(j->Append(Range(5, 20, 1)).ok());
    ASSERT_TRUE(j->SetHardState({1, 1, 20}).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  std::string* d = fs.MutableData(SegmentPath(1));
  (*d)[offset_of_5 + 12] ^= 0x01;  // inside entry 5's payload
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(&fs, kDir);
  ASSERT_FALSE(j.ok());
  EXPECT_TRUE(absl::IsDataLoss(j.status())) << j.status();
  EXPECT_NE(j.status().message().find("committed"), std::string::npos) << j.status();
}

TEST(Journal, BitFlipInSealedSegmentIsAnError) {
  MemFileSystem fs;
  JournalOptions o{.segment_bytes = 256, .tail_cache_bytes = 0};
  {
    auto j = MustOpen(&fs, o);
    for (uint64_t i = 1; i <= 30; ++i) ASSERT_TRUE(j->Append({E(i, 1)}).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  std::string* d = fs.MutableData(SegmentPath(1));
  ASSERT_NE(d, nullptr);
  (*d)[d->size() - 3] ^= 0x80;  // last record of the first (sealed) segment
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(&fs, kDir, o);
  ASSERT_FALSE(j.ok());
  EXPECT_TRUE(absl::IsDataLoss(j.status())) << j.status();
}

TEST(Journal, ReadDetectsBitRot) {
  MemFileSystem fs;
  auto j = MustOpen(&fs, JournalOptions{.tail_cache_bytes = 0});
  ASSERT_TRUE(j->Append(Range(1, 3, 1)).ok());
  std::string* d = fs.MutableData(SegmentPath(1));
  uint64_t end_of_3 = d->size();  // the sync below appends a sync marker after entry 3
  ASSERT_TRUE(j->Sync().ok());
  (*d)[end_of_3 - 2] ^= 0x01;
  EXPECT_TRUE(absl::IsDataLoss(j->Read(1, 4, UINT64_MAX).status()));
  EXPECT_TRUE(j->Read(1, 3, UINT64_MAX).ok());
}

TEST(Journal, ResetToSnapshotReplacesLogAcrossCrash) {
  MemFileSystem fs;
  {
    auto j = MustOpen(&fs, JournalOptions{.segment_bytes = 300});
    for (uint64_t i = 1; i <= 20; ++i) ASSERT_TRUE(j->Append({E(i, 1)}).ok());
    ASSERT_TRUE(j->Sync().ok());
    ASSERT_TRUE(j->ResetToSnapshot({50, 3, "leader-snap"}).ok());
    EXPECT_EQ(j->FirstIndex(), 51u);
    EXPECT_EQ(j->LastIndex(), 50u);
    ASSERT_TRUE(j->Append(Range(51, 55, 3)).ok());
    ASSERT_TRUE(j->Sync().ok());
  }
  fs.Crash();
  auto j = MustOpen(&fs);
  EXPECT_EQ(j->FirstIndex(), 51u);
  EXPECT_EQ(j->LastIndex(), 55u);
  EXPECT_EQ(*j->Term(50), 3u);
  EXPECT_EQ(j->snapshot().blob, "leader-snap");
}

TEST(Journal, StaleSegmentOfReplacedLogIsDiscarded) {
  // A crash after the meta (new generation) was written but before the old segments were
  // removed: the old segments must not come back as part of the log.
  MemFileSystem fs;
  std::string old_segment;
  {
    auto j = MustOpen(&fs);
    ASSERT_TRUE(j->Append(Range(1, 60, 1)).ok());
    ASSERT_TRUE(j->Sync().ok());
    old_segment = *fs.MutableData(SegmentPath(1));
    ASSERT_TRUE(j->ResetToSnapshot({50, 3, "s"}).ok());
  }
  {
    auto f = fs.Open(SegmentPath(1), true);
    ASSERT_TRUE((*f)->Append(old_segment).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE(fs.SyncDir(kDir).ok());
  }
  auto j = MustOpen(&fs);
  EXPECT_EQ(j->LastIndex(), 50u);
  EXPECT_FALSE(fs.Exists(SegmentPath(1)));
}

TEST(Journal, GroupCommitOneSyncForManyAppends) {
  MemFileSystem fs;
  auto j = MustOpen(&fs);
  uint64_t syncs = fs.SyncCount();
  for (uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(j->Append({E(i, 1)}).ok());
  ASSERT_TRUE(j->SetHardState({1, 1, 100}).ok());
  ASSERT_TRUE(j->Sync().ok());
  // One directory sync for the new segment, one data sync.
  EXPECT_LE(fs.SyncCount() - syncs, 2u);
}

TEST(Journal, RandomizedAgainstModelWithCrashes) {
  // Random appends (with conflicts), hard states, syncs, compactions and crashes; after every
  // reopen the journal must hold exactly a prefix-consistent log that includes everything
  // synced.
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    MemFileSystem fs;
    JournalOptions o{.segment_bytes = 700,
                     .tail_cache_bytes = static_cast<uint64_t>(seed % 2) * 200};
    std::map<uint64_t, LogEntry> synced;   // what must survive
    std::map<uint64_t, LogEntry> written;  // what the journal holds now
    uint64_t snap = 0;
    uint64_t x = seed;
    auto rnd = [&x](uint64_t n) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      return (x >> 33) % n;
    };
    auto j = MustOpen(&fs, o);
    uint64_t term = 1;
    for (int step = 0; step < 300; ++step) {
      uint64_t op = rnd(10);
      if (op < 5) {
        uint64_t last = j->LastIndex();
        uint64_t from = last + 1 - std::min<uint64_t>(rnd(3), last - snap);
        if (rnd(4) == 0) ++term;
        std::vector<LogEntry> ents;
        for (uint64_t i = from; i < from + 1 + rnd(4); ++i) ents.push_back(E(i, term));
        ASSERT_TRUE(j->Append(ents).ok());
        for (auto it = written.lower_bound(from); it != written.end();) it = written.erase(it);
        // Conflicting entries being replaced are uncommitted by definition (Raft): a crash
        // may lose them even though they were synced.
        for (auto it = synced.lower_bound(from); it != synced.end();) it = synced.erase(it);
        for (auto& e : ents) written[e.index] = e;
      } else if (op < 7) {
        ASSERT_TRUE(j->Sync().ok());
        synced = written;
      } else if (op == 7 && j->LastIndex() > snap + 3) {
        ASSERT_TRUE(j->Sync().ok());
        synced = written;
        uint64_t to = snap + 1 + rnd(j->LastIndex() - snap - 1);
        ASSERT_TRUE(j->Compact({to, *j->Term(to), "s"}).ok());
        snap = to;
      } else if (op == 8) {
        j.reset();
        fs.Crash(rnd(2) ? rnd(1000) + 1 : 0);
        j = MustOpen(&fs, o);
        ASSERT_NE(j, nullptr) << "seed " << seed << " step " << step;
        // Everything synced is there, anything beyond is a prefix of what was written.
        ASSERT_GE(j->LastIndex() + 1, synced.empty() ? 0 : synced.rbegin()->first + 1)
            << "seed " << seed << " step " << step;
        written.clear();
        for (const LogEntry& e : ReadAll(*j)) written[e.index] = e;
        for (auto& [i, e] : synced) {
          if (i <= snap) continue;
          ASSERT_TRUE(written.count(i)) << "lost synced entry " << i << " seed " << seed;
          ASSERT_EQ(written[i].data, e.data) << "seed " << seed;
        }
        synced = written;
        term = std::max(term, j->LastIndex() > snap ? *j->Term(j->LastIndex()) : term);
      }
    }
  }
}

TEST(Journal, PosixFileSystemRoundTrip) {
  std::string dir =
      std::filesystem::temp_directory_path() / (absl::StrCat("tern-journal-test-", ::getpid()));
  std::filesystem::remove_all(dir);
  {
    absl::StatusOr<std::unique_ptr<Journal>> j =
        Journal::Open(&PosixFileSystem(), dir, JournalOptions{.segment_bytes = 4096});
    ASSERT_TRUE(j.ok()) << j.status();
    for (uint64_t i = 1; i <= 200; ++i) ASSERT_TRUE((*j)->Append({E(i, 1)}).ok());
    ASSERT_TRUE((*j)->SetHardState({1, 1, 200}).ok());
    ASSERT_TRUE((*j)->Sync().ok());
    ASSERT_TRUE((*j)->Compact({100, 1, "x"}).ok());
  }
  absl::StatusOr<std::unique_ptr<Journal>> j =
      Journal::Open(&PosixFileSystem(), dir, JournalOptions{.segment_bytes = 4096});
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->FirstIndex(), 101u);
  EXPECT_EQ((*j)->LastIndex(), 200u);
  EXPECT_EQ((*j)->hard_state().commit, 200u);
  EXPECT_EQ(ReadAll(**j).size(), 100u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tern::journal
