#include "journal/journal_storage.h"

#include "absl/strings/str_cat.h"

namespace tern::journal {

namespace {

raft::Entry ToRaft(LogEntry&& e) {
  raft::Entry out;
  out.set_index(e.index);
  out.set_term(e.term);
  out.set_type(static_cast<raft::EntryType>(e.type));
  out.set_data(std::move(e.data));
  return out;
}

LogEntry FromRaft(const raft::Entry& e) {
  return LogEntry{e.index(), e.term(), static_cast<uint32_t>(e.type()), e.data()};
}

}  // namespace

absl::StatusOr<std::unique_ptr<JournalStorage>> JournalStorage::Open(FileSystem* fs,
                                                                     std::string dir,
                                                                     std::vector<uint64_t> voters,
                                                                     JournalOptions options) {
  absl::StatusOr<std::unique_ptr<Journal>> j = Journal::Open(fs, std::move(dir), options);
  if (!j.ok()) return j.status();
  raft::ConfState conf;
  const SnapshotPoint& sp = (*j)->snapshot();
  if (!sp.blob.empty()) {
    raft::SnapshotMetadata meta;
    if (!meta.ParseFromString(sp.blob)) {
      return absl::DataLossError("journal: snapshot metadata does not parse");
    }
    conf = meta.conf_state();
  } else {
    for (uint64_t v : voters) conf.add_voters(v);
  }
  return std::unique_ptr<JournalStorage>(new JournalStorage(*std::move(j), std::move(conf)));
}

absl::StatusOr<raft::RaftState> JournalStorage::InitialState() const {
  raft::RaftState st;
  const HardStateRecord& hs = journal_->hard_state();
  st.hard_state.set_term(hs.term);
  st.hard_state.set_vote(hs.vote);
  st.hard_state.set_commit(hs.commit);
  st.conf_state = conf_;
  return st;
}

absl::StatusOr<std::vector<raft::Entry>> JournalStorage::Entries(uint64_t lo, uint64_t hi,
                                                                 uint64_t max_bytes) const {
  absl::StatusOr<std::vector<LogEntry>> ents = journal_->Read(lo, hi, max_bytes);
  if (!ents.ok()) return ents.status();
  std::vector<raft::Entry> out;
  out.reserve(ents->size());
  for (LogEntry& e : *ents) out.push_back(ToRaft(std::move(e)));
  return out;
}

absl::StatusOr<uint64_t> JournalStorage::Term(uint64_t i) const { return journal_->Term(i); }

absl::StatusOr<raft::SnapshotMetadata> JournalStorage::Snapshot() const {
  raft::SnapshotMetadata meta;
  const SnapshotPoint& sp = journal_->snapshot();
  if (!sp.blob.empty() && !meta.ParseFromString(sp.blob)) {
    return absl::DataLossError("journal: snapshot metadata does not parse");
  }
  meta.set_index(sp.index);
  meta.set_term(sp.term);
  *meta.mutable_conf_state() = conf_;
  return meta;
}

absl::Status JournalStorage::Save(const raft::Ready& rd) {
  if (rd.snapshot) {
    conf_ = rd.snapshot->conf_state();
    absl::Status s = journal_->ResetToSnapshot(
        SnapshotPoint{rd.snapshot->index(), rd.snapshot->term(), rd.snapshot->SerializeAsString()});
    if (!s.ok()) return s;
  }
  if (!rd.entries.empty()) {
    std::vector<LogEntry> ents;
    ents.reserve(rd.entries.size());
    for (const raft::Entry& e : rd.entries) ents.push_back(FromRaft(e));
    absl::Status s = journal_->Append(ents);
    if (!s.ok()) return s;
  }
  if (rd.hard_state) {
    absl::Status s = journal_->SetHardState(
        {rd.hard_state->term(), rd.hard_state->vote(), rd.hard_state->commit()});
    if (!s.ok()) return s;
  }
  if (rd.must_sync) return journal_->Sync();
  return absl::OkStatus();
}

absl::Status JournalStorage::Compact(uint64_t index, std::string app_data) {
  absl::StatusOr<uint64_t> term = journal_->Term(index);
  if (!term.ok()) return term.status();
  raft::SnapshotMetadata meta;
  meta.set_index(index);
  meta.set_term(*term);
  *meta.mutable_conf_state() = conf_;
  meta.set_data(std::move(app_data));
  return journal_->Compact(SnapshotPoint{index, *term, meta.SerializeAsString()});
}

}  // namespace tern::journal
