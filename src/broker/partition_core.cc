#include "broker/partition_core.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "base/check.h"
#include "base/strings.h"
#include "broker/peer_checks.h"
#include "engine/intent.h"
#include "journal/crc32c.h"

namespace tern::broker {
namespace {

uint64_t RaftId(int32_t node_id) { return static_cast<uint64_t>(node_id) + 1; }
int32_t NodeId(uint64_t raft_id) { return static_cast<int32_t>(raft_id) - 1; }

gateway::PartitionRole ToRole(raft::StateRole role) {
  return role == raft::StateRole::kLeader ? gateway::PartitionRole::kLeader
                                          : gateway::PartitionRole::kFollower;
}

constexpr int32_t kJobYieldIntent = 14;  // engine::JobIntent::kYield

std::string RecoveryMarkerPath(const std::string& directory) { return directory + "/recovering"; }

// Whether Raft would take a proposal now. Our role comes from the last Ready, but Raft may have
// stepped down since (a higher term arrived in Receive, check-quorum at a tick) or started a
// leadership transfer; either way it refuses proposals, so nothing may be processed.
bool AcceptsProposals(const raft::RawNode& raft) {
  return raft.raft().role() == raft::StateRole::kLeader && raft.raft().lead_transferee() == 0;
}

}  // namespace

// Job streams opened by gateways, per job type, handed out round-robin.
class PartitionCore::StreamRegistry : public engine::JobStreamRegistry {
 public:
  struct Entry {
    int64_t id;
    gateway::JobStreamSpec spec;
    gateway::JobPushCallback push;
  };

  void Add(Entry entry) {
    Remove(entry.id);
    streams_.push_back(std::move(entry));
  }
  void Remove(int64_t id) {
    streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                  [id](const Entry& e) { return e.id == id; }),
                   streams_.end());
  }
  const Entry* Find(int64_t id) const {
    for (const auto& entry : streams_) {
      if (entry.id == id) return &entry;
    }
    return nullptr;
  }

  std::optional<Stream> Pick(std::string_view job_type, std::string_view tenant_id) override {
    size_t n = streams_.size();
    for (size_t i = 0; i < n; ++i) {
      const Entry& entry = streams_[(next_ + i) % n];
      if (entry.spec.type != job_type) continue;
      bool tenant_ok = entry.spec.tenant_ids.empty()
                           ? tenant_id == "<default>"
                           : std::find(entry.spec.tenant_ids.begin(), entry.spec.tenant_ids.end(),
                                       tenant_id) != entry.spec.tenant_ids.end();
      if (!tenant_ok) continue;
      next_ = (next_ + i + 1) % n;
      Stream stream;
      stream.stream_id = entry.id;
      stream.worker = entry.spec.worker;
      stream.timeout_ms = entry.spec.timeout_ms;
      stream.fetch_variables = entry.spec.fetch_variables;
      return stream;
    }
    return std::nullopt;
  }

 private:
  std::vector<Entry> streams_;
  size_t next_ = 0;
};

PartitionCore::PartitionCore(PartitionConfig config, PartitionEnvironment environment)
    : config_(std::move(config)),
      environment_(std::move(environment)),
      clock_(*environment_.clock),
      streams_(std::make_unique<StreamRegistry>()),
      limiter_(config_.backpressure) {}

PartitionCore::~PartitionCore() { StopExport(); }

absl::StatusOr<std::unique_ptr<PartitionCore>> PartitionCore::Open(
    PartitionConfig config, PartitionEnvironment environment) {
  TERN_CHECK(environment.clock != nullptr && environment.file_system != nullptr &&
             environment.state != nullptr);
  std::unique_ptr<PartitionCore> core(new PartitionCore(std::move(config), std::move(environment)));
  if (core->WaitForDiskSpaceToOpen()) return core;
  if (auto status = core->Recover(); !status.ok()) return status;
  return core;
}

bool PartitionCore::WaitForDiskSpaceToOpen() {
  if (!environment_.disk_space) return false;
  auto space = environment_.disk_space();
  if (!space.ok()) return false;
  disk_ = *space;
  disk_threshold_bytes_ = config_.disk_watermark.ThresholdBytes(disk_.total_bytes);
  // Opening writes a little (RocksDB's manifest, a journal segment), and RocksDB aborts the
  // process when such a write fails: on a (nearly) full disk the partition waits, inactive,
  // instead of taking the broker down at every start.
  constexpr uint64_t kMaxSpaceToOpenBytes = 16ull << 20;
  const uint64_t needed = std::min(disk_threshold_bytes_, kMaxSpaceToOpenBytes);
  if (disk_.free_bytes >= needed) return false;
  disk_low_ = disk_.free_bytes < disk_threshold_bytes_;
  suspend_cause_ = StrCat("the disk holding ", config_.directory, " has ",
                          HumanBytes(disk_.free_bytes), " free, too little to open the partition");
  spdlog::warn("partition {}: {}; it opens by itself once {} are free", config_.partition_id,
               suspend_cause_, HumanBytes(disk_threshold_bytes_));
  last_disk_check_ms_ = clock_.MonotonicMillis();
  suspended_until_ms_ = last_disk_check_ms_ + config_.disk_check_ms;
  return true;
}

