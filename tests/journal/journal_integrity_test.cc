// Damage to synced journal data is refused as corruption (naming file, byte offset and entry),
// never repaired as a torn tail; a genuinely torn, never-synced tail still is. Scrubbing finds
// damage in sealed segments later.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "journal/crc32c.h"
#include "journal/journal.h"

namespace tern::journal {
namespace {

constexpr char kDir[] = "/p1";
constexpr uint64_t kRecordHeaderBytes = 12;

LogEntry E(uint64_t index, uint64_t term = 1) {
  return LogEntry{index, term, 0, absl::StrCat("payload-of-entry-", index, "-", term)};
}

std::string SegmentPath(uint64_t first, const std::string& dir = kDir) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/segment-%020llu.log", static_cast<unsigned long long>(first));
  return dir + buf;
}

// Writes entries 1..n in batches of `batch`, each synced (as the broker does before it
// acknowledges), and returns the byte offset of every entry's record by index (in the segment
// holding it).
std::map<uint64_t, uint64_t> WriteSynced(MemFileSystem& fs, uint64_t n, uint64_t batch,
                                         JournalOptions o = {}) {
  std::map<uint64_t, uint64_t> offsets;
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(&fs, kDir, o);
  EXPECT_TRUE(j.ok()) << j.status();
  uint64_t last_first = 1;
  for (uint64_t i = 1; i <= n; ++i) {
    EXPECT_TRUE((*j)->Append({E(i)}).ok());
    // Find the segment that now holds i: the newest name.
    std::vector<std::string> names = *fs.List(kDir);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (name.rfind("segment-", 0) == 0) last_first = std::stoull(name.substr(8, 20));
    }
    std::string* d = fs.MutableData(SegmentPath(last_first));
    offsets[i] = d->size() - kRecordHeaderBytes - E(i).data.size() - 21;
    if (i % batch == 0) {
      EXPECT_TRUE((*j)->SetHardState({1, 1, i}).ok());
      EXPECT_TRUE((*j)->Sync().ok());
    }
  }
  EXPECT_TRUE((*j)->Sync().ok());
  return offsets;
}

// Expects Open to refuse with kDataLoss, naming the file, the byte offset and the entry.
void ExpectCorrupt(MemFileSystem& fs, const std::string& path, uint64_t offset, uint64_t entry,
                   JournalOptions o = {}) {
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(&fs, kDir, o);
  ASSERT_FALSE(j.ok()) << "opened a corrupt journal";
  EXPECT_TRUE(absl::IsDataLoss(j.status())) << j.status();
  std::string message(j.status().message());
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("byte offset ", offset)), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("entry ", entry)), std::string::npos) << message;
}

TEST(JournalIntegrity, LengthHighByteInTheMiddleIsCorruptionNotATornTail) {
  // The fault-injection finding: the high byte of one record's length field flipped in the
  // middle of the active segment was repaired as a torn tail, silently dropping everything
  // after it.
  MemFileSystem fs;
  auto offsets = WriteSynced(fs, 300, 10);
  std::string* d = fs.MutableData(SegmentPath(1));
  std::string before = *d;
  (*d)[offsets[150] + 3] ^= 0x01;
  ExpectCorrupt(fs, SegmentPath(1), offsets[150], 150);
  // Refused, not repaired: nothing was cut.
  EXPECT_EQ(d->size(), before.size());
  // And it stays refused on every later start.
  ExpectCorrupt(fs, SegmentPath(1), offsets[150], 150);
}

TEST(JournalIntegrity, AnyLengthByteAnywhereInSyncedDataIsCorruption) {
  MemFileSystem base;
  auto offsets = WriteSynced(base, 60, 7);
  std::string full = *base.MutableData(SegmentPath(1));
  for (uint64_t index : {1u, 2u, 30u, 59u, 60u}) {
    for (int byte = 0; byte < 4; ++byte) {
      for (uint8_t flip : {0x01, 0x80, 0xff}) {
        MemFileSystem fs;
        auto f = fs.Open(SegmentPath(1), true);
        std::string d = full;
        d[offsets[index] + byte] ^= static_cast<char>(flip);
        ASSERT_TRUE((*f)->Append(d).ok());
        ExpectCorrupt(fs, SegmentPath(1), offsets[index], index);
      }
    }
  }
}

