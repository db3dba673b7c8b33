#include "journal/journal.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "journal/crc32c.h"
#include "spdlog/spdlog.h"

namespace tern::journal {
namespace {

constexpr char kSegmentMagic[8] = {'T', 'R', 'N', 'J', 'R', 'N', 'L', '1'};
constexpr char kMetaMagic[8] = {'T', 'R', 'N', 'M', 'E', 'T', 'A', '1'};
// Version 2 added the record header checksum and sync markers. The meta file's layout did not
// change (version 1), but a journal with version-1 segments is refused, never misread.
constexpr uint32_t kSegmentVersion = 2;
constexpr uint32_t kMetaVersion = 1;
constexpr uint64_t kHeaderBytes = 32;
// {u32 payload length, u32 crc32c(payload), u32 header crc}
constexpr uint64_t kRecordHeaderBytes = 12;
constexpr uint32_t kMaxPayload = 1u << 30;
constexpr uint8_t kKindEntry = 1;
constexpr uint8_t kKindHardState = 2;
constexpr uint8_t kKindSyncMarker = 3;
constexpr uint32_t kEntryFixedBytes = 1 + 8 + 8 + 4;
constexpr uint32_t kHardStateBytes = 1 + 8 + 8 + 8;
constexpr uint32_t kSyncMarkerBytes = 1 + 8;

void PutU32(std::string* s, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  s->append(b, 4);
}
void PutU64(std::string* s, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  s->append(b, 8);
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

std::string SegmentName(uint64_t first_index) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "segment-%020" PRIu64 ".log", first_index);
  return buf;
}

bool ParseSegmentName(const std::string& name, uint64_t* first_index) {
  if (name.size() != 8 + 20 + 4 || name.compare(0, 8, "segment-") != 0 ||
      name.compare(28, 4, ".log") != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 8; i < 28; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *first_index = v;
  return true;
}

std::string EncodeHeader(uint64_t first_index, uint32_t generation) {
  std::string h(kSegmentMagic, 8);
  PutU32(&h, kSegmentVersion);
  PutU32(&h, generation);
  PutU64(&h, first_index);
  PutU32(&h, Crc32c(h));
  PutU32(&h, 0);
  return h;
}

std::string EntryPayload(const LogEntry& e) {
  std::string p;
  p.reserve(1 + 8 + 8 + 4 + e.data.size());
  p.push_back(static_cast<char>(kKindEntry));
  PutU64(&p, e.index);
  PutU64(&p, e.term);
  PutU32(&p, e.type);
  p.append(e.data);
  return p;
}

std::string HardStatePayload(const HardStateRecord& hs) {
  std::string p;
  p.push_back(static_cast<char>(kKindHardState));
  PutU64(&p, hs.term);
  PutU64(&p, hs.vote);
  PutU64(&p, hs.commit);
  return p;
}

std::string SyncMarkerPayload(uint64_t last_index) {
  std::string p;
  p.push_back(static_cast<char>(kKindSyncMarker));
  PutU64(&p, last_index);
  return p;
}

// Binds a record header to where it was written: its segment and its byte offset. A damaged
// length fails this check before it is used, and a header found by scanning is genuine.
uint32_t HeaderCrc(uint32_t length, uint32_t payload_crc, uint64_t first_index, uint64_t offset) {
  char b[24];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(length >> (8 * i));
  for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<char>(payload_crc >> (8 * i));
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<char>(first_index >> (8 * i));
  for (int i = 0; i < 8; ++i) b[16 + i] = static_cast<char>(offset >> (8 * i));
  return Crc32cExtend(0, b, sizeof(b));
}

// Appends the record for `payload` to `out`; it will start at byte `offset` of the segment.
void AppendRecord(std::string* out, uint64_t first_index, uint64_t offset,
                  const std::string& payload) {
  uint32_t length = static_cast<uint32_t>(payload.size());
  uint32_t payload_crc = Crc32c(payload);
  PutU32(out, length);
  PutU32(out, payload_crc);
  PutU32(out, HeaderCrc(length, payload_crc, first_index, offset));
  out->append(payload);
}

enum class RecordCheck { kOk, kBadHeader, kBadPayload };

// Checks the record that would start at `offset` of segment data `d` (whole file or a chunk
// starting at `base`). On kOk, *length is its payload length.
RecordCheck CheckRecord(std::string_view d, uint64_t base, uint64_t first_index, uint64_t offset,
                        uint32_t* length) {
  uint64_t at = offset - base;
  if (d.size() - at < kRecordHeaderBytes) return RecordCheck::kBadHeader;
  const char* p = d.data() + at;
  uint32_t len = GetU32(p);
  uint32_t payload_crc = GetU32(p + 4);
  if (HeaderCrc(len, payload_crc, first_index, offset) != GetU32(p + 8)) {
    return RecordCheck::kBadHeader;
  }
  if (len == 0 || len > kMaxPayload || at + kRecordHeaderBytes + len > d.size()) {
    return RecordCheck::kBadPayload;
  }
  if (Crc32c(std::string_view(p + kRecordHeaderBytes, len)) != payload_crc) {
    return RecordCheck::kBadPayload;
  }
  *length = len;
  return RecordCheck::kOk;
}

// The offset of the last valid sync marker at or after `from` in a whole segment `d`, or 0.
// Walks intact records by their (verified) lengths and, past damage, tries every byte offset
// for a header whose checksum binds it to that offset. Only runs when a bad record was found.
uint64_t LastSyncMarkerFrom(std::string_view d, uint64_t first_index, uint64_t from) {
  uint64_t marker = 0;
  uint64_t q = from;
  while (q + kRecordHeaderBytes <= d.size()) {
    uint32_t len = GetU32(d.data() + q);
    // Cheap filter first: most byte offsets cannot hold a header that fits in the file.
    if (len == 0 || len > d.size() - q - kRecordHeaderBytes) {
      ++q;
      continue;
    }
    uint32_t checked = 0;
    RecordCheck check = CheckRecord(d, 0, first_index, q, &checked);
    if (check == RecordCheck::kBadHeader) {
      ++q;
      continue;
    }
    if (check == RecordCheck::kOk &&
        static_cast<uint8_t>(d[q + kRecordHeaderBytes]) == kKindSyncMarker) {
      marker = q;
    }
    // The header is genuine, so its length is too, even when the payload is damaged.
    q += kRecordHeaderBytes + len;
  }
  return marker;
}

// Hard states only move forward: term, then (within a term) from no vote to a vote, then commit.
bool Newer(const HardStateRecord& a, const HardStateRecord& b) {
  if (a.term != b.term) return a.term > b.term;
  if ((a.vote != 0) != (b.vote != 0)) return a.vote != 0;
  return a.commit > b.commit;
}

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat("journal corrupted: ", what));
}