absl::Status PartitionCore::Recover() {
  std::vector<uint64_t> voters;
  for (int32_t node : config_.member_node_ids) voters.push_back(RaftId(node));
  auto storage = journal::JournalStorage::Open(
      environment_.file_system, config_.directory + "/journal", voters, config_.journal);
  if (!storage.ok()) return storage.status();
  storage_ = *std::move(storage);
  const auto& recovery = storage_->journal().recovery();
  if (recovery.torn_bytes_truncated > 0) {
    spdlog::warn("partition {}: truncated a torn write of {} bytes at the end of {}",
                 config_.partition_id, recovery.torn_bytes_truncated, recovery.torn_segment);
  }
  if (auto status = OpenState(storage_->FirstIndex() - 1); !status.ok()) return status;
  if (applied_index_ > storage_->LastIndex()) {
    // A snapshot received from the leader is published by the state backend before the
    // journal is reset to it; a crash in between leaves state newer than the log. Finish the
    // install the way Save() would have: reset the journal to the snapshot, with a hard state
    // whose commit covers it.
    auto latest = environment_.state->Latest();
    auto initial = storage_->InitialState();
    if (!latest || latest->index != applied_index_ || !initial.ok()) {
      return absl::DataLossError(StrCat("partition ", config_.partition_id, ": state at index ",
                                        applied_index_, " is beyond the log (last index ",
                                        storage_->LastIndex(), ") and cannot be reconciled"));
    }
    raft::Ready install;
    raft::SnapshotMetadata snapshot;
    snapshot.set_index(latest->index);
    snapshot.set_term(latest->term);
    *snapshot.mutable_conf_state() = initial->conf_state;
    if (snapshot.conf_state().voters().empty()) {
      for (uint64_t voter : voters) snapshot.mutable_conf_state()->add_voters(voter);
    }
    install.snapshot = snapshot;
    raft::HardState hard_state = initial->hard_state;
    hard_state.set_term(std::max(hard_state.term(), latest->term));
    hard_state.set_commit(latest->index);
    install.hard_state = hard_state;
    install.must_sync = true;
    if (auto status = storage_->Save(install); !status.ok()) return status;
    spdlog::warn(
        "partition {}: finished installing the snapshot at index {} received before a "
        "crash",
        config_.partition_id, latest->index);
  }

  raft::Config raft_config;
  raft_config.id = RaftId(config_.node_id);
  raft_config.voters = voters;
  raft_config.election_ticks = config_.election_ticks;
  raft_config.heartbeat_ticks = config_.heartbeat_ticks;
  raft_config.seed =
      environment_.seed ^ (raft_config.id << 32) ^ static_cast<uint64_t>(config_.partition_id);
  raft_config.applied = applied_index_;
  // A member that lost its Raft data (a replaced disk, a partition rebuilt empty) finds out from
  // its peers and then must not vote until a leader has caught it up (src/raft/README.md, "Data
  // loss"). Raft keeps that state in memory only, so we keep a marker file while it lasts: a
  // crash halfway through the rebuild restarts in recovery again.
  recovery_marker_ = environment_.file_system->Exists(RecoveryMarkerPath(config_.directory));
  raft_config.recovering_from_data_loss = recovery_marker_;
  if (recovery_marker_) {
    spdlog::warn("partition {}: still rebuilding after data loss; not voting until caught up",
                 config_.partition_id);
  }
  raft_ = std::make_unique<raft::RawNode>(raft_config, storage_.get());
  spdlog::info("partition {}: recovered at index {} (snapshot {}, log {}..{})",
               config_.partition_id, applied_index_, snapshot_index_, storage_->FirstIndex(),
               storage_->LastIndex());
  return absl::OkStatus();
}

absl::Status PartitionCore::OpenState(uint64_t min_index) {
  FinishSnapshot(/*wait=*/true);
  engine_.reset();
  store_.reset();
  SnapshotInfo opened;
  auto store = environment_.state->OpenLatest(min_index, &opened);
  if (!store.ok()) {
    return absl::DataLossError(
        StrCat("partition ", config_.partition_id, ": ", ToStd(store.status().message())));
  }
  store_ = *std::move(store);
  applied_index_ = opened.index;
  snapshot_index_ = opened.index;
  engine::EngineConfig engine_config = config_.engine;
  engine_config.partition_id = config_.partition_id;
  engine_config.partition_count = config_.partition_count;
  engine_ = std::make_unique<engine::Engine>(engine_config, *store_, streams_.get());
  next_due_ms_ = engine_->NextDueTime();
  LoadExporterPositions();
  return absl::OkStatus();
}

void PartitionCore::Start() {
  if (suspended()) return;  // opened later, by MaybeResume
  if (config_.member_node_ids.size() == 1) {
    // Alone in the group: no election timeout to wait for.
    raft_->Campaign();
  }
  last_snapshot_ms_ = clock_.MonotonicMillis();
  next_tick_ms_ = clock_.MonotonicMillis() + config_.tick_ms;
}

void PartitionCore::Submit(record::Record command, int64_t timeout_ms,
                           gateway::CommandCallback done) {
  if (!refused_.ok()) {
    done(absl::UnavailableError(refused_.message()));
    return;
  }
  if (suspended()) {
    done(absl::UnavailableError(StrCat("partition ", config_.partition_id, " on node ",
                                       config_.node_id, " is inactive (", suspend_cause_,
                                       "); it reopens by itself")));
    return;
  }
  if (!is_leader() || !processing_ready_) {
    std::string leader = lead_ == 0 ? std::string("none known") : StrCat("node ", NodeId(lead_));
    done(absl::UnavailableError(StrCat("partition ", config_.partition_id, " is not led by node ",
                                       config_.node_id, " (leader: ", leader, ")")));
    return;
  }
  const int64_t now = clock_.MonotonicMillis();
  if (queued_.size() >= config_.max_queued_commands_hard) {
    ++metrics_.backpressure_rejections;
    done(absl::ResourceExhaustedError(
        StrCat("Reached maximum capacity of requests handled: partition ", config_.partition_id,
               " has ", queued_.size(), " commands queued, its hard limit; retry later")));
    return;
  }
  // Work already accepted is finished even when the partition is full or overloaded.
  if (IsExemptFromBackpressure(command)) {
    limiter_.Acquire();
  } else if (disk_low_) {
    ++metrics_.disk_rejections;
    done(absl::ResourceExhaustedError(
        StrCat("partition ", config_.partition_id, " refuses new work: the disk holding ",
               config_.directory, " has ", HumanBytes(disk_.free_bytes), " free (",
               disk_.free_bytes, " bytes), below the watermark of ",
               HumanBytes(disk_threshold_bytes_), "; it resumes when space is freed")));
    return;
  } else if (queued_.size() >= config_.max_queued_commands || !limiter_.TryAcquire(now)) {
    ++metrics_.backpressure_rejections;
    done(absl::ResourceExhaustedError(
        StrCat("Reached maximum capacity of requests handled: partition ", config_.partition_id,
               " is overloaded (", limiter_.in_flight(), " commands in flight, limit ",
               limiter_.limit(), ", adapted to a command latency of ",
               static_cast<int64_t>(limiter_.last_latency_ms()), " ms against a baseline of ",
               static_cast<int64_t>(limiter_.baseline_ms()), " ms); retry later")));
    return;
  }
  queued_.push_back(QueuedCommand{std::move(command), now + std::max<int64_t>(1, timeout_ms),
                                  std::move(done), now});
}

void PartitionCore::Receive(const raft::Message& message) {
  if (suspended()) return;  // peers resend; Raft recovers from lost messages
  if (!refused_.ok()) return;
  // A leader's heartbeat never commits beyond what it knows this member holds (its match
  // index); one that does means this member lost entries it had acknowledged (a wiped or
  // replaced disk, a partition rebuilt empty), or the sender is confused. Raft must see it: it
  // does not stop on it but commits nothing it lacks, stops voting and asks the leader to send
  // the log again (issue 12). Dropping it here kept a wiped member out of the group for good.
  if (message.type() == raft::MSG_HEARTBEAT && message.term() >= raft_->raft().term() &&
      !raft_->raft().recovering() && message.commit() > raft_->raft().log().LastIndex()) {
    if (++dropped_heartbeats_ % 1000 == 1) {
      spdlog::warn(
          "partition {}: a heartbeat from node {} commits index {} beyond the log ({}); "
          "rebuilding from the leader ({} such heartbeats so far)",
          config_.partition_id, NodeId(message.from()), message.commit(),
          raft_->raft().log().LastIndex(), dropped_heartbeats_);
    }
  }
  absl::Status status = raft_->Step(message);
  if (!status.ok()) {
    spdlog::debug("partition {}: dropped message: {}", config_.partition_id,
                  ToStd(status.message()));
  }
}

