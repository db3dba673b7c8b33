#include "raft/raft.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "raft/conf_change.h"

namespace tern::raft {

namespace {
// Marks a vote request sent because of a leadership transfer: it must not be refused because
// of the leader lease (the old leader asked for it).
constexpr char kCampaignTransfer[] = "transfer";
}  // namespace

absl::Status Config::Validate() const {
  if (id == kNone) return absl::InvalidArgumentError("raft: id must not be 0");
  if (heartbeat_ticks <= 0) return absl::InvalidArgumentError("raft: heartbeat_ticks must be > 0");
  if (election_ticks <= heartbeat_ticks) {
    return absl::InvalidArgumentError("raft: election_ticks must be greater than heartbeat_ticks");
  }
  if (max_inflight_msgs == 0) {
    return absl::InvalidArgumentError("raft: max_inflight_msgs must be > 0");
  }
  if (join && !voters.empty()) {
    return absl::InvalidArgumentError(
        "raft: a joining member takes its membership from the leader");
  }
  return absl::OkStatus();
}

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Raft::Raft(const Config& c, const Storage* storage)
    : id_(c.id),
      log_(storage, c.max_committed_size_per_ready),
      trk_(c.max_inflight_msgs, c.max_inflight_bytes),
      election_timeout_(c.election_ticks),
      heartbeat_timeout_(c.heartbeat_ticks),
      check_quorum_(c.check_quorum),
      pre_vote_(c.pre_vote),
      max_msg_size_(c.max_size_per_msg),
      recovering_(c.recovering_from_data_loss),
      rng_(c.seed ^ (c.id * 0x2545f4914f6cdd1dULL)) {
  TERN_CHECK_OK(c.Validate());
  absl::StatusOr<RaftState> st = storage->InitialState();
  TERN_CHECK_OK(st.status());
  ConfState cs = st->conf_state;
  if (cs.voters().empty() && cs.learners().empty() && !c.join) {
    TERN_CHECK(!c.voters.empty(), "raft: no membership in storage and none in the config");
    for (uint64_t v : c.voters) cs.add_voters(v);
  }
  // The storage's membership is the one as of its snapshot; the conf changes in the log after
  // the snapshot apply on top (the log may still hold entries before the snapshot).
  absl::StatusOr<SnapshotMetadata> snap = storage->Snapshot();
  uint64_t base_index = snap.ok() ? snap->index() : log_.FirstIndex() - 1;
  SetBaseConf(cs, base_index);
  for (uint64_t lo = std::max(base_index + 1, log_.FirstIndex()); lo <= log_.LastIndex();) {
    absl::StatusOr<std::vector<Entry>> ents = log_.Slice(lo, log_.LastIndex() + 1, 1 << 20);
    TERN_CHECK_OK(ents.status());
    TrackConfEntries(*ents);
    lo = ents->back().index() + 1;
  }
  UseLatestConf();
  const HardState& hs = st->hard_state;
  if (!IsEmpty(hs)) {
    TERN_CHECK(hs.commit() >= log_.committed() && hs.commit() <= log_.LastIndex(),
               "hard state commit ", hs.commit(), " is out of range [", log_.committed(), ", ",
               log_.LastIndex(), "]");
    term_ = hs.term();
    vote_ = hs.vote();
    log_.CommitTo(hs.commit());
  }
  if (c.applied > log_.committed()) {
    // The application applied entries whose commit index was not yet synced (commit-only hard
    // states need no fsync): they were committed, or they would not have been applied.
    TERN_CHECK(c.applied <= log_.LastIndex(), "applied index ", c.applied,
               " is beyond the last log index ", log_.LastIndex());
    log_.CommitTo(c.applied);
  }
  if (c.applied > 0) log_.SetApplied(c.applied);
  BecomeFollower(term_, kNone);
}

HardState Raft::hard_state() const {
  HardState hs;
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit(log_.committed());
  return hs;
}

bool Raft::Promotable() const {
  if (log_.UnstableSnapshot() || recovering_) return false;
  if (trk_.voters().contains(id_)) return true;
  // Not a voter in the latest membership of our log. If that membership is not known to be
  // committed and we vote in the committed one, we may hold the uncommitted change that removes
  // us, and the most up-to-date log: without us nobody could win an election (the simulator
  // found this, seed 1332). So we campaign, counting only the new membership's votes (not
  // ours); as leader we commit the change, then hand off (MaybeHandOffLeadership). Once the
  // removal is committed we never campaign again.
  if (last_conf_index() <= log_.committed()) return false;
  absl::StatusOr<ConfState> committed = ConfStateAt(log_.committed());
  return committed.ok() && IsVoter(*committed, id_);
}

ConfState Raft::conf_state() const {
  return conf_history_.empty() ? base_conf_ : conf_history_.rbegin()->second.conf;
}

uint64_t Raft::last_conf_index() const {
  return conf_history_.empty() ? 0 : conf_history_.rbegin()->first;
}

absl::StatusOr<ConfState> Raft::ConfStateAt(uint64_t index) const {
  if (index < base_conf_index_) {
    return absl::OutOfRangeError(absl::StrCat("raft: membership at ", index,
                                              " is before the snapshot at ", base_conf_index_));
  }
  auto it = conf_history_.upper_bound(index);
  if (it == conf_history_.begin()) return base_conf_;
  return std::prev(it)->second.conf;
}

void Raft::SetBaseConf(ConfState cs, uint64_t index) {
  base_conf_ = std::move(cs);
  base_conf_index_ = index;
  conf_history_.clear();
}

void Raft::TrackConfEntries(const std::vector<Entry>& written) {
  if (written.empty()) return;
  // Conf changes replaced by a conflicting suffix no longer count: membership follows the log.
  for (auto it = conf_history_.lower_bound(written.front().index()); it != conf_history_.end();) {
    it = log_.MatchTerm(it->first, it->second.term) ? std::next(it) : conf_history_.erase(it);
  }
  for (const Entry& e : written) {
    if (e.type() != ENTRY_CONF_CHANGE || e.index() <= base_conf_index_) continue;
    if (conf_history_.count(e.index()) || !log_.MatchTerm(e.index(), e.term())) continue;
    absl::StatusOr<ConfState> before = ConfStateAt(e.index() - 1);
    TERN_CHECK_OK(before.status());
    conf_history_[e.index()] = ConfPoint{e.term(), ConfStateAfter(*before, e)};
  }
}

void Raft::UseLatestConf() { ApplyConfState(conf_state()); }

void Raft::MaybeHandOffLeadership() {
  if (state_ != StateRole::kLeader || trk_.voters().contains(id_)) return;
  // Until the change that removed us is committed we keep replicating it (thesis 4.2.2).
  if (last_conf_index() > log_.committed() || lead_transferee_ != kNone) return;
  uint64_t best = kNone;
  uint64_t best_match = 0;
  for (uint64_t id : trk_.voters().Ids()) {
    const Progress* pr = trk_.Get(id);
    if (pr != nullptr && (best == kNone || pr->match > best_match)) {
      best = id;
      best_match = pr->match;
    }
  }
  if (best == kNone) return;
  // As a leadership transfer: the target is brought up to date, then told to campaign at once.
  election_elapsed_ = 0;
  lead_transferee_ = best;
  if (best_match == log_.LastIndex()) {
    SendTimeoutNow(best);
    // Nothing is left for us to do in the group; stepping down now also ends our term's
    // heartbeats, which nobody answers any longer with a higher term (we are in no one's
    // membership).
    BecomeFollower(term_, kNone);
  } else {
    SendAppend(best);
  }
}

void Raft::ApplyConfState(const ConfState& cs) {
  std::set<uint64_t> incoming(cs.voters().begin(), cs.voters().end());
  std::set<uint64_t> outgoing(cs.voters_outgoing().begin(), cs.voters_outgoing().end());
  std::set<uint64_t> learners(cs.learners().begin(), cs.learners().end());
  trk_.SetConfig(JointConfig(MajorityConfig(incoming), MajorityConfig(outgoing)), learners,
                 log_.LastIndex() + 1);
}

void Raft::Send(Message m) {
  if (m.from() == kNone) m.set_from(id_);
  MessageType t = m.type();
  if (t == MSG_VOTE || t == MSG_VOTE_RESP || t == MSG_PRE_VOTE || t == MSG_PRE_VOTE_RESP) {
    // Vote messages carry the term of the election they are about (for pre-votes, the future
    // term), never the sender's current term.
    TERN_CHECK(m.term() != 0, "term should be set when sending ", MessageType_Name(t));
  } else {
    TERN_CHECK(m.term() == 0, "term should not be set when sending ", MessageType_Name(t));
    // Proposals are local and carry no term.
    if (t != MSG_PROP) m.set_term(term_);
  }
  msgs_.push_back(std::move(m));
}

bool Raft::MaybeSendAppend(uint64_t to, bool send_if_empty) {
  Progress* pr = trk_.Get(to);
  if (pr == nullptr || pr->IsPaused()) return false;
  uint64_t prev_index = pr->next - 1;
  absl::StatusOr<uint64_t> prev_term = log_.Term(prev_index);
  absl::StatusOr<std::vector<Entry>> ents = std::vector<Entry>();
  if (prev_term.ok()) ents = log_.Entries(pr->next, max_msg_size_);
  if (!prev_term.ok() || !ents.ok()) {
    // What the follower needs has been compacted: send the snapshot instead.
    return MaybeSendSnapshot(to, pr);
  }
  if (ents->empty() && !send_if_empty) return false;
  Message m;
  m.set_to(to);
  m.set_type(MSG_APP);
  m.set_index(prev_index);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  uint64_t bytes = 0;
  uint64_t last = prev_index;
  for (Entry& e : *ents) {
    bytes += EntrySize(e);
    last = e.index();
    *m.add_entries() = std::move(e);
  }
  pr->SentEntries(m.entries_size(), bytes, last);
  Send(std::move(m));
  return true;
}

bool Raft::MaybeSendSnapshot(uint64_t to, Progress* pr) {
  // An inactive follower would only waste a transfer; wait until it answers heartbeats.
  if (!pr->recent_active) return false;
  absl::StatusOr<SnapshotMetadata> snap = log_.Snapshot();
  if (!snap.ok()) {
    TERN_CHECK(snap.status().code() == absl::StatusCode::kUnavailable,
               "failed to read the snapshot: ", snap.status().ToString());
    return false;
  }
  TERN_CHECK(snap->index() != 0, "need a non-empty snapshot for member ", to);
  pr->BecomeSnapshot(snap->index());
  Message m;
  m.set_to(to);
  m.set_type(MSG_SNAP);
  *m.mutable_snapshot() = *std::move(snap);
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(uint64_t to) {
  // Never tell a follower to commit beyond what it is known to have: it may not have it, and
  // it must be able to treat "commit beyond my log" as corruption.
  Progress* pr = trk_.Get(to);
  Message m;
  m.set_to(to);
  m.set_type(MSG_HEARTBEAT);
  m.set_commit(std::min(pr->match, log_.committed()));
  Send(std::move(m));
}

void Raft::SendTimeoutNow(uint64_t to) {
  Message m;
  m.set_to(to);
  m.set_type(MSG_TIMEOUT_NOW);
  Send(std::move(m));
}

void Raft::BcastAppend() {
  for (auto& [id, pr] : trk_.progress()) {
    if (id != id_) SendAppend(id);
  }
}

void Raft::BcastHeartbeat() {
  for (auto& [id, pr] : trk_.progress()) {
    if (id != id_) SendHeartbeat(id);
  }
}

bool Raft::MaybeCommit() { return log_.MaybeCommit(trk_.Committed(), term_); }

void Raft::Reset(uint64_t term) {
  if (term_ != term) {
    TERN_CHECK(term > term_, "term regression from ", term_, " to ", term);
    term_ = term;
    vote_ = kNone;
  }
  lead_ = kNone;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  trk_.ResetVotes();
  ResetProgress();
  if (Progress* self = trk_.Get(id_)) {
    // Only what is on our disk counts as acknowledged by us.
    self->match = log_.PersistedLastIndex();
  }
}

void Raft::ResetProgress() {
  JointConfig voters = trk_.voters();
  std::set<uint64_t> learners = trk_.learners();
  trk_.progress().clear();
  trk_.SetConfig(std::move(voters), std::move(learners), log_.LastIndex() + 1);
}

bool Raft::AppendEntries(std::vector<Entry> entries) {
  uint64_t li = log_.LastIndex();
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].set_term(term_);
    entries[i].set_index(li + 1 + i);
  }
  log_.Append(entries);
  // The leader acknowledges its own entries only once they are persisted (OnPersisted), so a
  // single-member group cannot report an entry committed before it is on disk.
  return true;
}

