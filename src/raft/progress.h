#pragma once

// The leader's view of each follower: how far its log is known to match (Match), what to send
// next (Next), and the flow-control state that decides whether to send at all:
//
//   Probe      Next is a guess; send one MsgApp, then wait for its answer (or a heartbeat
//              answer) before sending again. Entered on election, on reject, on unreachable.
//   Replicate  the follower is known to follow; send optimistically and move Next ahead
//              without waiting, bounded by a window of in-flight messages (Inflights).
//   Snapshot   the entries the follower needs are compacted away; a snapshot is being
//              streamed and nothing else is sent until ReportSnapshot() or the follower
//              acknowledges an index at or past the snapshot.
//
//       +--------------------------------------------------------+
//       |                  send snapshot                         |
//       |                                                        v
//   +---------+  Match caught up   +-----------+  (reject or       +----------+
//   |  Probe  | -----------------> | Replicate |  unreachable) ->  | Probe    |
//   +---------+                    +-----------+                   +----------+
//        ^  snapshot done / failed                                      |
//        +------------------------------ Snapshot <---------------------+

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raft/quorum.h"
#include "raft/types.h"

namespace tern::raft {

enum class ProgressState { kProbe, kReplicate, kSnapshot };
const char* ProgressStateName(ProgressState state);

// A bounded window of MsgApp messages sent but not yet acknowledged, each remembered by its last
// index and byte size. Freed from the front as acknowledgements arrive.
class Inflights {
 public:
  Inflights(size_t max_count, uint64_t max_bytes) : max_count_(max_count), max_bytes_(max_bytes) {}
  void Add(uint64_t last_index, uint64_t bytes);
  // Frees every message whose last index is <= `index`.
  void FreeLE(uint64_t index);
  bool Full() const;
  size_t Count() const { return items_.size(); }
  void Reset();

 private:
  struct Item {
    uint64_t index;
    uint64_t bytes;
  };
  size_t max_count_;
  uint64_t max_bytes_;  // 0 = unlimited
  uint64_t bytes_ = 0;
  std::deque<Item> items_;
};

struct Progress {
  Progress(uint64_t next_index, size_t max_inflight, uint64_t max_inflight_bytes)
      : next(next_index), inflights(max_inflight, max_inflight_bytes) {}

  uint64_t match = 0;
  uint64_t next = 1;
  ProgressState state = ProgressState::kProbe;
  // Index of the snapshot being sent while in kSnapshot.
  uint64_t pending_snapshot = 0;
  // Heard from this member within the current election timeout (for CheckQuorum).
  bool recent_active = false;
  // In kProbe: a MsgApp is outstanding. In kReplicate: the window is full.
  bool msg_app_flow_paused = false;
  Inflights inflights;

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(uint64_t snapshot_index);
  // A MsgApp carrying entries up to `last_index` (none when entries == 0) was just sent.
  void SentEntries(size_t entries, uint64_t bytes, uint64_t last_index);
  // The follower acknowledged `n`. Returns false when the ack is stale (n <= match).
  bool MaybeUpdate(uint64_t n);
  // The follower rejected MsgApp at `rejected`; `match_hint` is where to probe next (it has
  // nothing beyond, or conflicts after). Returns false for stale rejections.
  bool MaybeDecrTo(uint64_t rejected, uint64_t match_hint);
  bool IsPaused() const;
  std::string ToString() const;
};

// The leader's (and candidates') bookkeeping for the whole group: membership, the Progress of
// every member, and the votes of the current election.
class ProgressTracker {
 public:
  ProgressTracker(size_t max_inflight, uint64_t max_inflight_bytes)
      : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

  // Sets the membership; progress of members that remain is kept, new members start at `next`.
  void SetConfig(JointConfig voters, std::set<uint64_t> learners, uint64_t next);
  const JointConfig& voters() const { return voters_; }
  const std::set<uint64_t>& learners() const { return learners_; }
  bool IsSingleton() const {
    return voters_.outgoing().empty() && voters_.incoming().ids().size() == 1;
  }

  Progress* Get(uint64_t id);
  std::map<uint64_t, Progress>& progress() { return progress_; }
  const std::map<uint64_t, Progress>& progress() const { return progress_; }

  // The highest index replicated on a quorum (by Match).
  uint64_t Committed() const;
  // Whether the members marked recent_active form a quorum.
  bool QuorumActive() const;

  void ResetVotes() { votes_.clear(); }
  void RecordVote(uint64_t id, bool granted) { votes_.emplace(id, granted); }
  struct Tally {
    size_t granted = 0;
    size_t rejected = 0;
    VoteResult result = VoteResult::kPending;
  };
  Tally TallyVotes() const;
  ConfState ToConfState() const;

 private:
  size_t max_inflight_;
  uint64_t max_inflight_bytes_;
  JointConfig voters_;
  std::set<uint64_t> learners_;
  std::map<uint64_t, Progress> progress_;
  std::map<uint64_t, bool> votes_;
};

}  // namespace tern::raft