void PartitionCore::AddJobStream(int64_t stream_id, gateway::JobStreamSpec spec,
                                 gateway::JobPushCallback push) {
  streams_->Add({stream_id, std::move(spec), std::move(push)});
}

void PartitionCore::RemoveJobStream(int64_t stream_id) { streams_->Remove(stream_id); }

absl::Status PartitionCore::TransferLeadership(int32_t to_node_id) {
  if (suspended()) {
    return absl::UnavailableError(StrCat("partition ", config_.partition_id, " is inactive"));
  }
  return raft_->TransferLeadership(RaftId(to_node_id));
}

int64_t PartitionCore::NextWakeMillis() const {
  if (suspended()) return *suspended_until_ms_;
  int64_t wake = next_tick_ms_;
  if (is_leader() && processing_ready_ && next_due_ms_) {
    // Already due but not processed (too many proposals in flight): their commit wakes us.
    int64_t until_due = *next_due_ms_ - clock_.WallMillis();
    if (until_due > 0) wake = std::min(wake, clock_.MonotonicMillis() + until_due);
  }
  return wake;
}

bool PartitionCore::HasWork() {
  if (suspended()) return false;
  if (!refused_.ok()) return false;
  if (raft_->HasReady()) return true;
  if (!is_leader() || !processing_ready_ || !AcceptsProposals(*raft_)) return false;
  if (in_flight_.size() >= config_.max_uncommitted_entries) return false;
  return !queued_.empty() || engine_->has_deferred_commands() ||
         (next_due_ms_ && *next_due_ms_ <= clock_.WallMillis());
}

void PartitionCore::Poll() {
  int64_t now = clock_.MonotonicMillis();
  if (!refused_.ok()) {
    // Nothing to drive any more; wake rarely.
    next_tick_ms_ = now + 1'000;
    UpdateMetrics();
    return;
  }
  MaybeCheckDisk(now);
  if (suspended()) {
    MaybeResume(now);
    if (suspended()) {
      UpdateMetrics();
      return;
    }
  }
  if (is_leader() && now - next_tick_ms_ >= config_.election_ticks * config_.tick_ms) {
    // This thread did not run for longer than an election timeout (the process was stopped, or
    // starved): the others may have elected a new leader meanwhile, and catching up one tick
    // per poll kept it reporting LEADER for two more timeouts (issue 12). Two quorum checks at
    // once step it down now (the first may still count followers heard before the pause; none
    // can be heard between the two); if it still has a majority, it is elected again.
    for (int i = 0; i < 2 * config_.election_ticks; ++i) raft_->Tick();
    next_tick_ms_ = now + config_.tick_ms;
  }
  while (now >= next_tick_ms_) {
    raft_->Tick();
    next_tick_ms_ += config_.tick_ms;
    if (next_tick_ms_ < now - 10 * config_.tick_ms) next_tick_ms_ = now + config_.tick_ms;
  }
  // Messages stepped since the last round may have changed the role (a higher term makes the
  // leader step down): take those changes in before deciding to process.
  HandleReadies();
  if (is_leader() && processing_ready_) ProcessBatch(now);
  HandleReadies();
  if (suspended()) {
    UpdateMetrics();
    return;
  }
  ExpireRequests(now);
  MaybeSnapshot(now);
  MaybeRedistribute(now);
  MaybeBalanceLeadership(now);
  PumpSnapshotTransfers(now);
  PumpExport(now);
  UpdateMetrics();
}

void PartitionCore::UpdateMetrics() {
  metrics_.backpressure_limit = limiter_.limit();
  metrics_.commands_in_flight = limiter_.in_flight();
  metrics_.command_latency_ms = limiter_.last_latency_ms();
  metrics_.disk_free_bytes = disk_.free_bytes;
  metrics_.disk_total_bytes = disk_.total_bytes;
  metrics_.disk_watermark_bytes = disk_threshold_bytes_;
  metrics_.disk_low = disk_low_;
  if (suspended()) {
    metrics_.role = gateway::PartitionRole::kInactive;
    metrics_.healthy = false;
    metrics_.ready = false;
    metrics_.leader_node_id = -1;
    return;
  }
  metrics_.role = ToRole(role_);
  metrics_.healthy = refused_.ok();
  // Ready: this replica knows its leader and, if it is the leader, processes commands.
  metrics_.ready = lead_ != 0 && (!is_leader() || processing_ready_);
  metrics_.term = term_;
  // Read straight from the log: Status() copies every follower's progress, once per poll.
  metrics_.commit_index = raft_->raft().log().committed();
  metrics_.applied_index = applied_index_;
  metrics_.snapshot_index = snapshot_index_;
  metrics_.leader_node_id = lead_ == 0 ? -1 : NodeId(lead_);
  metrics_.deferred_commands = engine_ ? engine_->deferred_command_count() : 0;
}

