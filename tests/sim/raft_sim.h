#pragma once

// A seeded, deterministic simulation of one Raft group (3 or 5 members) in one process, with
// manual ticks: simulated network (sim_network.h), simulated disks with an fsync watermark
// (sim_storage.h), crashes that lose unsynced writes, restarts with total data loss,
// partitions, snapshots and compaction, leadership transfers. A SafetyChecker verifies the
// Raft safety properties after every step; a liveness phase then turns faults off and requires
// everything to commit within a bounded number of ticks.
//
// Single-threaded. The harness pieces (SimRng, SimNetwork, SimRaftStorage) are reusable by a
// broker-level simulation that runs the engine on top of the same nodes.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raft/raw_node.h"
#include "sim_disk.h"
#include "sim_network.h"
#include "sim_rng.h"

namespace tern::sim {

// Randomized per seed ("swarm testing"): each run gets its own mix of fault rates.
struct SimOptions {
  int members = 3;
  int fault_ticks = 1500;
  int liveness_ticks = 1500;
  NetworkFaults net;
  double crash_per_tick = 0.004;
  // Extra crash rate for the current leader (MIT 6.824 TestFigure8: leaders die young).
  double leader_crash_per_tick = 0;
  double crash_after_persist = 0.01;  // crash between persisting a Ready and sending it
  // A leader crashes after sending its appends and heartbeats, before writing the Ready.
  double crash_before_persist = 0.005;
  double restart_per_tick = 0.05;
  double data_loss_fraction = 0.1;  // of crashes
  // Whether a member restarted after total data loss is told so (the "recovering" marker of
  // plan R12). A broker whose disk was replaced cannot know, so this is off for half the seeds:
  // the member starts empty with its old id and must find out from its peers.
  bool data_loss_marker = true;
  double partition_per_tick = 0.005;
  double heal_per_tick = 0.03;
  double propose_per_tick = 0.4;
  double snapshot_per_tick = 0.02;
  double transfer_per_tick = 0.003;
  bool pre_vote = true;
  bool check_quorum = true;
  // Raft timing in ticks. With the network's delay in ticks this sets how many round trips
  // fit into an election timeout (the broker: 50 ms ticks, heartbeat 2, election 20).
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  uint64_t max_size_per_msg = 4096;
  size_t max_inflight_msgs = 8;
  // The member's disk is the real journal on a fault-injecting MemFileSystem (else a
  // MemoryStorage with an fsync watermark).
  bool journal_disk = false;
  // Chance per tick that the operator asks the leader for the next membership change: add a
  // learner (a new member id, started empty), promote a learner, remove a voter (the leader
  // too) or a learner, at random, keeping at least 3 voters and at most 7 members. Removed
  // members are stopped once their removal is committed. 0: membership never changes.
  double membership_per_tick = 0;

  static SimOptions Random(uint64_t seed);
  std::string ToString() const;
};

// The application state machine of the simulation: a hash chain over applied entries.
struct AppState {
  uint64_t applied = 0;
  uint64_t hash = 0;
  std::string Encode() const;
  static AppState Decode(const std::string& s);
  void Apply(const raft::Entry& e);
};

// Records what every member did and fails on the first violation of:
//  - election safety: at most one leader per term;
//  - at most one vote per member per term (a member recovering from data loss may in addition
//    record the term's known leader, see src/raft/README.md);
//  - log matching: one (index, term) names one entry everywhere, ever;
//  - state machine safety: every member's state after applying index i equals every other's;
//  - leader completeness / no acknowledged loss: every committed entry is in every later
//    leader's log;
//  - commit never regresses within a member's life.
class SafetyChecker {
 public:
  void OnLeader(uint64_t id, uint64_t term);
  // `data_epoch` counts the member's total data losses: a vote that contradicts one cast before
  // the member lost its data is the documented residual risk of plan R12 (src/raft/README.md),
  // counted in residual_double_votes(); election safety still fails the run if it ever elects
  // two leaders. A contradiction within one data epoch (including across plain crashes, where
  // the vote must survive on disk) fails the run.
  void OnVote(uint64_t id, uint64_t term, uint64_t vote, bool recovering, uint64_t data_epoch);
  size_t residual_double_votes() const { return residual_double_votes_; }
  void OnPersistEntry(uint64_t id, const raft::Entry& e);
  void OnApplied(uint64_t id, const raft::Entry& e, const AppState& after);
  void OnSnapshotInstalled(uint64_t id, const raft::SnapshotMetadata& s, const AppState& app);
  void OnProposed(raft::EntryId id, const std::string& data);
  // The membership committed at `index` (from a member's applied ENTRY_CONF_CHANGE); every
  // member must apply the same one there (state machine safety covers the entry; this names it).
  void OnConfApplied(uint64_t id, uint64_t index, const raft::ConfState& cs);
  // The latest committed membership and its index.
  const raft::ConfState& committed_conf() const { return committed_conf_; }
  uint64_t committed_conf_index() const { return committed_conf_index_; }
  bool IsCommitted(raft::EntryId id) const;
  // Every committed entry must be in the log of a new leader.
  void CheckLeaderLog(uint64_t id, const raft::RaftLog& log);

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  void Fail(std::string why);
  size_t committed() const { return chain_.size(); }
  size_t acknowledged() const { return acknowledged_; }
  uint64_t max_term() const { return leaders_.empty() ? 0 : leaders_.rbegin()->first; }

