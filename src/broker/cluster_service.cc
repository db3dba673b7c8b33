#include "broker/cluster_service.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>

#include "base/strings.h"
#include "broker/version.h"

namespace tern::broker {

// A server stream fed from other threads (partition threads, the broker): messages queue up
// and are written one at a time. Producers hold a shared handle that outlives the reactor, so
// a push racing with the end of the stream is dropped instead of touching a deleted reactor.
template <typename Message>
class ClusterService::Writer : public grpc::ServerWriteReactor<Message> {
 public:
  struct Handle {
    std::mutex mutex;
    Writer* writer = nullptr;  // null once the stream is done
  };

  Writer(ClusterService* service, size_t max_queued, std::function<void()> on_done)
      : service_(service),
        max_queued_(max_queued),
        on_done_(std::move(on_done)),
        handle_(std::make_shared<Handle>()) {
    handle_->writer = this;
  }

  std::shared_ptr<Handle> handle() const { return handle_; }
  void set_on_done(std::function<void()> on_done) { on_done_ = std::move(on_done); }

  // Queues a message; drops it when the stream is over or the reader is too far behind.
  static void Push(const std::shared_ptr<Handle>& handle, Message message,
                   bool skip_if_queued = false) {
    std::lock_guard lock(handle->mutex);
    Writer* writer = handle->writer;
    if (writer == nullptr || writer->finishing_) return;
    if (writer->queue_.size() >= writer->max_queued_) return;
    if (skip_if_queued) {
      for (const auto& queued : writer->queue_) {
        if (queued.SerializeAsString() == message.SerializeAsString()) return;
      }
    }
    writer->queue_.push_back(std::move(message));
    if (!writer->writing_) {
      writer->writing_ = true;
      writer->StartWrite(&writer->queue_.front());
    }
  }

  // Ends the stream (after the write in progress, if any).
  static void End(const std::shared_ptr<Handle>& handle) {
    std::lock_guard lock(handle->mutex);
    if (handle->writer != nullptr) handle->writer->FinishLocked(grpc::Status::OK);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(handle_->mutex);
    queue_.pop_front();
    writing_ = false;
    if (!ok) {
      finishing_ = true;
    } else if (!queue_.empty() && !finishing_) {
      writing_ = true;
      this->StartWrite(&queue_.front());
      return;
    }
    if (finishing_) FinishLocked(final_status_);
  }

  void OnCancel() override {
    std::lock_guard lock(handle_->mutex);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      std::lock_guard lock(handle_->mutex);
      handle_->writer = nullptr;
    }
    if (on_done_) on_done_();
    service_->Unregister(this);
    delete this;
  }

 private:
  void FinishLocked(grpc::Status status) {
    if (finished_) return;
    if (!finishing_) final_status_ = std::move(status);
    finishing_ = true;
    if (writing_) return;  // OnWriteDone finishes
    finished_ = true;
    this->Finish(final_status_);
  }

  ClusterService* service_;
  size_t max_queued_;
  std::function<void()> on_done_;
  std::shared_ptr<Handle> handle_;
  std::deque<Message> queue_;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

namespace {

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether to log another refusal now, given when the last one was logged; true at most once
// per interval, also when many threads refuse at once.
bool LogAgain(std::atomic<int64_t>& last_ms) {
  constexpr int64_t kLogEveryMs = 10'000;
  int64_t now = SteadyMillis();
  int64_t last = last_ms.load();
  return (last == 0 || now - last >= kLogEveryMs) && last_ms.compare_exchange_strong(last, now);
}

}  // namespace

ClusterService::ClusterService(const BrokerConfig& config, std::vector<Partition*> partitions)
    : config_(config), partitions_(std::move(partitions)) {
  for (Partition* partition : partitions_) {
    members_[partition->id()] =
        PartitionMembers(partition->id(), config_.cluster_size, config_.replication_factor);
  }
}

ClusterService::~ClusterService() { Shutdown(); }

void ClusterService::Shutdown() {
  std::vector<std::shared_ptr<Writer<cluster::JobsAvailable>::Handle>> watchers;
  std::vector<std::shared_ptr<Writer<cluster::PushedJob>::Handle>> streams;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    for (auto* writer : watchers_) watchers.push_back(writer->handle());
    for (auto* writer : job_streams_) streams.push_back(writer->handle());
  }
  for (auto& handle : watchers) Writer<cluster::JobsAvailable>::End(handle);
  for (auto& handle : streams) Writer<cluster::PushedJob>::End(handle);
}

Partition* ClusterService::Find(int32_t partition_id) const {
  for (Partition* partition : partitions_) {
    if (partition->id() == partition_id) return partition;
  }
  return nullptr;
}

void ClusterService::Unregister(void* writer) {
  std::lock_guard lock(mutex_);
  watchers_.erase(static_cast<Writer<cluster::JobsAvailable>*>(writer));
  job_streams_.erase(static_cast<Writer<cluster::PushedJob>*>(writer));
}