// Corruption at a known place: the file, the byte offset and the entry index found there (or
// expected there), so an operator can look at the bytes and know what was lost.
absl::Status CorruptAt(const std::string& path, uint64_t offset, uint64_t entry,
                       const std::string& what) {
  return absl::DataLossError(absl::StrCat("journal corrupted: ", path, " at byte offset ", offset,
                                          " (entry ", entry, "): ", what));
}

}  // namespace

Journal::Journal(FileSystem* fs, std::string dir, JournalOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

Journal::~Journal() = default;

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(FileSystem* fs, std::string dir,
                                                       JournalOptions options) {
  std::unique_ptr<Journal> j(new Journal(fs, std::move(dir), options));
  absl::Status s = j->Recover();
  if (!s.ok()) return s;
  return j;
}

absl::Status Journal::LoadMeta() {
  std::string path = dir_ + "/meta";
  if (!fs_->Exists(path)) return absl::OkStatus();
  absl::StatusOr<std::string> data = fs_->ReadFile(path);
  if (!data.ok()) return data.status();
  const std::string& d = *data;
  constexpr size_t kFixed = 8 + 4 + 4 + 8 * 5 + 4;
  if (d.size() < kFixed + 4 || std::memcmp(d.data(), kMetaMagic, 8) != 0) {
    return Corrupt(path + ": bad header");
  }
  uint32_t crc = GetU32(d.data() + d.size() - 4);
  if (Crc32c(std::string_view(d.data(), d.size() - 4)) != crc) {
    return Corrupt(path + ": checksum mismatch");
  }
  const char* p = d.data() + 8;
  if (GetU32(p) != kMetaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("journal: ", path, " has format version ",
                                                      GetU32(p), "; this build reads version ",
                                                      kMetaVersion));
  }
  generation_ = GetU32(p + 4);
  snapshot_.index = GetU64(p + 8);
  snapshot_.term = GetU64(p + 16);
  hard_state_.term = GetU64(p + 24);
  hard_state_.vote = GetU64(p + 32);
  hard_state_.commit = GetU64(p + 40);
  uint32_t blob_len = GetU32(p + 48);
  if (kFixed + blob_len + 4 != d.size()) return Corrupt(path + ": bad length");
  snapshot_.blob.assign(p + 52, blob_len);
  return absl::OkStatus();
}