void PartitionCore::ProcessBatch(int64_t now_ms) {
  int64_t wall = clock_.WallMillis();
  bool due = next_due_ms_ && *next_due_ms_ <= wall;
  if (queued_.empty() && !due && !engine_->has_deferred_commands()) return;
  if (in_flight_.size() >= config_.max_uncommitted_entries) return;
  // The commands stay queued: answered by OnRoleChange if leadership is lost, processed if a
  // transfer is abandoned.
  if (!AcceptsProposals(*raft_)) return;
  // Timestamps never go backwards, even if the wall clock does.
  last_timestamp_ms_ = std::max(last_timestamp_ms_, wall);
  engine_->BeginBatch(last_timestamp_ms_);
  engine_->ProcessDeferredCommands();
  size_t processed = 0;
  std::vector<int64_t> admitted;
  while (!queued_.empty() && processed < config_.max_commands_per_batch) {
    QueuedCommand queued = std::move(queued_.front());
    queued_.pop_front();
    if (queued.deadline_ms <= now_ms) {
      // Its wait counts as a latency sample: a queue this slow must shrink the limit.
      if (queued.admitted_ms >= 0) limiter_.Release(now_ms, queued.admitted_ms, true);
      queued.done(absl::DeadlineExceededError("the request timed out before it was processed"));
      continue;
    }
    ++processed;
    if (queued.admitted_ms >= 0) admitted.push_back(queued.admitted_ms);
    if (queued.command.source_partition_id() > 0) {
      // From another partition: nobody waits for an answer.
      queued.done(record::Record());
      engine_->ProcessClientCommand(std::move(queued.command));
      continue;
    }
    int64_t request_id = ++next_request_id_;
    queued.command.set_has_request(true);
    queued.command.set_request_id(request_id);
    queued.command.set_request_stream_id(config_.node_id);
    pending_[request_id] = PendingRequest{std::move(queued.done), queued.deadline_ms};
    engine_->ProcessClientCommand(std::move(queued.command));
  }
  if (due) engine_->ProcessDueWork();
  engine::BatchOutput output = engine_->EndBatch();
  next_due_ms_ = engine_->NextDueTime();
  metrics_.processed_commands += processed;
  metrics_.written_records += static_cast<uint64_t>(output.batch.records_size());
  InFlight effects;
  effects.responses = std::move(output.responses);
  effects.pushed_jobs = std::move(output.pushed_jobs);
  effects.jobs_available = std::move(output.jobs_available);
  effects.outgoing_commands = std::move(output.outgoing_commands);
  effects.admitted_ms = std::move(admitted);
  for (const auto& record : output.batch.records()) {
    if (record.record_type() == record::EVENT && record.value_type() == record::CHECKPOINT &&
        record.intent() == ToInt(engine::CheckpointIntent::kCreated)) {
      CommittedCheckpoint checkpoint;
      checkpoint.checkpoint_id = record.checkpoint().checkpoint_id();
      checkpoint.checkpoint_position = record.checkpoint().checkpoint_position();
      effects.checkpoints.push_back(checkpoint);
    }
  }
  if (!engine::BatchHasContent(output.batch)) {
    // Nothing to commit, but the answers may depend on earlier proposals: release them with
    // the last one in flight, or now.
    if (in_flight_.empty()) {
      Release(effects);
    } else {
      auto& last = in_flight_.rbegin()->second;
      for (auto& r : effects.responses) last.responses.push_back(std::move(r));
      for (auto& j : effects.pushed_jobs) last.pushed_jobs.push_back(std::move(j));
      for (auto& t : effects.jobs_available) last.jobs_available.push_back(std::move(t));
      for (auto& c : effects.outgoing_commands) last.outgoing_commands.push_back(std::move(c));
      for (int64_t t : effects.admitted_ms) last.admitted_ms.push_back(t);
    }
    return;
  }
  std::string data;
  TERN_CHECK(output.batch.SerializeToString(&data));
  auto proposed = raft_->Propose(std::move(data));
  // We are the leader on this thread and checked it above; a refusal here is a broken
  // invariant, not an expected failure.
  TERN_CHECK(proposed.ok(), "leader could not propose: ", proposed.status());
  effects.term = proposed->term;
  in_flight_.emplace(proposed->index, std::move(effects));
}

bool PartitionCore::SyncRecoveryMarker() {
  bool recovering = raft_->raft().recovering();
  if (recovering == recovery_marker_) return true;
  // Removed only once nothing is left to persist: the Ready that ended the recovery carries the
  // vote Raft records then, and must be on disk first.
  if (!recovering && raft_->HasReady()) return true;
  journal::FileSystem& fs = *environment_.file_system;
  const std::string path = RecoveryMarkerPath(config_.directory);
  absl::Status status;
  if (recovering) {
    // Durable before anything the recovery writes.
    status = fs.CreateDir(config_.directory);
    if (status.ok()) {
      auto file = fs.Open(path, /*create=*/true);
      status = file.ok() ? (*file)->Sync() : file.status();
    }
  } else {
    status = fs.Remove(path);
  }
  if (status.ok()) status = fs.SyncDir(config_.directory);
  if (!status.ok()) {
    spdlog::error("partition {}: cannot {} {}: {}", config_.partition_id,
                  recovering ? "write" : "remove", path, ToStd(status.message()));
    return false;
  }
  recovery_marker_ = recovering;
  if (recovering) {
    spdlog::warn(
        "partition {}: the leader expects entries this replica does not have (its data was "
        "wiped or lost); rebuilding from the leader, not voting until caught up",
        config_.partition_id);
  } else {
    spdlog::info("partition {}: rebuilt from the leader, voting again", config_.partition_id);
  }
  return true;
}

void PartitionCore::HandleReadies() {
  while (!suspended() && raft_->HasReady()) {
    // The marker goes down before the Ready that starts the rebuild is persisted.
    if (!SyncRecoveryMarker()) return;
    raft::Ready ready = raft_->GetReady();
    if (ready.soft_state) OnRoleChange(*ready.soft_state);
    if (!refused_.ok()) return;
    if (ready.hard_state) term_ = ready.hard_state->term();
    // A leader's appends and heartbeats leave before its own write, so that followers write in
    // parallel with it (Raft thesis 10.2.1; etcd does the same). They promise nothing about our
    // disk: the leader counts its own copy towards commit only once Advance reports it
    // persisted, and its term and vote became durable in the Ready that started its election.
    // Everything else waits for the write below: an acknowledgement or a vote must never leave
    // before what it promises is on disk.
    std::vector<bool> sent_early(ready.messages.size(), false);
    for (size_t i = 0; i < ready.messages.size(); ++i) {
      raft::MessageType type = ready.messages[i].type();
      if ((type == raft::MSG_APP || type == raft::MSG_HEARTBEAT) &&
          environment_.transport != nullptr) {
        const int32_t to = NodeId(ready.messages[i].to());
        environment_.transport->Send(to, config_.partition_id, std::move(ready.messages[i]));
        sent_early[i] = true;
      }
    }
    int64_t start = clock_.MonotonicMillis();
    absl::Status saved = storage_->Save(ready);
    // The log is the source of truth: if it cannot be written (a full disk), nothing of this
    // Ready may be acknowledged or sent, and this replica must stop rather than run on with a
    // log it cannot trust. It stops without aborting the process and reopens from disk later.
    if (!saved.ok()) {
      SuspendAfterWriteFailure(saved);
      return;
    }
    if (!ready.entries.empty() && ready.must_sync) {
      metrics_.appended_entries += ready.entries.size();
      metrics_.syncs++;
      metrics_.append_latency_ms_total += static_cast<double>(clock_.MonotonicMillis() - start);
    }
    if (ready.snapshot) InstallSnapshot(*ready.snapshot);
    for (size_t i = 0; i < ready.messages.size(); ++i) {
      if (sent_early[i]) continue;
      raft::Message& message = ready.messages[i];
      if (message.type() == raft::MSG_SNAP) {
        StartSnapshotTransfer(message);
      } else if (environment_.transport != nullptr) {
        // The destination is read before the message is moved into the call (argument
        // evaluation order is unspecified).
        const int32_t to = NodeId(message.to());
        environment_.transport->Send(to, config_.partition_id, std::move(message));
      }
    }
    for (const auto& entry : ready.committed_entries) {
      ApplyCommitted(entry);
      if (!refused_.ok()) return;
    }
    raft_->Advance(ready);
  }
  SyncRecoveryMarker();
}

