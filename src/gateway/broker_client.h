#pragma once

// How the gateway reaches partitions. The embedded gateway talks to the partitions of its own
// broker in-process; the standalone tern-gateway (and an embedded gateway, for partitions led
// elsewhere) talks to brokers over the internal gRPC API. Both implement this interface, so the
// gateway's request handling is the same code either way.
//
// Callbacks may run on any thread (a partition thread, a gRPC thread); they must not block.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tern/record.pb.h"

namespace tern::gateway {

// Errors a command can end with, besides the engine's own answer (an event or a rejection):
//  - UNAVAILABLE: the partition has no leader here, or it is not ready. The command was not
//    written, so sending it again (elsewhere) is safe.
//  - DEADLINE_EXCEEDED: no answer in time. The command may or may not have taken effect.
//  - RESOURCE_EXHAUSTED: the partition is overloaded and did not accept the command.
using CommandCallback = std::function<void(absl::StatusOr<record::Record> answer)>;

// The answer to a user task read (record::UserTaskQuery) from one partition's leader.
using UserTaskQueryCallback =
    std::function<void(absl::StatusOr<record::UserTaskQueryResult> result)>;

enum class PartitionRole { kLeader, kFollower, kInactive };
enum class PartitionHealth { kHealthy, kUnhealthy, kDead };

struct PartitionStatus {
  int32_t partition_id = 0;
  PartitionRole role = PartitionRole::kInactive;
  PartitionHealth health = PartitionHealth::kHealthy;
};

struct BrokerStatus {
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
  std::string version;
  std::vector<PartitionStatus> partitions;
};

struct ClusterTopology {
  int32_t cluster_size = 0;
  int32_t partitions_count = 0;
  int32_t replication_factor = 0;
  std::vector<BrokerStatus> brokers;
};

// A worker's StreamActivatedJobs registration.
struct JobStreamSpec {
  std::string type;
  std::string worker;
  int64_t timeout_ms = 0;
  std::vector<std::string> fetch_variables;
  std::vector<std::string> tenant_ids;
};

// Receives a job activated for a stream. The job record carries the key in `job_key`.
using JobPushCallback =
    std::function<void(int32_t partition_id, int64_t job_key, const record::JobRecord& job)>;

class BrokerClient {
 public:
  virtual ~BrokerClient() = default;

  virtual ClusterTopology Topology() = 0;
  virtual int32_t partition_count() = 0;

  // Sends a command (record_type COMMAND, value and intent set) to a partition's leader.
  // `timeout_ms` bounds the wait for the answer; for CREATE_WITH_AWAITING_RESULT it is the time
  // the instance may take to complete.
  virtual void Send(int32_t partition_id, record::Record command, int64_t timeout_ms,
                    CommandCallback done) = 0;

  // Called with a job type whenever jobs of that type became activatable on some partition.
  virtual void SetJobsAvailableListener(std::function<void(const std::string& type)> listener) = 0;

  // Opens a job stream on every partition; returns its id.
  virtual int64_t AddJobStream(const JobStreamSpec& spec, JobPushCallback push) = 0;
  virtual void RemoveJobStream(int64_t stream_id) = 0;

  // Reads native user tasks of a partition from its leader's state (get: query.user_task_key;
  // search: the filters, paged by after_key). UNAVAILABLE when no leader answered.
  virtual void QueryUserTasks(int32_t partition_id, record::UserTaskQuery query,
                              UserTaskQueryCallback done) = 0;
};

}  // namespace tern::gateway