absl::Status Journal::WriteMeta() {
  std::string d(kMetaMagic, 8);
  PutU32(&d, kMetaVersion);
  PutU32(&d, generation_);
  PutU64(&d, snapshot_.index);
  PutU64(&d, snapshot_.term);
  PutU64(&d, hard_state_.term);
  PutU64(&d, hard_state_.vote);
  PutU64(&d, hard_state_.commit);
  PutU32(&d, static_cast<uint32_t>(snapshot_.blob.size()));
  d.append(snapshot_.blob);
  PutU32(&d, Crc32c(d));
  return fs_->WriteFileAtomic(dir_, "meta", d);
}

absl::Status Journal::Recover() {
  absl::Status s = fs_->CreateDir(dir_);
  if (!s.ok()) return s;
  s = LoadMeta();
  if (!s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> names = fs_->List(dir_);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> firsts;
  for (const std::string& n : *names) {
    uint64_t first;
    if (ParseSegmentName(n, &first)) firsts.push_back(first);
  }
  std::sort(firsts.begin(), firsts.end());
  bool removed = false;
  for (size_t i = 0; i < firsts.size(); ++i) {
    auto seg = std::make_unique<Segment>();
    seg->first_index = firsts[i];
    seg->path = dir_ + "/" + SegmentName(firsts[i]);
    absl::StatusOr<std::unique_ptr<File>> f = fs_->Open(seg->path, false);
    if (!f.ok()) return f.status();
    seg->file = *std::move(f);
    bool is_last = i + 1 == firsts.size();
    s = ScanSegment(*seg, is_last);
    if (absl::IsAborted(s) || (s.ok() && seg->generation < generation_)) {
      // A segment whose creation was torn, or one of a log replaced by a snapshot whose
      // removal a crash interrupted.
      seg->file.reset();
      s = fs_->Remove(seg->path);
      if (!s.ok()) return s;
      removed = true;
      continue;
    }
    if (!s.ok()) return s;
    segments_.push_back(std::move(seg));
  }
  // Segments entirely covered by the snapshot are leftovers of an interrupted compaction.
  while (!segments_.empty() && !segments_.front()->offsets.empty() &&
         segments_.front()->last_index() <= snapshot_.index && segments_.size() > 1) {
    segments_.front()->file.reset();
    s = fs_->Remove(segments_.front()->path);
    if (!s.ok()) return s;
    segments_.erase(segments_.begin());
    removed = true;
  }
  if (removed) {
    s = fs_->SyncDir(dir_);
    if (!s.ok()) return s;
  }
  last_index_ = snapshot_.index;
  bool first = true;
  for (const auto& seg : segments_) {
    if (seg->offsets.empty()) continue;
    if (first ? seg->first_index > snapshot_.index + 1 : seg->first_index != last_index_ + 1) {
      if (seg->first_index <= last_index_) {
        return CorruptAt(
            seg->path, 0, seg->first_index,
            absl::StrCat("this segment starts at entry ", seg->first_index,
                         " but the segments before it already end at entry ", last_index_));
      }
      return CorruptAt(seg->path, 0, last_index_ + 1,
                       absl::StrCat("entries ", last_index_ + 1, "..", seg->first_index - 1,
                                    " are missing: the log ", first ? "(snapshot) " : "",
                                    "ends at entry ", last_index_, " and this segment starts at ",
                                    seg->first_index, " (a segment file was lost)"));
    }
    first = false;
    last_index_ = std::max(last_index_, seg->last_index());
    recovery_.entries += seg->offsets.size();
  }
  recovery_.segments = segments_.size();
  return absl::OkStatus();
}

absl::Status Journal::ScanSegment(Segment& seg, bool is_last) {
  uint64_t size = seg.file->Size();
  absl::StatusOr<std::string> all = seg.file->Read(0, size);
  if (!all.ok()) return all.status();
  const std::string& d = *all;
  if (d.size() < kHeaderBytes || std::memcmp(d.data(), kSegmentMagic, 8) != 0 ||
      GetU32(d.data() + 24) != Crc32c(std::string_view(d.data(), 24))) {
    // The header is not fsynced on creation (the first Sync covers it). A bad header is a torn
    // creation only in the last segment and only if nothing after it was ever synced.
    uint64_t marker = LastSyncMarkerFrom(d, seg.first_index, kHeaderBytes);
    if (is_last && marker == 0) {
      spdlog::warn("journal: removing {} with a torn header ({} bytes)", seg.path, d.size());
      recovery_.torn_bytes_truncated += d.size();
      recovery_.torn_segment = seg.path;
      return absl::AbortedError("torn segment header");
    }
    return CorruptAt(seg.path, 0, seg.first_index,
                     is_last ? absl::StrCat("bad segment header, but a sync marker at offset ",
                                            marker, " shows the segment was synced")
                             : "bad segment header in a sealed segment");
  }
  if (uint32_t version = GetU32(d.data() + 8); version != kSegmentVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal: ", seg.path, " has segment format version ", version,
                     "; this build reads version ", kSegmentVersion,
                     " only (a journal written by an older build must be rebuilt from a replica "
                     "or a snapshot, not reinterpreted)"));
  }
  seg.generation = GetU32(d.data() + 12);
  if (GetU64(d.data() + 16) != seg.first_index) {
    return CorruptAt(seg.path, 16, seg.first_index,
                     "header first index does not match the file name");
  }

  uint64_t pos = kHeaderBytes;
  while (pos < d.size()) {
    uint32_t len = 0;
    RecordCheck check = CheckRecord(d, 0, seg.first_index, pos, &len);
    uint64_t entry_here = seg.first_index + seg.offsets.size();
    if (check != RecordCheck::kOk) {
      const char* what = check == RecordCheck::kBadHeader ? "record header checksum mismatch"
                                                          : "record payload checksum mismatch";
      if (!is_last) {
        return CorruptAt(seg.path, pos, entry_here,
                         absl::StrCat(what,
                                      " in a sealed segment (sealed segments are fsynced "
                                      "before the next one is created)"));
      }
      // A torn tail, or damage to bytes that were fsynced (and so maybe acknowledged and
      // committed)? Only a sync marker written after P proves the latter.
      uint64_t marker = LastSyncMarkerFrom(d, seg.first_index, pos + 1);
      if (marker > pos) {
        return CorruptAt(
            seg.path, pos, entry_here,
            absl::StrCat(what, " before the sync marker at offset ", marker,
                         ": these bytes were fsynced (acknowledged, possibly committed) and "
                         "are never cut as a torn tail"));
      }
      spdlog::warn(
          "journal: truncating the torn (never synced) tail of {} at offset {} (entry {}, {} "
          "bytes)",
          seg.path, pos, entry_here, d.size() - pos);
      recovery_.torn_bytes_truncated += d.size() - pos;
      recovery_.torn_segment = seg.path;
      absl::Status s = seg.file->Truncate(pos);
      if (s.ok()) s = seg.file->Sync();
      return s;
    }
    const char* p = d.data() + pos + kRecordHeaderBytes;
    uint8_t kind = static_cast<uint8_t>(p[0]);
    if (kind == kKindEntry && len >= kEntryFixedBytes) {
      uint64_t index = GetU64(p + 1);
      if (index != entry_here) {
        return CorruptAt(seg.path, pos, entry_here,
                         absl::StrCat("holds entry ", index, " where ", entry_here, " belongs"));
      }
      seg.offsets.push_back(pos);
      seg.lengths.push_back(len);
      seg.terms.push_back(GetU64(p + 9));
    } else if (kind == kKindHardState && len == kHardStateBytes) {
      HardStateRecord hs{GetU64(p + 1), GetU64(p + 9), GetU64(p + 17)};
      if (Newer(hs, hard_state_)) hard_state_ = hs;
    } else if (kind == kKindSyncMarker && len == kSyncMarkerBytes) {
      // Only needed when a bad record is found before it.
    } else {
      return CorruptAt(seg.path, pos, entry_here,
                       absl::StrCat("unknown record kind ", kind, " of ", len, " bytes"));
    }
    pos += kRecordHeaderBytes + len;
  }
  return absl::OkStatus();
}