void PartitionCore::ApplyCommitted(const raft::Entry& entry) {
  if (entry.index() <= applied_index_) return;  // covered by an installed snapshot
  applied_index_ = entry.index();
  auto own = in_flight_.find(entry.index());
  if (own != in_flight_.end()) {
    if (own->second.term == entry.term()) {
      // Our own batch: state already has it; now it may be answered. A checkpoint in it is
      // backed up first, so that its backup is under way (IN_PROGRESS) once the request is
      // answered, and before a later snapshot can replace the one at or before it.
      for (auto& checkpoint : own->second.checkpoints) {
        if (!environment_.checkpoint_committed) break;
        checkpoint.index = entry.index();
        checkpoint.term = entry.term();
        checkpoint.snapshot = environment_.state->Latest();
        environment_.checkpoint_committed(checkpoint);
      }
      Release(own->second);
      in_flight_.erase(own);
      return;
    }
    // A different entry won this index: our proposal is lost. Leadership changed, and
    // OnRoleChange already rebuilt the state.
    in_flight_.erase(own);
  }
  if (!ApplyEntry(entry)) {
    applied_index_ = entry.index() - 1;
    return;
  }
  if (is_leader() && !processing_ready_ && entry.index() >= leader_start_index_) {
    processing_ready_ = true;
    next_due_ms_ = engine_->NextDueTime();
    // A new leader sends what its predecessor may not have delivered.
    last_redistribution_ms_ = 0;
    spdlog::info("partition {}: leader for term {}, processing from index {}", config_.partition_id,
                 term_, entry.index());
    StartExport();
  }
}

bool PartitionCore::ApplyEntry(const raft::Entry& entry) {
  // Entries come from the leader, and followers refuse undecodable ones before persisting them
  // (peer_checks.h); one in the committed log anyway (written by an older version, or forged
  // by a sender that claimed a member's id) must not take the process down, now or at every
  // restart. This replica stops instead; the others keep the group going.
  auto decoded = DecodeEntry(entry);
  if (decoded.ok() && *decoded && (*decoded)->records_size() > 0 &&
      (*decoded)->first_position() != engine_->last_position() + 1) {
    decoded = absl::DataLossError(
        StrCat("entry ", entry.index(), " starts at position ", (*decoded)->first_position(),
               " but the state ends at position ", engine_->last_position()));
  }
  if (!decoded.ok()) {
    Refuse(absl::DataLossError(
        StrCat("partition ", config_.partition_id,
               " cannot apply its committed log: ", ToStd(decoded.status().message()))));
    return false;
  }
  if (*decoded) engine_->ApplyBatch(**decoded);
  if (*decoded && ((*decoded)->exporter_positions_size() > 0 || (*decoded)->exported_index() > 0)) {
    ApplyExporterPositions(**decoded);
  }
  return true;
}

void PartitionCore::Refuse(absl::Status cause) {
  spdlog::error(
      "{}; this replica stops serving (the broker's other partitions carry on). "
      "Restore the partition's data from a healthy replica.",
      ToStd(cause.message()));
  refused_ = std::move(cause);
  StopExport();
  Shutdown(absl::UnavailableError(refused_.message()), absl::AbortedError(refused_.message()));
  in_flight_.clear();
  outgoing_snapshots_.clear();
  incoming_snapshot_.reset();
  processing_ready_ = false;
  role_ = raft::StateRole::kFollower;
  lead_ = 0;
  UpdateMetrics();
}

void PartitionCore::InstallSnapshot(const raft::SnapshotMetadata& snapshot) {
  // The journal was reset to the snapshot by Save(); the received state is the newest snapshot
  // of the backend.
  TERN_CHECK(in_flight_.empty(), "a leader does not receive snapshots");
  FinishSnapshot(/*wait=*/true);
  // A newer snapshot may have been received and published whose MsgSnap Raft then refused
  // (it came from a leader that had been deposed); the state must be the one Raft installed.
  environment_.state->DeleteNewerSnapshots(snapshot.index());
  TERN_CHECK_OK(OpenState(snapshot.index()));
  TERN_CHECK(applied_index_ == snapshot.index(), "installed snapshot ", applied_index_,
             " is not the one Raft sent: ", snapshot.index());
  ++metrics_.snapshots_installed;
  spdlog::info("partition {}: installed snapshot at index {} from the leader", config_.partition_id,
               snapshot.index());
}

void PartitionCore::Release(InFlight& effects) {
  if (!effects.admitted_ms.empty()) {
    const int64_t now = clock_.MonotonicMillis();
    for (int64_t admitted : effects.admitted_ms) limiter_.Release(now, admitted, true);
    effects.admitted_ms.clear();
  }
  Route(effects.outgoing_commands);
  for (auto& response : effects.responses) {
    auto it = pending_.find(response.request_id);
    if (it == pending_.end()) continue;  // timed out, or asked of an earlier leader
    auto done = std::move(it->second.done);
    pending_.erase(it);
    done(std::move(response.record));
  }
  for (auto& pushed : effects.pushed_jobs) {
    if (const auto* stream = streams_->Find(pushed.stream_id)) {
      stream->push(config_.partition_id, pushed.job_key, pushed.job);
    } else {
      // The stream closed before the activation committed: give the job back.
      record::Record yield;
      yield.set_record_type(record::COMMAND);
      yield.set_key(pushed.job_key);
      yield.set_intent(kJobYieldIntent);
      yield.mutable_job();
      queued_.push_back(QueuedCommand{std::move(yield), clock_.MonotonicMillis() + 60'000,
                                      [](absl::StatusOr<record::Record>) {}});
    }
  }
  if (!effects.jobs_available.empty() && environment_.jobs_available) {
    std::sort(effects.jobs_available.begin(), effects.jobs_available.end());
    effects.jobs_available.erase(
        std::unique(effects.jobs_available.begin(), effects.jobs_available.end()),
        effects.jobs_available.end());
    for (const auto& type : effects.jobs_available) environment_.jobs_available(type);
  }
}

void PartitionCore::Route(std::vector<engine::OutgoingCommand>& commands) {
  if (commands.empty() || !environment_.route) return;
  for (auto& outgoing : commands) {
    environment_.route(outgoing.partition_id, std::move(outgoing.command));
  }
  commands.clear();
}

void PartitionCore::MaybeRedistribute(int64_t now_ms) {
  // Commands for other partitions not acknowledged within a few seconds are sent again;
  // receivers ignore repeats.
  constexpr int64_t kRedistributeEveryMs = 5'000;
  if (!is_leader() || !processing_ready_ || !in_flight_.empty()) return;
  if (now_ms - last_redistribution_ms_ < kRedistributeEveryMs) return;
  last_redistribution_ms_ = now_ms;
  auto pending = engine_->PendingOutgoingCommands();
  Route(pending);
}

