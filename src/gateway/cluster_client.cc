#include "gateway/cluster_client.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "base/strings.h"
#include "tern/cluster.grpc.pb.h"

namespace tern::gateway {
namespace {

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::chrono::system_clock::time_point DeadlineIn(int64_t ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

// gRPC fails a call with this message when it never had a connection to send it on: the
// command was not written, so sending it again is safe.
bool NeverSent(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         (status.error_message().find("failed to connect") != std::string::npos ||
          status.error_message().find("Connection refused") != std::string::npos);
}

}  // namespace

struct ClusterBrokerClient::Peer {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<cluster::BrokerService::Stub> stub;
  // Guarded by the client's mutex.
  int32_t node_id = -1;
  int64_t last_seen_ms = -1;
  cluster::BrokerInfo info;
  std::shared_ptr<grpc::ClientContext> watch_context;
  // The topology question in flight, if any.
  std::shared_ptr<grpc::ClientContext> topology_context;
  // Round trips of topology questions: they set the next question's deadline.
  RttEstimator rtt;
};

struct ClusterBrokerClient::Attempt {
  int32_t partition_id = 0;
  record::Record command;
  int64_t timeout_ms = 0;
  int64_t deadline_ms = 0;  // steady clock
  CommandCallback done;
};

struct ClusterBrokerClient::Stream {
  JobPushCallback push;
  std::mutex mutex;
  std::condition_variable wakeup;
  bool stopping = false;
  std::vector<std::shared_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> threads;
};

// The state of one Topology question, alive until its callback has run.
struct ClusterBrokerClient::TopologyCall {
  std::shared_ptr<grpc::ClientContext> context = std::make_shared<grpc::ClientContext>();
  cluster::TopologyRequest request;
  cluster::BrokerInfo response;
  int64_t sent_ms = 0;
  int64_t deadline_ms = 0;
};

namespace {

// The state of one Execute call, alive until its callback has run.
struct ExecuteCall {
  grpc::ClientContext context;
  cluster::ExecuteRequest request;
  cluster::ExecuteResponse response;
};

struct QueryUserTasksCall {
  grpc::ClientContext context;
  cluster::QueryUserTasksRequest request;
  cluster::QueryUserTasksResponse response;
};

// A read of a partition's state is quick; this bounds a broker that does not answer.
constexpr int64_t kQueryTimeoutMs = 10'000;

}  // namespace

ClusterBrokerClient::ClusterBrokerClient(ClusterClientOptions options)
    : options_(std::move(options)) {
  auto credentials = ClusterChannelCredentials(options_.tls);
  for (const auto& address : options_.brokers) {
    auto peer = std::make_unique<Peer>();
    peer->address = address;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    peer->channel = grpc::CreateCustomChannel(address, credentials, args);
    peer->stub = cluster::BrokerService::NewStub(peer->channel);
    peers_.push_back(std::move(peer));
  }
}

ClusterBrokerClient::~ClusterBrokerClient() { Stop(); }

void ClusterBrokerClient::Start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  threads_.emplace_back([this] { RefreshTopologyLoop(); });
  threads_.emplace_back([this] { RetryLoop(); });
  for (size_t i = 0; i < peers_.size(); ++i) {
    threads_.emplace_back([this, i] { WatchJobsLoop(i); });
  }
}

void ClusterBrokerClient::Stop() {
  std::vector<std::shared_ptr<Attempt>> abandoned;
  std::vector<int64_t> stream_ids;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& peer : peers_) {
      if (peer->watch_context) peer->watch_context->TryCancel();
      if (peer->topology_context) peer->topology_context->TryCancel();
    }
    for (auto& [due, attempt] : retries_) abandoned.push_back(attempt);
    retries_.clear();
    for (const auto& [id, stream] : streams_) stream_ids.push_back(id);
  }
  changed_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  for (int64_t id : stream_ids) RemoveJobStream(id);
  for (auto& attempt : abandoned) {
    attempt->done(absl::UnavailableError("the gateway is shutting down"));
  }
  // Calls in flight hold `this` in their callbacks: let them end (their deadlines bound this).
  while (calls_in_flight_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

bool ClusterBrokerClient::WaitForTopology(int64_t timeout_ms) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
    return topology_known_ || stopping_;
  }) && topology_known_;
}