absl::StatusOr<Journal::Segment*> Journal::NewSegment(uint64_t first_index) {
  auto seg = std::make_unique<Segment>();
  seg->first_index = first_index;
  seg->generation = generation_;
  seg->path = dir_ + "/" + SegmentName(first_index);
  if (fs_->Exists(seg->path)) {
    absl::Status s = fs_->Remove(seg->path);
    if (!s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<File>> f = fs_->Open(seg->path, true);
  if (!f.ok()) return f.status();
  seg->file = *std::move(f);
  absl::Status s = seg->file->Preallocate(options_.segment_bytes);
  if (s.ok()) s = seg->file->Append(EncodeHeader(first_index, generation_));
  if (!s.ok()) return s;
  // The new name must be durable before anything in it is acknowledged.
  s = fs_->SyncDir(dir_);
  if (!s.ok()) return s;
  seg->dirty = true;
  segments_.push_back(std::move(seg));
  return segments_.back().get();
}

const Journal::Segment* Journal::SegmentFor(uint64_t index) const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    const Segment& s = **it;
    if (!s.offsets.empty() && s.first_index <= index && index <= s.last_index()) return &s;
  }
  return nullptr;
}

absl::Status Journal::WriteRecord(Segment& seg, const std::string& payload) {
  std::string rec;
  AppendRecord(&rec, seg.first_index, seg.file->Size(), payload);
  seg.dirty = true;
  return seg.file->Append(rec);
}

