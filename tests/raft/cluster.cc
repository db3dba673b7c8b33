#include "cluster.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/check.h"

namespace tern::raft::testing {

Cluster::Cluster(std::vector<uint64_t> ids, std::function<void(Config&)> tweak)
    : ids_(std::move(ids)), initial_ids_(ids_), tweak_(std::move(tweak)) {
  for (uint64_t id : ids_) {
    auto n = std::make_unique<TestNode>();
    n->id = id;
    n->storage = std::make_unique<MemoryStorage>(ids_);
    for (uint64_t v : ids_) n->applied_conf.add_voters(v);
    nodes_[id] = std::move(n);
    nodes_[id]->node = std::make_unique<RawNode>(MakeConfig(id), nodes_[id]->storage.get());
  }
}

void Cluster::AddNode(uint64_t id) {
  TERN_CHECK(!nodes_.count(id), "member ", id, " exists");
  auto n = std::make_unique<TestNode>();
  n->id = id;
  n->joined = true;
  n->storage = std::make_unique<MemoryStorage>();
  nodes_[id] = std::move(n);
  nodes_[id]->node = std::make_unique<RawNode>(MakeConfig(id), nodes_[id]->storage.get());
  ids_.push_back(id);
}

void Cluster::RemoveNode(uint64_t id) {
  down_.insert(id);
  ids_.erase(std::remove(ids_.begin(), ids_.end(), id), ids_.end());
}

absl::StatusOr<EntryId> Cluster::ProposeConfChange(uint64_t leader, ConfChangeType type,
                                                   uint64_t id) {
  ConfChange cc;
  cc.set_type(type);
  cc.set_node_id(id);
  return nodes_.at(leader)->node->ProposeConfChange(cc);
}

Config Cluster::MakeConfig(uint64_t id) const {
  Config c;
  c.id = id;
  auto it = nodes_.find(id);
  if (it != nodes_.end() && it->second->joined) {
    c.join = true;
  } else {
    c.voters = initial_ids_;
  }
  c.election_ticks = 10;
  c.heartbeat_ticks = 1;
  c.seed = 42;
  if (tweak_) tweak_(c);
  return c;
}

void Cluster::ProcessReady(uint64_t id) {
  TestNode& n = *nodes_.at(id);
  if (down_.count(id) || !n.node->HasReady()) return;
  Ready rd = n.node->GetReady();
  if (rd.snapshot) {
    TERN_CHECK_OK(n.storage->ApplySnapshot(*rd.snapshot));
    n.applied_snapshot = *rd.snapshot;
    n.applied_conf = rd.snapshot->conf_state();
    n.applied_data.clear();
    for (absl::string_view d : absl::StrSplit(rd.snapshot->data(), '\x1e', absl::SkipEmpty())) {
      n.applied_data.emplace_back(d);
    }
  }
  n.storage->Append(rd.entries);
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
  for (Message& m : rd.messages) queue_.push_back(std::move(m));
  for (const Entry& e : rd.committed_entries) {
    n.applied.push_back(e);
    if (e.type() == ENTRY_NORMAL) n.applied_data.push_back(e.data());
    n.applied_conf = ConfStateAfter(n.applied_conf, e);
  }
  n.node->Advance(rd);
}

void Cluster::ProcessAllReadies() {
  bool any = true;
  while (any) {
    any = false;
    for (uint64_t id : ids_) {
      if (!down_.count(id) && nodes_[id]->node->HasReady()) {
        ProcessReady(id);
        any = true;
      }
    }
  }
}

bool Cluster::Blocked(const Message& m) const {
  if (down_.count(m.to()) || down_.count(m.from())) return true;
  if (cut_.count({m.from(), m.to()})) return true;
  if (drop_ && drop_(m)) return true;
  return false;
}

int Cluster::DeliverOnce() {
  std::deque<Message> batch;
  batch.swap(queue_);
  int delivered = 0;
  for (Message& m : batch) {
    if (Blocked(m)) {
      // A dropped snapshot is reported failed by the sender's transport.
      if (m.type() == MSG_SNAP && !down_.count(m.from())) {
        nodes_.at(m.from())->node->ReportSnapshot(m.to(), false);
      }
      continue;
    }
    if (m.type() == MSG_SNAP) {
      // The snapshot's data travels out of band; the test snapshot data is in the metadata.
      nodes_.at(m.from())->node->ReportSnapshot(m.to(), true);
    }
    (void)nodes_.at(m.to())->node->Step(m);
    ++delivered;
  }
  return delivered;
}

int Cluster::Stabilize(int max_rounds) {
  int total = 0;
  for (int i = 0; i < max_rounds; ++i) {
    ProcessAllReadies();
    if (queue_.empty()) return total;
    total += DeliverOnce();
  }
  TERN_UNREACHABLE("cluster did not stabilize");
}

void Cluster::Tick(uint64_t id, int n) {
  for (int i = 0; i < n; ++i) {
    if (!down_.count(id)) nodes_.at(id)->node->Tick();
  }
}

void Cluster::TickAll(int n) {
  for (int i = 0; i < n; ++i) {
    for (uint64_t id : ids_) Tick(id);
  }
}

void Cluster::Settle(int rounds) {
  for (int i = 0; i < rounds; ++i) {
    TickAll();
    Stabilize();
  }
}

void Cluster::Campaign(uint64_t id) { nodes_.at(id)->node->Campaign(); }

absl::StatusOr<EntryId> Cluster::Propose(uint64_t id, std::string data) {
  return nodes_.at(id)->node->Propose(std::move(data));
}

void Cluster::Isolate(uint64_t id) {
  for (uint64_t other : ids_) {
    if (other != id) Cut(id, other);
  }
}

void Cluster::Cut(uint64_t a, uint64_t b) {
  cut_.insert({a, b});
  cut_.insert({b, a});
}

void Cluster::CutOneWay(uint64_t from, uint64_t to) { cut_.insert({from, to}); }

void Cluster::Heal() {
  cut_.clear();
  drop_ = nullptr;
}

void Cluster::Crash(uint64_t id) { down_.insert(id); }

void Cluster::Restart(uint64_t id, bool data_loss) {
  TestNode& n = *nodes_.at(id);
  Config c = MakeConfig(id);
  if (data_loss) {
    n.storage = n.joined ? std::make_unique<MemoryStorage>()
                         : std::make_unique<MemoryStorage>(initial_ids_);
    n.applied.clear();
    n.applied_data.clear();
    n.applied_snapshot = SnapshotMetadata();
    n.applied_conf = n.storage->InitialState()->conf_state;
    c.recovering_from_data_loss = true;
  } else {
    c.applied = n.applied.empty() ? n.applied_snapshot.index() : n.applied.back().index();
  }
  n.node = std::make_unique<RawNode>(c, n.storage.get());
  down_.erase(id);
}

void Cluster::RestartWiped(uint64_t id) {
  TestNode& n = *nodes_.at(id);
  n.storage =
      n.joined ? std::make_unique<MemoryStorage>() : std::make_unique<MemoryStorage>(initial_ids_);
  n.applied.clear();
  n.applied_data.clear();
  n.applied_snapshot = SnapshotMetadata();
  n.applied_conf = n.storage->InitialState()->conf_state;
  n.node = std::make_unique<RawNode>(MakeConfig(id), n.storage.get());
  down_.erase(id);
}

void Cluster::SnapshotAndCompact(uint64_t id) {
  TestNode& n = *nodes_.at(id);
  uint64_t applied = n.node->Status().applied;
  // The application's membership at its applied index is what Raft says it is there.
  absl::StatusOr<ConfState> at = n.node->ConfStateAt(applied);
  TERN_CHECK_OK(at.status());
  TERN_CHECK(SameConfState(*at, n.applied_conf), "member ", id, " applied membership ",
             ConfStateToString(n.applied_conf), " but Raft has ", ConfStateToString(*at), " at ",
             applied);
  TERN_CHECK_OK(
      n.storage->CreateSnapshot(applied, &n.applied_conf, absl::StrJoin(n.applied_data, "\x1e"))
          .status());
  TERN_CHECK_OK(n.storage->Compact(applied));
}

std::vector<uint64_t> Cluster::Leaders() {
  std::vector<uint64_t> out;
  for (uint64_t id : ids_) {
    if (!down_.count(id) && raft(id).role() == StateRole::kLeader) out.push_back(id);
  }
  return out;
}

uint64_t Cluster::LeaderOrZero() {
  std::vector<uint64_t> l = Leaders();
  uint64_t best = 0, best_term = 0;
  for (uint64_t id : l) {
    if (raft(id).term() >= best_term) {
      best = id;
      best_term = raft(id).term();
    }
  }
  return best;
}

std::vector<std::string> Cluster::AppliedData(uint64_t id) { return nodes_.at(id)->applied_data; }

}  // namespace tern::raft::testing