cluster::BrokerInfo ClusterService::Info() {
  cluster::BrokerInfo info;
  info.set_node_id(config_.node_id);
  auto colon = config_.cluster_address.rfind(':');
  info.set_host(config_.cluster_address.substr(0, colon));
  info.set_port(colon == std::string::npos
                    ? 0
                    : std::atoi(config_.cluster_address.substr(colon + 1).c_str()));
  info.set_cluster_address(config_.cluster_address);
  info.set_version(std::string(kTernProtocolVersion));
  info.set_cluster_size(config_.cluster_size);
  info.set_partitions_count(config_.partitions);
  info.set_replication_factor(config_.replication_factor);
  for (Partition* partition : partitions_) {
    PartitionMetrics metrics = partition->Metrics();
    auto* p = info.add_partitions();
    p->set_partition_id(partition->id());
    p->set_role(static_cast<cluster::PartitionInfo::Role>(metrics.role));
    p->set_healthy(metrics.healthy);
    p->set_term(metrics.term);
    p->set_leader_node_id(static_cast<int32_t>(metrics.leader_node_id));
  }
  return info;
}

ClusterService::RefusalCounts ClusterService::Refusals() const {
  RefusalCounts counts;
  for (int i = 0; i < kRaftDropReasonCount; ++i) counts.raft_dropped[i] = raft_dropped_[i].load();
  counts.commands_refused = commands_refused_.load();
  return counts;
}

namespace {

// With the cluster port's mutual TLS, a Raft batch is taken only from a connection whose
// certificate (verified against the cluster CA by the handshake) names the node the batch
// claims to come from: common name or DNS subject alternative name "tern-node-<id>". Without
// this any holder of a cluster certificate (a gateway's, say) could speak for any member.
bool CertificateNamesNode(const grpc::CallbackServerContext& context, int32_t node_id) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth) return false;
  const std::string expected = StrCat("tern-node-", node_id);
  for (const char* property : {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      if (std::string_view(value.data(), value.size()) == expected) return true;
    }
  }
  return false;
}

// The answer of a partition-bound call that did not succeed: the status and, when a partition
// answered, who leads it (-1: unknown), so the gateway can go there next.
template <typename Response>
void SetFailure(Response* response, const absl::Status& status, int32_t leader_hint) {
  response->set_code(static_cast<int>(status.code()));
  response->set_message(std::string(ToStd(status.message())));
  response->set_leader_hint(leader_hint);
}

}  // namespace

void ClusterService::CountDrop(const RaftDrop& drop, int32_t from_node_id) {
  const int index = static_cast<int>(drop.reason);
  uint64_t count = ++raft_dropped_[index];
  if (LogAgain(last_drop_log_ms_[index])) {
    spdlog::warn(
        "cluster port: dropped a Raft message from a sender claiming node {} ({}): {} "
        "({} dropped for this reason since start)",
        from_node_id, RaftDropReasonName(drop.reason), drop.detail, count);
  }
}

grpc::ServerUnaryReactor* ClusterService::Raft(grpc::CallbackServerContext* context,
                                               const cluster::RaftBatch* request,
                                               cluster::RaftBatchAck*) {
  static const std::vector<int32_t> kNoMembers;
  if (config_.cluster_tls.enabled() && !CertificateNamesNode(*context, request->from_node_id())) {
    const std::string detail =
        StrCat("the connection's certificate does not name tern-node-", request->from_node_id());
    CountDrop(RaftDrop{RaftDropReason::kNotAMember, detail}, request->from_node_id());
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, detail));
    return reactor;
  }
  for (const auto& envelope : request->envelopes()) {
    Partition* partition = Find(envelope.partition_id());
    auto members = members_.find(envelope.partition_id());
    // Checked here, on the gRPC thread, so that nothing forged reaches the partition's Raft
    // state machine or its log.
    if (auto drop = CheckRaftEnvelope(
            envelope, request->from_node_id(), config_.node_id,
            partition != nullptr && members != members_.end() ? members->second : kNoMembers)) {
      CountDrop(*drop, request->from_node_id());
      continue;
    }
    switch (envelope.payload_case()) {
      case cluster::RaftEnvelope::kMessage:
        partition->Receive(envelope.message());
        break;
      case cluster::RaftEnvelope::kSnapshotChunk:
        partition->ReceiveSnapshotChunk(envelope.snapshot_chunk());
        break;
      case cluster::RaftEnvelope::kSnapshotAck:
        partition->ReceiveSnapshotAck(envelope.snapshot_ack());
        break;
      case cluster::RaftEnvelope::PAYLOAD_NOT_SET:
        break;
    }
  }
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

absl::Status ClusterService::NoReplica(int32_t partition_id) const {
  return absl::UnavailableError(
      StrCat("partition ", partition_id, " has no replica on node ", config_.node_id));
}