absl::Status Journal::TruncateFrom(uint64_t index) {
  // Hard-state records after `index` disappear with the entries; keep the current hard state
  // in the meta file first so no crash can lose a vote.
  absl::Status s = WriteMeta();
  if (!s.ok()) return s;
  bool removed = false;
  while (!segments_.empty()) {
    Segment& seg = *segments_.back();
    if (seg.first_index >= index) {
      seg.file.reset();
      s = fs_->Remove(seg.path);
      if (!s.ok()) return s;
      segments_.pop_back();
      removed = true;
      continue;
    }
    if (!seg.offsets.empty() && seg.last_index() >= index) {
      size_t keep = index - seg.first_index;
      s = seg.file->Truncate(seg.offsets[keep]);
      // Durable before new records are written at the same offsets: a sync marker beyond the
      // cut must not outlive it, or a torn write of the new records would look like damage
      // to synced data.
      if (s.ok()) s = seg.file->Sync();
      if (!s.ok()) return s;
      seg.offsets.resize(keep);
      seg.lengths.resize(keep);
      seg.terms.resize(keep);
      seg.dirty = true;
    }
    break;
  }
  if (removed) {
    s = fs_->SyncDir(dir_);
    if (!s.ok()) return s;
  }
  last_index_ = index - 1;
  ++layout_epoch_;
  CacheTruncateFrom(index);
  return absl::OkStatus();
}

absl::Status Journal::Append(const std::vector<LogEntry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  size_t skip = 0;
  while (skip < entries.size() && entries[skip].index < FirstIndex()) ++skip;
  if (skip == entries.size()) return absl::OkStatus();
  uint64_t first = entries[skip].index;
  if (first > last_index_ + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal: append at ", first, " leaves a gap after ", last_index_));
  }
  if (first <= last_index_) {
    absl::Status s = TruncateFrom(first);
    if (!s.ok()) return s;
  }
  std::string buf;
  Segment* seg = segments_.empty() ? nullptr : segments_.back().get();
  auto flush = [&]() -> absl::Status {
    if (buf.empty()) return absl::OkStatus();
    seg->dirty = true;
    absl::Status s = seg->file->Append(buf);
    buf.clear();
    return s;
  };
  for (size_t i = skip; i < entries.size(); ++i) {
    const LogEntry& e = entries[i];
    TERN_CHECK(e.index == last_index_ + 1, "journal: appended entries are not contiguous");
    bool full = seg != nullptr && seg->file->Size() + buf.size() >= options_.segment_bytes;
    if (seg == nullptr || full || seg->first_index + seg->offsets.size() != e.index) {
      absl::Status s = flush();
      if (!s.ok()) return s;
      if (full) {
        // Only the last segment may have a torn tail: seal this one durably before the next
        // segment's name becomes durable.
        s = seg->file->Sync();
        if (!s.ok()) return s;
        seg->dirty = false;
      }
      if (seg != nullptr && seg->offsets.empty()) {
        // An empty segment (only hard states) at the wrong index: replace it.
        seg->file.reset();
        s = fs_->Remove(seg->path);
        if (!s.ok()) return s;
        segments_.pop_back();
      }
      absl::StatusOr<Segment*> ns = NewSegment(e.index);
      if (!ns.ok()) return ns.status();
      seg = *ns;
      // A segment must be self-describing: start it with the current hard state.
      AppendRecord(&buf, seg->first_index, seg->file->Size(), HardStatePayload(hard_state_));
    }
    std::string payload = EntryPayload(e);
    seg->offsets.push_back(seg->file->Size() + buf.size());
    seg->lengths.push_back(static_cast<uint32_t>(payload.size()));
    seg->terms.push_back(e.term);
    AppendRecord(&buf, seg->first_index, seg->file->Size() + buf.size(), payload);
    last_index_ = e.index;
    CachePush(e);
  }
  return flush();
}

absl::Status Journal::SetHardState(const HardStateRecord& hs) {
  if (hs == hard_state_) return absl::OkStatus();
  hard_state_ = hs;
  Segment* seg = segments_.empty() ? nullptr : segments_.back().get();
  if (seg == nullptr) {
    absl::StatusOr<Segment*> ns = NewSegment(last_index_ + 1);
    if (!ns.ok()) return ns.status();
    seg = *ns;
  }
  return WriteRecord(*seg, HardStatePayload(hs));
}

