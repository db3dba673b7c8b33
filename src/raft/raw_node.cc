#include "raft/raw_node.h"

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace tern::raft {

std::string NodeStatus::ToString() const {
  std::string s = absl::StrCat("id=", id, " ", RoleName(role), " term=", term, " vote=", vote,
                               " lead=", lead, " commit=", commit, " applied=", applied, " log=[",
                               first_index, ",", last_index, "]");
  for (const ProgressStatus& p : progress) {
    absl::StrAppend(&s, " {", p.id, ": ", ProgressStateName(p.state), " match=", p.match,
                    " next=", p.next, "}");
  }
  return s;
}

RawNode::RawNode(const Config& config, const Storage* storage) : raft_(config, storage) {
  prev_soft_state_ = raft_.soft_state();
  absl::StatusOr<RaftState> st = storage->InitialState();
  TERN_CHECK_OK(st.status());
  prev_hard_state_ = st->hard_state;
}

void RawNode::Tick() { raft_.Tick(); }

void RawNode::Campaign() {
  Message m;
  m.set_type(MSG_HUP);
  m.set_from(raft_.id());
  TERN_CHECK_OK(raft_.Step(m));
}

absl::Status RawNode::Step(const Message& m) {
  if (IsLocalMessage(m.type())) {
    return absl::InvalidArgumentError(
        absl::StrCat("raft: cannot step local message ", MessageType_Name(m.type())));
  }
  if (raft_.tracker().progress().count(m.from()) == 0 && IsResponseMessage(m.type())) {
    // A response from a member we do not know (removed, or a misrouted message).
    return absl::NotFoundError(absl::StrCat("raft: step from unknown member ", m.from()));
  }
  return raft_.Step(m);
}

absl::StatusOr<EntryId> RawNode::Propose(std::string data) {
  return raft_.Propose(std::move(data));
}

absl::StatusOr<EntryId> RawNode::ProposeConfChange(const ConfChange& cc) {
  return raft_.ProposeConfChange(cc);
}

absl::Status RawNode::TransferLeadership(uint64_t to) {
  if (raft_.role() != StateRole::kLeader) {
    return absl::FailedPreconditionError("raft: not leader, cannot transfer leadership");
  }
  if (raft_.tracker().progress().count(to) == 0) {
    return absl::NotFoundError(absl::StrCat("raft: unknown transferee ", to));
  }
  Message m;
  m.set_type(MSG_TRANSFER_LEADER);
  m.set_from(to);
  return raft_.Step(m);
}

void RawNode::ReportUnreachable(uint64_t id) {
  Message m;
  m.set_type(MSG_UNREACHABLE);
  m.set_from(id);
  TERN_CHECK_OK(raft_.Step(m));
}

void RawNode::ReportSnapshot(uint64_t id, bool ok) {
  Message m;
  m.set_type(MSG_SNAP_STATUS);
  m.set_from(id);
  m.set_reject(!ok);
  TERN_CHECK_OK(raft_.Step(m));
}

bool RawNode::HasReady() const {
  if (ready_outstanding_) return false;
  const Raft& r = raft_;
  if (!(r.soft_state() == prev_soft_state_)) return true;
  HardState hs = r.hard_state();
  if (!IsEmpty(hs) && !(hs == prev_hard_state_)) return true;
  if (r.log().UnstableSnapshot()) return true;
  if (r.log().HasUnstableEntries()) return true;
  if (!const_cast<Raft&>(r).msgs().empty()) return true;
  if (r.log().HasNextCommittedEntries()) return true;
  return false;
}

Ready RawNode::GetReady() {
  TERN_CHECK(!ready_outstanding_, "GetReady called before the previous Ready was advanced");
  Ready rd;
  SoftState ss = raft_.soft_state();
  if (!(ss == prev_soft_state_)) {
    rd.soft_state = ss;
    prev_soft_state_ = ss;
  }
  HardState hs = raft_.hard_state();
  if (!IsEmpty(hs) && !(hs == prev_hard_state_)) rd.hard_state = hs;
  rd.entries = raft_.log().UnstableEntries();
  rd.snapshot = raft_.log().UnstableSnapshot();
  rd.committed_entries = raft_.log().NextCommittedEntries();
  rd.messages = std::move(raft_.msgs());
  raft_.msgs().clear();
  rd.must_sync = !rd.entries.empty() || rd.snapshot.has_value() ||
                 (rd.hard_state && (rd.hard_state->term() != prev_hard_state_.term() ||
                                    rd.hard_state->vote() != prev_hard_state_.vote()));
  ready_outstanding_ = true;
  return rd;
}

void RawNode::Advance(const Ready& rd) {
  TERN_CHECK(ready_outstanding_, "Advance without an outstanding Ready");
  ready_outstanding_ = false;
  if (rd.hard_state) {
    TERN_CHECK(rd.hard_state->commit() >= prev_hard_state_.commit(),
               "persisted commit index regressed from ", prev_hard_state_.commit(), " to ",
               rd.hard_state->commit());
    TERN_CHECK(rd.hard_state->term() >= prev_hard_state_.term(), "persisted term regressed");
    prev_hard_state_ = *rd.hard_state;
  }
  if (rd.snapshot) {
    raft_.log().StableSnapTo(rd.snapshot->index());
    // The application state now is the snapshot.
    raft_.log().SetApplied(rd.snapshot->index());
  }
  if (!rd.entries.empty()) {
    const Entry& last = rd.entries.back();
    raft_.log().StableTo(last.index(), last.term());
  }
  if (!rd.committed_entries.empty()) {
    raft_.log().AppliedTo(rd.committed_entries.back().index());
  }
  if (!rd.entries.empty()) {
    const Entry& last = rd.entries.back();
    raft_.OnPersisted({last.index(), last.term()});
  }
}

NodeStatus RawNode::Status() const {
  NodeStatus s;
  const Raft& r = raft_;
  s.id = r.id();
  s.role = r.role();
  s.term = r.term();
  s.vote = r.vote();
  s.lead = r.lead();
  s.commit = r.log().committed();
  s.applied = r.log().applied();
  s.first_index = r.log().FirstIndex();
  s.last_index = r.log().LastIndex();
  s.lead_transferee = r.lead_transferee();
  s.recovering_from_data_loss = r.recovering();
  s.conf_state = r.conf_state();
  s.last_conf_index = r.last_conf_index();
  if (r.role() == StateRole::kLeader) {
    for (const auto& [id, pr] : r.tracker().progress()) {
      s.progress.push_back({id, pr.match, pr.next, pr.state, pr.pending_snapshot, pr.recent_active,
                            pr.inflights.Count()});
    }
  }
  return s;
}

}  // namespace tern::raft
