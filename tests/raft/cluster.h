#pragma once

// A small synchronous harness for Raft unit tests: N RawNodes on MemoryStorage, a message
// queue, and helpers to deliver messages with drops and partitions. Everything is explicit and
// deterministic; there is no clock. (The randomized fault simulator lives in tests/sim.)

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/conf_change.h"
#include "raft/raw_node.h"
#include "raft/storage.h"

namespace tern::raft::testing {

struct TestNode {
  uint64_t id;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> node;
  std::vector<Entry> applied;  // every committed entry applied, in order
  // The application state: data of every normal entry applied (restored from snapshots).
  std::vector<std::string> applied_data;
  SnapshotMetadata applied_snapshot;
  // The membership as of the last applied entry (what the application records with snapshots).
  ConfState applied_conf;
  // Added by a membership change (starts with Config::join).
  bool joined = false;
};

class Cluster {
 public:
  // `ids` are the voters; `tweak` may adjust each member's config.
  explicit Cluster(std::vector<uint64_t> ids, std::function<void(Config&)> tweak = nullptr);

  TestNode& node(uint64_t id) { return *nodes_.at(id); }
  RawNode& raw(uint64_t id) { return *nodes_.at(id)->node; }
  Raft& raft(uint64_t id) { return nodes_.at(id)->node->raft(); }
  const std::vector<uint64_t>& ids() const { return ids_; }

  // Persists, queues messages, applies, advances every node until no node has a Ready; also
  // delivers queued messages, until nothing moves. Returns the number of messages delivered.
  int Stabilize(int max_rounds = 1000);
  // Processes the Ready of one node (persist, queue messages, apply, advance).
  void ProcessReady(uint64_t id);
  // Processes all Readies without delivering messages.
  void ProcessAllReadies();
  // Delivers queued messages once (those produced meanwhile stay queued).
  int DeliverOnce();

  void Tick(uint64_t id, int n = 1);
  void TickAll(int n = 1);
  // `rounds` times: every member ticks once, then everything is delivered.
  void Settle(int rounds);
  void Campaign(uint64_t id);
  absl::StatusOr<EntryId> Propose(uint64_t id, std::string data);

  // Membership. AddNode starts member `id` with empty storage and Config::join, as a broker
  // starts a replica it is about to add (the leader must still add it as a learner); RemoveNode
  // stops a member for good (after its removal committed).
  void AddNode(uint64_t id);
  void RemoveNode(uint64_t id);
  absl::StatusOr<EntryId> ProposeConfChange(uint64_t leader, ConfChangeType type, uint64_t id);

  // Network faults.
  void Isolate(uint64_t id);
  void Cut(uint64_t a, uint64_t b);  // both directions
  void CutOneWay(uint64_t from, uint64_t to);
  void Heal();
  void Drop(std::function<bool(const Message&)> pred) { drop_ = std::move(pred); }
  bool Down(uint64_t id) const { return down_.count(id) > 0; }

  // Crash keeps storage (everything was persisted: ProcessReady always syncs); Restart builds
  // a new RawNode on it. Restart with data loss wipes the storage.
  void Crash(uint64_t id);
  void Restart(uint64_t id, bool data_loss = false);
  // Restarts with empty storage *without* telling Raft (no recovering_from_data_loss): what a
  // broker does when an operator replaced the disk, since nothing on it says the group existed.
  void RestartWiped(uint64_t id);

  // Takes a snapshot at the node's applied index and compacts its log up to it.
  void SnapshotAndCompact(uint64_t id);

  std::deque<Message>& queue() { return queue_; }
  // Leaders by id (those whose role is leader).
  std::vector<uint64_t> Leaders();
  uint64_t LeaderOrZero();
  // Entries with data (normal) applied by a node, as strings.
  std::vector<std::string> AppliedData(uint64_t id);

  Config MakeConfig(uint64_t id) const;

 private:
  bool Blocked(const Message& m) const;

  std::vector<uint64_t> ids_;          // running members (TickAll, Isolate)
  std::vector<uint64_t> initial_ids_;  // the bootstrap voters
  std::function<void(Config&)> tweak_;
  std::map<uint64_t, std::unique_ptr<TestNode>> nodes_;
  std::deque<Message> queue_;
  std::set<std::pair<uint64_t, uint64_t>> cut_;
  std::set<uint64_t> down_;
  std::function<bool(const Message&)> drop_;
};

}  // namespace tern::raft::testing
