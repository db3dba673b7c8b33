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
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 32;
constexpr uint64_t kRecordHeaderBytes = 8;
constexpr uint32_t kMaxPayload = 1u << 30;
constexpr uint8_t kKindEntry = 1;
constexpr uint8_t kKindHardState = 2;

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
  PutU32(&h, kVersion);
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

void AppendRecord(std::string* out, const std::string& payload) {
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, Crc32c(payload));
  out->append(payload);
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
  if (GetU32(p) != kVersion) return Corrupt(path + ": unknown version");
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
  PutU32(&d, kVersion);
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
      return Corrupt(absl::StrCat("gap before ", seg->path, ": log ends at ", last_index_));
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
    if (is_last) {
      spdlog::warn("journal: removing {} with a torn header ({} bytes)", seg.path, d.size());
      recovery_.torn_bytes_truncated += d.size();
      recovery_.torn_segment = seg.path;
      return absl::AbortedError("torn segment header");
    }
    return Corrupt(seg.path + ": bad segment header");
  }
  if (GetU32(d.data() + 8) != kVersion) return Corrupt(seg.path + ": unknown version");
  seg.generation = GetU32(d.data() + 12);
  if (GetU64(d.data() + 16) != seg.first_index) {
    return Corrupt(seg.path + ": header first index does not match the name");
  }

  uint64_t pos = kHeaderBytes;
  auto parse = [&](uint64_t at, uint32_t* len_out) -> bool {
    // Whether a well-formed record with a valid checksum starts at `at`.
    if (d.size() - at < kRecordHeaderBytes) return false;
    uint32_t len = GetU32(d.data() + at);
    uint32_t crc = GetU32(d.data() + at + 4);
    if (len == 0 || len > kMaxPayload || at + kRecordHeaderBytes + len > d.size()) return false;
    if (Crc32c(std::string_view(d.data() + at + kRecordHeaderBytes, len)) != crc) return false;
    *len_out = len;
    return true;
  };
  while (pos < d.size()) {
    uint32_t len = 0;
    if (!parse(pos, &len)) {
      uint64_t lost_from = seg.first_index + seg.offsets.size();
      if (!is_last) {
        return Corrupt(absl::StrCat(seg.path, ": bad record at offset ", pos, " (entry ", lost_from,
                                    ") in a sealed segment"));
      }
      // Is this the torn tail of an interrupted write, or damage inside data that a later,
      // intact hard state says was committed? Look at the records after it, if its length
      // field lets us find them.
      uint32_t claimed = d.size() - pos >= 4 ? GetU32(d.data() + pos) : 0;
      uint64_t next = pos + kRecordHeaderBytes + claimed;
      uint64_t max_commit = 0;
      while (claimed != 0 && claimed <= kMaxPayload && next < d.size()) {
        uint32_t l2 = 0;
        if (!parse(next, &l2)) break;
        const char* p = d.data() + next + kRecordHeaderBytes;
        if (static_cast<uint8_t>(p[0]) == kKindHardState && l2 >= 25) {
          max_commit = std::max(max_commit, GetU64(p + 17));
        }
        next += kRecordHeaderBytes + l2;
      }
      if (max_commit >= lost_from) {
        return Corrupt(absl::StrCat(seg.path, ": checksum mismatch at offset ", pos, " (entry ",
                                    lost_from, ") inside the committed prefix (commit ", max_commit,
                                    ")"));
      }
      spdlog::warn("journal: truncating torn tail of {} at offset {} ({} bytes)", seg.path, pos,
                   d.size() - pos);
      recovery_.torn_bytes_truncated += d.size() - pos;
      recovery_.torn_segment = seg.path;
      absl::Status s = seg.file->Truncate(pos);
      if (s.ok()) s = seg.file->Sync();
      return s;
    }
    const char* p = d.data() + pos + kRecordHeaderBytes;
    uint8_t kind = static_cast<uint8_t>(p[0]);
    if (kind == kKindEntry && len >= 21) {
      uint64_t index = GetU64(p + 1);
      uint64_t expect = seg.first_index + seg.offsets.size();
      if (index != expect) {
        return Corrupt(absl::StrCat(seg.path, ": entry ", index, " where ", expect, " expected"));
      }
      seg.offsets.push_back(pos);
      seg.lengths.push_back(len);
      seg.terms.push_back(GetU64(p + 9));
    } else if (kind == kKindHardState && len == 25) {
      HardStateRecord hs{GetU64(p + 1), GetU64(p + 9), GetU64(p + 17)};
      if (Newer(hs, hard_state_)) hard_state_ = hs;
    } else {
      return Corrupt(absl::StrCat(seg.path, ": unknown record kind ", kind, " at ", pos));
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
  AppendRecord(&rec, payload);
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
      AppendRecord(&buf, HardStatePayload(hard_state_));
    }
    std::string payload = EntryPayload(e);
    seg->offsets.push_back(seg->file->Size() + buf.size());
    seg->lengths.push_back(static_cast<uint32_t>(payload.size()));
    seg->terms.push_back(e.term);
    AppendRecord(&buf, payload);
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
  for (auto& seg : segments_) {
    if (!seg->dirty) continue;
    absl::Status s = seg->file->Sync();
    if (!s.ok()) return s;
    seg->dirty = false;
  }
  ++sync_count_;
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
        return Corrupt(absl::StrCat(seg->path, ": short read of entry ", j));
      }
      const char* p = raw->data() + off;
      if (GetU32(p) != len ||
          Crc32c(std::string_view(p + kRecordHeaderBytes, len)) != GetU32(p + 4)) {
        return Corrupt(absl::StrCat(seg->path, ": checksum mismatch reading entry ", j));
      }
      const char* q = p + kRecordHeaderBytes;
      LogEntry e;
      e.index = GetU64(q + 1);
      e.term = GetU64(q + 9);
      e.type = GetU32(q + 17);
      e.data.assign(q + 21, len - 21);
      if (e.index != j) return Corrupt(absl::StrCat(seg->path, ": entry ", e.index, " at ", j));
      bytes += e.data.size();
      if (!out.empty() && bytes > max_bytes) return out;
      out.push_back(std::move(e));
    }
    i = k;
  }
  return out;
}

}  // namespace tern::journal
