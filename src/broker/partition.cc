#include "broker/partition.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>

#include "base/check.h"
#include "base/strings.h"

namespace tern::broker {

absl::StatusOr<std::unique_ptr<Partition>> Partition::Open(PartitionConfig config,
                                                           base::Clock& clock,
                                                           PeerTransport* transport) {
  std::unique_ptr<Partition> partition(new Partition(config.partition_id, clock));
  partition->max_inbox_submissions_ = config.max_queued_commands;
  partition->max_inbox_submissions_hard_ = config.max_queued_commands_hard;
  PartitionEnvironment environment;
  environment.clock = &clock;
  environment.file_system = &journal::PosixFileSystem();
  environment.state = NewRocksDbBackend(config.directory, config.state);
  environment.transport = transport;
  environment.seed = static_cast<uint64_t>(clock.WallMillis());
  if (!config.exporters.exporters.empty()) {
    auto director = ExporterDirector::Create(config.partition_id, config.exporters);
    if (!director.ok()) return director.status();
    partition->exporters_ = *director;
    environment.exporters = *director;
  }
  environment.disk_space = [directory = config.directory]() -> absl::StatusOr<DiskSpace> {
    // A partition opened for the first time has no directory yet: its parent's disk is the one.
    auto space = ReadDiskSpace(directory);
    if (space.ok()) return space;
    return ReadDiskSpace(std::filesystem::path(directory).parent_path().string());
  };
  Partition* self = partition.get();
  environment.route = [self](int32_t partition_id, record::Record command) {
    CommandRouter router;
    {
      std::lock_guard lock(self->mutex_);
      router = self->router_;
    }
    if (router) router(partition_id, std::move(command));
  };
  environment.checkpoint_committed = [self](const CommittedCheckpoint& checkpoint) {
    std::function<void(const CommittedCheckpoint&)> listener;
    {
      std::lock_guard lock(self->mutex_);
      listener = self->checkpoint_listener_;
    }
    if (listener) listener(checkpoint);
  };
  environment.jobs_available = [self](const std::string& type) {
    std::function<void(const std::string&)> listener;
    {
      std::lock_guard lock(self->mutex_);
      listener = self->jobs_available_listener_;
    }
    if (listener) listener(type);
  };
  auto core = PartitionCore::Open(std::move(config), std::move(environment));
  if (!core.ok()) return core.status();
  partition->core_ = *std::move(core);
  partition->metrics_ = partition->core_->Metrics();
  return partition;
}

Partition::~Partition() { Stop(); }

void Partition::Start() {
  core_->Start();
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

void Partition::Post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  inbox_.push_back(std::move(task));
  wakeup_.notify_one();
}

void Partition::Submit(record::Record command, int64_t timeout_ms, gateway::CommandCallback done) {
  absl::Status refused;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      refused = absl::UnavailableError(StrCat("partition ", id_, " is stopping"));
    } else if (inbox_submissions_ >= max_inbox_submissions_hard_ ||
               (inbox_submissions_ >= max_inbox_submissions_ &&
                !IsExemptFromBackpressure(command))) {
      // The core's limiter decides on the partition thread; this only keeps the hand-over
      // queue bounded while that thread is busy with a long batch or a slow fsync.
      ++inbox_rejections_;
      refused = absl::ResourceExhaustedError(
          StrCat("Reached maximum capacity of requests handled: partition ", id_, " has ",
                 inbox_submissions_, " commands waiting to be taken in; retry later"));
    } else {
      ++inbox_submissions_;
      inbox_.push_back(
          [this, command = std::move(command), timeout_ms, done = std::move(done)]() mutable {
            {
              std::lock_guard lock(mutex_);
              --inbox_submissions_;
            }
            core_->Submit(std::move(command), timeout_ms, std::move(done));
          });
      wakeup_.notify_one();
      return;
    }
  }
  done(refused);
}

void Partition::Receive(raft::Message message) {
  Post([this, message = std::move(message)] { core_->Receive(message); });
}

void Partition::ReceiveSnapshotChunk(raft::SnapshotChunk chunk) {
  Post([this, chunk = std::move(chunk)] { core_->ReceiveSnapshotChunk(chunk); });
}

void Partition::ReceiveSnapshotAck(raft::SnapshotChunkAck ack) {
  Post([this, ack = std::move(ack)] { core_->ReceiveSnapshotAck(ack); });
}

void Partition::AddJobStream(int64_t stream_id, gateway::JobStreamSpec spec,
                             gateway::JobPushCallback push) {
  Post([this, stream_id, spec = std::move(spec), push = std::move(push)]() mutable {
    core_->AddJobStream(stream_id, std::move(spec), std::move(push));
  });
}

void Partition::RemoveJobStream(int64_t stream_id) {
  Post([this, stream_id] { core_->RemoveJobStream(stream_id); });
}

void Partition::SetJobsAvailableListener(std::function<void(const std::string&)> listener) {
  std::lock_guard lock(mutex_);
  jobs_available_listener_ = std::move(listener);
}

