#pragma once

// The Raft protocol core. Internal to src/raft: applications use RawNode (raw_node.h), which
// wraps this class and turns its effects into Readies. Single-threaded; owned by RawNode.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/progress.h"
#include "raft/raft_log.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace tern::raft {

class ConfChange;  // tern/conf_change.pb.h, included by raft/conf_change.h

struct Config {
  // This member's id; non-zero.
  uint64_t id = 0;
  // The group's voters, used only when the storage has no membership yet (first start of a
  // new group). Afterwards membership is Storage::InitialState().conf_state (as of the storage's
  // snapshot) followed by the ENTRY_CONF_CHANGE entries of the log (README.md, "Membership").
  std::vector<uint64_t> voters;
  // This member is being added to an existing group: its storage is empty and `voters` must be
  // too. It starts without membership, never campaigns, and learns the membership from the
  // leader's log or snapshot once the leader added it as a learner.
  bool join = false;
  // A follower that hears nothing from a leader for a randomized [election, 2*election) ticks
  // starts an election. Must be greater than heartbeat_ticks (10x is typical).
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  // Ask for pre-votes before bumping the term, so a partitioned member that rejoins does not
  // depose a healthy leader (Raft thesis §9.6).
  bool pre_vote = true;
  // A leader that has not heard from a quorum within an election timeout steps down; followers
  // that heard from a leader within the timeout refuse (pre-)votes (the leader "lease").
  bool check_quorum = true;
  // Maximum bytes of entries per MsgApp (at least one entry is always sent).
  uint64_t max_size_per_msg = 1 << 20;
  // Maximum MsgApp messages in flight per follower in replicate state.
  size_t max_inflight_msgs = 256;
  // Maximum bytes in flight per follower (0 = unlimited).
  uint64_t max_inflight_bytes = 0;
  // Maximum bytes of committed entries handed out in one Ready.
  uint64_t max_committed_size_per_ready = 64 << 20;
  // Seeds the election-timeout randomization; distinct per member in a group.
  uint64_t seed = 0;
  // The last index the application has applied (for example, the index of the snapshot it
  // restored at start). Committed entries after it are returned by Ready.
  uint64_t applied = 0;
  // Set when this member restarts after losing its Raft data (disk replaced or wiped) while the
  // group already existed. The member then neither votes nor campaigns until it has caught up
  // with a leader, because it forgot whom it voted for (see README.md, "Data loss").
  bool recovering_from_data_loss = false;

  absl::Status Validate() const;
};

// A deterministic generator (splitmix64), so a seed reproduces the same election timeouts on
// every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, n).
  uint64_t Uniform(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

class Raft {
 public:
  Raft(const Config& config, const Storage* storage);

  absl::Status Step(const Message& m);
  void Tick();
  // Leader only: appends a normal entry. Returns the entry's id.
  absl::StatusOr<EntryId> Propose(std::string data);
  // Leader only: appends a membership change once that is safe (see RawNode).
  absl::StatusOr<EntryId> ProposeConfChange(const ConfChange& cc);

  // The membership in effect: the latest in the log, committed or not (Raft thesis 4.1).
  ConfState conf_state() const;
  // The membership as of log index `index` (from the snapshot's index to the last index).
  absl::StatusOr<ConfState> ConfStateAt(uint64_t index) const;
  // Index of the latest membership change in the log; 0 when none follows the snapshot.
  uint64_t last_conf_index() const;

  // Called by RawNode::Advance once the application persisted entries up to `last`.
  void OnPersisted(EntryId last);

  uint64_t id() const { return id_; }
  uint64_t term() const { return term_; }
  uint64_t vote() const { return vote_; }
  uint64_t lead() const { return lead_; }
  StateRole role() const { return state_; }
  uint64_t lead_transferee() const { return lead_transferee_; }
  bool recovering() const { return recovering_; }
  SoftState soft_state() const { return {lead_, state_}; }
  HardState hard_state() const;
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  ProgressTracker& tracker() { return trk_; }
  const ProgressTracker& tracker() const { return trk_; }
  std::vector<Message>& msgs() { return msgs_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  // For tests: pins the randomized election timeout.
  void set_randomized_election_timeout(int ticks) { randomized_election_timeout_ = ticks; }
  bool Promotable() const;

  // Exposed for tests that drive a member through the protocol by hand.
  void BecomeFollower(uint64_t term, uint64_t lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  void Send(Message m);
  void SendAppend(uint64_t to) { MaybeSendAppend(to, true); }
  bool MaybeSendAppend(uint64_t to, bool send_if_empty);
  bool MaybeSendSnapshot(uint64_t to, Progress* pr);
  void SendHeartbeat(uint64_t to);
  void SendTimeoutNow(uint64_t to);
  void BcastAppend();
  void BcastHeartbeat();
  bool MaybeCommit();
  void Reset(uint64_t term);
  void ResetProgress();
  bool AppendEntries(std::vector<Entry> entries);
  void TickElection();
  void TickHeartbeat();
  bool PastElectionTimeout() const;
  void ResetRandomizedElectionTimeout();
  void Hup(CampaignType t);
  void Campaign(CampaignType t);
  VoteResult Poll(uint64_t id, MessageType t, bool granted);
  void AbortLeaderTransfer() { lead_transferee_ = kNone; }

  absl::Status StepLeader(const Message& m);
  absl::Status StepCandidate(const Message& m);
  absl::Status StepFollower(const Message& m);
  bool WellFormedAppend(const Message& m) const;
  void SendLostDataReject(uint64_t to, uint64_t rejected_index);
  void HandleAppendEntries(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  bool Restore(const SnapshotMetadata& s);
  void ApplyConfState(const ConfState& cs);
  // Membership as a function of the log: the base (as of the snapshot at `index`) and every
  // conf-change entry after it.
  void SetBaseConf(ConfState cs, uint64_t index);
  // Entries were just written to the log (some may have replaced a conflicting suffix): forget
  // conf changes that are gone, record new ones, and switch the tracker to the latest.
  void TrackConfEntries(const std::vector<Entry>& written);
  void UseLatestConf();
  // A leader that the committed membership no longer lists as a voter hands leadership to the
  // most caught-up voter and steps down.
  void MaybeHandOffLeadership();
  void MaybeFinishRecovery(uint64_t leader_commit);

  uint64_t id_;
  uint64_t term_ = 0;
  uint64_t vote_ = kNone;
  RaftLog log_;
  ProgressTracker trk_;
  StateRole state_ = StateRole::kFollower;
  uint64_t lead_ = kNone;
  uint64_t lead_transferee_ = kNone;
  std::vector<Message> msgs_;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int election_timeout_;
  int heartbeat_timeout_;
  int randomized_election_timeout_ = 0;
  bool check_quorum_;
  bool pre_vote_;
  uint64_t max_msg_size_;
  bool recovering_;
  Rng rng_;

  struct ConfPoint {
    uint64_t term;
    ConfState conf;  // the membership from this entry on
  };
  ConfState base_conf_;
  uint64_t base_conf_index_ = 0;
  std::map<uint64_t, ConfPoint> conf_history_;  // conf-change entries after base_conf_index_
};

}  // namespace tern::raft