absl::Status Journal::Sync() {
  bool active_synced = false;
  for (auto& seg : segments_) {
    if (!seg->dirty) continue;
    absl::Status s = seg->file->Sync();
    if (!s.ok()) return s;
    seg->dirty = false;
    active_synced = seg == segments_.back();
  }
  ++sync_count_;
  if (active_synced) {
    // Everything before this offset is durable now; say so in the segment, so that damage to
    // these bytes is never taken for a torn tail. Not synced itself (dirty stays false): it
    // becomes durable with the next Sync, and a killed process leaves it in the page cache.
    Segment& seg = *segments_.back();
    std::string rec;
    AppendRecord(&rec, seg.first_index, seg.file->Size(), SyncMarkerPayload(last_index_));
    return seg.file->Append(rec);
  }
  return absl::OkStatus();
}

absl::Status Journal::Compact(const SnapshotPoint& point) {
  if (point.index <= snapshot_.index) return absl::OkStatus();
  if (point.index > last_index_) {
    return absl::FailedPreconditionError(
        absl::StrCat("journal: compact to ", point.index, " beyond last index ", last_index_));
  }
  absl::StatusOr<uint64_t> t = Term(point.index);
  if (!t.ok()) return t.status();
  if (*t != point.term) {
    return absl::FailedPreconditionError("journal: snapshot term does not match the log");
  }
  // Everything acknowledged so far must be durable before the meta points past it.
  absl::Status s = Sync();
  if (!s.ok()) return s;
  snapshot_ = point;
  s = WriteMeta();
  if (!s.ok()) return s;
  bool removed = false;
  while (segments_.size() > 1 && !segments_.front()->offsets.empty() &&
         segments_.front()->last_index() <= point.index) {
    segments_.front()->file.reset();
    s = fs_->Remove(segments_.front()->path);
    if (!s.ok()) return s;
    segments_.erase(segments_.begin());
    removed = true;
  }
  if (removed) s = fs_->SyncDir(dir_);
  while (!cache_.empty() && cache_.front().index <= point.index) {
    cache_bytes_ -= cache_.front().data.size();
    cache_.pop_front();
  }
  return s;
}

absl::Status Journal::ResetToSnapshot(const SnapshotPoint& point) {
  ++generation_;
  ++layout_epoch_;
  snapshot_ = point;
  absl::Status s = WriteMeta();
  if (!s.ok()) return s;
  for (auto& seg : segments_) {
    seg->file.reset();
    s = fs_->Remove(seg->path);
    if (!s.ok()) return s;
  }
  segments_.clear();
  s = fs_->SyncDir(dir_);
  last_index_ = point.index;
  cache_.clear();
  cache_bytes_ = 0;
  return s;
}

absl::StatusOr<uint64_t> Journal::Term(uint64_t i) const {
  if (i == snapshot_.index) return snapshot_.term;
  if (i < snapshot_.index) return absl::OutOfRangeError("journal: index compacted");
  if (i > last_index_) return absl::NotFoundError("journal: index beyond last");
  const Segment* seg = SegmentFor(i);
  if (seg == nullptr) return Corrupt(absl::StrCat("no segment holds entry ", i));
  return seg->terms[i - seg->first_index];
}

void Journal::CachePush(const LogEntry& e) {
  if (options_.tail_cache_bytes == 0) return;
  cache_.push_back(e);
  cache_bytes_ += e.data.size();
  while (cache_bytes_ > options_.tail_cache_bytes && cache_.size() > 1) {
    cache_bytes_ -= cache_.front().data.size();
    cache_.pop_front();
  }
}

void Journal::CacheTruncateFrom(uint64_t index) {
  while (!cache_.empty() && cache_.back().index >= index) {
    cache_bytes_ -= cache_.back().data.size();
    cache_.pop_back();
  }
}