TEST(JournalIntegrity, PayloadFlipIsCorruption) {
  MemFileSystem fs;
  auto offsets = WriteSynced(fs, 100, 10);
  std::string* d = fs.MutableData(SegmentPath(1));
  (*d)[offsets[42] + kRecordHeaderBytes + 25] ^= 0x20;
  ExpectCorrupt(fs, SegmentPath(1), offsets[42], 42);
}

TEST(JournalIntegrity, HeaderOfTheLastSyncedRecordIsCorruption) {
  // The last synced record has no later records to vouch for it; the sync marker written after
  // the fsync does.
  for (int field_byte : {0, 3, 5, 9}) {
    MemFileSystem fs;
    auto offsets = WriteSynced(fs, 20, 20);
    std::string* d = fs.MutableData(SegmentPath(1));
    (*d)[offsets[20] + field_byte] ^= 0x10;
    ExpectCorrupt(fs, SegmentPath(1), offsets[20], 20);
  }
}

TEST(JournalIntegrity, SameDamageToANeverSyncedRecordIsATornTail) {
  MemFileSystem fs;
  uint64_t offset_of_21 = 0;
  {
    auto j = Journal::Open(&fs, kDir);
    ASSERT_TRUE(j.ok());
    for (uint64_t i = 1; i <= 20; ++i) ASSERT_TRUE((*j)->Append({E(i)}).ok());
    ASSERT_TRUE((*j)->Sync().ok());
    offset_of_21 = fs.MutableData(SegmentPath(1))->size();
    ASSERT_TRUE((*j)->Append({E(21), E(22)}).ok());  // never synced
  }
  (*fs.MutableData(SegmentPath(1)))[offset_of_21 + 3] ^= 0x10;
  auto j = Journal::Open(&fs, kDir);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->LastIndex(), 20u);
  EXPECT_GT((*j)->recovery().torn_bytes_truncated, 0u);
  EXPECT_EQ(fs.MutableData(SegmentPath(1))->size(), offset_of_21);
}

TEST(JournalIntegrity, MissingSegmentInTheMiddleIsCorruption) {
  MemFileSystem fs;
  JournalOptions o{.segment_bytes = 600, .tail_cache_bytes = 0};
  WriteSynced(fs, 80, 5, o);
  std::vector<std::string> names = *fs.List(kDir);
  std::vector<uint64_t> firsts;
  for (const std::string& name : names) {
    if (name.rfind("segment-", 0) == 0) firsts.push_back(std::stoull(name.substr(8, 20)));
  }
  std::sort(firsts.begin(), firsts.end());
  ASSERT_GE(firsts.size(), 4u);
  ASSERT_TRUE(fs.Remove(SegmentPath(firsts[1])).ok());
  ExpectCorrupt(fs, SegmentPath(firsts[2]), 0, firsts[1], o);
}

TEST(JournalIntegrity, DamageInASealedSegmentIsCorruption) {
  MemFileSystem fs;
  JournalOptions o{.segment_bytes = 600, .tail_cache_bytes = 0};
  auto offsets = WriteSynced(fs, 80, 5, o);
  // Entry 3 sits in the first segment, which is sealed.
  (*fs.MutableData(SegmentPath(1)))[offsets[3] + 2] ^= 0x04;
  ExpectCorrupt(fs, SegmentPath(1), offsets[3], 3, o);
}

TEST(JournalIntegrity, NoSingleByteFlipEverLosesASyncedEntry) {
  // Every byte of a small journal, flipped in turn: either Open refuses with kDataLoss, or it
  // opens with every synced entry intact (a flip in the never-synced last sync marker, or in
  // the header's unused padding).
  MemFileSystem base;
  WriteSynced(base, 12, 3);
  std::string full = *base.MutableData(SegmentPath(1));
  int refused = 0, opened = 0;
  for (size_t at = 0; at < full.size(); ++at) {
    MemFileSystem fs;
    auto f = fs.Open(SegmentPath(1), true);
    std::string d = full;
    d[at] ^= 0x01;
    ASSERT_TRUE((*f)->Append(d).ok());
    auto j = Journal::Open(&fs, kDir);
    if (!j.ok()) {
      EXPECT_TRUE(absl::IsDataLoss(j.status())) << "byte " << at << ": " << j.status();
      ++refused;
      continue;
    }
    ++opened;
    ASSERT_EQ((*j)->LastIndex(), 12u) << "byte " << at;
    auto all = (*j)->Read(1, 13, UINT64_MAX);
    ASSERT_TRUE(all.ok()) << "byte " << at << ": " << all.status();
    for (uint64_t i = 1; i <= 12; ++i) EXPECT_EQ((*all)[i - 1].data, E(i).data);
  }
  EXPECT_GT(refused, opened);
}

