#include "broker/partition.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>

#include "base/check.h"
#include "base/status_macros.h"
#include "base/strings.h"

namespace tern::broker {
namespace fs = std::filesystem;

namespace {

constexpr char kSnapshotMetaFile[] = "TERN_SNAPSHOT";

uint64_t RaftId(int32_t node_id) { return static_cast<uint64_t>(node_id) + 1; }

gateway::PartitionRole ToRole(raft::StateRole role) {
  switch (role) {
    case raft::StateRole::kLeader: return gateway::PartitionRole::kLeader;
    case raft::StateRole::kFollower: return gateway::PartitionRole::kFollower;
    default: return gateway::PartitionRole::kFollower;
  }
}

// Snapshot directories are named by the Raft index and term of the state they hold.
std::string SnapshotName(uint64_t index, uint64_t term) {
  return StrCat(std::string(20 - std::min<size_t>(20, std::to_string(index).size()), '0'), index,
                "-", term);
}

struct SnapshotDir {
  uint64_t index = 0;
  uint64_t term = 0;
  fs::path path;
};

// Complete snapshots (their marker file is written last), newest first.
std::vector<SnapshotDir> ListSnapshots(const fs::path& root) {
  std::vector<SnapshotDir> found;
  std::error_code error;
  if (!fs::exists(root, error)) return found;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    if (!entry.is_directory()) continue;
    std::string name = entry.path().filename().string();
    auto dash = name.find('-');
    if (dash == std::string::npos || name.ends_with(".tmp")) continue;
    if (!fs::exists(entry.path() / kSnapshotMetaFile)) continue;
    SnapshotDir dir;
    dir.index = std::stoull(name.substr(0, dash));
    dir.term = std::stoull(name.substr(dash + 1));
    dir.path = entry.path();
    found.push_back(dir);
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.index > b.index; });
  return found;
}