void PartitionCore::MaybeBalanceLeadership(int64_t now_ms) {
  if (!config_.balance_leadership || !is_leader() || !processing_ready_) return;
  const int32_t preferred = config_.member_node_ids.front();
  if (preferred == config_.node_id) return;
  // Checked now and then, and never right after an election, so that leadership does not
  // bounce while a restarted member is still catching up.
  if (now_ms - last_balance_check_ms_ < config_.balance_check_ms) return;
  last_balance_check_ms_ = now_ms;
  raft::NodeStatus status = raft_->Status();
  if (status.lead_transferee != 0) return;
  for (const auto& progress : status.progress) {
    if (progress.id != RaftId(preferred)) continue;
    if (progress.recent_active && progress.match == status.last_index) {
      spdlog::info("partition {}: handing leadership to node {}, its preferred leader",
                   config_.partition_id, preferred);
      (void)raft_->TransferLeadership(RaftId(preferred));
    }
  }
}

void PartitionCore::OnRoleChange(const raft::SoftState& soft_state) {
  bool was_leader = is_leader();
  role_ = soft_state.role;
  lead_ = soft_state.lead;
  if (is_leader() && !was_leader) {
    processing_ready_ = false;
    // The leader appended an empty entry of its term; processing starts once it commits.
    leader_start_index_ = raft_->Status().last_index;
    last_balance_check_ms_ = clock_.MonotonicMillis();
    spdlog::info("partition {}: became leader, waiting for index {} to commit",
                 config_.partition_id, leader_start_index_);
  } else if (!is_leader() && was_leader) {
    spdlog::info("partition {}: lost leadership", config_.partition_id);
    processing_ready_ = false;
    StopExport();
    bool dirty = !in_flight_.empty();
    Shutdown(absl::UnavailableError(StrCat("partition ", config_.partition_id,
                                           " lost its leader; the command was not processed")),
             absl::AbortedError(StrCat("partition ", config_.partition_id,
                                       " lost leadership before the command committed; it may "
                                       "or may not have taken effect")));
    if (dirty) {
      // State holds batches that may never commit: rebuild it from what is committed.
      in_flight_.clear();
      limiter_.Reset();
      uint64_t committed = applied_index_;
      TERN_CHECK_OK(OpenState(storage_->FirstIndex() - 1));
      while (applied_index_ < committed) {
        auto entries = storage_->Entries(applied_index_ + 1, committed + 1, 64 << 20);
        TERN_CHECK(entries.ok(), entries.status());
        for (const auto& entry : *entries) {
          applied_index_ = entry.index();
          if (!ApplyEntry(entry)) return;
        }
      }
    }
  }
}

void PartitionCore::ExpireRequests(int64_t now_ms) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline_ms <= now_ms) {
      auto done = std::move(it->second.done);
      it = pending_.erase(it);
      done(absl::DeadlineExceededError("the partition did not answer in time"));
    } else {
      ++it;
    }
  }
  while (!queued_.empty() && queued_.front().deadline_ms <= now_ms) {
    auto done = std::move(queued_.front().done);
    if (queued_.front().admitted_ms >= 0) {
      limiter_.Release(now_ms, queued_.front().admitted_ms, true);
    }
    queued_.pop_front();
    done(absl::DeadlineExceededError("the request timed out before it was processed"));
  }
}

void PartitionCore::Shutdown(const absl::Status& queued_error, const absl::Status& written_error) {
  for (auto& queued : queued_) {
    if (queued.admitted_ms >= 0) limiter_.Release(0, queued.admitted_ms, false);
    queued.done(queued_error);
  }
  queued_.clear();
  for (auto& [id, pending] : pending_) pending.done(written_error);
  pending_.clear();
}

absl::StatusOr<PartitionCore::Checksum> PartitionCore::StateChecksum() {
  if (suspended()) return absl::UnavailableError("the partition is inactive; try again");
  bool caught_up = applied_index_ == raft_->Status().commit;
  if (!in_flight_.empty() || !caught_up || (is_leader() && !processing_ready_)) {
    return absl::UnavailableError("not caught up, or proposals in flight; try again");
  }
  return Checksum{applied_index_, engine_->last_position(), engine_->StateChecksum()};
}

void PartitionCore::MaybeSnapshot(int64_t now_ms) {
  if (pending_snapshot_) {
    FinishSnapshot(/*wait=*/false);
    return;
  }
  bool due = snapshot_requested_ || now_ms - last_snapshot_ms_ >= config_.snapshot_period_ms;
  if (!due || applied_index_ <= snapshot_index_) {
    snapshot_due_since_ms_ = -1;
    return;
  }
  if (snapshot_due_since_ms_ < 0) snapshot_due_since_ms_ = now_ms;
  // A checkpoint flushes the memtables on this thread, which took long enough under load for
  // followers to start elections (issue 12): flush them ahead in the background first, and
  // capture only what was written since. A flush that never seems to end (a stuck background
  // thread) must not stop snapshots: after a while the capture flushes by itself.
  constexpr int64_t kMaxFlushAheadMs = 30'000;
  bool flushed = environment_.state->PrepareSnapshot(*store_);
  if (!flushed && now_ms - snapshot_due_since_ms_ < kMaxFlushAheadMs) return;
  // The state must hold exactly the committed log: wait for proposals to commit.
  if (!in_flight_.empty()) return;
  absl::Status status = StartSnapshot();
  last_snapshot_ms_ = now_ms;
  snapshot_requested_ = false;
  if (!status.ok()) {
    snapshot_due_since_ms_ = -1;
    spdlog::error("partition {}: snapshot failed: {}", config_.partition_id,
                  ToStd(status.message()));
  }
}

absl::Status PartitionCore::StartSnapshot() {
  auto term = storage_->Term(applied_index_);
  if (!term.ok()) return term.status();
  SnapshotInfo info{applied_index_, *term};
  auto pending = environment_.state->StartSnapshot(*store_, info);
  if (!pending.ok()) return pending.status();
  pending_snapshot_ = *std::move(pending);
  pending_snapshot_info_ = info;
  pending_snapshot_blocking_us_ = pending_snapshot_->timings().capture_us;
  FinishSnapshot(/*wait=*/false);  // some backends finish at once
  return absl::OkStatus();
}