void Partition::SetCheckpointListener(std::function<void(const CommittedCheckpoint&)> listener) {
  std::lock_guard lock(mutex_);
  checkpoint_listener_ = std::move(listener);
}

void Partition::SetCommandRouter(CommandRouter router) {
  std::lock_guard lock(mutex_);
  router_ = std::move(router);
}

void Partition::RequestSnapshot() {
  Post([this] { core_->RequestSnapshot(); });
}

absl::Status Partition::TransferLeadership(int32_t to_node_id) {
  absl::Status result;
  if (auto status = RunOnThread([&] { result = core_->TransferLeadership(to_node_id); });
      !status.ok()) {
    return status;
  }
  return result;
}

std::vector<ExporterMetrics> Partition::ExporterMetricsSnapshot() const {
  return exporters_ ? exporters_->Metrics() : std::vector<ExporterMetrics>{};
}

PartitionMetrics Partition::Metrics() const {
  std::lock_guard lock(mutex_);
  PartitionMetrics metrics = metrics_;
  metrics.backpressure_rejections += inbox_rejections_;
  return metrics;
}

absl::Status Partition::RunOnThread(std::function<void()> task) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return absl::UnavailableError("the partition is stopped");
    inbox_.push_back([task = std::move(task), done] {
      task();
      done->set_value();
    });
    wakeup_.notify_one();
  }
  future.wait();
  return absl::OkStatus();
}

absl::StatusOr<PartitionCore::Checksum> Partition::StateChecksum() {
  absl::StatusOr<PartitionCore::Checksum> result = absl::UnavailableError("not run");
  if (auto status = RunOnThread([&] { result = core_->StateChecksum(); }); !status.ok()) {
    return status;
  }
  return result;
}

absl::StatusOr<std::vector<std::pair<int64_t, record::IncidentRecord>>> Partition::OpenIncidents(
    size_t limit) {
  std::vector<std::pair<int64_t, record::IncidentRecord>> incidents;
  if (auto status = RunOnThread([&] { incidents = core_->OpenIncidents(limit); }); !status.ok()) {
    return status;
  }
  return incidents;
}

void Partition::QueryUserTasks(record::UserTaskQuery query, UserTaskQueryCallback done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      inbox_.push_back(
          [this, query = std::move(query), done]() mutable { done(core_->QueryUserTasks(query)); });
      wakeup_.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("the partition is stopped"));
}

Partition::JournalScrub Partition::JournalScrubState() const {
  std::lock_guard lock(mutex_);
  return journal_scrub_;
}

void Partition::MaybeScrubJournal() {
  int64_t now = clock_.MonotonicMillis();
  if (now < next_journal_scrub_ms_) return;
  next_journal_scrub_ms_ = now + kJournalScrubPeriodMs;
  journal::Journal* journal = core_->journal();
  {
    std::lock_guard lock(mutex_);
    // Once damage is found the replica stays unhealthy until an operator restores it.
    if (journal == nullptr || !journal_scrub_.status.ok()) return;
  }
  // A bounded slice, so a long log is verified over many periods without holding up Raft.
  absl::StatusOr<journal::ScrubProgress> step = journal->ScrubStep(kJournalScrubBytesPerPeriod);
  std::lock_guard lock(mutex_);
  if (!step.ok()) {
    spdlog::error(
        "partition {}: journal scrub found damage in a sealed segment: {}; this replica is "
        "unhealthy. Stop the broker, move the partition's directory aside and let it rebuild "
        "from the other replicas (docs/operations.md)",
        id_, ToStd(step.status().message()));
    journal_scrub_.status = step.status();
    journal_scrub_.corruptions_found = journal->scrub_totals().corruptions_found;
    return;
  }
  journal_scrub_.bytes_verified += step->bytes_verified;
  if (step->pass_completed) ++journal_scrub_.passes_completed;
}

void Partition::Run() {
  while (true) {
    std::vector<std::function<void()>> tasks;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) break;
      if (inbox_.empty() && !core_->HasWork()) {
        int64_t wait_ms = core_->NextWakeMillis() - clock_.MonotonicMillis();
        if (wait_ms > 0) wakeup_.wait_for(lock, std::chrono::milliseconds(wait_ms));
        if (stopping_) break;
      }
      tasks.swap(inbox_);
    }
    for (auto& task : tasks) task();
    core_->Poll();
    MaybeScrubJournal();
    std::lock_guard lock(mutex_);
    metrics_ = core_->Metrics();
    if (!journal_scrub_.status.ok()) metrics_.healthy = false;
  }
  std::vector<std::function<void()>> leftover;
  {
    std::lock_guard lock(mutex_);
    leftover.swap(inbox_);
  }
  // Submissions still in the inbox are answered by the core's shutdown below (after queueing).
  for (auto& task : leftover) task();
  core_->Shutdown(absl::UnavailableError(StrCat("partition ", id_, " stopped")),
                  absl::AbortedError(StrCat("partition ", id_,
                                            " stopped before the command's outcome was known")));
  std::lock_guard lock(mutex_);
  metrics_.healthy = false;
  metrics_.role = gateway::PartitionRole::kInactive;
}

}  // namespace tern::broker