// Makes `to` a private copy of the checkpoint in `from`: immutable table files are hard-linked,
// everything RocksDB may append to (MANIFEST, OPTIONS, CURRENT) is copied.
absl::Status CopyCheckpoint(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::remove_all(to, error);
  fs::create_directories(to, error);
  if (error) return absl::InternalError(StrCat("cannot create ", to.string(), ": ", error.message()));
  for (const auto& entry : fs::directory_iterator(from)) {
    std::string name = entry.path().filename().string();
    if (name == kSnapshotMetaFile) continue;
    fs::path target = to / name;
    if (name.ends_with(".sst")) {
      fs::create_hard_link(entry.path(), target, error);
      if (!error) continue;
      error.clear();
    }
    fs::copy_file(entry.path(), target, error);
    if (error) {
      return absl::InternalError(
          StrCat("cannot copy ", entry.path().string(), ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// Job streams opened by gateways, per job type, handed out round-robin. Lives on the
// partition thread.
class Partition::StreamRegistry : public engine::JobStreamRegistry {
 public:
  struct Entry {
    int64_t id;
    gateway::JobStreamSpec spec;
    gateway::JobPushCallback push;
  };

  void Add(Entry entry) { streams_.push_back(std::move(entry)); }
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

Partition::Partition(PartitionConfig config, base::Clock& clock, PeerTransport* transport)
    : config_(std::move(config)),
      clock_(clock),
      transport_(transport),
      streams_(std::make_unique<StreamRegistry>()) {}

Partition::~Partition() { Stop(); }

absl::StatusOr<std::unique_ptr<Partition>> Partition::Open(PartitionConfig config,
                                                           base::Clock& clock,
                                                           PeerTransport* transport) {
  std::unique_ptr<Partition> partition(new Partition(std::move(config), clock, transport));
  if (auto status = partition->Recover(); !status.ok()) return status;
  return partition;
}

absl::Status Partition::Recover() {
  fs::path root(config_.directory);
  std::error_code error;
  fs::create_directories(root / "snapshots", error);
  if (error) return absl::InternalError(StrCat("cannot create ", root.string(), ": ", error.message()));

  std::vector<uint64_t> voters;
  for (int32_t node : config_.member_node_ids) voters.push_back(RaftId(node));
  auto storage = journal::JournalStorage::Open(&journal::PosixFileSystem(),
                                               (root / "journal").string(), voters);
  if (!storage.ok()) return storage.status();
  storage_ = *std::move(storage);
  const auto& recovery = storage_->journal().recovery();
  if (recovery.torn_bytes_truncated > 0) {
    spdlog::warn("partition {}: truncated a torn write of {} bytes at the end of {}",
                 config_.partition_id, recovery.torn_bytes_truncated, recovery.torn_segment);
  }
  if (auto status = OpenStateFromSnapshot(); !status.ok()) return status;

  raft::Config raft_config;
  raft_config.id = RaftId(config_.node_id);
  raft_config.voters = voters;
  raft_config.election_ticks = config_.election_ticks;
  raft_config.heartbeat_ticks = config_.heartbeat_ticks;
  raft_config.seed = static_cast<uint64_t>(clock_.WallMillis()) ^ (raft_config.id << 32) ^
                     static_cast<uint64_t>(config_.partition_id);
  raft_config.applied = applied_index_;
  raft_ = std::make_unique<raft::RawNode>(raft_config, storage_.get());
  spdlog::info("partition {}: recovered at index {} (snapshot {}, log {}..{})",
               config_.partition_id, applied_index_, snapshot_index_,
               storage_->FirstIndex(), storage_->LastIndex());
  return absl::OkStatus();
}

absl::Status Partition::OpenStateFromSnapshot() {
  fs::path root(config_.directory);
  engine_.reset();
  store_.reset();
  uint64_t compacted = storage_->FirstIndex() - 1;
  std::optional<SnapshotDir> chosen;
  for (const auto& snapshot : ListSnapshots(root / "snapshots")) {
    // A snapshot older than the log's start cannot be brought up to date.
    if (snapshot.index >= compacted) {
      chosen = snapshot;
      break;
    }
  }
  if (!chosen && compacted > 0) {
    return absl::DataLossError(
        StrCat("partition ", config_.partition_id, ": the log starts after index ", compacted,
               " but no snapshot at or after it exists in ", (root / "snapshots").string()));
  }
  fs::path runtime = root / "runtime";
  if (chosen) {
    TERN_CHECK_OK(CopyCheckpoint(chosen->path, runtime));
    applied_index_ = chosen->index;
    snapshot_index_ = chosen->index;
  } else {
    std::error_code error;
    fs::remove_all(runtime, error);
    applied_index_ = 0;
    snapshot_index_ = 0;
  }
  auto store = engine::state::RocksDbStore::Open(runtime.string(), config_.state);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  engine::EngineConfig engine_config = config_.engine;
  engine_config.partition_id = config_.partition_id;
  engine_config.partition_count = config_.partition_count;
  engine_ = std::make_unique<engine::Engine>(engine_config, *store_, streams_.get());
  next_due_ms_ = engine_->NextDueTime();
  return absl::OkStatus();
}

void Partition::Start() {
  if (config_.member_node_ids.size() == 1) {
    // Alone in the group: no election timeout to wait for.
    raft_->Campaign();
  }
  last_snapshot_ms_ = clock_.MonotonicMillis();
  next_tick_ms_ = clock_.MonotonicMillis() + config_.tick_ms;
  thread_ = std::thread([this] { Run(); });
}

void Partition::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Partition::Submit(record::Record command, int64_t timeout_ms,
                       gateway::CommandCallback done) {
  QueuedCommand queued{std::move(command), clock_.MonotonicMillis() + std::max<int64_t>(1, timeout_ms),
                       std::move(done)};
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      inbox_commands_.push_back(std::move(queued));
      wakeup_.notify_one();
      return;
    }
  }
  queued.done(absl::UnavailableError(StrCat("partition ", config_.partition_id, " is stopping")));
}

void Partition::Receive(raft::Message message) {
  std::lock_guard lock(mutex_);
  inbox_messages_.push_back(std::move(message));
  wakeup_.notify_one();
}

void Partition::AddJobStream(int64_t stream_id, gateway::JobStreamSpec spec,
                             gateway::JobPushCallback push) {
  std::lock_guard lock(mutex_);
  inbox_tasks_.push_back([this, stream_id, spec = std::move(spec), push = std::move(push)] {
    streams_->Add({stream_id, spec, push});
  });
  wakeup_.notify_one();
}

void Partition::RemoveJobStream(int64_t stream_id) {
  std::lock_guard lock(mutex_);
  inbox_tasks_.push_back([this, stream_id] { streams_->Remove(stream_id); });
  wakeup_.notify_one();
}

void Partition::SetJobsAvailableListener(std::function<void(const std::string&)> listener) {
  std::lock_guard lock(mutex_);
  jobs_available_listener_ = std::move(listener);
}

void Partition::SetCommandRouter(CommandRouter router) {
  std::lock_guard lock(mutex_);
  router_ = std::move(router);
}

void Partition::Route(std::vector<engine::OutgoingCommand>& commands) {
  if (commands.empty()) return;
  CommandRouter router;
  {
    std::lock_guard lock(mutex_);
    router = router_;
  }
  if (!router) return;
  for (auto& outgoing : commands) router(outgoing.partition_id, std::move(outgoing.command));
  commands.clear();
}

void Partition::MaybeRedistribute(int64_t now_ms) {
  // Distributions not acknowledged within a few seconds are sent again; receivers ignore
  // repeats.
  constexpr int64_t kRedistributeEveryMs = 5'000;
  if (!IsLeader() || !processing_ready_ || !in_flight_.empty()) return;
  if (now_ms - last_redistribution_ms_ < kRedistributeEveryMs) return;
  last_redistribution_ms_ = now_ms;
  auto pending = engine_->PendingOutgoingCommands();
  Route(pending);
}

void Partition::RequestSnapshot() {
  std::lock_guard lock(mutex_);
  inbox_tasks_.push_back([this] { snapshot_requested_ = true; });
  wakeup_.notify_one();
}

PartitionMetrics Partition::Metrics() const {
  std::lock_guard lock(mutex_);
  return metrics_;
}

absl::Status Partition::RunOnThread(std::function<void()> task) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return absl::UnavailableError("the partition is stopped");
    inbox_tasks_.push_back([task = std::move(task), done] {
      task();
      done->set_value();
    });
    wakeup_.notify_one();
  }
  future.wait();
  return absl::OkStatus();
}

absl::StatusOr<Partition::Checksum> Partition::StateChecksum() {
  absl::StatusOr<Checksum> result = absl::UnavailableError("proposals in flight; try again");
  TERN_RETURN_IF_ERROR(RunOnThread([&] {
    // Only a replica that has applied everything it knows to be committed (and, as leader, has
    // nothing uncommitted in its state) has a checksum worth comparing.
    bool caught_up = applied_index_ == raft_->Status().commit;
    if (!in_flight_.empty() || !caught_up || (IsLeader() && !processing_ready_)) return;
    result = Checksum{applied_index_, engine_->last_position(), engine_->StateChecksum()};
  }));
  return result;
}

absl::StatusOr<std::vector<std::pair<int64_t, record::IncidentRecord>>> Partition::OpenIncidents(
    size_t limit) {
  std::vector<std::pair<int64_t, record::IncidentRecord>> incidents;
  TERN_RETURN_IF_ERROR(RunOnThread([&] { incidents = engine_->OpenIncidents(limit); }));
  return incidents;
}

void Partition::Run() {
  while (true) {
    int64_t now = clock_.MonotonicMillis();
    {
      std::unique_lock lock(mutex_);
      if (stopping_) break;
      bool work = !inbox_commands_.empty() || !inbox_messages_.empty() || !inbox_tasks_.empty();
      bool local_work = processing_ready_ && IsLeader() &&
                        (!queued_.empty() || engine_->has_deferred_commands() ||
                         (next_due_ms_ && *next_due_ms_ <= clock_.WallMillis())) &&
                        in_flight_.size() < config_.max_uncommitted_entries;
      if (!work && !local_work && !raft_->HasReady() && now < next_tick_ms_) {
        int64_t wait_ms = next_tick_ms_ - now;
        wakeup_.wait_for(lock, std::chrono::milliseconds(wait_ms));
        if (stopping_) break;
      }
    }
    now = clock_.MonotonicMillis();
    while (now >= next_tick_ms_) {
      raft_->Tick();
      next_tick_ms_ += config_.tick_ms;
      if (next_tick_ms_ < now - 10 * config_.tick_ms) next_tick_ms_ = now + config_.tick_ms;
    }
    DrainInbox(now);
    if (IsLeader() && processing_ready_) ProcessBatch(now);
    HandleReadies();
    ExpireRequests(now);
    MaybeSnapshot(now);
    MaybeRedistribute(now);
    {
      std::lock_guard lock(mutex_);
      metrics_.role = ToRole(role_);
      metrics_.healthy = true;
      // Ready: this replica knows its leader and, if it is the leader, processes commands.
      metrics_.ready = lead_ != 0 && (!IsLeader() || processing_ready_);
      metrics_.term = term_;
      metrics_.commit_index = raft_->Status().commit;
      metrics_.applied_index = applied_index_;
      metrics_.snapshot_index = snapshot_index_;
      metrics_.leader_node_id = lead_ == 0 ? -1 : static_cast<int64_t>(lead_) - 1;
    }
  }
  FailAll(absl::UnavailableError(StrCat("partition ", config_.partition_id, " stopped")),
          absl::AbortedError(StrCat("partition ", config_.partition_id,
                                    " stopped before the command's outcome was known")));
  std::lock_guard lock(mutex_);
  metrics_.healthy = false;
  metrics_.role = gateway::PartitionRole::kInactive;
}

void Partition::DrainInbox(int64_t now_ms) {
  std::vector<QueuedCommand> commands;
  std::vector<raft::Message> messages;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(mutex_);
    commands.swap(inbox_commands_);
    messages.swap(inbox_messages_);
    tasks.swap(inbox_tasks_);
  }
  for (auto& task : tasks) task();
  for (auto& message : messages) {
    absl::Status status = raft_->Step(message);
    if (!status.ok()) spdlog::debug("partition {}: dropped message: {}", config_.partition_id,
                                    ToStd(status.message()));
  }
  (void)now_ms;
  for (auto& command : commands) {
    if (!IsLeader() || !processing_ready_) {
      command.done(absl::UnavailableError(
          StrCat("partition ", config_.partition_id, " has no ready leader on node ",
                 config_.node_id)));
      continue;
    }
    if (queued_.size() >= config_.max_queued_commands) {
      std::lock_guard lock(mutex_);
      ++metrics_.backpressure_rejections;
      command.done(absl::ResourceExhaustedError("Reached maximum capacity of requests handled"));
      continue;
    }
    queued_.push_back(std::move(command));
  }
}

void Partition::ProcessBatch(int64_t now_ms) {
  int64_t wall = clock_.WallMillis();
  bool due = next_due_ms_ && *next_due_ms_ <= wall;
  if (queued_.empty() && !due && !engine_->has_deferred_commands()) return;
  if (in_flight_.size() >= config_.max_uncommitted_entries) return;
  // Timestamps never go backwards, even if the wall clock does.
  last_timestamp_ms_ = std::max(last_timestamp_ms_, wall);
  engine_->BeginBatch(last_timestamp_ms_);
  engine_->ProcessDeferredCommands();
  size_t processed = 0;
  while (!queued_.empty() && processed < config_.max_commands_per_batch) {
    QueuedCommand queued = std::move(queued_.front());
    queued_.pop_front();
    if (queued.deadline_ms <= now_ms) {
      queued.done(absl::DeadlineExceededError("the request timed out before it was processed"));
      continue;
    }
    if (queued.command.source_partition_id() > 0) {
      // From another partition: nobody waits for an answer.
      queued.done(record::Record());
      engine_->ProcessClientCommand(std::move(queued.command));
      ++processed;
      continue;
    }
    int64_t request_id = ++next_request_id_;
    queued.command.set_has_request(true);
    queued.command.set_request_id(request_id);
    queued.command.set_request_stream_id(config_.node_id);
    pending_[request_id] = PendingRequest{std::move(queued.done), queued.deadline_ms};
    engine_->ProcessClientCommand(std::move(queued.command));
    ++processed;
  }
  if (due) engine_->ProcessDueWork();
  engine::BatchOutput output = engine_->EndBatch();
  next_due_ms_ = engine_->NextDueTime();
  {
    std::lock_guard lock(mutex_);
    metrics_.processed_commands += processed;
    metrics_.written_records += static_cast<uint64_t>(output.batch.records_size());
  }
  InFlight effects;
  effects.responses = std::move(output.responses);
  effects.pushed_jobs = std::move(output.pushed_jobs);
  effects.jobs_available = std::move(output.jobs_available);
  effects.outgoing_commands = std::move(output.outgoing_commands);
  if (output.batch.records_size() == 0) {
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

void Partition::HandleReadies() {
  while (raft_->HasReady()) {
    raft::Ready ready = raft_->GetReady();
    if (ready.soft_state) OnRoleChange(*ready.soft_state);
    if (ready.hard_state) term_ = ready.hard_state->term();
    int64_t start = clock_.MonotonicMillis();
    absl::Status saved = storage_->Save(ready);
    // The log is the source of truth: if it cannot be written, nothing may be acknowledged and
    // this replica must stop rather than run on with a log it cannot trust.
    TERN_CHECK(saved.ok(), "partition ", config_.partition_id, ": cannot write the log: ", saved);
    if (!ready.entries.empty()) {
      std::lock_guard lock(mutex_);
      metrics_.appended_entries += ready.entries.size();
      if (ready.must_sync) {
        metrics_.syncs++;
        metrics_.append_latency_ms_total += static_cast<double>(clock_.MonotonicMillis() - start);
      }
    }
    if (ready.snapshot) {
      // Installing a snapshot streamed from the leader arrives with the cluster transport.
      TERN_UNREACHABLE("snapshot install is not supported on this path yet");
    }
    for (auto& message : ready.messages) {
      if (transport_ != nullptr) {
        transport_->Send(static_cast<int32_t>(message.to()) - 1, config_.partition_id,
                         std::move(message));
      }
    }
    for (const auto& entry : ready.committed_entries) ApplyCommitted(entry);
    raft_->Advance(ready);
  }
}

void Partition::ApplyCommitted(const raft::Entry& entry) {
  applied_index_ = entry.index();
  auto own = in_flight_.find(entry.index());
  if (own != in_flight_.end()) {
    TERN_CHECK(own->first == in_flight_.begin()->first, "commits out of order");
    if (own->second.term == entry.term()) {
      // Our own batch: state already has it; now it may be answered.
      Release(own->second);
      in_flight_.erase(own);
      return;
    }
    // A different entry won this index: our proposal is lost. Leadership changed, and
    // OnRoleChange already rebuilt the state.
    in_flight_.erase(own);
  }
  if (!entry.data().empty()) {
    record::RecordBatch batch;
    TERN_CHECK(batch.ParseFromString(entry.data()), "partition ", config_.partition_id,
               ": corrupt batch at index ", entry.index());
    engine_->ApplyBatch(batch);
  }
  if (IsLeader() && !processing_ready_ && entry.index() >= leader_start_index_) {
    processing_ready_ = true;
    next_due_ms_ = engine_->NextDueTime();
    // A new leader sends what its predecessor may not have delivered.
    last_redistribution_ms_ = 0;
    spdlog::info("partition {}: leader for term {}, processing from index {}",
                 config_.partition_id, term_, entry.index());
  }
}

void Partition::Release(InFlight& effects) {
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
      yield.set_intent(14);  // JobIntent::kYield
      yield.mutable_job();
      queued_.push_back(QueuedCommand{std::move(yield), clock_.MonotonicMillis() + 60'000,
                                      [](absl::StatusOr<record::Record>) {}});
    }
  }
  if (!effects.jobs_available.empty()) {
    std::function<void(const std::string&)> listener;
    {
      std::lock_guard lock(mutex_);
      listener = jobs_available_listener_;
    }
    if (listener) {
      std::sort(effects.jobs_available.begin(), effects.jobs_available.end());
      effects.jobs_available.erase(
          std::unique(effects.jobs_available.begin(), effects.jobs_available.end()),
          effects.jobs_available.end());
      for (const auto& type : effects.jobs_available) listener(type);
    }
  }
}

void Partition::OnRoleChange(const raft::SoftState& soft_state) {
  bool was_leader = IsLeader();
  role_ = soft_state.role;
  lead_ = soft_state.lead;
  if (IsLeader() && !was_leader) {
    processing_ready_ = false;
    // The leader appended an empty entry of its term; processing starts once it commits.
    leader_start_index_ = raft_->Status().last_index;
    spdlog::info("partition {}: became leader, waiting for index {} to commit",
                 config_.partition_id, leader_start_index_);
  } else if (!IsLeader() && was_leader) {
    spdlog::info("partition {}: lost leadership", config_.partition_id);
    processing_ready_ = false;
    bool dirty = !in_flight_.empty();
    FailAll(absl::UnavailableError(StrCat("partition ", config_.partition_id,
                                          " lost its leader; the command was not processed")),
            absl::AbortedError(StrCat("partition ", config_.partition_id,
                                      " lost leadership before the command committed; it may "
                                      "or may not have taken effect")));
    if (dirty) {
      // State holds batches that may never commit: rebuild it from what is committed.
      in_flight_.clear();
      uint64_t committed = applied_index_;
      TERN_CHECK_OK(OpenStateFromSnapshot());
      while (applied_index_ < committed) {
        auto entries = storage_->Entries(applied_index_ + 1, committed + 1, 64 << 20);
        TERN_CHECK(entries.ok(), entries.status());
        for (const auto& entry : *entries) {
          applied_index_ = entry.index();
          if (entry.data().empty()) continue;
          record::RecordBatch batch;
          TERN_CHECK(batch.ParseFromString(entry.data()));
          engine_->ApplyBatch(batch);
        }
      }
    }
  }
}

void Partition::ExpireRequests(int64_t now_ms) {
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
    queued_.pop_front();
    done(absl::DeadlineExceededError("the request timed out before it was processed"));
  }
}