void Raft::OnPersisted(EntryId last) {
  if (state_ != StateRole::kLeader) return;
  // Entries replaced after the Ready was taken are not ours to acknowledge.
  if (log_.ZeroTermOnOutOfBounds(last.index) != last.term) return;
  Progress* self = trk_.Get(id_);
  if (self == nullptr) return;
  if (self->MaybeUpdate(last.index) && MaybeCommit()) BcastAppend();
}

void Raft::TickElection() {
  election_elapsed_++;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    Message m;
    m.set_from(id_);
    m.set_type(MSG_HUP);
    TERN_CHECK_OK(Step(m));
  }
}

void Raft::TickHeartbeat() {
  heartbeat_elapsed_++;
  election_elapsed_++;
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      Message m;
      m.set_from(id_);
      m.set_type(MSG_CHECK_QUORUM);
      TERN_CHECK_OK(Step(m));
    }
    // A transfer that did not finish within an election timeout is abandoned.
    if (state_ == StateRole::kLeader && lead_transferee_ != kNone) AbortLeaderTransfer();
  }
  // A removed leader whose hand-off was abandoned tries again (perhaps with another voter).
  MaybeHandOffLeadership();
  if (state_ != StateRole::kLeader) return;
  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    Message m;
    m.set_from(id_);
    m.set_type(MSG_BEAT);
    TERN_CHECK_OK(Step(m));
  }
}