void PartitionCore::FinishSnapshot(bool wait) {
  if (!pending_snapshot_) return;
  if (wait) {
    pending_snapshot_->Wait();
  } else if (!pending_snapshot_->Done()) {
    return;
  }
  std::unique_ptr<PendingSnapshot> pending = std::move(pending_snapshot_);
  SnapshotInfo info = pending_snapshot_info_;
  SnapshotTimings timings = pending->timings();
  int64_t due_since_ms = snapshot_due_since_ms_;
  snapshot_due_since_ms_ = -1;
  if (!pending->status().ok()) {
    spdlog::error("partition {}: snapshot at index {} failed: {}", config_.partition_id, info.index,
                  ToStd(pending->status().message()));
    return;
  }
  // A snapshot installed from the leader meanwhile (InstallSnapshot waits for this one after
  // the journal was reset) may have moved the log past it: nothing left to compact then.
  auto compact_start = std::chrono::steady_clock::now();
  // Exporters may hold the log back (the state snapshot still covers info.index).
  const uint64_t compact_index = storage_ ? ExportCompactionIndex(info.index) : info.index;
  absl::Status compacted = storage_ && compact_index >= storage_->FirstIndex()
                               ? storage_->Compact(compact_index, "")
                               : absl::OkStatus();
  int64_t compact_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - compact_start)
                           .count();
  if (!compacted.ok()) {
    spdlog::error("partition {}: cannot compact the log to the snapshot at index {}: {}",
                  config_.partition_id, info.index, ToStd(compacted.message()));
    return;
  }
  snapshot_index_ = std::max(snapshot_index_, info.index);
  environment_.state->DeleteOlderSnapshots();
  metrics_.state_memory_bytes = environment_.state->ApproximateMemoryBytes();
  int64_t blocking_us = pending_snapshot_blocking_us_ + compact_us;
  int64_t total_us =
      due_since_ms >= 0 ? (clock_.MonotonicMillis() - due_since_ms) * 1000 : blocking_us;
  ++metrics_.snapshots_taken;
  metrics_.snapshot_blocking_us = blocking_us;
  metrics_.snapshot_total_us = total_us;
  spdlog::info(
      "partition {}: snapshot at index {} (position {}): {:.1f} ms on the partition thread "
      "(memtable flush {:.1f}, checkpoint {:.1f}, log compaction {:.1f}), {:.1f} ms syncing "
      "and publishing in the background, {:.1f} ms from due to published",
      config_.partition_id, info.index, engine_ ? engine_->last_position() : -1,
      blocking_us / 1000.0, timings.flush_us / 1000.0, timings.checkpoint_us / 1000.0,
      compact_us / 1000.0, timings.finish_us / 1000.0, total_us / 1000.0);
}

// --- Disk space and failed writes
// ----------------------------------------------------------------------------

void PartitionCore::MaybeCheckDisk(int64_t now_ms) {
  if (!environment_.disk_space) return;
  if (last_disk_check_ms_ >= 0 && now_ms - last_disk_check_ms_ < config_.disk_check_ms) return;
  last_disk_check_ms_ = now_ms;
  auto space = environment_.disk_space();
  if (!space.ok()) return;  // the directory may not exist yet
  disk_ = *space;
  disk_threshold_bytes_ = config_.disk_watermark.ThresholdBytes(disk_.total_bytes);
  const bool low = disk_.free_bytes < disk_threshold_bytes_;
  if (low && !disk_low_) {
    spdlog::warn(
        "partition {}: the disk holding {} has {} free, below the watermark of {}: new work is "
        "refused (RESOURCE_EXHAUSTED) until space is freed; accepted work goes on",
        config_.partition_id, config_.directory, HumanBytes(disk_.free_bytes),
        HumanBytes(disk_threshold_bytes_));
  } else if (!low && disk_low_) {
    spdlog::info("partition {}: {} free on the disk holding {}, above the watermark again",
                 config_.partition_id, HumanBytes(disk_.free_bytes), config_.directory);
  }
  disk_low_ = low;
  // A snapshot lets the log before it go: the one thing the partition can free by itself.
  constexpr int64_t kLowDiskSnapshotEveryMs = 30'000;
  if (low && !suspended() &&
      (last_low_disk_snapshot_ms_ < 0 ||
       now_ms - last_low_disk_snapshot_ms_ >= kLowDiskSnapshotEveryMs)) {
    last_low_disk_snapshot_ms_ = now_ms;
    snapshot_requested_ = true;
  }
}

void PartitionCore::SuspendAfterWriteFailure(const absl::Status& cause) {
  ++metrics_.write_failures;
  suspend_cause_ = std::string(ToStd(cause.message()));
  spdlog::error(
      "partition {}: cannot write the log ({}); nothing of this write was acknowledged. The "
      "partition goes inactive and reopens its log and state from disk in {} ms, once the disk "
      "has space",
      config_.partition_id, suspend_cause_, config_.write_failure_retry_ms);
  Shutdown(absl::UnavailableError(StrCat("partition ", config_.partition_id,
                                         " could not write its log (", suspend_cause_,
                                         "); the command was not processed")),
           absl::UnknownError(StrCat("partition ", config_.partition_id,
                                     " could not write its log before the command committed (",
                                     suspend_cause_, "); it may or may not have taken effect")));
  in_flight_.clear();
  outgoing_snapshots_.clear();
  incoming_snapshot_.reset();
  limiter_.Reset();
  processing_ready_ = false;
  StopExport();
  role_ = raft::StateRole::kFollower;
  lead_ = 0;
  // What is in memory may be ahead of what is durable: rebuild everything from disk, exactly
  // as a restart would (an unsynced torn tail is cut by journal recovery). A snapshot still
  // being published is left to the backend: the log is not compacted to it.
  pending_snapshot_.reset();
  engine_.reset();
  store_.reset();
  raft_.reset();
  storage_.reset();
  suspended_until_ms_ = clock_.MonotonicMillis() + config_.write_failure_retry_ms;
}

void PartitionCore::MaybeResume(int64_t now_ms) {
  if (now_ms < *suspended_until_ms_) return;
  if (disk_low_) {
    // Reopening onto a full disk would only fail again: wait for space.
    suspended_until_ms_ = now_ms + config_.disk_check_ms;
    return;
  }
  absl::Status status = Recover();
  if (!status.ok()) {
    spdlog::warn("partition {}: cannot reopen yet: {}", config_.partition_id,
                 ToStd(status.message()));
    engine_.reset();
    store_.reset();
    raft_.reset();
    storage_.reset();
    suspended_until_ms_ = now_ms + config_.write_failure_retry_ms;
    return;
  }
  suspended_until_ms_.reset();
  spdlog::info("partition {}: reopened after a failed log write", config_.partition_id);
  Start();
}

// --- Snapshot transfer
// ----------------------------------------------------------------------------

