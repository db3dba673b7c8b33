#pragma once

// RawNode: the application's handle on one member of a Raft group. A pure state machine in the
// style of etcd-io/raft's RawNode: no threads, sockets, files, clocks or global randomness.
// Time advances only through Tick(); input arrives through Step()/Propose(); every effect comes
// out as a Ready the caller must carry out.
//
// Thread-compatible: one owner (the broker's partition thread, or a test) calls everything.
//
// The Ready contract (the caller's loop):
//
//   if (node.HasReady()) {
//     Ready rd = node.GetReady();
//     1. If rd.snapshot: install the snapshot's data (already received in chunks, see
//        README.md) and record its metadata in storage, replacing the log.
//     2. Append rd.entries to storage (truncating any conflicting suffix first) and write
//        rd.hard_state if set. If rd.must_sync, fsync before going on.
//     3. Only then send rd.messages. (A vote or an acknowledgement must never leave before
//        what it promises is durable.)
//     4. Apply rd.committed_entries to the application state machine, in order.
//     5. node.Advance(rd).
//   }
//
// Exactly one Ready may be outstanding: GetReady() aborts if the previous one was not
// Advance()d. Tick/Step/Propose may be called between GetReady and Advance.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/progress.h"
#include "raft/raft.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace tern::raft {

struct Ready {
  // Set when leader or role changed since the previous Ready. Informational, not persisted.
  std::optional<SoftState> soft_state;
  // Set when term, vote or commit changed: persist it.
  std::optional<HardState> hard_state;
  // Entries to append to stable storage (may overwrite a suffix of what is stored).
  std::vector<Entry> entries;
  // A snapshot received from the leader, to install before the entries.
  std::optional<SnapshotMetadata> snapshot;
  // Committed entries to apply, in index order; persisted by step 2 at the latest.
  std::vector<Entry> committed_entries;
  // Messages to send after persisting. MSG_SNAP means "stream snapshot N to member `to`".
  std::vector<Message> messages;
  // Term, vote or entries changed: the write of step 2 must be fsynced before step 3.
  bool must_sync = false;
};

struct ProgressStatus {
  uint64_t id = 0;
  uint64_t match = 0;
  uint64_t next = 0;
  ProgressState state = ProgressState::kProbe;
  uint64_t pending_snapshot = 0;
  bool recent_active = false;
  size_t inflight = 0;
};

struct NodeStatus {
  uint64_t id = 0;
  StateRole role = StateRole::kFollower;
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t lead = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t lead_transferee = 0;
  bool recovering_from_data_loss = false;
  // The membership in effect (the latest in the log, perhaps not committed yet).
  ConfState conf_state;
  // Index of the latest membership change in the log (0: none after the snapshot).
  uint64_t last_conf_index = 0;
  // Only filled on the leader.
  std::vector<ProgressStatus> progress;
  std::string ToString() const;
};

class RawNode {
 public:
  // `storage` must outlive the node. Aborts on an invalid config or unreadable storage.
  RawNode(const Config& config, const Storage* storage);

  // Advances logical time by one tick (heartbeat and election timers).
  void Tick();
  // Starts an election now (tests, or an operator's "campaign" command).
  void Campaign();
  // Feeds a message received from another member. Local message types are rejected.
  absl::Status Step(const Message& m);
  // Proposes data to be appended to the log. Fails with kFailedPrecondition when this member is
  // not the leader, kUnavailable while a leadership transfer is in progress. On success returns
  // the (index, term) the entry got: it is committed when an entry with that index and term
  // appears in committed_entries (a different term there means it was lost to a new leader).
  absl::StatusOr<EntryId> Propose(std::string data);
  // Proposes a membership change (tern/conf_change.proto: add a learner, promote a learner,
  // remove a member), one member at a time. It takes effect on every member as soon as the
  // entry is in its log, and the leader refuses another change until it is committed. Refused
  // with kFailedPrecondition when this member is not the leader or is itself being removed;
  // kUnavailable (try again shortly) while a leadership transfer runs, before the leader has
  // committed an entry of its own term, or while an earlier change is not committed;
  // kInvalidArgument when the change does not apply to the current membership (adding a member
  // twice, promoting a voter or a non-member, removing a non-member or the last voter).
  // On success returns the entry's id: committed once it shows up in committed_entries with
  // that term (a different term there means a new leader dropped it; membership then reverted).
  // A leader that removed itself hands leadership to the most caught-up voter once the change
  // is committed, and steps down.
  absl::StatusOr<EntryId> ProposeConfChange(const ConfChange& cc);
  // The membership in effect: the latest in the log, committed or not.
  ConfState conf_state() const { return raft_.conf_state(); }
  // The membership as of log index `index` (at or after the last snapshot): what a snapshot
  // taken at applied index `index` must record (Storage::InitialState().conf_state is read as
  // the membership at the storage's snapshot index).
  absl::StatusOr<ConfState> ConfStateAt(uint64_t index) const { return raft_.ConfStateAt(index); }
  // Asks the leader to hand leadership to `to` once `to` has caught up (MSG_TIMEOUT_NOW).
  absl::Status TransferLeadership(uint64_t to);
  // The transport could not deliver to `id`: the leader falls back to probing it.
  void ReportUnreachable(uint64_t id);
  // The snapshot transfer to `id` finished (ok) or failed; replication then resumes.
  void ReportSnapshot(uint64_t id, bool ok);

  bool HasReady() const;
  Ready GetReady();
  void Advance(const Ready& rd);

  NodeStatus Status() const;
  SoftState soft_state() const { return raft_.soft_state(); }
  HardState hard_state() const { return raft_.hard_state(); }

  // Access to the core for tests and invariant checkers; not for applications.
  Raft& raft() { return raft_; }
  const Raft& raft() const { return raft_; }

 private:
  Raft raft_;
  SoftState prev_soft_state_;
  HardState prev_hard_state_;
  bool ready_outstanding_ = false;
};

}  // namespace tern::raft