TEST(JournalIntegrity, TornUnsyncedTailsAreStillRepaired) {
  for (uint64_t seed = 1; seed <= 80; ++seed) {
    MemFileSystem fs;
    {
      auto j = Journal::Open(&fs, kDir, JournalOptions{.segment_bytes = 900});
      ASSERT_TRUE(j.ok());
      for (uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE((*j)->Append({E(i)}).ok());
      ASSERT_TRUE((*j)->SetHardState({1, 1, 10}).ok());
      ASSERT_TRUE((*j)->Sync().ok());
      for (uint64_t i = 11; i <= 40; ++i) ASSERT_TRUE((*j)->Append({E(i)}).ok());
      ASSERT_TRUE((*j)->SetHardState({1, 1, 40}).ok());
    }
    fs.Crash(seed);
    auto j = Journal::Open(&fs, kDir, JournalOptions{.segment_bytes = 900});
    ASSERT_TRUE(j.ok()) << "seed " << seed << ": " << j.status();
    EXPECT_GE((*j)->LastIndex(), 10u);
    auto all = (*j)->Read(1, (*j)->LastIndex() + 1, UINT64_MAX);
    ASSERT_TRUE(all.ok()) << all.status();
    for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].data, E(i + 1).data);
  }
}

TEST(JournalIntegrity, BadHeaderOfTheLastSegmentAfterASyncIsCorruption) {
  MemFileSystem fs;
  WriteSynced(fs, 10, 5);
  (*fs.MutableData(SegmentPath(1)))[17] ^= 0x01;  // first index field of the segment header
  ExpectCorrupt(fs, SegmentPath(1), 0, 1);
  EXPECT_TRUE(fs.Exists(SegmentPath(1))) << "a synced segment must never be removed";
}

TEST(JournalIntegrity, TornCreationOfTheLastSegmentIsRemoved) {
  MemFileSystem fs;
  {
    auto j = Journal::Open(&fs, kDir);
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->Append({E(1)}).ok());  // creates the segment; nothing synced
  }
  fs.MutableData(SegmentPath(1))->resize(20);  // the header itself half written
  auto j = Journal::Open(&fs, kDir);
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->LastIndex(), 0u);
  EXPECT_FALSE(fs.Exists(SegmentPath(1)));
}

TEST(JournalIntegrity, OlderSegmentFormatIsRefusedNotMisread) {
  MemFileSystem fs;
  WriteSynced(fs, 5, 5);
  std::string* d = fs.MutableData(SegmentPath(1));
  (*d)[8] = 1;  // format version 1, with a valid header checksum
  uint32_t crc = Crc32c(std::string_view(d->data(), 24));
  for (int i = 0; i < 4; ++i) (*d)[24 + i] = static_cast<char>(crc >> (8 * i));
  auto j = Journal::Open(&fs, kDir);
  ASSERT_FALSE(j.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(j.status())) << j.status();
  EXPECT_NE(j.status().message().find("version 1"), std::string::npos) << j.status();
  EXPECT_NE(j.status().message().find(SegmentPath(1)), std::string::npos) << j.status();
}

TEST(JournalIntegrity, ReadNamesFileOffsetAndEntry) {
  MemFileSystem fs;
  auto offsets = WriteSynced(fs, 30, 10);
  auto j = Journal::Open(&fs, kDir, JournalOptions{.tail_cache_bytes = 0});
  ASSERT_TRUE(j.ok());
  (*fs.MutableData(SegmentPath(1)))[offsets[7] + 1] ^= 0x01;  // after Open verified it
  absl::StatusOr<std::vector<LogEntry>> r = (*j)->Read(1, 31, UINT64_MAX);
  ASSERT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  std::string message(r.status().message());
  EXPECT_NE(message.find(absl::StrCat("byte offset ", offsets[7])), std::string::npos) << message;
  EXPECT_NE(message.find("entry 7"), std::string::npos) << message;
}