void PartitionCore::StartSnapshotTransfer(const raft::Message& message) {
  int32_t to = NodeId(message.to());
  // The log may be compacted to an index before the newest state snapshot (exporters held it
  // back, partition_export.cc): send the newest one; the follower's answer carries its index.
  raft::Message sent = message;
  if (auto latest = environment_.state->Latest();
      latest && latest->index > message.snapshot().index()) {
    sent.mutable_snapshot()->set_index(latest->index);
    sent.mutable_snapshot()->set_term(latest->term);
  }
  auto existing = outgoing_snapshots_.find(to);
  if (existing != outgoing_snapshots_.end() &&
      existing->second.message.snapshot().index() == sent.snapshot().index()) {
    return;  // already streaming this one
  }
  auto source =
      environment_.state->Read(SnapshotInfo{sent.snapshot().index(), sent.snapshot().term()});
  if (!source.ok()) {
    spdlog::warn("partition {}: cannot send snapshot {} to node {}: {}", config_.partition_id,
                 sent.snapshot().index(), to, ToStd(source.status().message()));
    raft_->ReportSnapshot(message.to(), false);
    return;
  }
  OutgoingSnapshot transfer;
  transfer.message = sent;
  transfer.source = *std::move(source);
  transfer.last_progress_ms = clock_.MonotonicMillis();
  outgoing_snapshots_[to] = std::move(transfer);
  spdlog::info("partition {}: sending snapshot {} ({} bytes) to node {}", config_.partition_id,
               sent.snapshot().index(), outgoing_snapshots_[to].source->size(), to);
}

void PartitionCore::PumpSnapshotTransfers(int64_t now_ms) {
  for (auto it = outgoing_snapshots_.begin(); it != outgoing_snapshots_.end();) {
    int32_t to = it->first;
    OutgoingSnapshot& transfer = it->second;
    if (!is_leader() || now_ms - transfer.last_progress_ms > config_.snapshot_transfer_timeout_ms) {
      raft_->ReportSnapshot(RaftId(to), false);
      it = outgoing_snapshots_.erase(it);
      continue;
    }
    uint64_t size = transfer.source->size();
    uint64_t window = config_.snapshot_chunk_bytes * config_.snapshot_window_chunks;
    bool done_sent = transfer.sent >= size && transfer.sent > 0;
    while (!done_sent && transfer.sent < transfer.acked + window && environment_.transport) {
      auto data = transfer.source->ReadAt(transfer.sent, config_.snapshot_chunk_bytes);
      if (!data.ok()) {
        spdlog::warn("partition {}: snapshot read failed: {}", config_.partition_id,
                     ToStd(data.status().message()));
        break;
      }
      raft::SnapshotChunk chunk;
      chunk.set_from(RaftId(config_.node_id));
      chunk.set_to(RaftId(to));
      chunk.set_term(term_);
      *chunk.mutable_snapshot() = transfer.message.snapshot();
      chunk.set_offset(transfer.sent);
      chunk.set_crc32c(journal::Crc32c(*data));
      transfer.sent += data->size();
      chunk.set_data(*std::move(data));
      if (transfer.sent >= size) {
        chunk.set_done(true);
        *chunk.mutable_message() = transfer.message;
        done_sent = true;
        // An empty snapshot still needs its one (done) chunk.
        if (size == 0) transfer.sent = 1;
      }
      environment_.transport->SendSnapshotChunk(to, config_.partition_id, std::move(chunk));
    }
    ++it;
  }
}

void PartitionCore::ReceiveSnapshotAck(const raft::SnapshotChunkAck& ack) {
  if (suspended()) return;
  if (!refused_.ok()) return;
  int32_t from = NodeId(ack.from());
  auto it = outgoing_snapshots_.find(from);
  if (it == outgoing_snapshots_.end() ||
      it->second.message.snapshot().index() != ack.snapshot_index()) {
    return;
  }
  OutgoingSnapshot& transfer = it->second;
  if (ack.abort()) {
    raft_->ReportSnapshot(ack.from(), false);
    outgoing_snapshots_.erase(it);
    return;
  }
  transfer.last_progress_ms = clock_.MonotonicMillis();
  uint64_t size = transfer.source->size();
  if (ack.next_offset() >= std::max<uint64_t>(size, 1) && transfer.sent >= size) {
    ++metrics_.snapshots_sent;
    raft_->ReportSnapshot(ack.from(), true);
    outgoing_snapshots_.erase(it);
    return;
  }
  // The receiver lost something: resend from what it has.
  if (ack.next_offset() < transfer.sent && ack.next_offset() >= transfer.acked) {
    transfer.sent = ack.next_offset();
  }
  // The receiver kept the bytes of an earlier stream of this snapshot (this one restarted after
  // a timeout): continue from there, since it takes chunks only at its next offset.
  if (ack.next_offset() > transfer.sent) transfer.sent = ack.next_offset();
  transfer.acked = std::max(transfer.acked, ack.next_offset());
}

void PartitionCore::ReceiveSnapshotChunk(const raft::SnapshotChunk& chunk) {
  if (suspended()) return;  // the leader times the transfer out and starts again
  if (!refused_.ok()) return;
  raft::SnapshotChunkAck ack;
  ack.set_from(RaftId(config_.node_id));
  ack.set_to(chunk.from());
  ack.set_snapshot_index(chunk.snapshot().index());
  auto reply = [&] {
    if (environment_.transport) {
      environment_.transport->SendSnapshotAck(NodeId(chunk.from()), config_.partition_id, ack);
    }
  };
  if (chunk.snapshot().index() <= applied_index_) {
    // We already have this state; let the leader move on.
    ack.set_next_offset(UINT64_MAX);
    reply();
    return;
  }
  bool same = incoming_snapshot_ && incoming_snapshot_->index == chunk.snapshot().index() &&
              incoming_snapshot_->term == chunk.snapshot().term();
  if (!same) {
    if (chunk.offset() != 0) {
      ack.set_next_offset(0);  // start over
      reply();
      return;
    }
    FinishSnapshot(/*wait=*/true);
    auto sink = environment_.state->Receive(
        SnapshotInfo{chunk.snapshot().index(), chunk.snapshot().term()});
    if (!sink.ok()) {
      ack.set_abort(true);
      reply();
      return;
    }
    incoming_snapshot_ =
        IncomingSnapshot{chunk.snapshot().index(), chunk.snapshot().term(), *std::move(sink)};
  }
  SnapshotSink& sink = *incoming_snapshot_->sink;
  if (chunk.offset() != sink.next_offset() || journal::Crc32c(chunk.data()) != chunk.crc32c()) {
    ack.set_next_offset(sink.next_offset());
    reply();
    return;
  }
  if (auto status = sink.Append(chunk.data()); !status.ok()) {
    spdlog::warn("partition {}: snapshot receive failed: {}", config_.partition_id,
                 ToStd(status.message()));
    incoming_snapshot_.reset();
    ack.set_abort(true);
    reply();
    return;
  }
  if (chunk.done()) {
    absl::Status committed = sink.Commit();
    incoming_snapshot_.reset();
    if (!committed.ok()) {
      spdlog::warn("partition {}: received snapshot is unusable: {}", config_.partition_id,
                   ToStd(committed.message()));
      ack.set_abort(true);
      reply();
      return;
    }
    ack.set_next_offset(UINT64_MAX);
    reply();
    Receive(chunk.message());
    return;
  }
  ack.set_next_offset(sink.next_offset());
  reply();
}

}  // namespace tern::broker