void ClusterBrokerClient::RefreshTopologyLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Ask every broker that is not still answering the last question; a slow or silent one
    // delays only its own entry, never the others'.
    std::vector<std::pair<Peer*, std::unique_ptr<TopologyCall>>> asks;
    for (auto& peer : peers_) {
      if (peer->topology_context) continue;
      auto call = std::make_unique<TopologyCall>();
      call->deadline_ms = peer->rtt.DeadlineMs();
      call->context->set_deadline(DeadlineIn(call->deadline_ms));
      peer->topology_context = call->context;
      asks.emplace_back(peer.get(), std::move(call));
    }
    RebuildTopologyLocked(SteadyMillis());
    // gRPC may run a callback on the calling thread; the callbacks take the mutex.
    lock.unlock();
    for (auto& [peer, call] : asks) AskTopology(*peer, std::move(call));
    lock.lock();
    changed_.wait_for(lock, std::chrono::milliseconds(options_.topology_refresh_ms),
                      [this] { return stopping_; });
  }
}

void ClusterBrokerClient::AskTopology(Peer& peer, std::unique_ptr<TopologyCall> owned_call) {
  TopologyCall* call = owned_call.release();
  call->sent_ms = SteadyMillis();
  ++calls_in_flight_;
  peer.stub->async()->Topology(
      call->context.get(), &call->request, &call->response,
      [this, call, peer = &peer](grpc::Status status) {
        std::unique_ptr<TopologyCall> owned(call);
        {
          std::lock_guard lock(mutex_);
          peer->topology_context.reset();
          const int64_t now = SteadyMillis();
          if (status.ok()) {
            peer->rtt.Observe(now - call->sent_ms);
            peer->info = call->response;
            peer->node_id = peer->info.node_id();
            peer->last_seen_ms = now;
            RebuildTopologyLocked(now);
          } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
            peer->rtt.OnTimeout();
            spdlog::debug("no topology from {} within {} ms; next deadline {} ms", peer->address,
                          call->deadline_ms, peer->rtt.DeadlineMs());
          }
        }
        changed_.notify_all();
        --calls_in_flight_;
      });
}

void ClusterBrokerClient::RebuildTopologyLocked(int64_t now) {
  // A broker is dropped from the view after missing a few refreshes, counted in its own
  // deadlines so that a slow link is not taken for a dead broker.
  ClusterTopology topology;
  std::map<int32_t, std::pair<uint64_t, int32_t>> leaders;
  for (const auto& peer : peers_) {
    const int64_t stale_after = 3 * (options_.topology_refresh_ms + peer->rtt.DeadlineMs()) + 500;
    if (peer->last_seen_ms < 0 || now - peer->last_seen_ms > stale_after) continue;
    const cluster::BrokerInfo& info = peer->info;
    topology.cluster_size = info.cluster_size();
    topology.partitions_count = info.partitions_count();
    topology.replication_factor = info.replication_factor();
    BrokerStatus broker;
    broker.node_id = info.node_id();
    broker.host = info.host();
    broker.port = info.port();
    broker.version = info.version();
    for (const auto& partition : info.partitions()) {
      PartitionStatus status;
      status.partition_id = partition.partition_id();
      status.role = static_cast<PartitionRole>(partition.role());
      status.health = partition.healthy() ? PartitionHealth::kHealthy : PartitionHealth::kUnhealthy;
      broker.partitions.push_back(status);
      if (partition.role() == cluster::PartitionInfo::LEADER) {
        auto known = leaders.find(partition.partition_id());
        if (known == leaders.end() || partition.term() >= known->second.first) {
          leaders[partition.partition_id()] = {partition.term(), info.node_id()};
        }
      }
    }
    topology.brokers.push_back(std::move(broker));
  }
  if (!topology.brokers.empty()) {
    topology_ = std::move(topology);
    leaders_ = std::move(leaders);
    topology_known_ = true;
  } else {
    topology_.brokers.clear();
    leaders_.clear();
  }
}

int64_t ClusterBrokerClient::TopologyDeadlineMs(int32_t node_id) {
  std::lock_guard lock(mutex_);
  for (const auto& peer : peers_) {
    if (peer->node_id == node_id) return peer->rtt.DeadlineMs();
  }
  return -1;
}

ClusterTopology ClusterBrokerClient::Topology() {
  std::lock_guard lock(mutex_);
  return topology_;
}

int32_t ClusterBrokerClient::partition_count() {
  if (options_.partition_count > 0) return options_.partition_count;
  std::lock_guard lock(mutex_);
  return std::max(1, topology_.partitions_count);
}

int32_t ClusterBrokerClient::LeaderOf(int32_t partition_id) {
  std::lock_guard lock(mutex_);
  auto it = leaders_.find(partition_id);
  return it == leaders_.end() ? -1 : it->second.second;
}