void Partition::FailAll(const absl::Status& queued_error, const absl::Status& written_error) {
  for (auto& queued : queued_) queued.done(queued_error);
  queued_.clear();
  std::vector<QueuedCommand> inbox;
  {
    std::lock_guard lock(mutex_);
    inbox.swap(inbox_commands_);
  }
  for (auto& queued : inbox) queued.done(queued_error);
  for (auto& [id, pending] : pending_) pending.done(written_error);
  pending_.clear();
}

void Partition::MaybeSnapshot(int64_t now_ms) {
  bool due = snapshot_requested_ || now_ms - last_snapshot_ms_ >= config_.snapshot_period_ms;
  if (!due || applied_index_ <= snapshot_index_) return;
  // The state must hold exactly the committed log: wait for proposals to commit.
  if (!in_flight_.empty()) return;
  absl::Status status = TakeSnapshot();
  last_snapshot_ms_ = now_ms;
  snapshot_requested_ = false;
  if (!status.ok()) {
    spdlog::error("partition {}: snapshot failed: {}", config_.partition_id,
                  ToStd(status.message()));
  }
}

absl::Status Partition::TakeSnapshot() {
  fs::path root = fs::path(config_.directory) / "snapshots";
  auto term = storage_->Term(applied_index_);
  if (!term.ok()) return term.status();
  std::string name = SnapshotName(applied_index_, *term);
  fs::path tmp = root / (name + ".tmp");
  std::error_code error;
  fs::remove_all(tmp, error);
  if (auto status = store_->CreateCheckpoint(tmp.string()); !status.ok()) return status;
  {
    std::ofstream marker(tmp / kSnapshotMetaFile);
    marker << "index " << applied_index_ << "\nterm " << *term << "\nposition "
           << engine_->last_position() << "\n";
  }
  if (auto status = journal::PosixFileSystem().SyncDir(tmp.string()); !status.ok()) return status;
  fs::rename(tmp, root / name, error);
  if (error) return absl::InternalError(StrCat("cannot rename snapshot: ", error.message()));
  if (auto status = journal::PosixFileSystem().SyncDir(root.string()); !status.ok()) return status;
  if (auto status = storage_->Compact(applied_index_, ""); !status.ok()) return status;
  snapshot_index_ = applied_index_;
  for (const auto& old : ListSnapshots(root)) {
    if (old.index < snapshot_index_) fs::remove_all(old.path, error);
  }
  spdlog::info("partition {}: snapshot at index {} (position {})", config_.partition_id,
               snapshot_index_, engine_->last_position());
  std::lock_guard lock(mutex_);
  metrics_.state_memory_bytes = store_->ApproximateMemoryBytes();
  return absl::OkStatus();
}

}  // namespace tern::broker
