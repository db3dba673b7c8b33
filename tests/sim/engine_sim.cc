#include "engine_sim.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/check.h"
#include "base/strings.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "raft/invariants.h"
#include "tests/engine/models.h"

namespace tern::sim {

using broker::PartitionCore;
using broker::SnapshotInfo;
using broker::SnapshotSink;
using broker::SnapshotSource;
using broker::StateBackend;

namespace {

constexpr int64_t kWallOrigin = 1'700'000'000'000;
constexpr char kJobType[] = "work";

uint64_t HashBytes(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

uint64_t EntryHash(const raft::Entry& e) {
  return HashBytes(e.data()) ^ (static_cast<uint64_t>(e.type()) * 0x9e3779b97f4a7c15ULL);
}

// The create request id the client put into an instance's variables ({"req": N}); 0 if none.
int64_t RequestOf(const std::string& variables) {
  size_t at = variables.find("\"req\"");
  if (at == std::string::npos) return 0;
  at = variables.find(':', at);
  if (at == std::string::npos) return 0;
  return std::strtoll(variables.c_str() + at + 1, nullptr, 10);
}

const char* KindName(int kind) {
  static const char* const kNames[] = {"deploy", "create", "activate", "complete"};
  return kNames[kind];
}

}  // namespace

// --- Options ---------------------------------------------------------------------------------

EngineSimOptions EngineSimOptions::Random(uint64_t seed) {
  SimRng r(seed ^ 0xe61e5eedULL);
  EngineSimOptions o;
  o.members = r.Chance(0.5) ? 3 : 5;
  o.net.drop = r.Chance(0.2) ? 0 : r.Real(0, 0.15);
  o.net.duplicate = r.Chance(0.3) ? 0 : r.Real(0, 0.1);
  o.net.min_delay_ticks = 1;
  o.net.max_delay_ticks = static_cast<int>(r.Range(1, 6));
  o.crash_per_step = r.Real(0.0003, 0.004);
  o.crash_in_poll = r.Real(0, 0.002);
  o.restart_per_step = r.Real(0.01, 0.08);
  o.partition_per_step = r.Real(0, 0.008);
  o.heal_per_step = r.Real(0.01, 0.05);
  o.snapshot_per_step = r.Real(0.002, 0.03);
  o.transfer_per_step = r.Real(0, 0.005);
  o.create_per_step = r.Real(0.05, 0.6);
  o.activate_per_step = r.Real(0.02, 0.2);
  o.complete_per_step = r.Real(0.05, 0.5);
  o.forget_job = r.Real(0, 0.1);
  o.max_clock_skew_ms = r.Chance(0.5) ? 0 : r.Range(0, 2000);
  o.election_ticks = static_cast<int>(r.Range(5, 10));
  o.segment_bytes = r.Pick(std::vector<uint64_t>{2048, 4096, 16384, 1 << 20});
  o.chunk_bytes = r.Pick(std::vector<uint64_t>{128, 512, 4096, 1 << 20});
  o.window_chunks = static_cast<uint64_t>(r.Range(1, 4));
  o.max_uncommitted_entries = static_cast<size_t>(r.Range(1, 32));
  o.max_commands_per_batch = static_cast<size_t>(r.Range(1, 16));
  o.max_follow_ups_per_batch = r.Chance(0.3) ? static_cast<int32_t>(r.Range(1, 4)) : 2000;
  o.snapshot_period_ms = r.Range(2'000, 60'000);
  o.job_timeout_ms = r.Range(500, 5'000);
  o.request_timeout_ms = r.Range(1'000, 5'000);
  // Drawn from a stream of its own so that the options above stay what they were per seed.
  SimRng wipes(seed ^ 0x3173d15cULL);
  o.wipe_fraction = wipes.Chance(0.3) ? wipes.Real(0.1, 0.5) : 0;
  return o;
}

std::string EngineSimOptions::ToString() const {
  return StrCat(
      "members=", members, " drop=", net.drop, " dup=", net.duplicate,
      " delay=", net.min_delay_ticks, "..", net.max_delay_ticks, " crash=", crash_per_step,
      " crash_in_poll=", crash_in_poll, " wipe=", wipe_fraction, " restart=", restart_per_step,
      " partition=", partition_per_step, " snapshot=", snapshot_per_step,
      " transfer=", transfer_per_step, " create=", create_per_step, " activate=", activate_per_step,
      " complete=", complete_per_step, " forget=", forget_job, " skew_ms=", max_clock_skew_ms,
      " election_ticks=", election_ticks, " segment=", segment_bytes, " chunk=", chunk_bytes, "x",
      window_chunks, " uncommitted=", max_uncommitted_entries, " batch=", max_commands_per_batch,
      " follow_ups=", max_follow_ups_per_batch, " snapshot_ms=", snapshot_period_ms,
      " job_timeout_ms=", job_timeout_ms, " request_timeout_ms=", request_timeout_ms);
}

// --- Fakes -----------------------------------------------------------------------------------

// Raft traffic of one member into the simulated network. A member dying in the middle of a poll
// sends nothing more.
class EngineSim::Transport : public broker::PeerTransport {
 public:
  Transport(EngineSim* sim, int32_t from) : sim_(sim), from_(from) {}
  void Send(int32_t to, int32_t, raft::Message message) override {
    Put(to, Payload(std::move(message)));
  }
  void SendSnapshotChunk(int32_t to, int32_t, raft::SnapshotChunk chunk) override {
    Put(to, Payload(std::move(chunk)));
  }
  void SendSnapshotAck(int32_t to, int32_t, raft::SnapshotChunkAck ack) override {
    Put(to, Payload(std::move(ack)));
  }

 private:
  void Put(int32_t to, Payload payload) {
    if (sim_->nodes_.at(from_).dying) return;
    sim_->net_.Send(static_cast<uint64_t>(from_), static_cast<uint64_t>(to), std::move(payload),
                    sim_->step_);
  }
  EngineSim* sim_;
  int32_t from_;
};

// The partition owns its StateBackend and loses it with the process; the snapshots on disk must
// survive. This forwards to the member's long-lived in-memory backend, whose snapshots are
// complete once taken or committed (like RocksDB checkpoints, which are synced before they are
// published) and whose live state is a fresh copy per OpenLatest, so a crash loses exactly the
// live state.
class EngineSim::DurableBackend : public StateBackend {
 public:
  explicit DurableBackend(StateBackend* disk) : disk_(disk) {}
  absl::StatusOr<std::unique_ptr<engine::state::StateStore>> OpenLatest(
      uint64_t min_index, SnapshotInfo* opened) override {
    return disk_->OpenLatest(min_index, opened);
  }
  absl::Status TakeSnapshot(engine::state::StateStore& live, SnapshotInfo info) override {
    return disk_->TakeSnapshot(live, info);
  }
  // Published one poll later: the partition's code for snapshots finished in the background.
  absl::StatusOr<std::unique_ptr<broker::PendingSnapshot>> StartSnapshot(
      engine::state::StateStore& live, SnapshotInfo info) override {
    return disk_->StartSnapshot(live, info);
  }
  void DeleteOlderSnapshots() override { disk_->DeleteOlderSnapshots(); }
  void DeleteNewerSnapshots(uint64_t index) override { disk_->DeleteNewerSnapshots(index); }
  std::optional<SnapshotInfo> Latest() override { return disk_->Latest(); }
  absl::StatusOr<std::unique_ptr<SnapshotSource>> Read(SnapshotInfo info) override {
    return disk_->Read(info);
  }
  absl::StatusOr<std::unique_ptr<SnapshotSink>> Receive(SnapshotInfo info) override {
    return disk_->Receive(info);
  }

 private:
  StateBackend* disk_;
};

// --- Members ---------------------------------------------------------------------------------

EngineSim::EngineSim(uint64_t seed, EngineSimOptions options, bool verbose)
    : seed_(seed), opt_(options), verbose_(verbose), rng_(seed), net_(&rng_) {
  net_.set_faults(opt_.net);
  for (int32_t i = 0; i < opt_.members; ++i) {
    ids_.push_back(static_cast<uint64_t>(i));
    Node& n = nodes_[i];
    n.id = i;
    int64_t skew = opt_.max_clock_skew_ms > 0 ? rng_.Range(0, opt_.max_clock_skew_ms) : 0;
    n.clock = std::make_unique<base::ManualClock>(kWallOrigin + skew, 1'000 * (i + 1));
    n.fs = std::make_unique<journal::MemFileSystem>();
    n.snapshots = broker::NewMemoryBackend();
    n.transport = std::make_unique<Transport>(this, i);
  }
  for (auto& [id, n] : nodes_) Restart(n);
}

EngineSim::~EngineSim() {
  // Cores first: they reference the transports, clocks and file systems.
  for (auto& [id, n] : nodes_) n.core.reset();
}

void EngineSim::Log(const std::string& line) {
  trace_hash_ = (trace_hash_ ^ HashBytes(line) ^ static_cast<uint64_t>(step_)) * 0x100000001b3ULL;
  if (verbose_) {
    std::fprintf(stderr, "[%6lld] %s\n", static_cast<long long>(step_), line.c_str());
  }
}

void EngineSim::Restart(Node& n) {
  broker::PartitionConfig config;
  config.partition_id = 1;
  config.partition_count = 1;
  config.node_id = n.id;
  config.member_node_ids.clear();
  for (int32_t i = 0; i < opt_.members; ++i) config.member_node_ids.push_back(i);
  config.directory = "/partition-1";
  config.tick_ms = 50;
  config.election_ticks = opt_.election_ticks;
  config.heartbeat_ticks = 1;
  config.snapshot_period_ms = opt_.snapshot_period_ms;
  config.max_uncommitted_entries = opt_.max_uncommitted_entries;
  config.max_commands_per_batch = opt_.max_commands_per_batch;
  config.snapshot_chunk_bytes = opt_.chunk_bytes;
  config.snapshot_window_chunks = opt_.window_chunks;
  config.snapshot_transfer_timeout_ms = 2'000;
  config.journal.segment_bytes = opt_.segment_bytes;
  config.journal.tail_cache_bytes = opt_.segment_bytes;
  config.engine.max_follow_ups_per_batch = opt_.max_follow_ups_per_batch;

  broker::PartitionEnvironment env;
  env.clock = n.clock.get();
  env.file_system = n.fs.get();
  env.state = std::make_unique<DurableBackend>(n.snapshots.get());
  env.transport = n.transport.get();
  env.seed = seed_ * 1000003 + n.incarnation * 7919;
  auto core = PartitionCore::Open(std::move(config), std::move(env));
  if (!core.ok()) {
    checker_.Fail(StrCat("member ", n.id, " cannot restart: ", core.status()));
    return;
  }
  n.core = *std::move(core);
  n.core->Start();
  n.incarnation++;
  n.prev_status.reset();
  n.was_leader = false;
  n.last_term = n.core->raft().Status().term;
  n.last_commit = n.core->raft().Status().commit;
  n.last_checked_applied = 0;
  n.scanned_last = {};
  Log(StrCat("restart ", n.id, " term=", n.last_term, " commit=", n.last_commit,
             " applied=", n.core->applied_index(), " log=", n.core->raft().Status().first_index,
             "..", n.core->raft().Status().last_index));
}

void EngineSim::Crash(Node& n, bool wipe) {
  if (!n.core) return;
  // Its connections break: the client never hears about what it sent there.
  for (auto& [id, r] : requests_) {
    if (r.node == n.id && r.outcome == Outcome::kPending) {
      r.outcome = Outcome::kUnknown;
      ++answers_[static_cast<int>(Outcome::kUnknown)];
      if (r.kind == Kind::kComplete && !job_completed_at_.count(r.job_key)) {
        held_jobs_[r.job_key] = Job{job_instance_[r.job_key], 0};
      }
    }
  }
  n.core.reset();
  n.dying = false;
  ++crashes_;
  net_.DropNode(static_cast<uint64_t>(n.id), nullptr);
  n.fs->Crash(rng_.Chance(0.5) ? rng_.Next() | 1 : 0);
  if (wipe) {
    // The disk is replaced: journal and state snapshots are gone. The member restarts with the
    // same id and no marker, as the broker does; the leader still remembers its match index.
    n.fs = std::make_unique<journal::MemFileSystem>();
    n.snapshots = broker::NewMemoryBackend();
    n.data_missing = true;
    ++wipes_;
  }
  Log(StrCat("crash ", n.id, wipe ? " and wipe its data directory" : ""));
}

bool EngineSim::OthersHoldLogOf(Node& n) {
  const raft::RaftLog& log = n.core->raft().raft().log();
  uint64_t last = log.LastIndex();
  uint64_t term = log.LastTerm();
  for (auto& [id, o] : nodes_) {
    if (id == n.id) continue;
    if (!o.core) return false;
    const raft::RaftLog& other = o.core->raft().raft().log();
    if (last + 1 < other.FirstIndex()) continue;  // compacted: committed, so held
    if (!other.MatchTerm(last, term)) return false;
  }
  return true;
}

int32_t EngineSim::LiveLeader() const {
  int32_t best = -1;
  uint64_t term = 0;
  for (const auto& [id, n] : nodes_) {
    if (n.core && n.core->is_leader() && n.core->raft().Status().term >= term) {
      best = id;
      term = n.core->raft().Status().term;
    }
  }
  return best;
}

// --- Steps -----------------------------------------------------------------------------------

void EngineSim::RandomFaults() {
  for (auto& [id, n] : nodes_) {
    if (n.core) {
      if (rng_.Chance(opt_.crash_per_step)) {
        bool anyone_missing = false;
        for (const auto& [oid, o] : nodes_) {
          // Also a member rebuilding by itself (an empty log that a leader found behind).
          anyone_missing |= o.data_missing || (o.core && o.core->raft().raft().recovering());
        }
        // A wipe needs a leader that remembers the member (the case of issue 12) and at most one
        // member without its data: two would lose a majority's copy of committed entries.
        bool wipe = opt_.wipe_fraction > 0 && !anyone_missing && LiveLeader() >= 0 &&
                    rng_.Chance(opt_.wipe_fraction);
        // The documented procedure (docs/cluster.md): the rest of the group is up and holds
        // everything the member had. A wiped member cannot know it lost data until it hears
        // from the group, and votes like a new member until then.
        wipe = wipe && OthersHoldLogOf(n);
        Crash(n, wipe);
      }
    } else if (rng_.Chance(opt_.restart_per_step)) {
      Restart(n);
    }
  }
  if (rng_.Chance(opt_.partition_per_step)) {
    int kind = static_cast<int>(rng_.Uniform(3));
    if (kind == 0) {
      std::set<uint64_t> side;
      for (uint64_t id : ids_) {
        if (rng_.Chance(0.5)) side.insert(id);
      }
      net_.Partition(side, ids_);
      Log(StrCat("partition (", side.size(), " on one side)"));
    } else if (kind == 1) {
      uint64_t a = rng_.Pick(ids_), b = rng_.Pick(ids_);
      net_.Cut(a, b);
      Log(StrCat("cut ", a, " <-> ", b));
    } else {
      uint64_t a = rng_.Pick(ids_), b = rng_.Pick(ids_);
      net_.CutOneWay(a, b);
      Log(StrCat("cut ", a, " -> ", b));
    }
  }
  if (rng_.Chance(opt_.heal_per_step)) net_.Heal();
  if (rng_.Chance(opt_.transfer_per_step)) {
    int32_t leader = LiveLeader();
    if (leader >= 0) {
      auto to = static_cast<int32_t>(rng_.Pick(ids_));
      if (to != leader) {
        (void)nodes_[leader].core->TransferLeadership(to);
        Log(StrCat("transfer leadership ", leader, " -> ", to));
      }
    }
  }
  for (auto& [id, n] : nodes_) {
    if (n.core && rng_.Chance(opt_.snapshot_per_step)) {
      n.core->RequestSnapshot();
      ++snapshots_taken_;
    }
  }
}

void EngineSim::Deliver() {
  for (auto& packet : net_.TakeDue(step_, nullptr)) {
    Node& to = nodes_[static_cast<int32_t>(packet.to)];
    if (!to.core) continue;
    if (auto* m = std::get_if<raft::Message>(&packet.payload)) {
      to.core->Receive(*m);
    } else if (auto* c = std::get_if<raft::SnapshotChunk>(&packet.payload)) {
      if (verbose_) {
        Log(StrCat(packet.from, " -> ", packet.to, " snapshot ", c->snapshot().index(),
                   " chunk at ", c->offset(), " (", c->data().size(), " bytes",
                   c->done() ? ", last" : "", ")"));
      }
      to.core->ReceiveSnapshotChunk(*c);
    } else {
      const auto& ack = std::get<raft::SnapshotChunkAck>(packet.payload);
      if (verbose_) {
        Log(StrCat(packet.from, " -> ", packet.to, " snapshot ", ack.snapshot_index(), " ack next ",
                   ack.next_offset(), ack.abort() ? " abort" : ""));
      }
      to.core->ReceiveSnapshotAck(ack);
    }
  }
}

void EngineSim::PollAll() {
  for (auto& [id, n] : nodes_) {
    if (!n.core) continue;
    if (faults_on_ && rng_.Chance(opt_.crash_in_poll)) {
      // Dies after taking in messages and chunks (a received snapshot may be published) but
      // before acting on them.
      Log(StrCat(id, " dies before polling"));
      Crash(n);
      continue;
    }
    n.dying = faults_on_ && rng_.Chance(opt_.crash_in_poll);
    n.core->Poll();
    for (int round = 0; round < 4 && n.core->HasWork(); ++round) n.core->Poll();
    if (n.dying) {
      Log(StrCat(id, " dies in the middle of a poll"));
      Crash(n);
    }
  }
}

void EngineSim::Step(bool faults) {
  ++step_;
  faults_on_ = faults;
  for (auto& [id, n] : nodes_) n.clock->Advance(opt_.step_ms);
  if (faults) RandomFaults();
  Deliver();
  ClientStep();
  PollAll();
  CheckStep();
}

// --- The client ------------------------------------------------------------------------------

size_t EngineSim::Outstanding() const {
  size_t count = 0;
  for (const auto& [id, r] : requests_) count += r.outcome == Outcome::kPending;
  return count;
}

int64_t EngineSim::Submit(Kind kind, record::Record command, int64_t job_key) {
  int64_t id = ++next_request_;
  Request& r = requests_[id];
  r.kind = kind;
  r.node = leader_guess_;
  r.step = step_;
  r.job_key = job_key;
  if (kind == Kind::kCreate) {
    // The request id travels in the instance's variables, so its job tells which request
    // created it.
    command.mutable_process_instance_creation()->set_variables(StrCat("{\"req\": ", id, "}"));
  }
  Node& n = nodes_[leader_guess_];
  if (!n.core) {
    OnAnswer(id, absl::UnavailableError("connection refused"));
    return id;
  }
  n.core->Submit(
      std::move(command), opt_.request_timeout_ms,
      [this, id](absl::StatusOr<record::Record> answer) { OnAnswer(id, std::move(answer)); });
  return id;
}

void EngineSim::OnAnswer(int64_t id, absl::StatusOr<record::Record> answer) {
  auto it = requests_.find(id);
  TERN_CHECK(it != requests_.end(), "answer to an unknown request ", id);
  Request& r = it->second;
  if (r.outcome != Outcome::kPending) {
    checker_.Fail(
        StrCat("request ", id, " (", KindName(static_cast<int>(r.kind)), ") answered twice"));
    return;
  }
  if (!answer.ok()) {
    absl::StatusCode code = answer.status().code();
    // Definite "not processed" answers; everything else may or may not have taken effect.
    bool not_processed =
        code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kResourceExhausted;
    r.outcome = not_processed ? Outcome::kNotProcessed : Outcome::kUnknown;
    if (code == absl::StatusCode::kUnavailable) {
      // Ask some member who leads (what a gateway learns from the topology).
      const Node& asked = nodes_[static_cast<int32_t>(rng_.Pick(ids_))];
      int64_t leader = asked.core ? asked.core->Metrics().leader_node_id : -1;
      leader_guess_ =
          leader >= 0 ? static_cast<int32_t>(leader) : static_cast<int32_t>(rng_.Pick(ids_));
    }
    if (r.kind == Kind::kComplete && !job_completed_at_.count(r.job_key)) {
      held_jobs_[r.job_key] = Job{job_instance_[r.job_key], 0};  // try again
    }
  } else if (answer->record_type() == record::COMMAND_REJECTION) {
    r.outcome = Outcome::kRejected;
    if (r.kind == Kind::kDeploy) {
      checker_.Fail(StrCat("deployment rejected: ", answer->rejection_reason()));
    }
  } else {
    r.outcome = Outcome::kAcked;
    const record::Record& event = *answer;
    switch (r.kind) {
      case Kind::kDeploy:
        deployed_ = true;
        break;
      case Kind::kCreate: {
        int64_t key = event.process_instance_creation().process_instance_key();
        r.instance_key = key;
        auto [at, inserted] = acked_instances_.emplace(key, id);
        if (key <= 0 || !inserted) {
          checker_.Fail(StrCat("create request ", id, " answered with instance key ", key,
                               " already given to request ", at->second));
        }
        break;
      }
      case Kind::kActivate:
        r.jobs = event.job_batch().job_keys_size();
        OnActivated(event);
        break;
      case Kind::kComplete: {
        ++completions_acked_;
        job_completed_at_[r.job_key] = event.position();
        held_jobs_.erase(r.job_key);
        auto activated = job_activated_at_.find(r.job_key);
        if (activated != job_activated_at_.end() && activated->second > event.position()) {
          checker_.Fail(StrCat("job ", r.job_key, " completed at position ", event.position(),
                               " but activated again at position ", activated->second));
        }
        break;
      }
    }
  }
  ++answers_[static_cast<int>(r.outcome)];
  if (verbose_) {
    static const char* const kOutcomes[] = {"pending", "acknowledged", "rejected", "not processed",
                                            "unknown"};
    Log(StrCat("request ", id, " (", KindName(static_cast<int>(r.kind)), r.job_key ? " job " : "",
               r.job_key ? StrCat(r.job_key) : "", ") to ", r.node, ": ",
               kOutcomes[static_cast<int>(r.outcome)],
               answer.ok() ? StrCat(" position ", answer->position(), " key ", answer->key())
                           : StrCat(" ", answer.status().message())));
  }
}

void EngineSim::OnActivated(const record::Record& event) {
  const record::JobBatchRecord& batch = event.job_batch();
  if (batch.job_keys_size() != batch.jobs_size()) {
    checker_.Fail("job batch with different numbers of keys and jobs");
    return;
  }
  for (int i = 0; i < batch.job_keys_size(); ++i) {
    ++activations_;
    int64_t key = batch.job_keys(i);
    const record::JobRecord& job = batch.jobs(i);
    int64_t instance = job.process_instance_key();
    auto [known, inserted] = job_instance_.emplace(key, instance);
    if (!inserted && known->second != instance) {
      checker_.Fail(StrCat("job key ", key, " names instances ", known->second, " and ", instance));
    }
    instances_with_job_.insert(instance);
    int64_t request = RequestOf(job.variables());
    auto created = requests_.find(request);
    if (created != requests_.end() && created->second.kind == Kind::kCreate) {
      if (created->second.outcome == Outcome::kNotProcessed) {
        checker_.Fail(StrCat("create request ", request, " was answered 'not processed', but ",
                             "its instance ", instance, " exists"));
      } else if (created->second.outcome == Outcome::kAcked &&
                 created->second.instance_key != instance) {
        checker_.Fail(StrCat("create request ", request, " was answered with instance ",
                             created->second.instance_key, ", but its job belongs to ", instance));
      }
    }
    if (verbose_) {
      Log(StrCat("job ", key, " of instance ", instance, " activated at position ",
                 event.position(), " deadline ", job.deadline()));
    }
    int64_t& activated_at = job_activated_at_[key];
    activated_at = std::max(activated_at, event.position());
    auto completed = job_completed_at_.find(key);
    if (completed != job_completed_at_.end() && completed->second < event.position()) {
      checker_.Fail(StrCat("acknowledged completion of job ", key, " (position ", completed->second,
                           ") was lost: activated again at position ", event.position()));
    }
    max_deadline_ms_ = std::max(max_deadline_ms_, job.deadline());
    if (draining_ || !rng_.Chance(opt_.forget_job)) {
      held_jobs_[key] = Job{instance, job.deadline()};
    }
  }
}

void EngineSim::ClientStep() {
  if (!faults_on_) return;  // the healed phase drives the client itself (Run)
  size_t outstanding = Outstanding();
  if (!deployed_) {
    bool deploying = false;
    for (const auto& [id, r] : requests_) {
      deploying |= r.kind == Kind::kDeploy && r.outcome == Outcome::kPending;
    }
    if (!deploying) {
      record::DeploymentRecord deployment;
      auto* resource = deployment.add_resources();
      resource->set_resource_name("one-task.bpmn");
      resource->set_resource(engine::models::kOneTask);
      Submit(Kind::kDeploy, engine::MakeCommand(-1, engine::DeploymentIntent::kCreate, deployment));
    }
  }
  if (outstanding < 16 && rng_.Chance(opt_.create_per_step)) {
    record::ProcessInstanceCreationRecord creation;
    creation.set_bpmn_process_id("one-task");
    creation.set_version(-1);
    Submit(Kind::kCreate,
           engine::MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
  }
  if (outstanding < 16 && rng_.Chance(opt_.activate_per_step)) {
    record::JobBatchRecord batch;
    batch.set_type(kJobType);
    batch.set_worker("sim");
    batch.set_timeout(opt_.job_timeout_ms);
    batch.set_max_jobs_to_activate(static_cast<int32_t>(rng_.Range(1, 8)));
    Submit(Kind::kActivate, engine::MakeCommand(-1, engine::JobBatchIntent::kActivate, batch));
  }
  std::vector<int64_t> complete;
  for (auto it = held_jobs_.begin(); it != held_jobs_.end();) {
    if (rng_.Chance(opt_.complete_per_step)) {
      complete.push_back(it->first);
      it = held_jobs_.erase(it);
    } else if (rng_.Chance(opt_.forget_job * 0.01)) {
      it = held_jobs_.erase(it);  // the worker died holding it
    } else {
      ++it;
    }
  }
  for (int64_t key : complete) {
    record::JobRecord job;
    job.set_variables("{\"done\": true}");
    Submit(Kind::kComplete, engine::MakeCommand(key, engine::JobIntent::kComplete, job), key);
  }
}

// --- Checks ----------------------------------------------------------------------------------

void EngineSim::CheckCommitted(Node& n, uint64_t from, uint64_t to) {
  const raft::RaftLog& log = n.core->raft().raft().log();
  from = std::max(from, log.FirstIndex());
  if (from > to) return;
  auto entries = log.Slice(from, to + 1, UINT64_MAX);
  if (!entries.ok()) return;  // compacted meanwhile
  for (const raft::Entry& e : *entries) {
    checker_.OnPersistEntry(static_cast<uint64_t>(n.id) + 1, e);
    auto [it, inserted] = committed_.emplace(e.index(), std::make_pair(e.term(), EntryHash(e)));
    if (!inserted && (it->second.first != e.term() || it->second.second != EntryHash(e))) {
      checker_.Fail(StrCat("state machine safety (Raft): member ", n.id,
                           " committed a different entry at index ", e.index(), " (term ", e.term(),
                           " vs ", it->second.first, ")"));
    }
  }
}

void EngineSim::CheckRaft(Node& n) {
  const raft::RawNode& raw = n.core->raft();
  absl::Status invariants = raft::CheckInvariants(raw, n.prev_status ? &*n.prev_status : nullptr);
  if (!invariants.ok()) {
    checker_.Fail(StrCat("member ", n.id, ": ", invariants.message()));
  }
  raft::NodeStatus status = raw.Status();
  n.prev_status = status;
  if (status.term < n.last_term) checker_.Fail(StrCat("member ", n.id, " term regressed"));
  n.last_term = status.term;
  if (status.commit < n.last_commit) {
    checker_.Fail(
        StrCat("member ", n.id, " commit regressed from ", n.last_commit, " to ", status.commit));
  }
  if (status.commit > n.last_commit) CheckCommitted(n, n.last_commit + 1, status.commit);
  n.last_commit = status.commit;
  // Log matching over the uncommitted tail (committed entries are checked above).
  const raft::RaftLog& log = raw.raft().log();
  uint64_t from = std::max(status.commit + 1, log.FirstIndex());
  raft::EntryId last = log.LastEntryId();
  bool tail_changed = last.index != n.scanned_last.index || last.term != n.scanned_last.term;
  n.scanned_last = last;
  if (tail_changed && from <= log.LastIndex()) {
    auto tail = log.Slice(from, log.LastIndex() + 1, UINT64_MAX);
    if (tail.ok()) {
      for (const raft::Entry& e : *tail) checker_.OnPersistEntry(status.id, e);
    }
  }
  bool leader = status.role == raft::StateRole::kLeader;
  if (leader) {
    checker_.OnLeader(status.id, status.term);
    if (!n.was_leader) {
      ++elections_;
      Log(StrCat(n.id, " became leader in term ", status.term));
      // Leader completeness: every entry committed anywhere is in the new leader's log.
      for (auto it = committed_.lower_bound(log.FirstIndex()); it != committed_.end(); ++it) {
        absl::StatusOr<uint64_t> term = log.Term(it->first);
        if (!term.ok() || *term != it->second.first) {
          checker_.Fail(StrCat("leader completeness: new leader ", n.id, " lacks committed entry ",
                               it->first, " (term ", it->second.first, ")"));
          break;
        }
      }
    }
  }
  n.was_leader = leader;
  // Applied entries were persisted first: the member holds data of its own again.
  if (n.data_missing && !status.recovering_from_data_loss && n.core->applied_index() > 0) {
    n.data_missing = false;
    Log(StrCat(n.id, " rebuilt after the wipe, applied ", n.core->applied_index()));
  }
}

void EngineSim::CheckChecksum(Node& n) {
  uint64_t applied = n.core->applied_index();
  if (applied == n.last_checked_applied) return;
  absl::StatusOr<PartitionCore::Checksum> checksum = n.core->StateChecksum();
  if (!checksum.ok()) return;
  n.last_checked_applied = applied;
  auto [it, inserted] = checksums_.emplace(checksum->applied_index,
                                           std::make_pair(checksum->position, checksum->checksum));
  if (!inserted && it->second != std::make_pair(checksum->position, checksum->checksum)) {
    checker_.Fail(StrCat("state machine safety (engine): member ", n.id, " at applied index ",
                         checksum->applied_index, " has position ", checksum->position,
                         " checksum ", checksum->checksum, ", another member had position ",
                         it->second.first, " checksum ", it->second.second));
  }
}

void EngineSim::CheckStep() {
  for (auto& [id, n] : nodes_) {
    if (!n.core) continue;
    CheckRaft(n);
    // Checksums walk the whole state: every few steps is enough.
    if (step_ % 8 == 0) CheckChecksum(n);
  }
}

bool EngineSim::NoBacklog() {
  for (auto& [id, n] : nodes_) {
    if (!n.core || n.core->Metrics().deferred_commands > 0) return false;
  }
  return true;
}

bool EngineSim::Converged(std::string* why) {
  std::optional<PartitionCore::Checksum> first;
  for (auto& [id, n] : nodes_) {
    if (!n.core) {
      *why = StrCat("member ", id, " is down");
      return false;
    }
    auto checksum = n.core->StateChecksum();
    if (!checksum.ok()) {
      *why = StrCat("member ", id, ": ", checksum.status().message());
      return false;
    }
    if (!first) {
      first = *checksum;
    } else if (checksum->applied_index != first->applied_index) {
      *why = StrCat("members at applied indexes ", first->applied_index, " and ",
                    checksum->applied_index);
      return false;
    } else if (checksum->checksum != first->checksum || checksum->position != first->position) {
      checker_.Fail(StrCat("state machine safety (engine): members disagree at applied index ",
                           first->applied_index));
      return false;
    }
  }
  return true;
}

void EngineSim::FinalChecks() {
  std::string lost;
  size_t count = 0;
  for (const auto& [instance, request] : acked_instances_) {
    if (instances_with_job_.count(instance)) continue;
    if (++count <= 5) StrAppend(&lost, " ", instance, " (request ", request, ")");
  }
  if (count > 0) {
    checker_.Fail(StrCat(count, " acknowledged instances were lost (their job never appeared):",
                         lost, count > 5 ? " ..." : ""));
  }
}

// --- Run -------------------------------------------------------------------------------------

bool EngineSim::Run() {
  Log(opt_.ToString());
  for (int i = 0; i < opt_.fault_steps && !checker_.failed(); ++i) Step(true);
  if (checker_.failed()) return false;

  // Healed: no more faults, everyone back. Then a new instance must commit, every job must be
  // drained (timed-out ones come back), and all members must converge, within the bound.
  faults_on_ = false;
  net_.Heal();
  net_.set_faults(NetworkFaults{});
  for (auto& [id, n] : nodes_) {
    if (!n.core) Restart(n);
  }
  Log("healed");
  draining_ = true;
  // Jobs activated before this time may still be locked by a deadline; activating is finished
  // only when an empty answer comes after all of them expired.
  int64_t skew_margin_ms = opt_.max_clock_skew_ms + 1'000;
  int64_t locked_until_ms = step_ * opt_.step_ms + opt_.job_timeout_ms + skew_margin_ms;
  int64_t marker = 0;
  int64_t probe = 0;  // the activation in flight
  int64_t probe_sent_ms = 0;
  int empty_probes = 0;  // consecutive empty answers sent after every lock expired
  std::string why = "no leader processing";
  for (int i = 0; i < opt_.liveness_steps && !checker_.failed(); ++i) {
    Step(false);
    int64_t now_ms = step_ * opt_.step_ms;
    if (Outstanding() > 0) continue;
    if (probe != 0) {
      const Request& r = requests_[probe];
      if (r.outcome == Outcome::kAcked && r.jobs == 0 && probe_sent_ms >= locked_until_ms) {
        ++empty_probes;
      } else {
        empty_probes = 0;
      }
      // An activation without an answer may have locked jobs.
      if (r.outcome == Outcome::kUnknown) {
        locked_until_ms =
            std::max(locked_until_ms, probe_sent_ms + opt_.job_timeout_ms + skew_margin_ms);
      }
      probe = 0;
    }
    if (!deployed_) {
      record::DeploymentRecord deployment;
      auto* resource = deployment.add_resources();
      resource->set_resource_name("one-task.bpmn");
      resource->set_resource(engine::models::kOneTask);
      Submit(Kind::kDeploy, engine::MakeCommand(-1, engine::DeploymentIntent::kCreate, deployment));
      continue;
    }
    if (marker == 0 || requests_[marker].outcome != Outcome::kAcked) {
      if (marker != 0) Log(StrCat("marker create ", marker, " not acknowledged; again"));
      record::ProcessInstanceCreationRecord creation;
      creation.set_bpmn_process_id("one-task");
      creation.set_version(-1);
      marker =
          Submit(Kind::kCreate,
                 engine::MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation));
      continue;
    }
    if (!held_jobs_.empty()) {
      empty_probes = 0;
      std::vector<int64_t> keys;
      for (const auto& [key, job] : held_jobs_) keys.push_back(key);
      held_jobs_.clear();
      for (int64_t key : keys) {
        record::JobRecord job;
        job.set_variables("{\"done\": true}");
        Submit(Kind::kComplete, engine::MakeCommand(key, engine::JobIntent::kComplete, job), key);
      }
      continue;
    }
    // Two empty activations in a row after every lock expired (due timeouts are processed after
    // the commands of a batch, so one could race them), and no member has deferred follow-ups
    // left: the drain is over. Without the last condition an empty answer may only mean that
    // a small follow-up budget has not worked through the backlog yet (chains advance several
    // steps at once when the budget allows, so no client-visible marker bounds it).
    if (empty_probes >= 2 && NoBacklog()) {
      if (Converged(&why)) {
        FinalChecks();
        Log(StrCat("converged at step ", step_));
        return !checker_.failed();
      }
      continue;
    }
    record::JobBatchRecord batch;
    batch.set_type(kJobType);
    batch.set_worker("sim");
    batch.set_timeout(opt_.job_timeout_ms);
    batch.set_max_jobs_to_activate(32);
    probe_sent_ms = now_ms;
    probe =
        Submit(Kind::kActivate, engine::MakeCommand(-1, engine::JobBatchIntent::kActivate, batch));
  }
  if (checker_.failed()) return false;
  std::string states;
  for (auto& [id, n] : nodes_) {
    if (n.core) StrAppend(&states, "\n  member ", id, ": ", n.core->raft().Status().ToString());
  }
  checker_.Fail(StrCat("liveness: not converged within ", opt_.liveness_steps, " healed steps (",
                       why, "); marker ", marker,
                       marker ? StrCat(" ", static_cast<int>(requests_[marker].outcome)) : "",
                       "; held jobs ", held_jobs_.size(), "; outstanding ", Outstanding(), states));
  return false;
}

std::string EngineSim::Summary() const {
  return StrCat("steps=", step_, " members=", opt_.members, " requests=", next_request_,
                " acked=", answers_[static_cast<int>(Outcome::kAcked)],
                " rejected=", answers_[static_cast<int>(Outcome::kRejected)],
                " not_processed=", answers_[static_cast<int>(Outcome::kNotProcessed)],
                " unknown=", answers_[static_cast<int>(Outcome::kUnknown)],
                " instances=", acked_instances_.size(), " jobs_activated=", activations_,
                " completions=", completions_acked_, " crashes=", crashes_, " wipes=", wipes_,
                " elections=", elections_, " snapshot_requests=", snapshots_taken_,
                " committed=", committed_.size(), " trace=", trace_hash_);
}

}  // namespace tern::sim