absl::StatusOr<std::vector<LogEntry>> Journal::Read(uint64_t lo, uint64_t hi,
                                                    uint64_t max_bytes) const {
  if (lo < FirstIndex()) return absl::OutOfRangeError("journal: index compacted");
  if (hi > last_index_ + 1) {
    return absl::NotFoundError(
        absl::StrCat("journal: read up to ", hi, " beyond last ", last_index_));
  }
  std::vector<LogEntry> out;
  uint64_t bytes = 0;
  uint64_t i = lo;
  while (i < hi) {
    if (!cache_.empty() && i >= cache_.front().index) {
      const LogEntry& e = cache_[i - cache_.front().index];
      bytes += e.data.size();
      if (!out.empty() && bytes > max_bytes) break;
      out.push_back(e);
      ++i;
      continue;
    }
    const Segment* seg = SegmentFor(i);
    if (seg == nullptr) return Corrupt(absl::StrCat("no segment holds entry ", i));
    // One read for the run of entries in this segment (bounded by max_bytes).
    uint64_t end = std::min(hi, seg->last_index() + 1);
    if (!cache_.empty()) end = std::min(end, std::max(i + 1, cache_.front().index));
    uint64_t span = 0, k = i;
    while (k < end) {
      span += seg->lengths[k - seg->first_index];
      ++k;
      if (span > max_bytes) break;
    }
    uint64_t from = seg->offsets[i - seg->first_index];
    uint64_t to = seg->offsets[k - 1 - seg->first_index] + kRecordHeaderBytes +
                  seg->lengths[k - 1 - seg->first_index];
    absl::StatusOr<std::string> raw = seg->file->Read(from, to - from);
    if (!raw.ok()) return raw.status();
    for (uint64_t j = i; j < k; ++j) {
      uint64_t off = seg->offsets[j - seg->first_index] - from;
      uint32_t len = seg->lengths[j - seg->first_index];
      if (off + kRecordHeaderBytes + len > raw->size()) {
        return CorruptAt(seg->path, seg->offsets[j - seg->first_index], j,
                         "the file ends inside the entry");
      }
      const char* p = raw->data() + off;
      uint32_t checked = 0;
      if (CheckRecord(*raw, from, seg->first_index, seg->offsets[j - seg->first_index], &checked) !=
              RecordCheck::kOk ||
          checked != len) {
        return CorruptAt(seg->path, seg->offsets[j - seg->first_index], j,
                         "checksum mismatch reading the entry");
      }
      const char* q = p + kRecordHeaderBytes;
      if (len < kEntryFixedBytes || static_cast<uint8_t>(q[0]) != kKindEntry) {
        return CorruptAt(seg->path, seg->offsets[j - seg->first_index], j,
                         "the record there is not an entry");
      }
      LogEntry e;
      e.index = GetU64(q + 1);
      e.term = GetU64(q + 9);
      e.type = GetU32(q + 17);
      e.data.assign(q + kEntryFixedBytes, len - kEntryFixedBytes);
      if (e.index != j) {
        return CorruptAt(seg->path, seg->offsets[j - seg->first_index], j,
                         absl::StrCat("holds entry ", e.index));
      }
      bytes += e.data.size();
      if (!out.empty() && bytes > max_bytes) return out;
      out.push_back(std::move(e));
    }
    i = k;
  }
  return out;
}

absl::StatusOr<ScrubProgress> Journal::ScrubStep(uint64_t max_bytes) {
  ScrubProgress progress;
  if (scrub_.layout_epoch != layout_epoch_) scrub_ = ScrubCursor{.layout_epoch = layout_epoch_};
  max_bytes = std::max<uint64_t>(max_bytes, 1);
  while (progress.bytes_verified < max_bytes) {
    // Sealed segments are all but the last; the last one is still being appended to.
    const Segment* seg = nullptr;
    for (size_t i = 0; i + 1 < segments_.size(); ++i) {
      if (segments_[i]->first_index >= scrub_.segment_first_index) {
        seg = segments_[i].get();
        break;
      }
    }
    if (seg == nullptr) {
      ++scrub_totals_.passes_completed;
      scrub_ = ScrubCursor{.layout_epoch = layout_epoch_};
      progress.pass_completed = true;
      break;
    }
    if (seg->first_index != scrub_.segment_first_index) {
      // The segment the cursor was in is gone (compacted): start on the next one.
      scrub_.segment_first_index = seg->first_index;
      scrub_.offset = 0;
    }
    absl::Status s = ScrubSegmentChunk(*seg, max_bytes - progress.bytes_verified, progress);
    if (!s.ok()) {
      ++scrub_totals_.corruptions_found;
      scrub_ = ScrubCursor{.layout_epoch = layout_epoch_};
      return s;
    }
  }
  scrub_totals_.bytes_verified += progress.bytes_verified;
  scrub_totals_.segments_verified += progress.segments_verified;
  return progress;
}

absl::StatusOr<ScrubProgress> Journal::ScrubAll() {
  scrub_ = ScrubCursor{.layout_epoch = layout_epoch_};
  ScrubProgress total;
  while (!total.pass_completed) {
    absl::StatusOr<ScrubProgress> step = ScrubStep(64ull << 20);
    if (!step.ok()) return step.status();
    total.bytes_verified += step->bytes_verified;
    total.records_verified += step->records_verified;
    total.segments_verified += step->segments_verified;
    total.pass_completed = step->pass_completed;
  }
  return total;
}

