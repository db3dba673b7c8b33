#pragma once

// A seeded, deterministic simulation of one partition replicated on 3 or 5 members, each a real
// broker::PartitionCore (Raft, the journal, the engine, snapshots and their chunked transfer) in
// one thread: a manual clock per member (with skew), the journal on a MemFileSystem whose
// crashes drop unsynced bytes (and sometimes leave torn tails), the in-memory state backend whose
// snapshots survive crashes like RocksDB checkpoints while the live state does not, and a
// PeerTransport over SimNetwork (loss, duplication, delay and reordering, symmetric partitions,
// one-way cuts, crashed members).
//
// A simulated client deploys a one-service-task process, creates instances through whichever
// member it believes leads, activates and completes jobs (and sometimes forgets them, so they
// time out). Checked while running: election safety, log matching, committed entries identical
// everywhere, leader completeness, Raft's own invariants, equal engine state checksums at equal
// applied index, every request answered at most once, answers consistent with each other (an
// instance answered "not processed" never appears; a completed job is never activated again;
// keys are never handed out twice). After the fault phase the cluster heals and must make
// progress: a new instance commits, every job is drained, every acknowledged instance has shown
// its job, and all members converge on one state checksum, within a bounded number of steps.
//
// Single-threaded; owns everything it runs.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "broker/partition_core.h"
#include "broker/state_backend.h"
#include "journal/file_system.h"
#include "raft/raw_node.h"
#include "raft_sim.h"
#include "sim_network.h"
#include "sim_rng.h"

namespace tern::sim {

// Randomized per seed ("swarm testing").
struct EngineSimOptions {
  int members = 3;
  int64_t step_ms = 25;
  int fault_steps = 600;
  int liveness_steps = 6000;
  NetworkFaults net;
  double crash_per_step = 0.002;
  // A member dies in the middle of a poll (what it persisted stays, what it would have sent
  // that poll is lost), or just before one (after taking in what was delivered).
  double crash_in_poll = 0.001;
  // Of the crashes at random steps: the member's data directory is wiped (a replaced disk) and
  // it restarts empty with the same id, with nothing telling it that the group existed. At most
  // one member is without its data at a time.
  double wipe_fraction = 0;
  double restart_per_step = 0.03;
  double partition_per_step = 0.004;
  double heal_per_step = 0.02;
  double snapshot_per_step = 0.01;
  double transfer_per_step = 0.002;
  double create_per_step = 0.3;
  double activate_per_step = 0.1;
  double complete_per_step = 0.2;  // per job the client holds
  double forget_job = 0.05;        // the worker drops an activated job (it times out)
  int64_t max_clock_skew_ms = 0;
  int election_ticks = 6;
  uint64_t segment_bytes = 8192;
  uint64_t chunk_bytes = 1024;
  uint64_t window_chunks = 2;
  size_t max_uncommitted_entries = 16;
  size_t max_commands_per_batch = 8;
  int32_t max_follow_ups_per_batch = 2000;
  int64_t snapshot_period_ms = 10'000;
  int64_t job_timeout_ms = 3'000;
  int64_t request_timeout_ms = 3'000;

  static EngineSimOptions Random(uint64_t seed);
  std::string ToString() const;
};

class EngineSim {
 public:
  EngineSim(uint64_t seed, EngineSimOptions options, bool verbose);
  ~EngineSim();

  // Runs the fault phase and the healed phase. Returns false on a violation; failure() says
  // which.
  bool Run();
  const std::string& failure() const { return checker_.failure(); }
  std::string Summary() const;

 private:
  using Payload = std::variant<raft::Message, raft::SnapshotChunk, raft::SnapshotChunkAck>;
  class Transport;
  class DurableBackend;

