#pragma once

// The durable Raft log of one partition: entries (index, term, type, data) and the hard state,
// in segment files under one directory, each record checksummed with CRC32C.
//
// Layout of `dir`:
//   segment-<first index, 20 digits>.log   records, appended; a new segment starts when the
//                                          active one exceeds options.segment_bytes
//   meta                                   snapshot point (index, term, opaque blob), the
//                                          hard state at the time and the log generation;
//                                          replaced atomically (write, fsync, rename, fsync dir)
//
// Segment (format version 2): a 32-byte header {magic "TRNJRNL1", version, generation, first
// index, crc}, then records {u32 payload length, u32 crc32c(payload), u32 header crc, payload}.
// The header crc covers the length, the payload crc, the segment's first index and the
// record's own byte offset, so a damaged length is detected before it is trusted, and a record
// found at an offset is known to have been written there. Payload kinds: an entry
// {1, index, term, type, data}, a hard state {2, term, vote, commit}, or a sync marker
// {3, last index}. Hard states go into the same stream as the entries they refer to, so one
// fsync covers both (group commit: many Append/SetHardState calls, one Sync).
//
// Sync markers: after a Sync has made the active segment durable, a marker record is appended
// (not itself synced; it rides along with the next Sync, and survives a process kill in the
// page cache). A valid marker at offset M proves every byte before M was fsynced, because it
// was written only after that fsync returned.
//
// Recovery on Open: every segment is scanned and every record's checksums verified.
//  - A sealed (non-last) segment was fsynced before the next segment's name became durable:
//    any bad byte in it is corruption.
//  - In the last segment, a bad record at offset P is a torn write from a crash (an append that
//    was never fsynced, so never acknowledged) only if no valid sync marker exists after P: then
//    it and everything after it are truncated and recovery() reports how many bytes. If a
//    marker after P exists (found by scanning forward for position-bound record headers), P
//    was fsynced and then damaged: corruption.
//  - A missing segment between two present ones, or between the snapshot and the first one,
//    is corruption.
// Corruption fails Open with kDataLoss naming the file, the byte offset and the entry index;
// nothing is ever skipped or cut. See README.md for why this rule and what it cannot see.
//
// Thread-compatible: owned by one partition's I/O thread.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "journal/file_system.h"

namespace tern::journal {

struct JournalOptions {
  uint64_t segment_bytes = 64ull << 20;
  // Recently appended entries kept in memory so followers are served without reading files.
  uint64_t tail_cache_bytes = 8ull << 20;
};

struct LogEntry {
  uint64_t index = 0;
  uint64_t term = 0;
  uint32_t type = 0;
  std::string data;
};

struct HardStateRecord {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;
  friend bool operator==(const HardStateRecord&, const HardStateRecord&) = default;
};

// The snapshot point: entries up to `index` are gone; `blob` is opaque to the journal (the
// Raft adapter stores the serialized SnapshotMetadata there).
struct SnapshotPoint {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string blob;
};

struct RecoveryInfo {
  uint64_t torn_bytes_truncated = 0;
  uint64_t segments = 0;
  uint64_t entries = 0;
  std::string torn_segment;
};

// What one scrub step (or a whole pass) verified. Scrubbing re-reads sealed segments, which are
// immutable once sealed, and verifies every header and payload checksum and the entry order,
// so bit rot in data that Open verified long ago is found while replicas still hold it.
struct ScrubProgress {
  uint64_t bytes_verified = 0;
  uint64_t records_verified = 0;
  uint64_t segments_verified = 0;
  // Set when this call finished a pass over every sealed segment (the next call starts over).
  bool pass_completed = false;
};

struct ScrubTotals {
  uint64_t bytes_verified = 0;
  uint64_t segments_verified = 0;
  uint64_t passes_completed = 0;
  uint64_t corruptions_found = 0;
};

class Journal {
 public:
  static absl::StatusOr<std::unique_ptr<Journal>> Open(FileSystem* fs, std::string dir,
                                                       JournalOptions options = {});
  ~Journal();

  // Appends entries; entries.front().index must be in [FirstIndex(), LastIndex() + 1]. An
  // existing suffix from entries.front().index on is replaced (Raft conflict resolution).
  // Not durable until Sync().
  absl::Status Append(const std::vector<LogEntry>& entries);
  absl::Status SetHardState(const HardStateRecord& hs);
  // Makes everything appended so far durable (one fdatasync per dirty segment).
  absl::Status Sync();