 private:
  struct Applied {
    uint64_t term;
    uint64_t hash;
  };
  std::map<uint64_t, uint64_t> leaders_;  // term -> leader
  struct Vote {
    uint64_t vote;
    uint64_t data_epoch;
  };
  std::map<std::pair<uint64_t, uint64_t>, Vote> votes_;  // (member, term) -> vote
  size_t residual_double_votes_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> entries_;  // (index, term) -> content hash
  std::map<uint64_t, Applied> chain_;                          // index -> (term, state hash)
  std::map<std::pair<uint64_t, uint64_t>, std::string> proposed_;
  size_t acknowledged_ = 0;
  raft::ConfState committed_conf_;
  uint64_t committed_conf_index_ = 0;
  std::string failure_;
};

class RaftSim {
 public:
  RaftSim(uint64_t seed, SimOptions options, bool verbose);
  ~RaftSim();

  // Runs the fault phase then the liveness phase. Returns false on a violation; failure()
  // says which.
  bool Run();
  const std::string& failure() const { return checker_.failure(); }
  std::string Summary() const;
  size_t residual_double_votes() const { return checker_.residual_double_votes(); }
  // Leaders elected (a member becoming leader), and entries committed, so far.
  uint64_t elections() const { return elections_; }
  size_t committed() const { return checker_.committed(); }

 private:
  struct Node {
    uint64_t id = 0;
    bool joined = false;   // added by a membership change (started with Config::join)
    bool removed = false;  // stopped for good after its removal committed
    bool was_member = false;
    int64_t removal_seen_at = -1;
    raft::ConfState app_conf;  // the membership as of app.applied
    std::unique_ptr<SimDisk> disk;
    std::unique_ptr<raft::RawNode> raft;  // null while down
    AppState app;
    bool needs_recovery = false;  // the broker's "recovering from data loss" marker
    bool data_missing = false;    // lost its data, not yet caught up (marker or not)
    uint64_t data_epoch = 0;      // number of total data losses so far
    uint64_t incarnation = 0;
    uint64_t last_commit = 0;
    uint64_t last_term = 0;
    bool was_leader = false;
    std::optional<raft::NodeStatus> prev_status;  // for the over-time invariants
  };
  struct Packet {
    raft::Message msg;
  };

  void Step(bool faults);
  void RandomFaults();
  void Crash(Node& n, bool data_loss);
  // Whether every other member's durable log holds this member's last entry.
  bool OthersHoldLogOf(Node& n);
  void Restart(Node& n);
  void ProcessReady(Node& n);
  void Deliver();
  void MaybeSnapshot(Node& n);
  void CheckStep();
  // The operator: proposes the next membership change to the leader.
  void MaybeChangeMembership();
  // Stops members whose removal is committed (a removed leader first gets time to hand off).
  void StopRemovedMembers();
  // Every member's membership is the one its log says: the snapshot's plus the changes after.
  void CheckMembership(Node& n, bool full);
  bool IsMemberNow(uint64_t id) const;
  void AddMember(uint64_t id);
  uint64_t Leader() const;
  void Log(const std::string& s);

  uint64_t seed_;
  SimOptions opt_;
  bool verbose_;
  SimRng rng_;
  SimNetwork<raft::Message> net_;
  std::vector<uint64_t> ids_;          // running (or restartable) members, joiners included
  std::vector<uint64_t> initial_ids_;  // the bootstrap voters
  uint64_t next_id_ = 0;
  std::map<uint64_t, Node> nodes_;
  SafetyChecker checker_;
  int64_t now_ = 0;
  bool faults_on_ = false;
  uint64_t proposals_ = 0;
  uint64_t crashes_ = 0;
  uint64_t data_losses_ = 0;
  uint64_t snapshots_installed_ = 0;
  uint64_t elections_ = 0;
  uint64_t messages_ = 0;
  uint64_t conf_changes_proposed_ = 0;
  uint64_t conf_changes_refused_ = 0;
  uint64_t members_removed_ = 0;
  uint64_t leader_removals_ = 0;
};

}  // namespace tern::sim
