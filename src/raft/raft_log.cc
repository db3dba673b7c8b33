#include "raft/raft_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace tern::raft {

std::optional<uint64_t> Unstable::MaybeFirstIndex() const {
  if (snapshot_) return snapshot_->index() + 1;
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeLastIndex() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->index();
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeTerm(uint64_t i) const {
  if (i < offset_) {
    if (snapshot_ && snapshot_->index() == i) return snapshot_->term();
    return std::nullopt;
  }
  std::optional<uint64_t> last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  if (entries_.empty()) return std::nullopt;  // only a snapshot, at offset - 1
  return entries_[i - offset_].term();
}

bool Unstable::StableTo(uint64_t i, uint64_t t) {
  std::optional<uint64_t> gt = MaybeTerm(i);
  // An entry in the unstable snapshot position or replaced by a newer leader is left alone.
  if (!gt || *gt != t || i < offset_) return false;
  entries_.erase(entries_.begin(), entries_.begin() + (i + 1 - offset_));
  offset_ = i + 1;
  return true;
}

void Unstable::StableSnapTo(uint64_t i) {
  if (snapshot_ && snapshot_->index() == i) snapshot_.reset();
}

void Unstable::Restore(const SnapshotMetadata& s) {
  offset_ = s.index() + 1;
  entries_.clear();
  snapshot_ = s;
}

void Unstable::TruncateAndAppend(const std::vector<Entry>& entries) {
  uint64_t after = entries.front().index();
  if (after == offset_ + entries_.size()) {
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  } else if (after <= offset_) {
    // Replaces everything unstable, and logically the persisted suffix from `after` on: the
    // application truncates it when it persists these entries.
    offset_ = after;
    entries_ = entries;
  } else {
    entries_.resize(after - offset_);
    entries_.insert(entries_.end(), entries.begin(), entries.end());
  }
}

void Unstable::Slice(uint64_t lo, uint64_t hi, std::vector<Entry>* out) const {
  TERN_CHECK(lo <= hi && offset_ <= lo && hi <= offset_ + entries_.size(), "unstable slice [", lo,
             ",", hi, ") out of bound [", offset_, ",", offset_ + entries_.size(), "]");
  out->insert(out->end(), entries_.begin() + (lo - offset_), entries_.begin() + (hi - offset_));
}

RaftLog::RaftLog(const Storage* storage, uint64_t max_applying_bytes)
    : storage_(storage), max_applying_bytes_(max_applying_bytes) {
  uint64_t first = storage_->FirstIndex();
  uint64_t last = storage_->LastIndex();
  unstable_.set_offset(last + 1);
  // Everything up to the snapshot is committed and applied by definition.
  committed_ = first - 1;
  applied_ = first - 1;
}

uint64_t RaftLog::FirstIndex() const {
  if (auto i = unstable_.MaybeFirstIndex()) return *i;
  return storage_->FirstIndex();
}

uint64_t RaftLog::LastIndex() const {
  if (auto i = unstable_.MaybeLastIndex()) return *i;
  return storage_->LastIndex();
}

uint64_t RaftLog::LastTerm() const {
  absl::StatusOr<uint64_t> t = Term(LastIndex());
  TERN_CHECK(t.ok(), "unexpected error getting the last term: ", t.status().ToString());
  return *t;
}

absl::StatusOr<uint64_t> RaftLog::Term(uint64_t i) const {
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  // The valid range is [index of the dummy/snapshot entry, last index].
  if (i + 1 < FirstIndex()) return CompactedError();
  if (i > LastIndex()) return UnavailableError();
  absl::StatusOr<uint64_t> t = storage_->Term(i);
  if (t.ok() || IsCompacted(t.status()) || IsIndexUnavailable(t.status())) return t;
  TERN_UNREACHABLE("storage failed reading term ", i, ": ", t.status().ToString());
}

uint64_t RaftLog::ZeroTermOnOutOfBounds(uint64_t i) const {
  absl::StatusOr<uint64_t> t = Term(i);
  return t.ok() ? *t : 0;
}

bool RaftLog::MatchTerm(uint64_t i, uint64_t t) const {
  absl::StatusOr<uint64_t> got = Term(i);
  return got.ok() && *got == t;
}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t index, uint64_t log_term, uint64_t commit,
                                             const std::vector<Entry>& entries) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  uint64_t last_new = index + entries.size();
  uint64_t ci = FindConflict(entries);
  if (ci != 0) {
    TERN_CHECK(ci > committed_, "entry ", ci, " conflicts with committed entry (committed ",
               committed_, ")");
    uint64_t offset = index + 1;
    TERN_CHECK(ci - offset < entries.size(), "conflict index out of range");
    Append(std::vector<Entry>(entries.begin() + (ci - offset), entries.end()));
  }
  // Never beyond last_new: entries after it may be a stale leader's and not match the leader.
  CommitTo(std::min(commit, last_new));
  return last_new;
}

uint64_t RaftLog::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return LastIndex();
  uint64_t after = entries.front().index() - 1;
  TERN_CHECK(after >= committed_, "appending after ", after, " would overwrite committed ",
             committed_);
  unstable_.TruncateAndAppend(entries);
  return LastIndex();
}

uint64_t RaftLog::FindConflict(const std::vector<Entry>& entries) const {
  for (const Entry& e : entries) {
    if (!MatchTerm(e.index(), e.term())) return e.index();
  }
  return 0;
}