ClusterBrokerClient::Peer* ClusterBrokerClient::PeerForNode(int32_t node_id) {
  std::lock_guard lock(mutex_);
  for (auto& peer : peers_) {
    if (peer->node_id == node_id) return peer.get();
  }
  // Not heard from yet: brokers are listed in node-id order.
  if (node_id >= 0 && static_cast<size_t>(node_id) < peers_.size()) {
    return peers_[static_cast<size_t>(node_id)].get();
  }
  return nullptr;
}

void ClusterBrokerClient::Forget(int32_t partition_id, int32_t node_id) {
  std::lock_guard lock(mutex_);
  auto it = leaders_.find(partition_id);
  if (it != leaders_.end() && it->second.second == node_id) leaders_.erase(it);
}

void ClusterBrokerClient::Send(int32_t partition_id, record::Record command, int64_t timeout_ms,
                               CommandCallback done) {
  auto attempt = std::make_shared<Attempt>();
  attempt->partition_id = partition_id;
  attempt->command = std::move(command);
  attempt->timeout_ms = std::max<int64_t>(1, timeout_ms);
  attempt->deadline_ms = SteadyMillis() + attempt->timeout_ms;
  attempt->done = std::move(done);
  TrySend(std::move(attempt));
}

void ClusterBrokerClient::RetryLater(std::shared_ptr<Attempt> attempt) {
  const int64_t due = SteadyMillis() + options_.retry_delay_ms;
  if (due >= attempt->deadline_ms) {
    attempt->done(absl::UnavailableError(StrCat("no leader for partition ", attempt->partition_id,
                                                " answered within ", attempt->timeout_ms, " ms")));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      retries_.emplace(due, std::move(attempt));
      changed_.notify_all();
      return;
    }
  }
  attempt->done(absl::UnavailableError("the gateway is shutting down"));
}

void ClusterBrokerClient::RetryLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (retries_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const int64_t now = SteadyMillis();
    auto first = retries_.begin();
    if (first->first > now) {
      changed_.wait_for(lock, std::chrono::milliseconds(first->first - now));
      continue;
    }
    auto attempt = std::move(first->second);
    retries_.erase(first);
    lock.unlock();
    TrySend(std::move(attempt));
    lock.lock();
  }
}

void ClusterBrokerClient::TrySend(std::shared_ptr<Attempt> attempt) {
  const int32_t leader = LeaderOf(attempt->partition_id);
  Peer* peer = leader < 0 ? nullptr : PeerForNode(leader);
  if (peer == nullptr) return RetryLater(std::move(attempt));
  if (peer->channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
    // The leader's broker is down (the topology has not noticed yet): nothing is sent.
    Forget(attempt->partition_id, leader);
    return RetryLater(std::move(attempt));
  }
  const int64_t remaining = attempt->deadline_ms - SteadyMillis();
  if (remaining <= 0) {
    attempt->done(
        absl::DeadlineExceededError(StrCat("no answer from partition ", attempt->partition_id,
                                           " within ", attempt->timeout_ms, " ms")));
    return;
  }
  auto* call = new ExecuteCall();
  call->request.set_partition_id(attempt->partition_id);
  *call->request.mutable_command() = attempt->command;
  call->request.set_timeout_ms(remaining);
  // The broker answers by itself when the time is up; the extra second covers the way back.
  call->context.set_deadline(DeadlineIn(remaining + 1'000));
  ++calls_in_flight_;
  peer->stub->async()->Execute(
      &call->context, &call->request, &call->response,
      [this, call, attempt = std::move(attempt), leader](grpc::Status status) mutable {
        std::unique_ptr<ExecuteCall> owned(call);
        if (!status.ok()) {
          if (NeverSent(status)) {
            Forget(attempt->partition_id, leader);
            RetryLater(std::move(attempt));
          } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
            attempt->done(absl::DeadlineExceededError(
                StrCat("no answer from partition ", attempt->partition_id, " on node ", leader,
                       " within ", attempt->timeout_ms, " ms")));
          } else {
            attempt->done(absl::UnknownError(StrCat("lost the connection to node ", leader,
                                                    " (leader of partition ", attempt->partition_id,
                                                    ") with the command in flight; its outcome is "
                                                    "unknown: ",
                                                    status.error_message())));
          }
        } else {
          const auto& response = call->response;
          const auto code = static_cast<absl::StatusCode>(response.code());
          if (code == absl::StatusCode::kOk) {
            attempt->done(response.record());
          } else if (code == absl::StatusCode::kUnavailable) {
            // Definitely not written: the broker does not lead the partition (any more).
            Forget(attempt->partition_id, leader);
            RetryLater(std::move(attempt));
          } else {
            attempt->done(absl::Status(code, response.message()));
          }
        }
        --calls_in_flight_;
      });
}

// One attempt at the leader the topology names: a read changes nothing, so a client that gets
// UNAVAILABLE may simply ask again once the topology caught up.
void ClusterBrokerClient::QueryUserTasks(int32_t partition_id, record::UserTaskQuery query,
                                         UserTaskQueryCallback done) {
  const int32_t leader = LeaderOf(partition_id);
  Peer* peer = leader < 0 ? nullptr : PeerForNode(leader);
  if (peer == nullptr) {
    return done(absl::UnavailableError(StrCat("no known leader for partition ", partition_id)));
  }
  auto* call = new QueryUserTasksCall();
  call->request.set_partition_id(partition_id);
  *call->request.mutable_query() = std::move(query);
  call->context.set_deadline(DeadlineIn(kQueryTimeoutMs));
  ++calls_in_flight_;
  peer->stub->async()->QueryUserTasks(
      &call->context, &call->request, &call->response,
      [this, call, partition_id, leader, done = std::move(done)](grpc::Status status) {
        std::unique_ptr<QueryUserTasksCall> owned(call);
        if (!status.ok()) {
          done(absl::UnavailableError(StrCat("no answer from node ", leader,
                                             " (leader of partition ", partition_id,
                                             "): ", status.error_message())));
        } else if (call->response.code() != 0) {
          const auto code = static_cast<absl::StatusCode>(call->response.code());
          if (code == absl::StatusCode::kUnavailable) Forget(partition_id, leader);
          done(absl::Status(code, call->response.message()));
        } else {
          done(std::move(*call->response.mutable_result()));
        }
        --calls_in_flight_;
      });
}

void ClusterBrokerClient::SetJobsAvailableListener(
    std::function<void(const std::string& type)> listener) {
  std::lock_guard lock(mutex_);
  jobs_listener_ = std::move(listener);
}

void ClusterBrokerClient::WatchJobsLoop(size_t peer_index) {
  Peer& peer = *peers_[peer_index];
  while (true) {
    auto context = std::make_shared<grpc::ClientContext>();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      peer.watch_context = context;
    }
    cluster::WatchJobsRequest request;
    auto reader = peer.stub->WatchJobsAvailable(context.get(), request);
    cluster::JobsAvailable available;
    while (reader->Read(&available)) {
      std::function<void(const std::string&)> listener;
      {
        std::lock_guard lock(mutex_);
        listener = jobs_listener_;
      }
      if (listener) listener(available.type());
    }
    reader->Finish();
    std::unique_lock lock(mutex_);
    peer.watch_context.reset();
    changed_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
    if (stopping_) return;
  }
}