TEST(JournalIntegrity, ScrubVerifiesSealedSegmentsAndFindsLaterDamage) {
  MemFileSystem fs;
  JournalOptions o{.segment_bytes = 600, .tail_cache_bytes = 0};
  auto offsets = WriteSynced(fs, 120, 4, o);
  auto j = Journal::Open(&fs, kDir, o);
  ASSERT_TRUE(j.ok()) << j.status();
  absl::StatusOr<ScrubProgress> all = (*j)->ScrubAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->pass_completed);
  EXPECT_GE(all->segments_verified, 3u);
  EXPECT_GT(all->records_verified, 60u);

  // Small steps cover the same ground over several calls.
  uint64_t bytes = 0, steps = 0;
  while (true) {
    absl::StatusOr<ScrubProgress> step = (*j)->ScrubStep(100);
    ASSERT_TRUE(step.ok()) << step.status();
    bytes += step->bytes_verified;
    ++steps;
    if (step->pass_completed) break;
    ASSERT_LT(steps, 10'000u);
  }
  EXPECT_EQ(bytes, all->bytes_verified);
  EXPECT_GT(steps, 5u);
  EXPECT_EQ((*j)->scrub_totals().passes_completed, 2u);

  // Bit rot after Open: found by the next pass, with file, offset and entry.
  (*fs.MutableData(SegmentPath(1)))[offsets[5] + kRecordHeaderBytes + 4] ^= 0x01;
  absl::StatusOr<ScrubProgress> again = (*j)->ScrubAll();
  ASSERT_TRUE(absl::IsDataLoss(again.status())) << again.status();
  std::string message(again.status().message());
  EXPECT_NE(message.find(SegmentPath(1)), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("byte offset ", offsets[5])), std::string::npos) << message;
  EXPECT_NE(message.find("entry 5"), std::string::npos) << message;
  EXPECT_EQ((*j)->scrub_totals().corruptions_found, 1u);
}

TEST(JournalIntegrity, ScrubPassSurvivesTruncationAndCompaction) {
  MemFileSystem fs;
  JournalOptions o{.segment_bytes = 500, .tail_cache_bytes = 0};
  WriteSynced(fs, 100, 5, o);
  auto j = Journal::Open(&fs, kDir, o);
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->ScrubStep(300).ok());
  // A conflicting suffix replaced (into a sealed segment), then a compaction, mid-pass.
  ASSERT_TRUE((*j)->Append({E(40, 2), E(41, 2)}).ok());
  ASSERT_TRUE((*j)->Sync().ok());
  for (uint64_t i = 42; i <= 90; ++i) ASSERT_TRUE((*j)->Append({E(i, 2)}).ok());
  ASSERT_TRUE((*j)->Sync().ok());
  ASSERT_TRUE((*j)->Compact({20, 1, "s"}).ok());
  for (int k = 0; k < 1000; ++k) {
    absl::StatusOr<ScrubProgress> step = (*j)->ScrubStep(300);
    ASSERT_TRUE(step.ok()) << step.status();
    if (step->pass_completed) return;
  }
  FAIL() << "scrub pass never completed";
}

TEST(JournalIntegrity, LengthFlipOnRealFilesIsRefused) {
  std::string dir =
      std::filesystem::temp_directory_path() / absl::StrCat("tern-journal-integrity-", ::getpid());
  std::filesystem::remove_all(dir);
  uint64_t offset_of_50 = 0;
  {
    auto j = Journal::Open(&PosixFileSystem(), dir);
    ASSERT_TRUE(j.ok()) << j.status();
    for (uint64_t i = 1; i <= 100; ++i) {
      if (i == 50) offset_of_50 = std::filesystem::file_size(SegmentPath(1, dir));
      ASSERT_TRUE((*j)->Append({E(i)}).ok());
      ASSERT_TRUE((*j)->Sync().ok());
    }
  }
  {
    std::fstream f(SegmentPath(1, dir), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset_of_50 + 3));
    char c = 0;
    f.read(&c, 1);
    c ^= 0x01;
    f.seekp(static_cast<std::streamoff>(offset_of_50 + 3));
    f.write(&c, 1);
  }
  uint64_t size_before = std::filesystem::file_size(SegmentPath(1, dir));
  auto j = Journal::Open(&PosixFileSystem(), dir);
  ASSERT_FALSE(j.ok());
  EXPECT_TRUE(absl::IsDataLoss(j.status())) << j.status();
  std::string message(j.status().message());
  EXPECT_NE(message.find(SegmentPath(1, dir)), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("byte offset ", offset_of_50)), std::string::npos) << message;
  EXPECT_NE(message.find("entry 50"), std::string::npos) << message;
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(1, dir)), size_before);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tern::journal