  struct Node {
    int32_t id = 0;
    std::unique_ptr<base::ManualClock> clock;
    // The member's disk: the journal's files and the state snapshots survive crashes.
    std::unique_ptr<journal::MemFileSystem> fs;
    std::unique_ptr<broker::StateBackend> snapshots;
    std::unique_ptr<Transport> transport;
    std::unique_ptr<broker::PartitionCore> core;  // null while down
    uint64_t incarnation = 0;
    bool dying = false;         // crashes at the end of the current poll; sends nothing more
    bool data_missing = false;  // wiped, and not yet caught up by a leader
    bool was_leader = false;
    uint64_t last_term = 0;
    uint64_t last_commit = 0;
    uint64_t last_checked_applied = 0;
    raft::EntryId scanned_last;  // the log's last entry when its tail was last checked
    std::optional<raft::NodeStatus> prev_status;
  };

  enum class Kind { kDeploy, kCreate, kActivate, kComplete };
  enum class Outcome { kPending, kAcked, kRejected, kNotProcessed, kUnknown };
  struct Request {
    Kind kind = Kind::kCreate;
    int32_t node = 0;
    int64_t step = 0;
    int64_t job_key = 0;  // kComplete
    Outcome outcome = Outcome::kPending;
    int64_t instance_key = 0;  // kCreate, when acknowledged
    int jobs = 0;              // kActivate, when acknowledged
  };
  struct Job {
    int64_t instance_key = 0;
    int64_t deadline_ms = 0;
  };

  // Steps.
  void Step(bool faults);
  void RandomFaults();
  void Crash(Node& n, bool wipe = false);
  // Whether every other member is up and its log holds this member's last entry.
  bool OthersHoldLogOf(Node& n);
  void Restart(Node& n);
  void Deliver();
  void PollAll();
  // No member holds deferred follow-up commands.
  bool NoBacklog();
  void Log(const std::string& line);
  int32_t LiveLeader() const;

  // The client.
  int64_t Submit(Kind kind, record::Record command, int64_t job_key = 0);
  void OnAnswer(int64_t id, absl::StatusOr<record::Record> answer);
  void OnActivated(const record::Record& batch);
  void ClientStep();
  size_t Outstanding() const;

  // Checks.
  void CheckStep();
  void CheckRaft(Node& n);
  void CheckCommitted(Node& n, uint64_t from, uint64_t to);
  void CheckChecksum(Node& n);
  bool Converged(std::string* why);
  void FinalChecks();

  uint64_t seed_;
  EngineSimOptions opt_;
  bool verbose_;
  SimRng rng_;
  SimNetwork<Payload> net_;
  std::vector<uint64_t> ids_;
  std::map<int32_t, Node> nodes_;
  SafetyChecker checker_;
  int64_t step_ = 0;
  bool faults_on_ = false;

  // Raft level: index -> (term, entry hash) of every committed entry seen anywhere.
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> committed_;
  // Engine level: applied index -> (position, checksum).
  std::map<uint64_t, std::pair<int64_t, uint64_t>> checksums_;

  // Client state.
  int32_t leader_guess_ = 0;
  bool deployed_ = false;
  int64_t next_request_ = 0;
  std::map<int64_t, Request> requests_;
  std::map<int64_t, int64_t> acked_instances_;   // instance key -> request
  std::set<int64_t> instances_with_job_;         // instance keys whose job was activated
  std::map<int64_t, Job> held_jobs_;             // activated jobs the worker still holds
  std::map<int64_t, int64_t> job_activated_at_;  // job key -> highest activation position
  std::map<int64_t, int64_t> job_completed_at_;  // job key -> acknowledged completion position
  std::map<int64_t, int64_t> job_instance_;      // job key -> instance key
  int64_t max_deadline_ms_ = 0;
  bool draining_ = false;

  // Figures for the summary. The trace hash covers every logged event, so running a seed twice
  // shows whether it replays exactly (--check-determinism).
  uint64_t trace_hash_ = 0;
  uint64_t crashes_ = 0;
  uint64_t wipes_ = 0;
  uint64_t elections_ = 0;
  uint64_t snapshots_taken_ = 0;
  uint64_t answers_[5] = {};
  uint64_t completions_acked_ = 0;
  uint64_t activations_ = 0;
};

}  // namespace tern::sim