int64_t ClusterBrokerClient::AddJobStream(const JobStreamSpec& spec, JobPushCallback push) {
  const int64_t id = next_stream_id_++;
  auto stream = std::make_unique<Stream>();
  stream->push = std::move(push);
  Stream* raw = stream.get();
  cluster::JobStreamRequest request;
  request.set_type(spec.type);
  request.set_worker(spec.worker);
  request.set_timeout_ms(spec.timeout_ms);
  for (const auto& name : spec.fetch_variables) request.add_fetch_variables(name);
  for (const auto& tenant : spec.tenant_ids) request.add_tenant_ids(tenant);
  {
    std::lock_guard lock(mutex_);
    streams_.emplace(id, std::move(stream));
  }
  std::lock_guard lock(raw->mutex);
  for (auto& peer : peers_) {
    Peer* target = peer.get();
    raw->threads.emplace_back([raw, target, request] {
      while (true) {
        auto context = std::make_shared<grpc::ClientContext>();
        {
          std::lock_guard lock(raw->mutex);
          if (raw->stopping) return;
          raw->contexts.push_back(context);
        }
        auto reader = target->stub->StreamJobs(context.get(), request);
        cluster::PushedJob job;
        while (reader->Read(&job)) raw->push(job.partition_id(), job.job_key(), job.job());
        reader->Finish();
        std::unique_lock lock(raw->mutex);
        raw->contexts.erase(std::find(raw->contexts.begin(), raw->contexts.end(), context));
        raw->wakeup.wait_for(lock, std::chrono::milliseconds(200), [raw] { return raw->stopping; });
        if (raw->stopping) return;
      }
    });
  }
  return id;
}

void ClusterBrokerClient::RemoveJobStream(int64_t stream_id) {
  std::unique_ptr<Stream> stream;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream_id);
    if (it == streams_.end()) return;
    stream = std::move(it->second);
    streams_.erase(it);
  }
  {
    std::lock_guard lock(stream->mutex);
    stream->stopping = true;
    for (auto& context : stream->contexts) context->TryCancel();
  }
  stream->wakeup.notify_all();
  for (auto& thread : stream->threads) thread.join();
}

}  // namespace tern::gateway