  // Discards entries up to and including `point.index` (<= LastIndex()) and records the
  // snapshot point. Durable on return.
  absl::Status Compact(const SnapshotPoint& point);
  // Replaces the whole log by a snapshot from the leader (follower install). Durable on return.
  absl::Status ResetToSnapshot(const SnapshotPoint& point);

  uint64_t FirstIndex() const { return snapshot_.index + 1; }
  uint64_t LastIndex() const { return last_index_; }
  // Term of entry i for i in [FirstIndex() - 1, LastIndex()]. kOutOfRange below, kNotFound above.
  absl::StatusOr<uint64_t> Term(uint64_t i) const;
  // Entries in [lo, hi), at most max_bytes of data (at least one). Checksums are verified;
  // a mismatch is kDataLoss.
  absl::StatusOr<std::vector<LogEntry>> Read(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;

  const HardStateRecord& hard_state() const { return hard_state_; }
  const SnapshotPoint& snapshot() const { return snapshot_; }
  const RecoveryInfo& recovery() const { return recovery_; }
  uint64_t SyncCount() const { return sync_count_; }

  // Verifies about `max_bytes` more of the sealed segments, continuing where the previous call
  // stopped, so a caller on the owning thread can spread a pass over time (the broker calls it
  // from the partition loop). kDataLoss, naming file, offset and entry, on the first damaged
  // record; a later call starts a new pass. A truncation or snapshot install in between
  // restarts the pass, since the segments it walked may have changed.
  absl::StatusOr<ScrubProgress> ScrubStep(uint64_t max_bytes);
  // One whole pass over every sealed segment now.
  absl::StatusOr<ScrubProgress> ScrubAll();
  const ScrubTotals& scrub_totals() const { return scrub_totals_; }

 private:
  struct Segment {
    uint64_t first_index = 0;
    uint32_t generation = 0;
    std::string path;
    std::unique_ptr<File> file;
    // Per entry (index first_index + i): record offset and term.
    std::vector<uint64_t> offsets;
    std::vector<uint32_t> lengths;  // payload bytes
    std::vector<uint64_t> terms;
    bool dirty = false;
    uint64_t last_index() const { return first_index + offsets.size() - 1; }
  };

  struct ScrubCursor {
    uint64_t segment_first_index = 0;  // 0: the pass has not started
    uint64_t offset = 0;               // 0: the segment header is next
    uint64_t next_entry = 0;
    uint64_t layout_epoch = 0;
  };

  Journal(FileSystem* fs, std::string dir, JournalOptions options);
  absl::Status Recover();
  absl::Status LoadMeta();
  absl::Status WriteMeta();
  absl::Status ScanSegment(Segment& seg, bool is_last);
  absl::StatusOr<Segment*> NewSegment(uint64_t first_index);
  absl::Status TruncateFrom(uint64_t index);
  absl::Status WriteRecord(Segment& seg, const std::string& payload);
  absl::Status ScrubSegmentChunk(const Segment& seg, uint64_t max_bytes, ScrubProgress& progress);
  const Segment* SegmentFor(uint64_t index) const;
  absl::StatusOr<LogEntry> ReadEntry(const Segment& seg, uint64_t index) const;
  void CachePush(const LogEntry& e);
  void CacheTruncateFrom(uint64_t index);

  FileSystem* fs_;
  std::string dir_;
  JournalOptions options_;
  std::vector<std::unique_ptr<Segment>> segments_;
  SnapshotPoint snapshot_;
  HardStateRecord hard_state_;
  uint64_t last_index_ = 0;
  RecoveryInfo recovery_;
  std::deque<LogEntry> cache_;
  uint64_t cache_bytes_ = 0;
  uint64_t sync_count_ = 0;
  // Bumped by ResetToSnapshot: segments of older generations belong to a replaced log.
  uint32_t generation_ = 0;
  // Bumped whenever existing segment bytes are cut or segments replaced (truncation, snapshot
  // install), so an unfinished scrub pass does not resume at an offset that moved.
  uint64_t layout_epoch_ = 0;
  ScrubCursor scrub_;
  ScrubTotals scrub_totals_;
};

}  // namespace tern::journal