EntryId RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  for (; index > 0; --index) {
    absl::StatusOr<uint64_t> t = Term(index);
    if (!t.ok()) return {index, 0};
    if (*t <= term) return {index, *t};
  }
  return {0, 0};
}

absl::StatusOr<std::vector<Entry>> RaftLog::Entries(uint64_t i, uint64_t max_bytes) const {
  if (i > LastIndex()) return std::vector<Entry>();
  return Slice(i, LastIndex() + 1, max_bytes);
}

void RaftLog::MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const {
  TERN_CHECK(lo <= hi, "invalid slice ", lo, " > ", hi);
  uint64_t length = LastIndex() + 1 - FirstIndex();
  TERN_CHECK(hi <= FirstIndex() + length, "slice [", lo, ",", hi, ") out of bound [", FirstIndex(),
             ",", LastIndex(), "]");
}

absl::StatusOr<std::vector<Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi,
                                                  uint64_t max_bytes) const {
  if (lo < FirstIndex()) return CompactedError();
  MustCheckOutOfBounds(lo, hi);
  std::vector<Entry> out;
  if (lo == hi) return out;
  uint64_t uoff = unstable_.offset();
  if (lo < uoff) {
    absl::StatusOr<std::vector<Entry>> stored =
        storage_->Entries(lo, std::min(hi, uoff), max_bytes);
    if (!stored.ok()) {
      if (IsCompacted(stored.status())) return stored.status();
      TERN_UNREACHABLE("storage failed reading entries [", lo, ",", std::min(hi, uoff),
                       "): ", stored.status().ToString());
    }
    out = std::move(stored).value();
    // The storage stopped early because of the size limit: do not add unstable entries.
    if (out.size() < std::min(hi, uoff) - lo) return out;
  }
  if (hi > uoff) {
    uint64_t size = 0;
    for (const Entry& e : out) size += EntrySize(e);
    std::vector<Entry> tail;
    unstable_.Slice(std::max(lo, uoff), hi, &tail);
    for (Entry& e : tail) {
      size += EntrySize(e);
      if (!out.empty() && size > max_bytes) break;
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<Entry> RaftLog::AllEntries() const {
  absl::StatusOr<std::vector<Entry>> all = Entries(FirstIndex(), UINT64_MAX);
  TERN_CHECK(all.ok(), all.status().ToString());
  return *all;
}

bool RaftLog::IsUpToDate(uint64_t last_index, uint64_t term) const {
  uint64_t our_term = LastTerm();
  return term > our_term || (term == our_term && last_index >= LastIndex());
}

void RaftLog::CommitTo(uint64_t to_commit) {
  if (committed_ >= to_commit) return;  // Never decrease commit.
  // Asked to commit an entry we do not have: our durable log lost entries we acknowledged
  // (a lying fsync or a lost disk). Continuing would apply a log that differs from the group's.
  TERN_CHECK(LastIndex() >= to_commit, "commit index regression: to_commit ", to_commit,
             " is out of range [last index ", LastIndex(),
             "]; was the Raft log corrupted, truncated, or lost?");
  committed_ = to_commit;
}

bool RaftLog::MaybeCommit(uint64_t max_index, uint64_t term) {
  if (max_index > committed_ && ZeroTermOnOutOfBounds(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::AppliedTo(uint64_t index) {
  if (index == 0) return;
  TERN_CHECK(committed_ >= index && index >= applied_, "applied ", index,
             " is out of range [prev applied ", applied_, ", committed ", committed_, "]");
  applied_ = index;
}

void RaftLog::SetApplied(uint64_t index) {
  TERN_CHECK(index <= committed_ || index <= FirstIndex() - 1, "config applied ", index,
             " beyond commit ", committed_);
  applied_ = std::max(applied_, index);
}

bool RaftLog::HasNextCommittedEntries() const {
  uint64_t lo = std::max(applied_ + 1, FirstIndex());
  return committed_ + 1 > lo && lo <= LastIndex() && !unstable_.snapshot();
}

std::vector<Entry> RaftLog::NextCommittedEntries() const {
  if (!HasNextCommittedEntries()) return {};
  uint64_t lo = std::max(applied_ + 1, FirstIndex());
  uint64_t hi = std::min(committed_, LastIndex()) + 1;
  absl::StatusOr<std::vector<Entry>> ents = Slice(lo, hi, max_applying_bytes_);
  TERN_CHECK(ents.ok(), "unexpected error getting committed entries: ", ents.status().ToString());
  return std::move(ents).value();
}

uint64_t RaftLog::PersistedLastIndex() const {
  if (!unstable_.entries().empty()) return unstable_.offset() - 1;
  if (unstable_.snapshot()) return unstable_.snapshot()->index() - 1;
  return LastIndex();
}

absl::StatusOr<SnapshotMetadata> RaftLog::Snapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_->Snapshot();
}

void RaftLog::Restore(const SnapshotMetadata& s) {
  committed_ = s.index();
  unstable_.Restore(s);
}

std::string RaftLog::ToString() const {
  return absl::StrCat("committed=", committed_, " applied=", applied_,
                      " unstable.offset=", unstable_.offset(),
                      " unstable.entries=", unstable_.entries().size(), " first=", FirstIndex(),
                      " last=", LastIndex());
}

}  // namespace tern::raft