void Raft::Tick() {
  if (state_ == StateRole::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

bool Raft::PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      election_timeout_ + static_cast<int>(rng_.Uniform(static_cast<uint64_t>(election_timeout_)));
}

void Raft::BecomeFollower(uint64_t term, uint64_t lead) {
  Reset(term);
  lead_ = lead;
  state_ = StateRole::kFollower;
}

void Raft::BecomeCandidate() {
  TERN_CHECK(state_ != StateRole::kLeader, "invalid transition [leader -> candidate]");
  Reset(term_ + 1);
  vote_ = id_;
  state_ = StateRole::kCandidate;
}

void Raft::BecomePreCandidate() {
  TERN_CHECK(state_ != StateRole::kLeader, "invalid transition [leader -> pre-candidate]");
  // Neither the term nor the vote changes: a pre-election must leave no trace if it fails.
  trk_.ResetVotes();
  lead_ = kNone;
  state_ = StateRole::kPreCandidate;
}

void Raft::BecomeLeader() {
  TERN_CHECK(state_ != StateRole::kFollower, "invalid transition [follower -> leader]");
  Reset(term_);
  lead_ = id_;
  state_ = StateRole::kLeader;
  // We know our own log; replicate optimistically to ourselves. (A leader elected while the
  // change that removes it is uncommitted is not in the membership and tracks only the others.)
  if (Progress* self = trk_.Get(id_)) {
    self->BecomeReplicate();
    self->recent_active = true;
    self->next = log_.LastIndex() + 1;
  }
  // An empty entry of the new term lets the leader commit entries of earlier terms (§5.4.2).
  Entry empty;
  empty.set_type(ENTRY_EMPTY);
  AppendEntries({empty});
}

void Raft::Hup(CampaignType t) {
  if (state_ == StateRole::kLeader) return;
  if (!Promotable()) return;
  Campaign(t);
}

void Raft::Campaign(CampaignType t) {
  uint64_t term;
  MessageType vote_msg;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = MSG_PRE_VOTE;
    term = term_ + 1;  // The term we would campaign for.
  } else {
    BecomeCandidate();
    vote_msg = MSG_VOTE;
    term = term_;
  }
  // Our own vote is recorded by the state change; it reaches the disk with this Ready.
  if (Poll(id_, VoteResponseType(vote_msg), true) == VoteResult::kWon) {
    // A single-member group wins at once.
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  std::set<uint64_t> ids = trk_.voters().Ids();
  for (uint64_t id : ids) {
    if (id == id_) continue;
    Message m;
    m.set_to(id);
    m.set_term(term);
    m.set_type(vote_msg);
    m.set_index(log_.LastIndex());
    m.set_log_term(log_.LastTerm());
    if (t == CampaignType::kTransfer) m.set_context(kCampaignTransfer);
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(uint64_t id, MessageType, bool granted) {
  trk_.RecordVote(id, granted);
  return trk_.TallyVotes().result;
}

absl::Status Raft::Step(const Message& m) {
  if (m.term() == 0) {
    // Local message.
  } else if (m.term() > term_) {
    if (m.type() == MSG_VOTE || m.type() == MSG_PRE_VOTE) {
      bool force = m.context() == kCampaignTransfer;
      bool in_lease = check_quorum_ && lead_ != kNone && election_elapsed_ < election_timeout_;
      if (!force && in_lease) {
        // We heard from a leader within the election timeout: do not let a disruptive
        // member depose it (and do not even bump our term).
        return absl::OkStatus();
      }
    }
    if (m.type() == MSG_PRE_VOTE) {
      // A pre-vote never changes our term.
    } else if (m.type() == MSG_PRE_VOTE_RESP && !m.reject()) {
      // The future term of our own pre-election; we bump it when we win.
    } else if (m.type() == MSG_APP || m.type() == MSG_HEARTBEAT || m.type() == MSG_SNAP) {
      BecomeFollower(m.term(), m.from());
    } else {
      BecomeFollower(m.term(), kNone);
    }
  } else if (m.term() < term_) {
    if ((check_quorum_ || pre_vote_) && (m.type() == MSG_HEARTBEAT || m.type() == MSG_APP)) {
      // A stale leader, perhaps cut off by a partition, would never learn our term otherwise:
      // with pre-vote/check-quorum we do not disrupt it by campaigning. Answer so it steps down.
      Message r;
      r.set_to(m.from());
      r.set_type(MSG_APP_RESP);
      Send(std::move(r));
    } else if (m.type() == MSG_PRE_VOTE) {
      Message r;
      r.set_to(m.from());
      r.set_term(term_);
      r.set_type(MSG_PRE_VOTE_RESP);
      r.set_reject(true);
      Send(std::move(r));
    }
    // Other stale messages are ignored.
    return absl::OkStatus();
  }

  switch (m.type()) {
    case MSG_HUP:
      Hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      return absl::OkStatus();
    case MSG_VOTE:
    case MSG_PRE_VOTE: {
      // We can vote if this is a repeat of a vote we cast, or we have not voted and know of no
      // leader in this term, or it is a pre-vote for a future term.
      bool can_vote = vote_ == m.from() || (vote_ == kNone && lead_ == kNone) ||
                      (m.type() == MSG_PRE_VOTE && m.term() > term_);
      Message r;
      r.set_to(m.from());
      r.set_type(VoteResponseType(m.type()));
      if (can_vote && !recovering_ && log_.IsUpToDate(m.index(), m.log_term())) {
        // The response carries the request's term: a pre-candidate is not at that term yet
        // and would otherwise drop our answer.
        r.set_term(m.term());
        Send(std::move(r));
        if (m.type() == MSG_VOTE) {
          TERN_CHECK(vote_ == kNone || vote_ == m.from(), "member ", id_,
                     " would vote twice in term ", term_, ": for ", vote_, " and ", m.from());
          election_elapsed_ = 0;
          vote_ = m.from();
        }
      } else if (term_ != 0) {
        r.set_term(term_);
        r.set_reject(true);
        Send(std::move(r));
      }
      // At term 0 (an empty or wiped member) a rejection would look like a local message;
      // staying silent rejects just as well.
      return absl::OkStatus();
    }
    default:
      break;
  }
  switch (state_) {
    case StateRole::kLeader:
      return StepLeader(m);
    case StateRole::kCandidate:
    case StateRole::kPreCandidate:
      return StepCandidate(m);
    case StateRole::kFollower:
      return StepFollower(m);
  }
  return absl::OkStatus();
}

absl::Status Raft::StepLeader(const Message& m) {
  switch (m.type()) {
    case MSG_BEAT:
      BcastHeartbeat();
      return absl::OkStatus();
    case MSG_CHECK_QUORUM:
      if (!trk_.QuorumActive()) {
        // Cut off from a majority: step down so clients go elsewhere (thesis §6.2).
        BecomeFollower(term_, kNone);
        return absl::OkStatus();
      }
      for (auto& [id, pr] : trk_.progress()) {
        if (id != id_) pr.recent_active = false;
      }
      return absl::OkStatus();
    case MSG_PROP: {
      if (m.entries().empty()) return absl::InvalidArgumentError("raft: empty proposal");
      for (const Entry& entry : m.entries()) {
        // A membership change appended here would skip its checks (one at a time, an entry of
        // this term committed first) and the leader's own tracking of pending changes.
        if (entry.type() == ENTRY_CONF_CHANGE) {
          return absl::InvalidArgumentError(
              "raft: membership changes are proposed with ProposeConfChange");
        }
      }
      if (trk_.Get(id_) == nullptr) {
        return absl::FailedPreconditionError("raft: leader is not a member of the group");
      }
      if (lead_transferee_ != kNone) {
        return absl::UnavailableError(absl::StrCat(
            "raft: proposal dropped, leadership transfer to ", lead_transferee_, " in progress"));
      }
      AppendEntries(std::vector<Entry>(m.entries().begin(), m.entries().end()));
      BcastAppend();
      return absl::OkStatus();
    }
    default:
      break;
  }

  Progress* pr = trk_.Get(m.from());
  if (pr == nullptr) return absl::OkStatus();
  switch (m.type()) {
    case MSG_APP_RESP: {
      pr->recent_active = true;
      // An acknowledgement of entries we never had is from a confused peer: matching it would
      // make us send from beyond our log.
      if (!m.reject() && m.index() > log_.LastIndex()) return absl::OkStatus();
      // A rejection of an index above the member's match whose hint (where its log ends or
      // first differs) is below that match means the member no longer holds entries it
      // acknowledged: it lost data without knowing (a follower's log never shrinks below what
      // it acknowledged otherwise). Start over with it from what it has now.
      bool lost_acknowledged = m.reject() && m.index() > pr->match && m.reject_hint() < pr->match;
      if (m.reject()) {
        if (m.lost_data() || lost_acknowledged) {
          // The member restarted without its data: what we believed it had is gone. Reset
          // and probe from what it has now. (Our commit index does not move back.)
          pr->match = 0;
          pr->BecomeProbe();
          pr->next = std::min(m.reject_hint(), log_.LastIndex()) + 1;
          SendAppend(m.from());
          return absl::OkStatus();
        }
        // Fast backtracking: the follower told us the (index, term) of its last entry at or
        // below the rejected index; skip every entry of ours whose term is above that term.
        uint64_t next_probe = m.reject_hint();
        if (m.log_term() > 0) {
          next_probe = log_.FindConflictByTerm(m.reject_hint(), m.log_term()).index;
        }
        if (pr->MaybeDecrTo(m.index(), next_probe)) {
          if (pr->state == ProgressState::kReplicate) pr->BecomeProbe();
          SendAppend(m.from());
        }
        return absl::OkStatus();
      }
      bool old_paused = pr->IsPaused();
      if (!pr->MaybeUpdate(m.index())) return absl::OkStatus();
      switch (pr->state) {
        case ProgressState::kProbe:
          pr->BecomeReplicate();
          break;
        case ProgressState::kSnapshot:
          // The follower is past the snapshot (it applied it, or caught up otherwise).
          if (pr->match + 1 >= log_.FirstIndex()) {
            pr->BecomeProbe();
            pr->BecomeReplicate();
          }
          break;
        case ProgressState::kReplicate:
          pr->inflights.FreeLE(m.index());
          break;
      }
      if (MaybeCommit()) {
        BcastAppend();
      } else if (old_paused) {
        SendAppend(m.from());
      }
      // Fill the window while there is more to send.
      while (MaybeSendAppend(m.from(), false)) {
      }
      if (m.from() == lead_transferee_ && pr->match == log_.LastIndex()) {
        SendTimeoutNow(m.from());
        // A removed leader hands off for good (MaybeHandOffLeadership).
        if (!trk_.voters().contains(id_)) {
          BecomeFollower(term_, kNone);
          return absl::OkStatus();
        }
      }
      MaybeHandOffLeadership();
      return absl::OkStatus();
    }
    case MSG_HEARTBEAT_RESP:
      pr->recent_active = true;
      pr->msg_app_flow_paused = false;
      // A window stuck full (messages lost) frees one slot per heartbeat round so that
      // replication resumes and finds the gap.
      if (pr->state == ProgressState::kReplicate && pr->inflights.Full()) {
        pr->inflights.Reset();
      }
      if (pr->match < log_.LastIndex()) SendAppend(m.from());
      return absl::OkStatus();
    case MSG_SNAP_STATUS:
      if (pr->state != ProgressState::kSnapshot) return absl::OkStatus();
      if (m.reject()) pr->pending_snapshot = 0;
      pr->BecomeProbe();
      // Wait for a heartbeat answer before probing, so a failing transfer is not retried in a
      // tight loop.
      pr->msg_app_flow_paused = true;
      return absl::OkStatus();
    case MSG_UNREACHABLE:
      if (pr->state == ProgressState::kReplicate) pr->BecomeProbe();
      return absl::OkStatus();
    case MSG_TRANSFER_LEADER: {
      uint64_t transferee = m.from();
      if (trk_.learners().count(transferee)) {
        return absl::InvalidArgumentError("raft: cannot transfer leadership to a learner");
      }
      if (lead_transferee_ != kNone) {
        if (lead_transferee_ == transferee) return absl::OkStatus();  // already in progress
        AbortLeaderTransfer();
      }
      if (transferee == id_) return absl::OkStatus();  // already leader
      // The transfer must finish within an election timeout (TickHeartbeat aborts it).
      election_elapsed_ = 0;
      lead_transferee_ = transferee;
      if (pr->match == log_.LastIndex()) {
        SendTimeoutNow(transferee);
      } else {
        SendAppend(transferee);
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status Raft::StepCandidate(const Message& m) {
  MessageType my_resp = state_ == StateRole::kPreCandidate ? MSG_PRE_VOTE_RESP : MSG_VOTE_RESP;
  switch (m.type()) {
    case MSG_PROP:
      return absl::FailedPreconditionError("raft: not leader (election in progress)");
    case MSG_APP:
      BecomeFollower(m.term(), m.from());
      HandleAppendEntries(m);
      return absl::OkStatus();
    case MSG_HEARTBEAT:
      BecomeFollower(m.term(), m.from());
      HandleHeartbeat(m);
      return absl::OkStatus();
    case MSG_SNAP:
      BecomeFollower(m.term(), m.from());
      HandleSnapshot(m);
      return absl::OkStatus();
    case MSG_TIMEOUT_NOW:
      return absl::OkStatus();
    default:
      break;
  }
  if (m.type() == my_resp) {
    VoteResult res = Poll(m.from(), m.type(), !m.reject());
    if (res == VoteResult::kWon) {
      if (state_ == StateRole::kPreCandidate) {
        Campaign(CampaignType::kElection);
      } else {
        BecomeLeader();
        BcastAppend();
      }
    } else if (res == VoteResult::kLost) {
      // A pre-candidate that lost stays in its term; a candidate keeps its term and vote.
      BecomeFollower(term_, kNone);
    }
  }
  return absl::OkStatus();
}

absl::Status Raft::StepFollower(const Message& m) {
  switch (m.type()) {
    case MSG_PROP:
      // Tern does not forward proposals: the broker routes commands to the leader it knows.
      return absl::FailedPreconditionError(
          absl::StrCat("raft: not leader (leader is ", lead_, ")"));
    case MSG_APP:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleAppendEntries(m);
      return absl::OkStatus();
    case MSG_HEARTBEAT:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleHeartbeat(m);
      return absl::OkStatus();
    case MSG_SNAP:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleSnapshot(m);
      return absl::OkStatus();
    case MSG_TRANSFER_LEADER:
      return absl::FailedPreconditionError("raft: not leader, cannot transfer leadership");
    case MSG_TIMEOUT_NOW:
      // The leader asked us to take over: campaign at once, skipping the pre-vote (the leader
      // itself asked for this, so the lease must not stop it).
      Hup(CampaignType::kTransfer);
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

bool Raft::WellFormedAppend(const Message& m) const {
  // Entries must follow the message's (index, log_term) without gaps and with non-decreasing
  // terms; anything else is a peer bug or a damaged message, never something to apply.
  uint64_t want_index = m.index() + 1;
  uint64_t min_term = m.log_term();
  for (const Entry& e : m.entries()) {
    if (e.index() != want_index || e.term() < min_term || e.term() > m.term()) return false;
    ++want_index;
    min_term = e.term();
  }
  return m.index() == 0 || m.log_term() != 0;
}

void Raft::SendLostDataReject(uint64_t to, uint64_t rejected_index) {
  Message r;
  r.set_to(to);
  r.set_type(MSG_APP_RESP);
  r.set_index(rejected_index);
  r.set_reject(true);
  r.set_reject_hint(log_.LastIndex());
  r.set_log_term(0);
  r.set_lost_data(true);
  Send(std::move(r));
}

void Raft::HandleAppendEntries(const Message& m) {
  if (!WellFormedAppend(m)) return;
  Message r;
  r.set_to(m.from());
  r.set_type(MSG_APP_RESP);
  if (recovering_ && m.index() > log_.LastIndex()) {
    // We lost our data: tell the leader to forget what it thinks we have.
    SendLostDataReject(m.from(), m.index());
    return;
  }
  if (m.index() < log_.committed()) {
    r.set_index(log_.committed());
    Send(std::move(r));
    return;
  }
  std::vector<Entry> ents(m.entries().begin(), m.entries().end());
  if (std::optional<uint64_t> last = log_.MaybeAppend(m.index(), m.log_term(), m.commit(), ents)) {
    if (!ents.empty()) {
      // Membership takes effect when appended, and reverts if a new leader replaces the entry.
      TrackConfEntries(ents);
      UseLatestConf();
    }
    r.set_index(*last);
    Send(std::move(r));
    MaybeFinishRecovery(m.commit());
    return;
  }
  // Reject, with a hint that lets the leader skip a whole term of conflicting entries.
  uint64_t hint_index = std::min(m.index(), log_.LastIndex());
  EntryId hint = log_.FindConflictByTerm(hint_index, m.log_term());
  r.set_index(m.index());
  r.set_reject(true);
  r.set_reject_hint(hint.index);
  r.set_log_term(hint.term);
  Send(std::move(r));
}

void Raft::HandleHeartbeat(const Message& m) {
  // A heartbeat's commit is min(our match, the leader's commit): the leader asks us to commit
  // only what we acknowledged in its term. If that is beyond our log, we lost entries we had
  // acknowledged (a wiped or replaced disk, a corrupt partition rebuilt empty, a lying fsync).
  // That is not for us to abort on: we treat it as data loss, so we stop voting until we are
  // caught up, and tell the leader to forget what it believes we have.
  if (m.commit() > log_.LastIndex()) recovering_ = true;
  // While recovering from data loss the leader may still believe we have entries we lost;
  // only the MsgApp path (which checks log matching) may move our commit index then.
  if (!recovering_) {
    log_.CommitTo(m.commit());
  } else if (m.commit() > log_.LastIndex()) {
    SendLostDataReject(m.from(), m.commit());
  }
  Message r;
  r.set_to(m.from());
  r.set_type(MSG_HEARTBEAT_RESP);
  r.set_context(m.context());
  Send(std::move(r));
}

void Raft::HandleSnapshot(const Message& m) {
  Message r;
  r.set_to(m.from());
  r.set_type(MSG_APP_RESP);
  if (Restore(m.snapshot())) {
    r.set_index(log_.LastIndex());
  } else {
    r.set_index(log_.committed());
  }
  Send(std::move(r));
}

bool Raft::Restore(const SnapshotMetadata& s) {
  if (s.index() <= log_.committed()) return false;
  TERN_CHECK(state_ == StateRole::kFollower, "non-follower restoring a snapshot");
  // A snapshot that leaves a voter out of the group would strand it; ignore it. A member that
  // does not vote (a learner, or one joining with no membership yet) takes a snapshot from
  // before it was added: the leader sends it only because its log, after the snapshot, holds
  // the change that added us.
  if (!IsMember(s.conf_state(), id_) && trk_.voters().contains(id_)) return false;
  if (log_.MatchTerm(s.index(), s.term())) {
    // We already have the snapshot's last entry: just fast-forward the commit index.
    log_.CommitTo(s.index());
    return false;
  }
  log_.Restore(s);
  SetBaseConf(s.conf_state(), s.index());
  UseLatestConf();
  ResetProgress();
  return true;
}

void Raft::MaybeFinishRecovery(uint64_t leader_commit) {
  if (!recovering_ || log_.LastIndex() < leader_commit || leader_commit == 0) return;
  // The leader's commit index may lag entries that an earlier leader committed (with our lost
  // copy among the majority). Only once an entry of the leader's own term is committed, and we
  // hold it, do we hold everything committed before this term (leader completeness).
  if (log_.ZeroTermOnOutOfBounds(log_.committed()) != term_) return;
  // Caught up with a leader of this term: record that leader as our vote in this term (it won
  // already, so this adds nothing to any election) so we cannot vote for anyone else in it,
  // then vote normally again in later terms.
  if (vote_ == kNone) vote_ = lead_;
  recovering_ = false;
}

absl::StatusOr<EntryId> Raft::Propose(std::string data) {
  if (state_ != StateRole::kLeader) {
    return absl::FailedPreconditionError(absl::StrCat("raft: not leader (leader is ", lead_, ")"));
  }
  Message m;
  m.set_type(MSG_PROP);
  m.set_from(id_);
  Entry* e = m.add_entries();
  e->set_type(ENTRY_NORMAL);
  e->set_data(std::move(data));
  absl::Status s = Step(m);
  if (!s.ok()) return s;
  return EntryId{log_.LastIndex(), term_};
}

absl::StatusOr<EntryId> Raft::ProposeConfChange(const ConfChange& cc) {
  if (state_ != StateRole::kLeader) {
    return absl::FailedPreconditionError(absl::StrCat("raft: not leader (leader is ", lead_, ")"));
  }
  if (!trk_.voters().contains(id_)) {
    return absl::FailedPreconditionError("raft: this leader is being removed from the group");
  }
  if (lead_transferee_ != kNone) {
    return absl::UnavailableError(
        absl::StrCat("raft: membership change refused, leadership transfer to ", lead_transferee_,
                     " in progress"));
  }
  // Ongaro's fix for single-server changes (raft-dev, 2015): a new leader first commits an
  // entry of its own term, so a change appended by a leader of an earlier term that was never
  // committed cannot combine with ours into two disjoint majorities.
  if (log_.ZeroTermOnOutOfBounds(log_.committed()) != term_) {
    return absl::UnavailableError(
        "raft: membership change refused, the leader has not committed an entry of its term yet");
  }
  if (last_conf_index() > log_.committed()) {
    return absl::UnavailableError(absl::StrCat("raft: membership change refused, the change at ",
                                               last_conf_index(), " is not committed yet"));
  }
  absl::StatusOr<ConfState> next = ApplyConfChange(conf_state(), cc);
  if (!next.ok()) return next.status();
  Entry e = MakeConfChangeEntry(cc, *next);
  AppendEntries({e});
  e.set_index(log_.LastIndex());
  e.set_term(term_);
  TrackConfEntries({e});
  UseLatestConf();
  BcastAppend();
  return EntryId{e.index(), e.term()};
}

}  // namespace tern::raft