absl::Status Journal::ScrubSegmentChunk(const Segment& seg, uint64_t max_bytes,
                                        ScrubProgress& progress) {
  const uint64_t size = seg.file->Size();
  if (scrub_.offset == 0) {
    absl::StatusOr<std::string> h = seg.file->Read(0, kHeaderBytes);
    if (!h.ok()) return h.status();
    if (h->size() < kHeaderBytes || std::memcmp(h->data(), kSegmentMagic, 8) != 0 ||
        GetU32(h->data() + 24) != Crc32c(std::string_view(h->data(), 24)) ||
        GetU32(h->data() + 8) != kSegmentVersion || GetU64(h->data() + 16) != seg.first_index) {
      return CorruptAt(seg.path, 0, seg.first_index, "scrub: bad segment header");
    }
    scrub_.offset = kHeaderBytes;
    scrub_.next_entry = seg.first_index;
    progress.bytes_verified += kHeaderBytes;
  }
  if (scrub_.offset < size) {
    uint64_t want = std::min(size - scrub_.offset, std::max(max_bytes, kRecordHeaderBytes));
    uint64_t base = scrub_.offset;
    absl::StatusOr<std::string> raw = seg.file->Read(base, want);
    if (!raw.ok()) return raw.status();
    if (raw->size() < want) {
      return CorruptAt(seg.path, base + raw->size(), scrub_.next_entry,
                       "scrub: the file is shorter than the journal wrote it");
    }
    uint64_t q = base;
    while (q < base + raw->size()) {
      uint64_t end = base + raw->size();
      if (end - q < kRecordHeaderBytes) {
        if (end == size) {
          return CorruptAt(seg.path, q, scrub_.next_entry,
                           "scrub: the segment ends inside a record header");
        }
        break;
      }
      const char* p = raw->data() + (q - base);
      uint32_t len = GetU32(p);
      uint32_t payload_crc = GetU32(p + 4);
      if (HeaderCrc(len, payload_crc, seg.first_index, q) != GetU32(p + 8)) {
        return CorruptAt(seg.path, q, scrub_.next_entry, "scrub: record header checksum mismatch");
      }
      if (len == 0 || len > kMaxPayload || q + kRecordHeaderBytes + len > size) {
        return CorruptAt(seg.path, q, scrub_.next_entry,
                         "scrub: record runs past the end of the sealed segment");
      }
      if (q + kRecordHeaderBytes + len > end) {
        if (q != base) break;  // the next step starts with this record
        // A record larger than the budget: read it whole.
        base = q;
        raw = seg.file->Read(q, kRecordHeaderBytes + len);
        if (!raw.ok()) return raw.status();
        if (raw->size() < kRecordHeaderBytes + len) {
          return CorruptAt(seg.path, q, scrub_.next_entry,
                           "scrub: the file is shorter than the journal wrote it");
        }
        continue;
      }
      const char* payload = p + kRecordHeaderBytes;
      if (Crc32c(std::string_view(payload, len)) != payload_crc) {
        return CorruptAt(seg.path, q, scrub_.next_entry, "scrub: record payload checksum mismatch");
      }
      uint8_t kind = static_cast<uint8_t>(payload[0]);
      if (kind == kKindEntry && len >= kEntryFixedBytes) {
        if (GetU64(payload + 1) != scrub_.next_entry) {
          return CorruptAt(seg.path, q, scrub_.next_entry,
                           absl::StrCat("scrub: holds entry ", GetU64(payload + 1)));
        }
        ++scrub_.next_entry;
      } else if (!(kind == kKindHardState && len == kHardStateBytes) &&
                 !(kind == kKindSyncMarker && len == kSyncMarkerBytes)) {
        return CorruptAt(seg.path, q, scrub_.next_entry,
                         absl::StrCat("scrub: unknown record kind ", kind));
      }
      ++progress.records_verified;
      q += kRecordHeaderBytes + len;
    }
    progress.bytes_verified += q - scrub_.offset;
    scrub_.offset = q;
  }
  if (scrub_.offset >= size) {
    if (scrub_.next_entry != seg.first_index + seg.offsets.size()) {
      return CorruptAt(seg.path, size, scrub_.next_entry,
                       absl::StrCat("scrub: the segment ends before entry ",
                                    seg.first_index + seg.offsets.size() - 1,
                                    ", which it held when the journal was opened"));
    }
    ++progress.segments_verified;
    scrub_.segment_first_index = seg.first_index + 1;
    scrub_.offset = 0;
  }
  return absl::OkStatus();
}

}  // namespace tern::journal