grpc::ServerUnaryReactor* ClusterService::Execute(grpc::CallbackServerContext* context,
                                                  const cluster::ExecuteRequest* request,
                                                  cluster::ExecuteResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (auto refused = CheckPeerCommand(request->command(), config_.partitions); !refused.ok()) {
    // The engine is never handed a command no gateway or partition sends: it trusts the
    // record types, intents and sizes that the gateway checked.
    uint64_t count = ++commands_refused_;
    if (LogAgain(last_refusal_log_ms_)) {
      spdlog::warn("cluster port: refused a command for partition {}: {} ({} refused since start)",
                   request->partition_id(), ToStd(refused.message()), count);
    }
    SetFailure(response, refused, -1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  Partition* partition = Find(request->partition_id());
  if (partition == nullptr) {
    SetFailure(response, NoReplica(request->partition_id()), -1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  partition->Submit(request->command(), std::max<int64_t>(1, request->timeout_ms()),
                    [reactor, response, partition](absl::StatusOr<record::Record> answer) {
                      if (answer.ok()) {
                        response->set_code(0);
                        *response->mutable_record() = *std::move(answer);
                      } else {
                        SetFailure(response, answer.status(),
                                   static_cast<int32_t>(partition->Metrics().leader_node_id));
                      }
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::QueryUserTasks(
    grpc::CallbackServerContext* context, const cluster::QueryUserTasksRequest* request,
    cluster::QueryUserTasksResponse* response) {
  auto* reactor = context->DefaultReactor();
  Partition* partition = Find(request->partition_id());
  if (partition == nullptr) {
    SetFailure(response, NoReplica(request->partition_id()), -1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  partition->QueryUserTasks(
      request->query(),
      [reactor, response, partition](absl::StatusOr<record::UserTaskQueryResult> result) {
        if (result.ok()) {
          response->set_code(0);
          *response->mutable_result() = *std::move(result);
        } else {
          SetFailure(response, result.status(),
                     static_cast<int32_t>(partition->Metrics().leader_node_id));
        }
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* ClusterService::Topology(grpc::CallbackServerContext* context,
                                                   const cluster::TopologyRequest*,
                                                   cluster::BrokerInfo* response) {
  *response = Info();
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<cluster::JobsAvailable>* ClusterService::WatchJobsAvailable(
    grpc::CallbackServerContext*, const cluster::WatchJobsRequest*) {
  auto* writer = new Writer<cluster::JobsAvailable>(this, 1024, nullptr);
  std::lock_guard lock(mutex_);
  watchers_.insert(writer);
  if (shut_down_) Writer<cluster::JobsAvailable>::End(writer->handle());
  return writer;
}

void ClusterService::NotifyJobsAvailable(int32_t partition_id, const std::string& type) {
  std::vector<std::shared_ptr<Writer<cluster::JobsAvailable>::Handle>> watchers;
  {
    std::lock_guard lock(mutex_);
    for (auto* writer : watchers_) watchers.push_back(writer->handle());
  }
  cluster::JobsAvailable available;
  available.set_type(type);
  available.set_partition_id(partition_id);
  for (auto& handle : watchers) {
    Writer<cluster::JobsAvailable>::Push(handle, available, /*skip_if_queued=*/true);
  }
}

grpc::ServerWriteReactor<cluster::PushedJob>* ClusterService::StreamJobs(
    grpc::CallbackServerContext*, const cluster::JobStreamRequest* request) {
  const int64_t stream_id = next_stream_id_++;
  auto* writer = new Writer<cluster::PushedJob>(this, 1 << 20, nullptr);
  gateway::JobStreamSpec spec;
  spec.type = request->type();
  spec.worker = request->worker();
  spec.timeout_ms = request->timeout_ms();
  spec.fetch_variables.assign(request->fetch_variables().begin(), request->fetch_variables().end());
  spec.tenant_ids.assign(request->tenant_ids().begin(), request->tenant_ids().end());
  auto handle = writer->handle();
  for (Partition* partition : partitions_) {
    partition->AddJobStream(
        stream_id, spec,
        [handle](int32_t partition_id, int64_t job_key, const record::JobRecord& job) {
          cluster::PushedJob pushed;
          pushed.set_partition_id(partition_id);
          pushed.set_job_key(job_key);
          *pushed.mutable_job() = job;
          Writer<cluster::PushedJob>::Push(handle, std::move(pushed));
        });
  }
  writer->set_on_done([partitions = partitions_, stream_id] {
    for (Partition* partition : partitions) partition->RemoveJobStream(stream_id);
  });
  std::lock_guard lock(mutex_);
  job_streams_.insert(writer);
  if (shut_down_) Writer<cluster::PushedJob>::End(handle);
  return writer;
}

}  // namespace tern::broker
